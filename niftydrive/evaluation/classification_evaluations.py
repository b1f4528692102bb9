# -*- coding: utf-8 -*-
"""Classification metrics, computed over all evaluated subjects together.

Each metric receives the subjects' true classes, their predicted classes,
the probability of the positive class (when the outputs are probabilities)
and the list of classes, and returns ``{column: value}``:

- ``accuracy``: the fraction of subjects whose predicted class is right;
- ``confusion_matrix``: ``confusion_<true>_<predicted>``, the number of
  subjects of each true class predicted as each class;
- ``roc_auc``: the area under the ROC curve of a two-class problem (the
  second class is the positive one); scored by the positive class's
  probability with ``output_prob``, else by the predicted class (then it is
  the mean of sensitivity and specificity); NaN when one class is absent.
"""
import numpy as np
from scipy.stats import rankdata

from niftydrive.evaluation.base_evaluations import CLASSIFICATION, BaseEvaluation
from niftydrive.utilities.errors import UserInputError


class BaseClassificationEvaluation(BaseEvaluation):
    """A metric of the classes of a set of subjects."""

    KIND = CLASSIFICATION

    def metric_dict(self, labels, predicted, positive_scores, classes):
        """``{column: value}`` over the subjects.

        :param labels: true class of each subject (1-D array)
        :param predicted: predicted class of each subject (1-D array)
        :param positive_scores: probability of ``classes[1]`` per subject, or None
        :param classes: the class values, sorted
        """
        raise NotImplementedError


# pylint: disable=invalid-name
class accuracy(BaseClassificationEvaluation):
    """Fraction of subjects classified correctly."""

    def metric_dict(self, labels, predicted, positive_scores, classes):
        return {'accuracy': float(np.mean(labels == predicted))}


class confusion_matrix(BaseClassificationEvaluation):
    """Subjects per (true class, predicted class): ``confusion_<true>_<predicted>``."""

    def metric_dict(self, labels, predicted, positive_scores, classes):
        return {'confusion_{:g}_{:g}'.format(true, guess):
                int(np.sum((labels == true) & (predicted == guess)))
                for true in classes for guess in classes}


class roc_auc(BaseClassificationEvaluation):
    """Area under the ROC curve (two classes; Mann-Whitney U statistic)."""

    def metric_dict(self, labels, predicted, positive_scores, classes):
        if len(classes) != 2:
            raise UserInputError(
                '[EVALUATION] evaluations: roc_auc needs two classes, the outputs have {} '
                '({}).'.format(len(classes), ', '.join('{:g}'.format(c) for c in classes)))
        scores = positive_scores if positive_scores is not None else \
            (predicted == classes[1]).astype(np.float64)
        positive = labels == classes[1]
        n_pos, n_neg = int(np.sum(positive)), int(np.sum(~positive))
        if n_pos == 0 or n_neg == 0:
            return {'roc_auc': float('nan')}
        ranks = rankdata(scores)   # ties share their mean rank
        u_statistic = np.sum(ranks[positive]) - n_pos * (n_pos + 1) / 2.0
        return {'roc_auc': float(u_statistic / (n_pos * n_neg))}
