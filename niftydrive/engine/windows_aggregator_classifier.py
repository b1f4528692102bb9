# -*- coding: utf-8 -*-
"""One classification output per subject: NiftyNet's ``ClassifierSamplesAggregator``.

For each subject the network's output vector (class index or class
probabilities) is written twice in ``output_path``: as a 1x1x1 image with
the subject's affine, ``<subject><prefix>.nii.gz`` (listed in
``inferred.csv``), and as a row ``subject_id,value,...`` of
``<prefix>.csv``, which starts empty on each run.
"""
import csv
import os

import numpy as np

from niftydrive.engine.windows_aggregator_base import ImageWindowsAggregator
from niftydrive.engine.windows_aggregator_grid import subject_name
from niftydrive.io.image_loader import save_nifti


class ClassifierSamplesAggregator(ImageWindowsAggregator):
    """Write each subject's output vector as an image and a CSV row.

    :param image_reader: the reader the sampler read from
    :param name: the input whose image gives the output's affine
    :param output_path: folder of the outputs
    :param prefix: appended to subject ids in file names; names the CSV
    :param label_mapping: maps class indices back to label values (None: keep)
    """

    def __init__(self, image_reader, name='image', output_path=os.path.join('.', 'output'),
                 prefix='_niftynet_out', label_mapping=None):
        ImageWindowsAggregator.__init__(self, image_reader=image_reader,
                                        output_path=output_path)
        self.name = name
        self.output_interp_order = 0
        self.prefix = self.postfix = prefix
        self.label_mapping = label_mapping
        self.saved = []   # (subject_id, image path) in the order written
        self.csv_path = os.path.join(self.output_path, prefix + '.csv')
        if os.path.exists(self.csv_path):
            os.remove(self.csv_path)

    def decode_batch(self, window, location):
        """Save each subject's vector; False at the stopping signal."""
        window = np.asarray(window)
        for output, row in zip(window, np.asarray(location)):
            if self._is_stopping_signal(row):
                return False
            self.image_id = int(row[0])
            self._save_current_image(output.reshape(-1))
        return True

    def _save_current_image(self, values):
        if self.label_mapping is not None:
            values = self.label_mapping.backward(values)
        subject = subject_name(self.reader, self.image_id)
        filename = '{}{}.nii.gz'.format(subject, self.prefix)
        reference = self.reader.reference_image(self.image_id, self.name)
        save_nifti(np.asarray(values, dtype=np.float32).reshape(1, 1, 1, 1, -1),
                   reference.original_affine, os.path.join(self.output_path, filename))
        os.makedirs(self.output_path, exist_ok=True)
        with open(self.csv_path, 'a', newline='') as handle:
            csv.writer(handle).writerow([subject] + ['{:g}'.format(v) for v in values])
        self.log_inferred(subject, filename)
        self.saved.append((subject, os.path.join(self.output_path, filename)))
