"""Random windows for training: NiftyNet's ``UniformSampler``.

Each visit picks a random subject and cuts ``windows_per_image`` windows at
uniformly random positions inside its volume. An axis shorter than the
window is zero-padded (the volume is centred in the window). The sampler
never runs out; every queue thread iterates its own generator.
"""
import numpy as np

from niftydrive.engine.image_window import N_SPATIAL, ImageWindow, as_spatial_size
from niftydrive.engine.image_window_buffer import InputBatchQueueRunner


def first_window_size(window_sizes):
    """A window size given as three ints or as a dict field -> size (first one wins)."""
    if isinstance(window_sizes, dict):
        window_sizes = next(iter(window_sizes.values()))
    return as_spatial_size(window_sizes)


def random_starts(spatial_shape, window_size, count, rng=np.random):
    """``count`` random window corners with the window inside the volume.

    Where the volume is smaller than the window the corner is negative and
    the volume sits in the middle of the window.
    """
    starts = np.empty((count, N_SPATIAL), dtype=int)
    for axis, (length, size) in enumerate(zip(spatial_shape, window_size)):
        if length >= size:
            starts[:, axis] = rng.randint(0, length - size + 1, size=count)
        else:
            starts[:, axis] = -((size - length) // 2)
    return starts


class UniformSampler(InputBatchQueueRunner):
    """Random training windows from an :class:`~niftydrive.io.image_reader.ImageReader`.

    :param reader: the subjects to sample
    :param window_sizes: spatial window size (three ints, or dict field -> size)
    :param batch_size: windows per batch (per tower)
    :param windows_per_image: windows cut from a subject per visit
        (``sample_per_volume``)
    :param queue_length: queue capacity in windows
    """

    generator_shared = False

    def __init__(self, reader, window_sizes, batch_size=1, windows_per_image=1,
                 queue_length=10):
        self.reader = reader
        self.window = ImageWindow.from_reader(reader, first_window_size(window_sizes))
        self.windows_per_image = max(int(windows_per_image), 1)
        capacity = max(int(queue_length), batch_size * 2, self.windows_per_image)
        InputBatchQueueRunner.__init__(self, capacity=capacity, shuffle=True)
        self._create_queue_and_ops(self.window.shapes, self.window.dtypes, batch_size,
                                   enqueue_size=self.windows_per_image)

    def layer_op(self):
        """Forever: a random subject's ``windows_per_image`` random windows."""
        rng = np.random.RandomState()
        while True:
            idx = rng.randint(self.reader.num_subjects)
            data = self.reader.get_subject(idx)
            shape = data[self.window.fields[0]].shape[:N_SPATIAL]
            starts = random_starts(shape, self.window.spatial_size, self.windows_per_image, rng)
            yield self.window.cut(idx, data, starts)
