# -*- coding: utf-8 -*-
"""Histogram (landmark) intensity normalisation (NiftyNet's
``HistogramNormalisationLayer``), see
:mod:`niftydrive.utilities.histogram_standardisation`.

``train`` computes the average landmarks of each modality (input section)
from the training subjects, within the foreground mask when a
``binary_masking_func`` is given, and saves them to ``model_filename``
unless that file already has them; ``layer_op`` then maps each image's
landmarks onto them.
"""
import logging

import numpy as np

import niftydrive.utilities.histogram_standardisation as hs
from niftydrive.layer.base_layer import DataDependentLayer
from niftydrive.layer.binary_masking import (
    BinaryMaskingLayer, field_and_mask, with_field_and_mask)
from niftydrive.utilities.errors import UserInputError

LOGGER = logging.getLogger(__name__)


class HistogramNormalisationLayer(DataDependentLayer):
    """Normalise the modalities of field ``image_name`` with trained landmarks.

    :param image_name: the field (``'image'``)
    :param modalities: its input section names, in modality-axis order
    :param model_filename: the histogram reference file (read, and written by ``train``)
    :param binary_masking_func: a :class:`BinaryMaskingLayer` for the foreground
        (None: every voxel)
    :param norm_type: ``percentile``, ``quartile`` or ``median``
    :param cutoff: the outer landmark percentiles, e.g. ``(0.01, 0.99)``
    """

    numpy_op = True

    def __init__(self, image_name, modalities, model_filename, binary_masking_func=None,
                 norm_type='percentile', cutoff=(0.05, 0.95), name='hist_norm'):
        super(HistogramNormalisationLayer, self).__init__(name=name)
        self.image_name = image_name
        self.modalities = (modalities,) if isinstance(modalities, str) else \
            tuple(modalities or ())
        if not self.modalities:
            raise UserInputError('histogram normalisation needs the input section names of '
                                 'the "{}" field.'.format(image_name))
        if not model_filename:
            raise UserInputError('histogram normalisation needs NETWORK histogram_ref_file.')
        self.hist_model_file = model_filename
        if binary_masking_func is not None and \
                not isinstance(binary_masking_func, BinaryMaskingLayer):
            raise TypeError('binary_masking_func must be a BinaryMaskingLayer')
        self.binary_masking_func = binary_masking_func
        self.norm_type = hs.check_norm_type(norm_type)
        self.cutoff = tuple(float(c) for c in cutoff) if cutoff is not None else None
        self.mapping = hs.read_mapping_file(model_filename)

    def modalities_to_train(self):
        """The modalities with no landmarks yet."""
        return [name for name in self.modalities if name not in self.mapping]

    def is_ready(self):
        """True when every modality has landmarks."""
        return not self.modalities_to_train()

    def train(self, image_list):
        """Compute and save the missing modalities' landmarks from ``image_list``
        (a reader's ``output_list``)."""
        missing = self.modalities_to_train()
        if not missing:
            LOGGER.info('histogram normalisation landmarks ready for %s: %s',
                        self.image_name, ', '.join(self.modalities))
            return
        LOGGER.info('training histogram normalisation landmarks of %s on %d subjects',
                    ', '.join(missing), len(image_list))
        masking = self.binary_masking_func
        trained = hs.create_mapping_from_multimod_arrayfiles(
            image_list, self.image_name, self.modalities, missing, self.cutoff,
            masking.make_mask_3d if masking is not None else None, self.norm_type)
        self.mapping.update(trained)
        all_maps = hs.read_mapping_file(self.hist_model_file)
        all_maps.update(self.mapping)
        hs.write_all_mod_mapping(self.hist_model_file, all_maps)
        LOGGER.info('histogram normalisation landmarks saved to %s', self.hist_model_file)

    def layer_op(self, image, mask=None):
        """Normalise a 5-D array or ``image[image_name]``; returns ``(image, mask)``
        (for a dict, the mask dict gains this field's foreground mask)."""
        if not self.is_ready():
            raise UserInputError(
                'histogram normalisation: no landmarks for {} in {}: train first (they are '
                'written there during training) or set normalisation = False.'.format(
                    ', '.join(self.modalities_to_train()), self.hist_model_file))
        if isinstance(image, dict) and self.image_name not in image:
            return image, mask
        data, image_mask = field_and_mask(image, mask, self.image_name,
                                          self.binary_masking_func)
        if data.ndim != 5:
            raise ValueError('histogram normalisation needs 5-D [x, y, z, t, m] arrays, '
                             'got shape {}'.format(data.shape))
        if data.shape[4] > len(self.modalities):
            raise UserInputError('histogram normalisation: {} modalities in the data but '
                                 'only {} named ({}).'.format(data.shape[4], len(
                                     self.modalities), ', '.join(self.modalities)))
        for mod, name in enumerate(self.modalities[:data.shape[4]]):
            for time in range(data.shape[3]):
                if not np.any(data[..., time, mod]):
                    continue   # an empty (missing) modality stays empty
                data[..., time, mod] = hs.transform_by_mapping(
                    data[..., time, mod], image_mask[..., time, mod], self.mapping[name],
                    self.cutoff, self.norm_type)
        return with_field_and_mask(image, mask, self.image_name, data, image_mask)
