# -*- coding: utf-8 -*-
"""Regression metrics, one value per subject: ``mse``, ``rmse``, ``mae``.

Each compares the inferred image with the reference (``output``) image
voxel by voxel over the whole volume.
"""
import numpy as np

from niftydrive.evaluation.base_evaluations import REGRESSION, BaseEvaluation


class BaseRegressionEvaluation(BaseEvaluation):
    """A scalar of the inferred and the reference arrays."""

    KIND = REGRESSION

    def metric_dict(self, inferred, reference):
        """``{column: value}`` for one subject."""
        return {self.metric_name: float(self.metric(inferred, reference))}

    def metric(self, reg, ref):
        """The metric of inferred ``reg`` and reference ``ref`` (same shape)."""
        raise NotImplementedError


# pylint: disable=invalid-name
class mse(BaseRegressionEvaluation):
    """Mean squared error."""

    def metric(self, reg, ref):
        return np.mean(np.square(reg - ref))


class rmse(BaseRegressionEvaluation):
    """Root mean squared error."""

    def metric(self, reg, ref):
        return np.sqrt(np.mean(np.square(reg - ref)))


class mae(BaseRegressionEvaluation):
    """Mean absolute error."""

    def metric(self, reg, ref):
        return np.mean(np.abs(reg - ref))
