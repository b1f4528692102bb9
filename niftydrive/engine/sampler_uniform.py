"""Random training windows: NiftyNet's ``UniformSampler``.

Each visit reads a random subject from the reader and cuts
``windows_per_image`` windows at uniformly random positions (every
position where the window fits, the last one included: NiftyNet never
chose it). Inputs with different window sizes get concentric windows. The
sampler never ends; each queue thread iterates its own generator.

Subclasses change where windows go by setting
``self.spatial_coordinates_generator`` to a function with the signature of
:func:`rand_spatial_coordinates` (NiftyNet's weighted and balanced samplers
do this).

Better than NiftyNet: a window larger than its image is zero-padded (its
location starts at 0 and ends past the image) instead of failing an
assertion in a sampler thread.
"""
import numpy as np

from niftydrive.engine.image_window import N_SPATIAL, ImageWindow, crop_windows
from niftydrive.engine.image_window_buffer import InputBatchQueueRunner
from niftydrive.layer.base_layer import Layer


def read_subject(reader, idx=None, shuffle=True):
    """``(image_id, data)`` of one subject from a reader.

    NiftyNet's readers return ``(image_id, data, interp_orders)``, with
    ``(-1, None, None)`` past the last subject; older ones ``(image_id, data)``.
    """
    result = reader(idx=idx, shuffle=shuffle)
    return result[0], result[1]


def number_of_subjects(reader):
    """How many subjects a reader holds (``len(reader.output_list)`` in NiftyNet)."""
    count = getattr(reader, 'num_subjects', None)
    return int(count) if count is not None else len(reader.output_list)


def rand_spatial_coordinates(subject_id, data, img_sizes, win_sizes, n_samples=1):
    """``n_samples`` random window positions per input, concentric across inputs.

    :param subject_id: the subject's index in the reader (first column)
    :param data: the subject's arrays (unused here; weighted samplers use it)
    :param img_sizes: dict name -> image shape (spatial axes first)
    :param win_sizes: dict name -> fully specified window shape
    :param n_samples: windows to place
    :return: dict name -> int32 rows ``[subject_id, x0, y0, z0, x1, y1, z1]``
    :raises NotImplementedError: inputs whose images differ spatially (as NiftyNet)
    """
    del data
    n_samples = max(int(n_samples), 1)
    spatial_sizes = {tuple(size[:N_SPATIAL]) for size in img_sizes.values()}
    if len(spatial_sizes) > 1:
        raise NotImplementedError('cannot place windows on inputs of different spatial '
                                  'shapes {}'.format(sorted(spatial_sizes)))
    image_size = np.asarray(spatial_sizes.pop(), dtype=np.int64)
    windows = {name: np.asarray(size[:N_SPATIAL], dtype=np.int64)
               for name, size in win_sizes.items()}
    largest = np.max(np.stack(list(windows.values())), axis=0)
    room = np.maximum(image_size - largest, 0)
    starts = np.stack([np.random.randint(0, r + 1, size=n_samples) for r in room], axis=1)
    coordinates = {}
    for name, size in windows.items():
        start = starts + (largest - size) // 2
        rows = np.concatenate([np.full((n_samples, 1), subject_id), start, start + size],
                              axis=1)
        coordinates[name] = rows.astype(np.int32)
    return coordinates


class UniformSampler(Layer, InputBatchQueueRunner):
    """Random windows of a reader's subjects, shuffled in the queue.

    :param reader: an :class:`~niftydrive.io.image_reader.ImageReader`
    :param data_param: dict input section -> namespace with ``spatial_window_size``
    :param batch_size: windows per batch (per tower)
    :param windows_per_image: windows cut from a subject per visit
        (``sample_per_volume``)
    :param queue_length: queue capacity in windows
    """

    def __init__(self, reader, data_param, batch_size=1, windows_per_image=1,
                 queue_length=10):
        self.reader = reader
        self.batch_size = int(batch_size)
        self.windows_per_image = max(int(windows_per_image), 1)
        Layer.__init__(self, name='input_buffer')
        InputBatchQueueRunner.__init__(
            self, capacity=max(int(queue_length), self.windows_per_image), shuffle=True)
        self.window = ImageWindow.from_data_reader_properties(
            reader.input_sources, reader.shapes, reader.tf_dtypes, data_param)
        self._create_queue_and_ops(self.window, enqueue_size=self.windows_per_image,
                                   dequeue_size=self.batch_size)
        self.spatial_coordinates_generator = rand_spatial_coordinates

    def layer_op(self):
        """Forever: ``windows_per_image`` windows of a random subject per item."""
        while True:
            image_id, data = read_subject(self.reader, idx=None, shuffle=True)
            if not data:
                break
            image_shapes = {name: data[name].shape for name in self.window.names}
            window_shapes = self.window.match_image_shapes(image_shapes)
            coordinates = self.spatial_coordinates_generator(
                subject_id=image_id, data=data, img_sizes=image_shapes,
                win_sizes=window_shapes, n_samples=self.window.n_samples)
            yield crop_windows(data, coordinates, window_shapes)
