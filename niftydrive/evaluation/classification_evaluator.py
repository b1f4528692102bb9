# -*- coding: utf-8 -*-
"""The evaluator of classification outputs: one row of metrics over all subjects.

Each subject's inferred output is the image ``ClassifierSamplesAggregator``
wrote (its voxels: the predicted class, or with ``output_prob`` the class
probabilities) and its reference is the ``label`` input image, whose voxels
all hold the subject's class.  The metrics (``accuracy``,
``confusion_matrix``, ``roc_auc``; see ``classification_evaluations``) are
computed over the subjects together, so ``evaluation.csv`` has one row:
``n_subjects`` then the metrics' columns.
"""
import numpy as np

from niftydrive.evaluation.base_evaluations import CLASSIFICATION
from niftydrive.evaluation.base_evaluator import BaseEvaluator, LoadedVolume
from niftydrive.utilities.errors import UserInputError


class ClassificationEvaluator(BaseEvaluator):
    """Classification metrics of inferred classes against label images.

    ``label_mapping`` (a ``LabelMapping``, set by the application) maps the
    probability index k back to the label value with ``output_prob`` and
    ``label_normalisation``.
    """

    KIND = CLASSIFICATION
    APPLICATION = 'net_classify'

    def __init__(self, app_param=None, eval_param=None):
        self.num_classes = int(getattr(app_param, 'num_classes', -1) or -1)
        self.output_prob = bool(getattr(app_param, 'output_prob', False))
        self.label_normalisation = bool(getattr(app_param, 'label_normalisation', False))
        self.label_mapping = None
        self._columns = None
        super(ClassificationEvaluator, self).__init__(app_param, eval_param)

    def default_evaluation_list(self):
        """accuracy and confusion_matrix, and roc_auc for two classes."""
        return ['accuracy', 'confusion_matrix'] + (['roc_auc'] if self.num_classes == 2
                                                   else [])

    @property
    def key_columns(self):
        return ('n_subjects',)

    @property
    def metric_columns(self):
        """The columns of the last evaluation (the confusion matrix's depend on
        the classes), else each metric's name."""
        if self._columns is not None:
            return self._columns
        return super(ClassificationEvaluator, self).metric_columns

    def load_subject(self, subject_id, inferred_path, reference_path):
        """``{'label', 'predicted', 'probabilities'}`` of one subject.

        :raises UserInputError: unreadable files, NaN voxels, a label image
            holding more than one class, or probabilities not ``num_classes`` long
        """
        inferred = LoadedVolume(inferred_path, subject_id, 'inferred output')
        reference = LoadedVolume(reference_path, subject_id, 'label')
        inferred.check_finite()
        reference.check_finite()
        values = np.unique(np.round(reference.data))
        if len(values) != 1:
            raise UserInputError(
                'Subject {}: label {} holds {} different values; a classification label '
                'holds one class per subject.'.format(subject_id, reference_path, len(values)))
        vector = inferred.data.reshape(-1).astype(np.float64)
        probabilities = None
        if self.output_prob:
            if vector.size != self.num_classes:
                raise UserInputError(
                    'Subject {}: {} has {} values; with output_prob it should hold the '
                    'probabilities of the num_classes = {} classes.'.format(
                        subject_id, inferred_path, vector.size, self.num_classes))
            probabilities = vector
            predicted = float(np.argmax(vector))
            if self.label_mapping is not None:
                predicted = float(self.label_mapping.backward(predicted))
        else:
            predicted = float(np.round(vector[0]))
        return {'label': float(values[0]), 'predicted': predicted,
                'probabilities': probabilities}

    def evaluate_next(self, subject_id, data):
        """One subject's record (the metrics come from all records together)."""
        return [dict(data, subject_id=subject_id)]

    def _classes(self, labels, predicted):
        if self.label_mapping is not None:
            return [float(v) for v in self.label_mapping.values]
        if not self.label_normalisation and self.num_classes > 0:
            return [float(v) for v in range(self.num_classes)]
        return sorted(set(labels.tolist()) | set(predicted.tolist()))

    def evaluate(self, subjects):
        """The one row of metrics over ``(subject_id, inferred, reference)`` triples."""
        records = super(ClassificationEvaluator, self).evaluate(subjects)
        labels = np.array([r['label'] for r in records])
        predicted = np.array([r['predicted'] for r in records])
        classes = self._classes(labels, predicted)
        positive_scores = None
        if self.output_prob and len(classes) == 2:
            positive_scores = np.array([r['probabilities'][1] for r in records])
        row = {'n_subjects': len(records)}
        columns = []
        for evaluation in self.evaluations:
            values = evaluation.metric_dict(labels, predicted, positive_scores, classes)
            columns.extend(name for name in values if name not in columns)
            row.update(values)
        self._columns = tuple(columns)
        return [row]
