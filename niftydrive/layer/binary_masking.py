# -*- coding: utf-8 -*-
"""Foreground masks of images (NiftyNet's ``BinaryMaskingLayer``).

Mask types (``NETWORK foreground_type``): ``otsu_plus`` / ``otsu_minus``
(above / below Otsu's threshold), ``threshold_plus`` / ``threshold_minus``
(above / below ``threshold``; ``thresh_plus``/``thresh_minus`` are accepted
spellings), ``mean_plus`` (above the image mean). Each mask is dilated twice
and its holes are filled. For several modalities
(``multimod_foreground_type``): ``and`` intersects their masks, ``or`` unites
them, ``multi`` keeps one mask per modality.
"""
import logging

import numpy as np
from scipy import ndimage

from niftydrive.layer.base_layer import Layer
from niftydrive.utilities.errors import UserInputError

LOGGER = logging.getLogger(__name__)

SUPPORTED_MASK_TYPES = ('threshold_plus', 'threshold_minus', 'otsu_plus', 'otsu_minus',
                        'mean_plus')
MASK_TYPE_ALIASES = {'thresh_plus': 'threshold_plus', 'thresh_minus': 'threshold_minus'}
SUPPORTED_MULTIMOD_MASK_TYPES = ('or', 'and', 'multi')


def otsu_threshold(image, bins=256):
    """Otsu's threshold: the intensity maximising the between-class variance.

    When a range of empty histogram bins gives the same maximum (two well
    separated intensity groups) the middle of that range is returned.
    """
    values = np.asarray(image, dtype=np.float64).ravel()
    low, high = values.min(), values.max()
    if low == high:
        return low
    counts, edges = np.histogram(values, bins=bins, range=(low, high))
    centres = (edges[:-1] + edges[1:]) / 2.0
    weight_low = np.cumsum(counts)[:-1]
    weight_high = values.size - weight_low
    sum_low = np.cumsum(counts * centres)[:-1]
    mean_low = sum_low / np.maximum(weight_low, 1)
    mean_high = (np.sum(counts * centres) - sum_low) / np.maximum(weight_high, 1)
    between = weight_low * weight_high * (mean_low - mean_high) ** 2
    best = np.flatnonzero(between >= between.max() * (1 - 1e-9))
    # class "low" holds bins 0..k: the threshold is the upper edge of bin k
    return (edges[best[0] + 1] + edges[best[-1] + 1]) / 2.0


def _check_choice(value, choices, key):
    name = MASK_TYPE_ALIASES.get(str(value).strip().lower(), str(value).strip().lower())
    if name not in choices:
        raise UserInputError('{} = {}: expected one of {}.'.format(
            key, value, ', '.join(choices)))
    return name


class BinaryMaskingLayer(Layer):
    """Boolean foreground mask of a 3-D volume or a 5-D ``[x, y, z, t, m]`` image.

    :param type_str: the mask type (see the module docstring)
    :param multimod_fusion: ``and``, ``or`` or ``multi``
    :param threshold: the threshold of ``threshold_plus/minus``
    """

    numpy_op = True

    def __init__(self, type_str='otsu_plus', multimod_fusion='or', threshold=0.0):
        super(BinaryMaskingLayer, self).__init__(name='binary_masking')
        self.type_str = _check_choice(type_str, SUPPORTED_MASK_TYPES, 'foreground_type')
        self.multimod_fusion = _check_choice(multimod_fusion, SUPPORTED_MULTIMOD_MASK_TYPES,
                                             'multimod_foreground_type')
        self.threshold = float(threshold)

    def _threshold_mask(self, image):
        if self.type_str == 'threshold_plus':
            return image > self.threshold
        if self.type_str == 'threshold_minus':
            return image < self.threshold
        if self.type_str == 'mean_plus':
            return image > np.mean(image)
        threshold = otsu_threshold(image) if np.any(image) else self.threshold
        return image > threshold if self.type_str == 'otsu_plus' else image < threshold

    def make_mask_3d(self, image):
        """The mask of one volume (dilated twice, holes filled; a picture's
        singleton z axis is left out of the morphology)."""
        image = np.asarray(image)
        if image.ndim != 3:
            raise ValueError('expected a 3-D volume, got shape {}'.format(image.shape))
        squeezed = np.squeeze(image) if image.ndim and 1 in image.shape else image
        squeezed = np.atleast_1d(squeezed)
        mask = self._threshold_mask(squeezed)
        mask = ndimage.binary_dilation(mask, iterations=2)
        mask = ndimage.binary_fill_holes(mask)
        if not np.any(mask):
            LOGGER.warning('foreground_type = %s found no foreground in a volume; using '
                           'every voxel.', self.type_str)
            mask = np.ones_like(mask, dtype=bool)
        return mask.reshape(image.shape)

    def layer_op(self, image):
        """Mask of the same shape as ``image`` (3-D or 5-D)."""
        image = np.asarray(image)
        if image.ndim == 3:
            return self.make_mask_3d(image)
        if image.ndim != 5:
            raise ValueError('expected a 3-D or 5-D image, got shape {}'.format(image.shape))
        mask = np.zeros(image.shape, dtype=bool)
        present = [m for m in range(image.shape[4]) if np.any(image[..., m])]
        for time in range(image.shape[3]):
            for mod in present:
                mask[..., time, mod] = self.make_mask_3d(image[..., time, mod])
            if self.multimod_fusion == 'multi' or not present:
                continue
            combine = np.logical_and if self.multimod_fusion == 'and' else np.logical_or
            fused = mask[..., time, present[0]]
            for mod in present[1:]:
                fused = combine(fused, mask[..., time, mod])
            mask[..., time, :] = fused[..., None]
        return mask


def field_and_mask(image, mask, image_name, masking_func):
    """A normalisation layer's input: ``(float32 copy of the field, its mask)``.

    ``image`` is an array or a dict holding ``image_name``; ``mask`` an array,
    a dict of masks by field, or None (then ``masking_func(data)``, or every
    voxel when there is no masking function).
    """
    data = np.array(image[image_name] if isinstance(image, dict) else image, dtype=np.float32)
    image_mask = mask.get(image_name) if isinstance(mask, dict) else mask
    if image_mask is None:
        image_mask = masking_func(data) if masking_func is not None else \
            np.ones(data.shape, dtype=bool)
    return data, np.asarray(image_mask, dtype=bool)


def with_field_and_mask(image, mask, image_name, data, image_mask):
    """A normalisation layer's output, shaped like its input: ``(data, mask)``
    for an array, else the dicts with ``image_name`` set in both."""
    if not isinstance(image, dict):
        return data, image_mask
    image[image_name] = data
    if isinstance(mask, dict):
        mask[image_name] = image_mask
    else:
        mask = {image_name: image_mask}
    return image, mask
