# -*- coding: utf-8 -*-
"""Every output window saved as its own image: NiftyNet's ``WindowAsImageAggregator``.

Used by generative applications (GAN samples, autoencoder reconstructions
and interpolations). File names, in ``output_path``:

- no location (windows from random vectors): ``<k>_<uuid>_niftynet_generated.nii.gz``;
- location rows of two entries ``[a, b]`` (a mixture of subjects ``a`` and
  ``b``): ``<k>_<subject a>_<subject b>_niftynet_generated.nii.gz``;
- longer rows (a window of subject ``a``): ``<k>_<subject a>_niftynet_generated.nii.gz``;

where ``k`` counts the windows of the same first subject. Images are saved
with an identity affine. Each file is listed in ``inferred.csv``.
"""
import os
import uuid

import numpy as np

from niftydrive.engine.windows_aggregator_base import ImageWindowsAggregator
from niftydrive.engine.windows_aggregator_grid import subject_name
from niftydrive.io.image_loader import save_nifti


class WindowAsImageAggregator(ImageWindowsAggregator):
    """Save each window of each batch as a NIfTI image.

    :param image_reader: the reader the windows came from (subject names),
        or None (random inputs)
    :param output_path: folder of the images
    """

    def __init__(self, image_reader=None, output_path=os.path.join('.', 'output')):
        ImageWindowsAggregator.__init__(self, image_reader=image_reader,
                                        output_path=output_path)
        self.output_id = {'base_name': None, 'relative_id': 0}
        self.saved = []

    def _decode_subject_name(self, location=None):
        if self.reader is not None and location is not None:
            return subject_name(self.reader, int(location))
        return uuid.uuid4().hex

    def decode_batch(self, window, location=None):
        """Save the batch's windows; False at the stopping signal (or, without
        locations, after this one batch)."""
        window = np.asarray(window)
        if location is None:
            for index, image in enumerate(window):
                self._save_current_image(index, self._decode_subject_name(), image)
            return False
        location = np.asarray(location)
        for image, row in zip(window, location):
            if self._is_stopping_signal(row):
                return False
            base_name = self._decode_subject_name(row[0])
            if base_name != self.output_id['base_name']:
                self.output_id = {'base_name': base_name, 'relative_id': 0}
            name = base_name
            if len(row) == 2:
                name = '{}_{}'.format(base_name, self._decode_subject_name(row[1]))
            self._save_current_image(self.output_id['relative_id'], name, image)
            self.output_id['relative_id'] += 1
        return True

    def _save_current_image(self, index, name, image):
        filename = '{}_{}_niftynet_generated.nii.gz'.format(index, name)
        path = os.path.join(self.output_path, filename)
        save_nifti(np.asarray(image, dtype=np.float32), np.eye(4), path)
        self.log_inferred('{}_{}'.format(index, name), filename)
        self.saved.append(path)
