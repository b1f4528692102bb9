# -*- coding: utf-8 -*-
"""Volume padding, a reader preprocessing layer (NiftyNet's ``PadLayer``)."""
import logging

import numpy as np

from niftydrive.layer.base_layer import Invertible, Layer
from niftydrive.utilities.errors import UserInputError

LOGGER = logging.getLogger(__name__)


def _spatial_border(border):
    """``border`` as a 3-tuple of non-negative ints (one value: all three axes)."""
    try:
        values = (int(border),) if np.isscalar(border) else tuple(int(b) for b in border)
    except (TypeError, ValueError):
        raise UserInputError('volume padding must be integers, got {!r}'.format(border))
    if not values:
        values = (0,)
    if any(v < 0 for v in values):
        raise UserInputError('volume padding must not be negative, got {!r}'.format(border))
    return (values * 3)[:3] if len(values) == 1 else (values + (0, 0, 0))[:3]


class PadLayer(Layer, Invertible):
    """Pad ``border[i]`` voxels on both sides of spatial axis ``i`` of the
    fields named in ``image_name``, with ``numpy.pad`` mode ``mode``.

    A spatial axis of length 1 (the z axis of a 2-D picture) is not padded
    (NiftyNet padded it too, turning pictures into thin volumes).
    ``inverse_op`` crops the same borders off.

    :param image_name: field name(s) to pad, e.g. ``('image', 'label')``
    :param border: voxels per side, one value or one per spatial axis
    :param mode: ``numpy.pad`` mode (``minimum``, ``edge``, ``constant`` ...)
    """

    numpy_op = True

    def __init__(self, image_name, border, name='pad', mode='minimum'):
        super(PadLayer, self).__init__(name=name)
        self.border = _spatial_border(border)
        self.image_name = {image_name} if isinstance(image_name, str) else set(image_name)
        self.mode = mode or 'minimum'

    def _widths(self, image):
        widths = [(b, b) if size > 1 else (0, 0)
                  for b, size in zip(self.border, image.shape[:3])]
        return widths + [(0, 0)] * (image.ndim - 3)

    def _pad(self, image):
        image = np.asarray(image)
        if image.ndim < 3:
            raise UserInputError('PadLayer needs arrays with 3 spatial axes, got shape '
                                 '{}'.format(image.shape))
        try:
            return np.pad(image, self._widths(image), mode=self.mode)
        except ValueError as error:
            raise UserInputError('volume_padding_mode = {}: {}'.format(self.mode, error))

    def _crop(self, image):
        image = np.asarray(image)
        crop = tuple(slice(low, size - high) if low and size > low + high else slice(None)
                     for (low, high), size in zip(self._widths(image)[:3], image.shape[:3]))
        return image[crop]

    def _apply(self, function, input_image, mask):
        if not isinstance(input_image, dict):
            return function(input_image), mask
        for name in list(input_image):
            if name in self.image_name:
                input_image[name] = function(input_image[name])
        return input_image, mask

    def layer_op(self, input_image, mask=None):
        """Pad an array, or the named fields of a dict; returns ``(image, mask)``."""
        return self._apply(self._pad, input_image, mask)

    def inverse_op(self, input_image, mask=None):
        """Crop the padding off again; returns ``(image, mask)``."""
        return self._apply(self._crop, input_image, mask)
