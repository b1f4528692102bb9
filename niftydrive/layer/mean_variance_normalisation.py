# -*- coding: utf-8 -*-
"""Whitening (NiftyNet's ``MeanVarNormalisationLayer``): zero mean and unit
standard deviation per volume (per time point and modality), the statistics
taken over the foreground mask when there is one."""
import numpy as np

from niftydrive.layer.base_layer import Layer
from niftydrive.layer.binary_masking import (
    BinaryMaskingLayer, field_and_mask, with_field_and_mask)


def whitening_transformation(image, mask):
    """``(image - mean) / max(std, 1e-5)`` with mean and std over ``mask``."""
    image = np.asarray(image, dtype=np.float32)
    mask = np.asarray(mask, dtype=bool)
    values = image[mask] if np.any(mask) else image
    return (image - values.mean()) / max(float(values.std()), 1e-5)


class MeanVarNormalisationLayer(Layer):
    """Whiten field ``image_name`` of a reader's data dict.

    :param image_name: the field to whiten (``'image'``)
    :param binary_masking_func: a :class:`BinaryMaskingLayer` computing the
        foreground when no mask is passed in; None: every voxel
    """

    numpy_op = True

    def __init__(self, image_name, binary_masking_func=None):
        super(MeanVarNormalisationLayer, self).__init__(name='mean_var_norm')
        self.image_name = image_name
        if binary_masking_func is not None and \
                not isinstance(binary_masking_func, BinaryMaskingLayer):
            raise TypeError('binary_masking_func must be a BinaryMaskingLayer')
        self.binary_masking_func = binary_masking_func

    def layer_op(self, image, mask=None):
        """Whiten a 3-D/5-D array or ``image[image_name]``; returns ``(image, mask)``
        where the mask (a dict for dict input) holds the foreground used."""
        data, image_mask = field_and_mask(image, mask, self.image_name,
                                          self.binary_masking_func)
        if data.ndim == 5:
            for time in range(data.shape[3]):
                for mod in range(data.shape[4]):
                    data[..., time, mod] = whitening_transformation(
                        data[..., time, mod], image_mask[..., time, mod])
        else:
            data = whitening_transformation(data, image_mask)
        return with_field_and_mask(image, mask, self.image_name, data, image_mask)
