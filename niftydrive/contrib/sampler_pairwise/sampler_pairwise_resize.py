"""Whole (fixed, moving) pairs resized to the window: NiftyNet's
``PairwiseResizeSampler``, for inference.

Each pair is read once, in order: its moving volumes are resized to the
fixed image's grid, then all four volumes to the window size (linear
interpolation, voxel centres aligned). The location row of a pair is
``[subject, 0, 0, 0, x, y, z]`` with the fixed image's spatial shape, which
:class:`~niftydrive.engine.windows_aggregator_resize.ResizeSamplesAggregator`
uses to resize outputs back. After the last pair come the stopping-signal
windows.
"""
from niftydrive.contrib.sampler_pairwise.sampler_pairwise import PairwiseSampler
from niftydrive.engine.image_window import N_SPATIAL
from niftydrive.layer.layer_util import resize_3d


class PairwiseResizeSampler(PairwiseSampler):
    """Every pair once, resized to the window, first in first out.

    :param reader_0: the fixed reader (``fixed_image`` ...)
    :param reader_1: the moving reader (``moving_image`` ...)
    :param data_param: dict input section -> namespace with ``spatial_window_size``
    :param batch_size: pairs per batch
    :param queue_length: queue capacity in windows
    """

    #: one pass over the pairs shared by every thread: each pair once
    generator_shared = True

    def __init__(self, reader_0, reader_1, data_param, batch_size=1, queue_length=10):
        super(PairwiseResizeSampler, self).__init__(
            reader_0, reader_1, data_param, batch_size=batch_size, shuffle=False,
            queue_length=queue_length, name='pairwise_sampler_resize')

    def layer_op(self):
        """Each pair in turn, resized to the window, with its image's shape."""
        for image_id in range(self.num_subjects):
            pair = self.get_pairwise_inputs(image_id)
            shape = pair['fixed_image'].shape[:N_SPATIAL]
            windows = {name: resize_3d(volume[..., 0], self.window_size, 1)[..., None]
                       for name, volume in pair.items()}
            yield self.pair_windows(windows, [image_id] + [0] * N_SPATIAL + list(shape))
