"""Sliding windows over whole images for inference: NiftyNet's ``GridSampler``.

Every subject of the reader is visited once, in order. Along each spatial
axis windows start at 0 and step by ``window - 2 * border``; the last
window ends at the image's end (see :func:`_enumerate_step_points`), so
once an aggregator crops ``border`` voxels from both sides of every output
window the remaining centres tile the image. After the last window come
NiftyNet's stopping-signal windows (every value -1), then the queue closes.

Better than NiftyNet: an image smaller than the window along an axis gives
one window starting at 0 and zero-padded past the image (NiftyNet failed an
assertion in the sampler thread); several threads may serve the sampler
(they share one generator); subjects are visited by index, so the reader
keeps no iteration state.
"""
import logging

import numpy as np

from niftydrive.engine.image_window import N_SPATIAL, ImageWindow, crop_windows
from niftydrive.engine.image_window_buffer import InputBatchQueueRunner
from niftydrive.engine.sampler_uniform import number_of_subjects, read_subject
from niftydrive.layer.base_layer import Layer

LOGGER = logging.getLogger(__name__)


def as_border(window_border):
    """A border as three ints (missing axes repeat the last value; none: zeros)."""
    border = tuple(int(b) for b in (window_border or ()))
    if not border:
        return (0,) * N_SPATIAL
    return (border + border[-1:] * N_SPATIAL)[:N_SPATIAL]


def _enumerate_step_points(starting, ending, win_size, step_size):
    """Window starts from ``starting`` by ``step_size`` while the window fits before ``ending``.

    The last start is always ``ending - win_size`` (or 0), so the windows
    reach the end. Lengths below 1 count as 1; ``starting > ending`` is swapped.

    :return: the sorted unique starts
    :raises ValueError: an argument that is not an integer
    """
    try:
        starting = max(int(starting), 0)
        ending = max(int(ending), 0)
        win_size = max(int(win_size), 1)
        step_size = max(int(step_size), 1)
    except (TypeError, ValueError):
        raise ValueError('step points need integers, got starting={!r}, ending={!r}, '
                         'win_size={!r}, step_size={!r}'.format(
                             starting, ending, win_size, step_size)) from None
    if starting > ending:
        starting, ending = ending, starting
    points = list(range(starting, ending - win_size + 1, step_size))
    points.append(max(ending - win_size, 0))
    return np.unique(points)


def grid_spatial_coordinates(subject_id, img_sizes, win_sizes, border_size):
    """Every grid window of each input: rows ``[subject_id, x0, y0, z0, x1, y1, z1]``.

    The step along an axis is ``window - 2 * border`` (at least 1); a
    negative border counts as 0.

    :param subject_id: the subject's index in the reader (first column)
    :param img_sizes: dict name -> image shape
    :param win_sizes: dict name -> window shape
    :param border_size: voxels an aggregator crops per side (three ints)
    :raises AssertionError: a window larger than its image (as NiftyNet)
    """
    border = as_border(border_size)
    coordinates = {}
    for name, image_shape in img_sizes.items():
        window = [int(w) for w in win_sizes[name][:N_SPATIAL]]
        assert len(image_shape) >= N_SPATIAL and len(window) == N_SPATIAL, \
            'incompatible image shape {} and window shape {} of "{}"'.format(
                image_shape, win_sizes[name], name)
        steps = [max(w - 2 * max(b, 0), 0) for w, b in zip(window, border)]
        per_axis = [_enumerate_step_points(0, image_shape[axis], window[axis], steps[axis])
                    for axis in range(N_SPATIAL)]
        starts = np.asarray(np.meshgrid(*per_axis)).reshape((N_SPATIAL, -1)).T
        ends = starts + np.asarray(window)
        assert np.all(ends <= np.asarray(image_shape[:N_SPATIAL])), \
            'window size {} of "{}" is greater than the image {}'.format(
                window, name, tuple(image_shape[:N_SPATIAL]))
        ids = np.full((len(starts), 1), subject_id)
        coordinates[name] = np.concatenate([ids, starts, ends], axis=1).astype(np.int32)
    return coordinates


class GridSampler(Layer, InputBatchQueueRunner):
    """Every grid window of every subject once, with locations, in order (FIFO queue).

    :param reader: an :class:`~niftydrive.io.image_reader.ImageReader`
    :param data_param: dict input section -> namespace with ``spatial_window_size``
    :param batch_size: windows per batch
    :param spatial_window_size: replaces the sections' window size when
        given (INFERENCE ``spatial_window_size``; 0 or -1: the whole image
        along that axis)
    :param window_border: voxels an aggregator crops per side (INFERENCE ``border``)
    :param queue_length: queue capacity in windows
    """

    generator_shared = True

    def __init__(self, reader, data_param, batch_size=1, spatial_window_size=(),
                 window_border=(), queue_length=10):
        self.batch_size = int(batch_size)
        self.reader = reader
        Layer.__init__(self, name='input_buffer')
        InputBatchQueueRunner.__init__(
            self, capacity=max(self.batch_size * 4, int(queue_length)), shuffle=False)
        self.window = ImageWindow.from_data_reader_properties(
            reader.input_sources, reader.shapes, reader.tf_dtypes, data_param)
        if spatial_window_size:
            self.window.set_spatial_shape(spatial_window_size)
        self.border_size = as_border(window_border)
        self._create_queue_and_ops(self.window, enqueue_size=1,
                                   dequeue_size=self.batch_size)

    def layer_op(self):
        """One window (and its location) per item: subject 0's, then subject 1's, ..."""
        for idx in range(number_of_subjects(self.reader)):
            image_id, data = read_subject(self.reader, idx=idx, shuffle=False)
            if not data:
                break
            image_shapes = {name: data[name].shape for name in self.window.names}
            window_shapes = self.window.match_image_shapes(image_shapes)
            # an image smaller than the window is padded (in the window) to fit it
            grid_shapes = {
                name: tuple(max(int(i), int(w)) for i, w in
                            zip(image_shapes[name][:N_SPATIAL], window_shapes[name]))
                for name in self.window.names}
            coordinates = grid_spatial_coordinates(
                image_id, grid_shapes, window_shapes, self.border_size)
            counts = {name: len(rows) for name, rows in coordinates.items()}
            if len(set(counts.values())) > 1:
                raise ValueError('the inputs give different numbers of grid windows {}: give '
                                 'them the same spatial_window_size'.format(counts))
            count = counts[self.window.names[0]]
            LOGGER.debug('grid sampling subject %s: %d windows of %s', image_id, count,
                         window_shapes)
            for row in range(count):
                yield crop_windows(data, {name: rows[row:row + 1]
                                          for name, rows in coordinates.items()},
                                   window_shapes)
