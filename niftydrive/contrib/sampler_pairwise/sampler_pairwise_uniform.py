"""Random training windows of (fixed, moving) pairs: NiftyNet's
``PairwiseUniformSampler``.

Each visit draws a random pair, resizes its moving volumes to the fixed
image's grid and cuts the four volumes (fixed image and label, moving image
and label) at one random position, so that the windows stay aligned. The
sampler never ends; each queue thread iterates its own generator.

Unlike NiftyNet's (shifts by a fraction of a voxel through linear
interpolation), windows start on whole voxels; a window larger than the
image is zero-padded.
"""
import numpy as np

from niftydrive.contrib.sampler_pairwise.sampler_pairwise import PairwiseSampler
from niftydrive.engine.image_window import N_SPATIAL, crop_window


class PairwiseUniformSampler(PairwiseSampler):
    """Aligned random windows of random pairs, shuffled in the queue.

    :param reader_0: the fixed reader (``fixed_image``, ``fixed_label``)
    :param reader_1: the moving reader (``moving_image``, ``moving_label``)
    :param data_param: dict input section -> namespace with ``spatial_window_size``
    :param batch_size: windows per batch (per tower)
    :param queue_length: queue capacity in windows
    """

    def __init__(self, reader_0, reader_1, data_param, batch_size=1, queue_length=10):
        super(PairwiseUniformSampler, self).__init__(
            reader_0, reader_1, data_param, batch_size=batch_size, shuffle=True,
            queue_length=queue_length, name='pairwise_sampler_uniform')

    def layer_op(self):
        """Forever: a random pair's aligned windows at a random position."""
        window = np.asarray(self.window_size)
        while True:
            image_id = np.random.randint(self.num_subjects)
            pair = self.get_pairwise_inputs(image_id)
            shape = np.asarray(pair['fixed_image'].shape[:N_SPATIAL])
            room = np.maximum(shape - window, 0)
            start = np.array([np.random.randint(0, r + 1) for r in room])
            windows = {name: crop_window(volume, start, window)
                       for name, volume in pair.items()}
            yield self.pair_windows(
                windows, [image_id] + list(start) + list(start + window))
