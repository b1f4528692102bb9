# -*- coding: utf-8 -*-
"""The evaluator of regression outputs: ``mse``, ``rmse``, ``mae`` per subject.

The inferred image and the reference (the ``output`` input section) must be
on the same voxel grid with the same number of components (``load_pair``
also refuses voxels that are not finite, naming the file).
"""
import numpy as np

from niftydrive.evaluation.base_evaluations import REGRESSION
from niftydrive.evaluation.base_evaluator import BaseEvaluator, load_pair
from niftydrive.utilities.errors import UserInputError


class RegressionEvaluator(BaseEvaluator):
    """Regression metrics of inferred images against reference images."""

    KIND = REGRESSION
    APPLICATION = 'net_regress'

    def default_evaluation_list(self):
        """NiftyNet's default: mse, rmse, mae."""
        return ['mse', 'rmse', 'mae']

    def load_subject(self, subject_id, inferred_path, reference_path):
        """``{'inferred', 'output'}`` float64 arrays of one subject."""
        inferred, reference = load_pair(inferred_path, reference_path, subject_id,
                                        'regression output', 'reference')
        if inferred.data.shape != reference.data.shape:
            raise UserInputError(
                'Subject {}: {} and {} have different numbers of components.'.format(
                    subject_id, inferred.describe(), reference.describe()))
        return {'inferred': inferred.data.astype(np.float64),
                'output': reference.data.astype(np.float64)}

    def evaluate_next(self, subject_id, data):
        row = {'subject_id': subject_id}
        for evaluation in self.evaluations:
            row.update(evaluation.metric_dict(data['inferred'], data['output']))
        return [row]
