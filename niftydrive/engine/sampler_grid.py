"""Sliding windows over whole volumes for inference: NiftyNet's ``GridSampler``.

Every subject of the reader is visited once, in order; its windows are laid
on a grid whose step is ``window - 2 * border`` so that, once the
aggregator crops ``border`` voxels from each side of every output window,
the remaining centres tile the volume exactly (the first window starts at
``-border``). Voxels outside the volume (the border at the image edges, or
a window larger than the image) are zero-padded.

After the last window the sampler emits one extra window whose location's
subject index is ``-1``: the aggregator's sign that everything has been
sent. Then the generator ends and the queue closes.
"""
from niftydrive.engine.image_window import (
    N_SPATIAL, ImageWindow, as_spatial_size, grid_locations, location_name)
from niftydrive.engine.image_window_buffer import InputBatchQueueRunner
from niftydrive.engine.sampler_uniform import first_window_size

END_OF_DATA = -1


def as_border(window_border):
    """A border as three non-negative ints (one value: every axis)."""
    border = tuple(int(b) for b in (window_border or (0,)))
    border = (border + border[-1:] * N_SPATIAL)[:N_SPATIAL]
    if any(b < 0 for b in border):
        from niftydrive.utilities.errors import UserInputError
        raise UserInputError('border must not be negative, got {}.'.format(border))
    return border


class GridSampler(InputBatchQueueRunner):
    """Every window of every subject once, with locations, in order (FIFO).

    :param reader: the subjects
    :param window_sizes: spatial window size (three ints, or dict field -> size)
    :param batch_size: windows per batch
    :param spatial_window_size: overrides ``window_sizes`` when set (INFERENCE's
        ``spatial_window_size``; a 0 keeps that axis of ``window_sizes``)
    :param window_border: voxels cropped per side by the aggregator
    :param queue_length: queue capacity in windows
    :param windows_per_enqueue: windows cut and enqueued together
    """

    generator_shared = True

    def __init__(self, reader, window_sizes, batch_size=1, spatial_window_size=None,
                 window_border=(0, 0, 0), queue_length=10, windows_per_enqueue=None):
        self.reader = reader
        size = first_window_size(window_sizes)
        if spatial_window_size and any(spatial_window_size):
            override = (tuple(int(s) for s in spatial_window_size) + (0,) * N_SPATIAL)[:N_SPATIAL]
            size = as_spatial_size(tuple(o or s for o, s in zip(override, size)),
                                   'INFERENCE spatial_window_size')
        self.window = ImageWindow.from_reader(reader, size)
        self.border = as_border(window_border)
        for idx in range(reader.num_subjects):   # check the border now, not in a thread
            grid_locations(reader.spatial_shape(idx), size, self.border)
        self.windows_per_enqueue = int(windows_per_enqueue or batch_size)
        capacity = max(int(queue_length), batch_size * 2, self.windows_per_enqueue)
        InputBatchQueueRunner.__init__(self, capacity=capacity, shuffle=False)
        self._create_queue_and_ops(self.window.shapes, self.window.dtypes, batch_size,
                                   enqueue_size=self.windows_per_enqueue)

    def layer_op(self):
        """Windows of subject 0, 1, ... then the end-of-data window."""
        for idx in range(self.reader.num_subjects):
            data = self.reader.get_subject(idx)
            shape = data[self.window.fields[0]].shape[:N_SPATIAL]
            starts = [start for start, _ in
                      grid_locations(shape, self.window.spatial_size, self.border)]
            for first in range(0, len(starts), self.windows_per_enqueue):
                yield self.window.cut(idx, data, starts[first:first + self.windows_per_enqueue])
        end = self.window.empty(1)
        for name in self.window.fields:
            end[location_name(name)][:, 0] = END_OF_DATA
        yield end
