"""Regression and classification losses on small hand-computed cases."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from niftydrive.engine.application_factory import (
    LossClassificationFactory, LossRegressionFactory)
from niftydrive.layer import loss_classification, loss_regression
from niftydrive.utilities.errors import UserInputError


def _value(tensor):
    with tf.Session() as sess:
        return sess.run(tensor)


def test_huber_loss_quadratic_then_linear(graph):
    prediction = tf.constant([1.0, 2.0, 4.0])
    truth = tf.constant([1.0, 1.0, 1.0])
    huber = LossRegressionFactory.create('Huber')
    assert huber is loss_regression.huber_loss
    # residuals 0, 1, 3: 0, 1 / 2, 1 * (3 - 1 / 2) -> mean 1.0
    assert _value(huber(prediction, truth)) == pytest.approx(1.0)
    # delta 2: 0, 1 / 2, 2 * (3 - 1) -> mean 4.5 / 3
    assert _value(huber(prediction, truth, delta=2.0)) == pytest.approx(1.5)
    weighted = huber(prediction, truth, weight_map=tf.constant([0., 1., 1.]))
    assert _value(weighted) == pytest.approx(1.5)


def test_regression_loss_function_averages_samples_and_scales(graph):
    prediction = np.array([[1, 2, 4], [0, 0, 0]], np.float32).reshape(
        2, 3, 1, 1)
    truth = np.ones((2, 3, 1, 1), np.float32)
    loss = loss_regression.LossFunction('L2Loss')
    # sample 0: (0 + 1 + 9) / 2 = 5; sample 1: 3 / 2 -> 3.25
    assert _value(loss(tf.constant(prediction), tf.constant(truth))) == \
        pytest.approx(3.25)
    # a perfect second scale halves it
    two_scales = loss([tf.constant(prediction), tf.constant(truth)],
                      tf.constant(truth))
    assert _value(two_scales) == pytest.approx(1.625)
    weights = np.array([[0, 1, 1], [1, 1, 1]], np.float32).reshape(2, 3, 1)
    mae = loss_regression.LossFunction('MAE')(
        tf.constant(prediction), tf.constant(truth), tf.constant(weights))
    # sample 0: (1 + 3) / 2; sample 1: 1
    assert _value(mae) == pytest.approx(1.5)
    huber = loss_regression.LossFunction('Huber', {'delta': 2.0})
    assert _value(huber(tf.constant(prediction[:1]),
                        tf.constant(truth[:1]))) == pytest.approx(1.5)
    with pytest.raises(UserInputError, match='did you mean "Huber"'):
        loss_regression.LossFunction('Hubber')


def test_regression_loss_function_unknown_batch(graph):
    prediction = tf.placeholder(tf.float32, [None, 2, 2, 1])
    loss = loss_regression.LossFunction('RMSE')(prediction,
                                                tf.zeros_like(prediction))
    with tf.Session() as sess:
        value = sess.run(loss, {prediction: np.full((3, 2, 2, 1), 2.0)})
    assert value == pytest.approx(2.0)


def test_classification_cross_entropy_per_sample(graph):
    logits = tf.constant([[2.0, 0.0], [0.0, 1.0]])
    labels = tf.constant([0, 1])
    assert LossClassificationFactory.create('CrossEntropy') is \
        loss_classification.cross_entropy
    per_sample = _value(loss_classification.cross_entropy(logits, labels))
    expected = [np.log1p(np.exp(-2.0)), np.log1p(np.exp(-1.0))]
    np.testing.assert_allclose(per_sample, expected, rtol=1e-5)
    loss = loss_classification.LossFunction(2)
    assert _value(loss(logits, labels)) == pytest.approx(np.mean(expected),
                                                         rel=1e-5)
    # a list of outputs (holistic networks): the mean of their losses
    perfect = tf.constant([[20.0, -20.0], [-20.0, 20.0]])
    assert _value(loss([logits, perfect], labels)) == pytest.approx(
        np.mean(expected) / 2, rel=1e-4)
    with pytest.raises(UserInputError, match='classification loss'):
        loss_classification.LossFunction(2, loss_type='Dice')
