"""Regression losses (NiftyNet's ``loss_regression``).

Each function takes ``prediction`` and ``ground_truth`` of the same shape and
an optional ``weight_map`` (broadcastable to them) and returns a scalar.
"""
import tensorflow.compat.v1 as tf


def _weighted_mean(values, weight_map):
    if weight_map is None:
        return tf.reduce_mean(values)
    weights = tf.cast(weight_map, values.dtype) * tf.ones_like(values)
    return tf.reduce_sum(values * weights) / tf.maximum(
        tf.reduce_sum(weights), 1e-12)


def _residual(prediction, ground_truth):
    return tf.cast(prediction, tf.float32) - tf.cast(ground_truth, tf.float32)


def l1_loss(prediction, ground_truth, weight_map=None):
    """Sum of absolute differences (weighted by ``weight_map``)."""
    residual = tf.abs(_residual(prediction, ground_truth))
    if weight_map is not None:
        residual = residual * tf.cast(weight_map, tf.float32)
    return tf.reduce_sum(residual)


def l2_loss(prediction, ground_truth, weight_map=None):
    """Half the sum of squared differences, as ``tf.nn.l2_loss``."""
    residual = tf.square(_residual(prediction, ground_truth))
    if weight_map is not None:
        residual = residual * tf.cast(weight_map, tf.float32)
    return 0.5 * tf.reduce_sum(residual)


def mae(prediction, ground_truth, weight_map=None):
    """Mean absolute error."""
    return _weighted_mean(tf.abs(_residual(prediction, ground_truth)), weight_map)


def rmse_loss(prediction, ground_truth, weight_map=None):
    """Root mean squared error."""
    return tf.sqrt(_weighted_mean(tf.square(_residual(prediction, ground_truth)),
                                  weight_map))
