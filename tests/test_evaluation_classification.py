"""Classification metrics on hand-computed cases, and the evaluator on files."""
import nibabel as nib
import numpy as np
import pytest

from niftydrive.evaluation.classification_evaluations import (
    accuracy, confusion_matrix, roc_auc)
from niftydrive.evaluation.classification_evaluator import ClassificationEvaluator
from niftydrive.io.image_reader import LabelMapping
from niftydrive.utilities.errors import UserInputError
from niftydrive.utilities.util_common import ParserNamespace

LABELS = np.array([0., 0., 1., 1.])
PREDICTED = np.array([0., 1., 0., 1.])


def test_accuracy_and_confusion_matrix():
    assert accuracy().metric_dict(LABELS, PREDICTED, None, [0., 1.]) == {'accuracy': 0.5}
    labels, predicted = np.array([0., 1., 2., 2., 2.]), np.array([0., 2., 2., 2., 1.])
    matrix = confusion_matrix().metric_dict(labels, predicted, None, [0., 1., 2.])
    assert matrix['confusion_0_0'] == 1 and matrix['confusion_1_2'] == 1
    assert matrix['confusion_2_2'] == 2 and matrix['confusion_2_1'] == 1
    assert sum(matrix.values()) == 5 and len(matrix) == 9


def test_roc_auc_of_scores_and_of_hard_classes():
    # positives scored 0.35, 0.8; negatives 0.1, 0.4: 3 of 4 pairs ordered right
    scores = np.array([0.1, 0.4, 0.35, 0.8])
    assert roc_auc().metric_dict(LABELS, PREDICTED, scores, [0., 1.]) == \
        {'roc_auc': pytest.approx(0.75)}
    # hard classes: (sensitivity 0.5 + specificity 0.5) / 2
    assert roc_auc().metric_dict(LABELS, PREDICTED, None, [0., 1.])['roc_auc'] == \
        pytest.approx(0.5)
    assert np.isnan(roc_auc().metric_dict(np.zeros(3), np.zeros(3), None,
                                          [0., 1.])['roc_auc'])
    with pytest.raises(UserInputError, match='roc_auc needs two classes'):
        roc_auc().metric_dict(LABELS, PREDICTED, None, [0., 1., 2.])


def _save(path, values):
    nib.save(nib.Nifti1Image(np.asarray(values, np.float32), np.eye(4)), str(path))
    return str(path)


def test_evaluator_maps_probabilities_to_label_values(tmp_path):
    param = ParserNamespace(num_classes=2, output_prob=True, label_normalisation=True)
    evaluator = ClassificationEvaluator(param, None)
    assert [e.metric_name for e in evaluator.evaluations] == \
        ['accuracy', 'confusion_matrix', 'roc_auc']
    evaluator.label_mapping = LabelMapping([3, 7])
    subjects = [('a', _save(tmp_path / 'a_out.nii.gz', np.reshape([0.9, 0.1], (1, 1, 1, 1, 2))),
                 _save(tmp_path / 'a_label.nii.gz', np.full((1, 1, 1), 3))),
                ('b', _save(tmp_path / 'b_out.nii.gz', np.reshape([0.3, 0.7], (1, 1, 1, 1, 2))),
                 _save(tmp_path / 'b_label.nii.gz', np.full((2, 2, 2), 3)))]
    rows = evaluator.run(subjects, str(tmp_path / 'evaluation.csv'))
    assert rows == [{'n_subjects': 2, 'accuracy': 0.5, 'confusion_3_3': 1, 'confusion_3_7': 1,
                     'confusion_7_3': 0, 'confusion_7_7': 0, 'roc_auc': rows[0]['roc_auc']}]
    assert np.isnan(rows[0]['roc_auc'])   # no subject of class 7
    assert (tmp_path / 'evaluation.csv').read_text().splitlines()[1] == \
        '2,0.500000,1,1,0,0,nan'


def test_evaluator_refuses_a_label_with_several_classes(tmp_path):
    evaluator = ClassificationEvaluator(ParserNamespace(num_classes=2), None)
    subjects = [('a', _save(tmp_path / 'a_out.nii.gz', np.zeros((1, 1, 1))),
                 _save(tmp_path / 'a_label.nii.gz', np.arange(8).reshape(2, 2, 2)))]
    with pytest.raises(UserInputError, match=r'Subject a: label .*a_label.nii.gz holds 8 '):
        evaluator.run(subjects, str(tmp_path / 'evaluation.csv'))


def test_unknown_classification_metric_is_named():
    with pytest.raises(UserInputError, match='unknown metric "acuracy"; did you mean "accuracy"'):
        ClassificationEvaluator(ParserNamespace(num_classes=3),
                                ParserNamespace(evaluations='acuracy'))
    with pytest.raises(UserInputError, match='"dice" is a segmentation metric'):
        ClassificationEvaluator(ParserNamespace(num_classes=3),
                                ParserNamespace(evaluations='dice'))
