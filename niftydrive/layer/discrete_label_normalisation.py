# -*- coding: utf-8 -*-
"""Label values -> consecutive class indices (NiftyNet's
``DiscreteLabelNormalisationLayer``).

Training collects the distinct values of the training labels (sorted); the
value at position ``k`` becomes class ``k``. The values are kept in the
histogram reference file (one line ``<key> v0 v1 ...``, key e.g.
``label_parcellation``), beside any intensity landmarks, and read back at
inference to turn class indices into the original values (``reverse_op``).
"""
import logging
import re

import numpy as np

import niftydrive.utilities.histogram_standardisation as hs
from niftydrive.layer.base_layer import DataDependentLayer
from niftydrive.utilities.errors import UserInputError

LOGGER = logging.getLogger(__name__)


def mapping_key(image_name, modalities):
    """The models-file key of a label field: ``label_<section>[_<section>...]``."""
    if isinstance(modalities, str):
        modalities = (modalities,)
    text = '{}_{}'.format(image_name, '_'.join(str(m) for m in (modalities or ())))
    return re.sub(r'[^0-9a-zA-Z_\-]+', '', text.replace(' ', '_'))


class DiscreteLabelNormalisationLayer(DataDependentLayer):
    """Map the label values of field ``image_name`` to 0..K-1.

    :param image_name: the label field (``'label'``)
    :param modalities: its input section name(s) (part of the file key)
    :param model_filename: the histogram reference file (None: the mapping
        is only kept in memory)
    """

    numpy_op = True

    def __init__(self, image_name, modalities, model_filename, name='label_norm'):
        super(DiscreteLabelNormalisationLayer, self).__init__(name=name)
        self.image_name = image_name
        self.modalities = (modalities,) if isinstance(modalities, str) else \
            tuple(modalities or ())
        self.model_file = model_filename
        self.label_map = hs.read_mapping_file(model_filename)
        self._key = None

    @property
    def key(self):
        """The line key of this field's mapping in the models file."""
        return self._key or mapping_key(self.image_name, self.modalities)

    @key.setter
    def key(self, value):
        self._key = value

    @property
    def mapping(self):
        """The sorted label values (index k -> value)."""
        return np.asarray(self.label_map[self.key], dtype=np.float64)

    def is_ready(self):
        """True once the label values are known."""
        return self.key in self.label_map

    def _check_ready(self):
        if not self.is_ready():
            raise UserInputError(
                'label_normalisation: no label mapping "{}" in {}: train first (it is '
                'written there during training), or set label_normalisation = False.'.format(
                    self.key, self.model_file))

    def _convert(self, image, mask, function):
        self._check_ready()
        if isinstance(image, dict) and self.image_name not in image:
            return image, mask
        data = np.asarray(image[self.image_name] if isinstance(image, dict) else image)
        data = function(data)
        if isinstance(image, dict):
            image[self.image_name] = data
            return image, mask
        return data, mask

    def _to_index(self, data):
        values = self.mapping
        index = np.clip(np.searchsorted(values, data), 0, len(values) - 1)
        unknown = ~np.isclose(values[index], data)
        if np.any(unknown):
            raise UserInputError(
                'label value(s) {} are not among the training label values {} (line "{}" '
                'of {}).'.format(sorted(np.unique(data[unknown]).tolist())[:10],
                                 values.tolist()[:20], self.key, self.model_file))
        return index.astype(np.float32)

    def _to_value(self, data):
        values = self.mapping
        return values[np.clip(np.round(data).astype(np.int64), 0, len(values) - 1)]

    def layer_op(self, image, mask=None):
        """Label values -> indices; returns ``(image, mask)``.

        :raises UserInputError: a value not seen in the training labels
        """
        return self._convert(image, mask, self._to_index)

    def reverse_op(self, image, mask=None):
        """Indices -> label values; returns ``(image, mask)``."""
        return self._convert(image, mask, self._to_value)

    def train(self, image_list):
        """Collect the label values of ``image_list`` (a reader's ``output_list``)
        unless the file already has them, then save them to the file."""
        if self.is_ready():
            LOGGER.info('label mapping %s ready: %d classes', self.key,
                        len(self.label_map[self.key]))
            return
        values = set()
        for subject in image_list:
            values.update(np.unique(subject[self.image_name].get_data()).tolist())
        self.label_map[self.key] = tuple(sorted(values))
        if not self.model_file:
            return
        all_maps = hs.read_mapping_file(self.model_file)
        all_maps.update(self.label_map)
        hs.write_all_mod_mapping(self.model_file, all_maps)
        LOGGER.info('label mapping %s: %d classes, saved to %s', self.key, len(values),
                    self.model_file)
