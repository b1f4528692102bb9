# -*- coding: utf-8 -*-
"""Segmentation metrics, computed per subject and per unit of evaluation.

A metric compares two binary masks, the segmentation's and the reference's,
of one unit (``[SEGMENTATION] evaluation_units``, see
:mod:`niftydrive.evaluation.segmentation_evaluator`): one label value, or
one connected component of the reference with the segmentation components
overlapping it.  Every metric reads a shared
:class:`~niftydrive.evaluation.pairwise_measures.PairwiseMeasures` of the
pair, so voxel counts and distance maps are computed once per unit; its
docstring defines each measure and its value for empty masks (never NaN).

Names are NiftyNet's (its ``SUPPORTED_EVALUATIONS``): the CSV column of a
metric is its class name (``Dice`` and ``dice`` both fill ``dice``).
"""
from niftydrive.evaluation.base_evaluations import SEGMENTATION, BaseEvaluation


class PerComponentEvaluation(BaseEvaluation):
    """A metric of one unit's segmentation and reference masks."""

    KIND = SEGMENTATION

    def metric_dict(self, measures):
        """``{column: value}`` from a ``PairwiseMeasures`` of the unit."""
        raise NotImplementedError


class PerComponentScalarEvaluation(PerComponentEvaluation):
    """A metric that is one ``PairwiseMeasures`` method (``measure``)."""

    measure = None

    def metric_dict(self, measures):
        return {self.metric_name: getattr(measures, self.measure)()}


def _scalar_metric(name, measure, doc):
    """A ``PerComponentScalarEvaluation`` subclass called ``name``."""
    return type(name, (PerComponentScalarEvaluation,),
                {'measure': measure, '__doc__': doc, '__module__': __name__})


n_pos_ref = _scalar_metric('n_pos_ref', 'n_pos_ref', 'Reference foreground voxels.')
n_neg_ref = _scalar_metric('n_neg_ref', 'n_neg_ref', 'Reference background voxels.')
n_pos_seg = _scalar_metric('n_pos_seg', 'n_pos_seg', 'Segmentation foreground voxels.')
n_neg_seg = _scalar_metric('n_neg_seg', 'n_neg_seg', 'Segmentation background voxels.')
tp = _scalar_metric('tp', 'tp', 'True positive voxels.')
fp = _scalar_metric('fp', 'fp', 'False positive voxels.')
fn = _scalar_metric('fn', 'fn', 'False negative voxels.')
tn = _scalar_metric('tn', 'tn', 'True negative voxels.')
n_intersection = _scalar_metric('n_intersection', 'n_intersection', 'Voxels in both masks.')
n_union = _scalar_metric('n_union', 'n_union', 'Voxels in either mask.')
sensitivity = _scalar_metric('sensitivity', 'sensitivity',
                             'Recall: TP / (TP + FN) (1.0 for an empty reference).')
specificity = _scalar_metric('specificity', 'specificity', 'TN / (TN + FP).')
accuracy = _scalar_metric('accuracy', 'accuracy', '(TP + TN) / all voxels.')
false_positive_rate = _scalar_metric('false_positive_rate', 'false_positive_rate',
                                     'FP / (FP + TN).')
false_negative_rate = _scalar_metric('false_negative_rate', 'false_negative_rate',
                                     'FN / (FN + TP).')
positive_predictive_values = _scalar_metric(
    'positive_predictive_values', 'positive_predictive_values',
    'Precision: TP / (TP + FP) (1.0 for an empty segmentation).')
negative_predictive_values = _scalar_metric(
    'negative_predictive_values', 'negative_predictive_values', 'TN / (TN + FN).')
dice = _scalar_metric('dice', 'dice_score',
                      'Dice: 2 TP / (2 TP + FP + FN) (1.0 when both masks are empty).')
jaccard = _scalar_metric('jaccard', 'jaccard',
                         'Jaccard, intersection over union (1.0 when both are empty).')
informedness = _scalar_metric('informedness', 'informedness', 'Sensitivity + specificity - 1.')
markedness = _scalar_metric('markedness', 'markedness', 'PPV + NPV - 1.')
vol_diff = _scalar_metric('vol_diff', 'vol_diff',
                          'Relative volume difference |seg - ref| / ref.')
average_distance = _scalar_metric('average_distance', 'measured_average_distance',
                                  'Mean symmetric border distance in mm.')
hausdorff_distance = _scalar_metric('hausdorff_distance', 'measured_hausdorff_distance',
                                    'Hausdorff distance between the borders in mm.')
hausdorff95_distance = _scalar_metric('hausdorff95_distance', 'measured_hausdorff95_distance',
                                      '95th percentile Hausdorff distance in mm.')

# NiftyNet's aliases
Dice = dice
Jaccard = jaccard
intersection_over_union = jaccard


class connected_elements(PerComponentEvaluation):  # pylint: disable=invalid-name
    """Connected-component counts: ``TPc`` reference components the segmentation
    touches, ``FPc`` segmentation components touching no reference component,
    ``FNc`` reference components it misses."""

    @property
    def columns(self):
        return ('TPc', 'FPc', 'FNc')

    def metric_dict(self, measures):
        return dict(zip(self.columns, measures.connected_elements()))
