"""Segmentation losses on small hand-computed cases."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from niftydrive.layer.loss_segmentation import (
    SUPPORTED_LOSS, LossFunction, cross_entropy, cross_entropy_dense, dice,
    dice_dense, dice_plus_xent_loss, generalised_dice_loss,
    generalised_wasserstein_dice_loss, sensitivity_specificity_loss,
    tversky)

# 2 classes, 4 voxels: probabilities and labels
PROBS = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.3, 0.7]], np.float32)
LABELS = np.array([0, 0, 0, 1], np.int32)


def _value(tensor):
    with tf.Session() as sess:
        return sess.run(tensor)


def _log_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def test_supported_loss_names():
    assert SUPPORTED_LOSS['Dice'] is dice
    assert SUPPORTED_LOSS['CrossEntropy'] is cross_entropy
    assert SUPPORTED_LOSS['DicePlusXEnt'] is dice_plus_xent_loss
    assert SUPPORTED_LOSS['GDSC'] is generalised_dice_loss


def test_dice_two_classes_four_voxels(graph):
    # class 0: 2 * (0.9 + 0.6 + 0.2) / ((0.81 + 0.36 + 0.04 + 0.09) + 3)
    #        = 3.4 / 4.3;  class 1: 2 * 0.7 / (1.3 + 1) = 1.4 / 2.3
    expected = 1.0 - (3.4 / 4.3 + 1.4 / 2.3) / 2.0
    value = _value(dice(tf.constant(PROBS), tf.constant(LABELS)))
    assert value == pytest.approx(expected, abs=1e-5)
    assert value == pytest.approx(0.300303, abs=1e-5)


def test_weighted_dice(graph):
    # weight 0 on the last voxel: class 1 disappears from the reference
    weights = np.array([1, 1, 1, 0], np.float32)
    value = _value(dice(tf.constant(PROBS), tf.constant(LABELS),
                        tf.constant(weights)))
    # class 0: 3.4 / (1.21 + 3); class 1: 0 / (0.01 + 0.16 + 0.64 + 0)
    assert value == pytest.approx(1.0 - (3.4 / 4.21) / 2.0, abs=1e-5)


def test_generalised_dice_two_classes_four_voxels(graph):
    # reference volumes [3, 1] -> weights [1/9, 1]; intersections [1.7, 0.7];
    # segmentation volumes [2, 2]:
    # 2 (1.7 / 9 + 0.7) / (5 / 9 + 3) = 0.5
    value = _value(generalised_dice_loss(tf.constant(PROBS),
                                         tf.constant(LABELS)))
    assert value == pytest.approx(0.5, abs=1e-6)
    uniform = _value(generalised_dice_loss(
        tf.constant(PROBS), tf.constant(LABELS), type_weight='Uniform'))
    assert uniform == pytest.approx(1.0 - 2 * 2.4 / 8.0, abs=1e-6)
    with pytest.raises(ValueError, match='Square'):
        generalised_dice_loss(tf.constant(PROBS), tf.constant(LABELS),
                              type_weight='Squares')


def test_cross_entropy_against_numpy(graph):
    logits = np.random.RandomState(1).randn(6, 3).astype(np.float32)
    labels = np.array([0, 2, 1, 1, 0, 2], np.int32)
    expected = -_log_softmax(logits)[np.arange(6), labels]
    value = _value(cross_entropy(tf.constant(logits), tf.constant(labels)))
    assert value == pytest.approx(expected.mean(), rel=1e-5)
    weights = np.array([1, 0, 2, 0, 1, 0], np.float32)
    weighted = _value(cross_entropy(tf.constant(logits), tf.constant(labels),
                                    tf.constant(weights)))
    assert weighted == pytest.approx(
        (expected * weights).sum() / weights.sum(), rel=1e-5)


def test_dice_plus_xent_against_numpy(graph):
    logits = np.random.RandomState(2).randn(5, 2).astype(np.float32)
    labels = np.array([0, 1, 1, 0, 1], np.int32)
    log_probs = _log_softmax(logits)
    probs = np.exp(log_probs)
    one_hot = np.eye(2)[labels]
    xent = -log_probs[np.arange(5), labels].mean()
    dice_score = 2 * (probs * one_hot).sum(0) / (probs.sum(0) + one_hot.sum(0)
                                                 + 1e-5)
    value = _value(dice_plus_xent_loss(tf.constant(logits),
                                       tf.constant(labels)))
    assert value == pytest.approx(xent - dice_score.mean(), rel=1e-5)


def test_loss_function_perfect_prediction_is_near_zero(graph):
    labels = np.array([[[0, 1], [1, 0]], [[1, 1], [0, 0]]], np.int32)
    logits = (np.eye(2)[labels] * 40.0 - 20.0).astype(np.float32)
    for loss_type in ('Dice', 'GDSC', 'CrossEntropy'):
        loss = LossFunction(2, loss_type=loss_type)
        value = _value(loss(tf.constant(logits),
                            tf.constant(labels[..., None])))
        assert value == pytest.approx(0.0, abs=1e-5), loss_type
    minus_one = _value(LossFunction(2, 'DicePlusXEnt')(
        tf.constant(logits), tf.constant(labels)))
    assert minus_one == pytest.approx(-1.0, abs=1e-5)


def test_loss_function_averages_per_sample_losses(graph):
    # sample 0: the 4-voxel case; sample 1: a perfect prediction
    probs = np.stack([PROBS, np.eye(2, dtype=np.float32)[[0, 1, 1, 0]]])
    labels = np.stack([LABELS, [0, 1, 1, 0]]).reshape(2, 2, 2, 1)
    loss = LossFunction(2, loss_type='Dice', softmax=False)
    value = _value(loss(tf.constant(probs.reshape(2, 2, 2, 2)),
                        tf.constant(labels)))
    assert value == pytest.approx((0.300303 + 0.0) / 2, abs=1e-5)


def test_loss_function_with_unknown_batch_and_weights(graph):
    logits = tf.placeholder(tf.float32, [None, 2, 2, 3])
    labels = tf.placeholder(tf.int32, [None, 2, 2, 1])
    weights = tf.placeholder(tf.float32, [None, 2, 2, 1])
    loss = LossFunction(3, loss_type='CrossEntropy')(logits, labels, weights)
    rng = np.random.RandomState(3)
    logit_v = rng.randn(3, 2, 2, 3).astype(np.float32)
    label_v = rng.randint(0, 3, (3, 2, 2, 1))
    weight_v = rng.rand(3, 2, 2, 1).astype(np.float32)
    with tf.Session() as sess:
        value = sess.run(loss, {logits: logit_v, labels: label_v,
                                weights: weight_v})
    xent = -_log_softmax(logit_v.reshape(3, 4, 3))[
        np.arange(3)[:, None], np.arange(4)[None], label_v.reshape(3, 4)]
    w = weight_v.reshape(3, 4)
    assert value == pytest.approx(((xent * w).sum(1) / w.sum(1)).mean(),
                                  rel=1e-5)


def test_loss_function_gradient_and_errors(graph):
    logits = tf.Variable(np.zeros((1, 4, 2), np.float32))
    loss = LossFunction(2, loss_type='DicePlusXEnt')(
        logits, tf.constant([[0, 1, 1, 0]]))
    grads = tf.gradients(loss, logits)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert np.all(np.isfinite(sess.run(grads[0])))
    with pytest.raises(ValueError, match='did you mean "Dice"'):
        LossFunction(2, loss_type='Dise')
    with pytest.raises(ValueError, match='expects 3 classes'):
        LossFunction(3)(tf.ones([1, 4, 2]), tf.zeros([1, 4], tf.int32))


def test_generalised_dice_niftynet_03_convention_for_missing_class(graph):
    # only class 0 present, perfectly predicted: the missing class adds
    # nothing to the denominator, so the loss is 0 (not 1/3)
    labels = np.zeros(4, np.int32)
    probs = np.eye(2, dtype=np.float32)[labels]
    value = _value(generalised_dice_loss(tf.constant(probs),
                                         tf.constant(labels)))
    assert value == pytest.approx(0.0, abs=1e-5)


def test_sensitivity_specificity_two_classes(graph):
    # class 0: error over its voxels (0.01 + 0.16 + 0.64) / 3 = 0.27, over
    # the others 0.09; class 1: 0.09 and 0.27.  r = 0.05:
    # (0.05 * 0.27 + 0.95 * 0.09) + (0.05 * 0.09 + 0.95 * 0.27) = 0.36
    value = _value(sensitivity_specificity_loss(tf.constant(PROBS),
                                                tf.constant(LABELS)))
    assert value == pytest.approx(0.36, abs=1e-4)
    r_half = _value(sensitivity_specificity_loss(
        tf.constant(PROBS), tf.constant(LABELS), r=0.5))
    assert r_half == pytest.approx(0.36, abs=1e-4)  # (0.27 + 0.09) / 2 per class
    assert SUPPORTED_LOSS['SensSpec'] is sensitivity_specificity_loss


def test_dice_dense_with_probabilistic_reference(graph):
    reference = np.array([[0.5, 0.5], [1, 0], [0, 1], [0, 1]], np.float32)
    # class 0: 2 * 1.05 / (1.3 + 1.25); class 1: 2 * 1.55 / (1.3 + 2.25)
    expected = 1.0 - (2.1 / 2.55 + 3.1 / 3.55) / 2.0
    value = _value(dice_dense(tf.constant(PROBS), tf.constant(reference)))
    assert value == pytest.approx(expected, abs=1e-5)
    # a one-hot reference gives the sparse Dice loss
    one_hot = np.eye(2, dtype=np.float32)[LABELS]
    assert _value(dice_dense(tf.constant(PROBS), tf.constant(one_hot))) == \
        pytest.approx(0.300303, abs=1e-5)
    with pytest.raises(ValueError, match='Dice_Dense.*weight map'):
        dice_dense(tf.constant(PROBS), tf.constant(one_hot),
                   tf.ones([4]))


def test_cross_entropy_dense_against_numpy(graph):
    logits = np.random.RandomState(3).randn(4, 2).astype(np.float32)
    reference = np.array([[0.5, 0.5], [1, 0], [0, 1], [0.2, 0.8]], np.float32)
    expected = -(reference * _log_softmax(logits)).sum(-1).mean()
    value = _value(cross_entropy_dense(tf.constant(logits),
                                       tf.constant(reference)))
    assert value == pytest.approx(expected, rel=1e-5)


def test_tversky_weights_false_positives_and_negatives(graph):
    # TP = 2.4, FP = 1.6, FN = 1.6 -> with alpha = beta = 0.5: 1 - 2.4 / 4
    value = _value(tversky(tf.constant(PROBS), tf.constant(LABELS)))
    assert value == pytest.approx(0.4, abs=1e-5)
    # TP = 1, FP = 2, FN = 1: 1 - 1 / (1 + 0.3 * 2 + 0.7 * 1)
    probs = np.array([[1, 1], [0, 1]], np.float32)
    labels = np.array([0, 0], np.int32)
    value = _value(tversky(tf.constant(probs), tf.constant(labels),
                           alpha=0.3, beta=0.7))
    assert value == pytest.approx(1.0 - 1.0 / 2.3, abs=1e-5)
    # weight 0 on the second voxel: TP = 1, FP = 1, FN = 0
    weighted = _value(tversky(tf.constant(probs), tf.constant(labels),
                              tf.constant([1.0, 0.0]), alpha=0.3, beta=0.7))
    assert weighted == pytest.approx(1.0 - 1.0 / 1.3, abs=1e-5)


def test_generalised_wasserstein_dice_two_classes(graph):
    # M = [[0, 1], [1, 0]]: delta is the probability of the wrong class
    # (0.1, 0.4, 0.8, 0.3, sum 1.6); only class 1 voxels count as true
    # positives (M[0, 1] = 1): 1 - 0.3 = 0.7 -> 1 - 1.4 / (1.4 + 1.6)
    value = _value(generalised_wasserstein_dice_loss(tf.constant(PROBS),
                                                     tf.constant(LABELS)))
    assert value == pytest.approx(1.0 - 1.4 / 3.0, abs=1e-5)
    with pytest.raises(ValueError, match='at most 5 classes'):
        generalised_wasserstein_dice_loss(tf.ones([2, 6]), tf.zeros([2]))


def test_loss_function_dense_reference_keeps_class_channels(graph):
    logits = np.random.RandomState(4).randn(2, 2, 2, 3).astype(np.float32)
    labels = np.random.RandomState(5).randint(0, 3, (2, 2, 2))
    one_hot = np.eye(3, dtype=np.float32)[labels]
    dense = _value(LossFunction(3, 'Dice_Dense')(tf.constant(logits),
                                                 tf.constant(one_hot)))
    sparse = _value(LossFunction(3, 'Dice')(tf.constant(logits),
                                            tf.constant(labels[..., None])))
    assert dense == pytest.approx(sparse, abs=1e-5)
    xent_dense = _value(LossFunction(3, 'CrossEntropy_Dense')(
        tf.constant(logits), tf.constant(one_hot)))
    xent = _value(LossFunction(3, 'CrossEntropy')(tf.constant(logits),
                                                  tf.constant(labels)))
    assert xent_dense == pytest.approx(xent, rel=1e-5)
