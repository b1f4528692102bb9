# -*- coding: utf-8 -*-
"""Random flips for data augmentation: NiftyNet's ``RandomFlipLayer``."""
import numpy as np

from niftydrive.layer.base_layer import RandomisedLayer
from niftydrive.layer.layer_util import transform_fields


class RandomFlipLayer(RandomisedLayer):
    """Flip volumes along some of ``flip_axes``, each with ``flip_probability``.

    ``randomise()`` decides, axis by axis, whether to flip; every call
    after it flips all fields of a subject (image, label, weight ...) the same
    way, so they stay aligned.

    :param flip_axes: spatial axes (0, 1, 2) that may be flipped
    :param flip_probability: chance of flipping each of those axes
    :param seed: seed of the layer's random stream (None: not reproducible)
    """

    def __init__(self, flip_axes, flip_probability=0.5, name='random_flip', seed=None):
        super(RandomFlipLayer, self).__init__(name=name, seed=seed)
        self._flip_axes = tuple(int(a) for a in np.atleast_1d(flip_axes))
        if any(a < 0 or a > 2 for a in self._flip_axes):
            raise ValueError('flip axes must be spatial axes 0, 1 or 2, got {}'.format(
                self._flip_axes))
        self._flip_probability = float(flip_probability)
        self._rand_flip = None

    def randomise(self, spatial_rank=3):
        """Draw, for each of the first ``spatial_rank`` axes, whether to flip it."""
        spatial_rank = int(np.floor(spatial_rank))
        self._rand_flip = self.rng.random_sample(spatial_rank) < self._flip_probability

    @property
    def flipped_axes(self):
        """The axes the next call flips (after ``randomise()``)."""
        if self._rand_flip is None:
            raise RuntimeError('RandomFlipLayer: call randomise() before using the layer')
        return tuple(axis for axis, flip in enumerate(self._rand_flip)
                     if flip and axis in self._flip_axes)

    def _apply_transformation(self, volume, interp_order=0):
        axes = self.flipped_axes
        return np.flip(volume, axis=axes) if axes else volume

    def layer_op(self, inputs, interp_orders=None, *args, **kwargs):
        """Flip a dict ``field -> [x, y, z, ...]`` (fields whose interpolation
        order is negative are left alone), or a single array."""
        if inputs is None:
            return inputs
        if isinstance(inputs, dict):
            if interp_orders is None:
                interp_orders = {field: (0,) for field in inputs}
            return transform_fields(inputs, interp_orders, self._apply_transformation)
        return self._apply_transformation(np.asarray(inputs))
