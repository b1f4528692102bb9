"""Regression losses (NiftyNet's ``loss_regression``).

``LossFunction(loss_type)`` is the layer applications use.  Each loss
function takes ``prediction`` and ``ground_truth`` of the same shape and an
optional ``weight_map`` (broadcastable to them) and returns a scalar.
"""
import tensorflow.compat.v1 as tf

from niftydrive.layer.base_layer import Layer
from niftydrive.utilities.util_common import look_up_operations


def _weighted_mean(values, weight_map):
    if weight_map is None:
        return tf.reduce_mean(values)
    weights = tf.cast(weight_map, values.dtype) * tf.ones_like(values)
    return tf.reduce_sum(values * weights) / tf.maximum(
        tf.reduce_sum(weights), 1e-12)


def _residual(prediction, ground_truth):
    return tf.cast(prediction, tf.float32) - tf.cast(ground_truth, tf.float32)


def l1_loss(prediction, ground_truth, weight_map=None):
    """Mean absolute difference, ``sum(w |p - g|) / sum(w)`` with weights
    (NiftyNet's L1Loss, the same value as MAE)."""
    return _weighted_mean(tf.abs(_residual(prediction, ground_truth)),
                          weight_map)


def l2_loss(prediction, ground_truth, weight_map=None):
    """Half the sum of squared differences, as ``tf.nn.l2_loss``."""
    residual = tf.square(_residual(prediction, ground_truth))
    if weight_map is not None:
        residual = residual * tf.cast(weight_map, tf.float32)
    return 0.5 * tf.reduce_sum(residual)


def mae_loss(prediction, ground_truth, weight_map=None):
    """Mean absolute error (NiftyNet's MAE: the value of ``l1_loss``)."""
    return l1_loss(prediction, ground_truth, weight_map)


def rmse_loss(prediction, ground_truth, weight_map=None):
    """Root mean squared error."""
    return tf.sqrt(_weighted_mean(
        tf.square(_residual(prediction, ground_truth)), weight_map))


def huber_loss(prediction, ground_truth, delta=1.0, weight_map=None):
    """Mean Huber loss: ``r^2 / 2`` where ``|r| <= delta``, ``delta (|r| -
    delta / 2)`` beyond, with ``r = p - g``."""
    abs_residual = tf.abs(_residual(prediction, ground_truth))
    per_voxel = tf.where(abs_residual > delta,
                         delta * (abs_residual - 0.5 * delta),
                         0.5 * tf.square(abs_residual))
    return _weighted_mean(per_voxel, weight_map)


SUPPORTED_LOSS = {
    'L1Loss': l1_loss,
    'L2Loss': l2_loss,
    'RMSE': rmse_loss,
    'MAE': mae_loss,
    'Huber': huber_loss,
}


class LossFunction(Layer):
    """The regression loss as a layer.

    ``loss(prediction, ground_truth, weight_map=None)``: ``prediction`` is
    ``[batch, ...]`` (or a list of them, whose losses are averaged) with as
    many elements per sample as ``ground_truth``; the loss is computed per
    sample and averaged over the batch.  ``loss_func_params`` are extra
    keyword arguments of the loss function (e.g. ``{'delta': 2.0}`` for
    'Huber').
    """

    def __init__(self, loss_type='L2Loss', loss_func_params=None,
                 name='loss_function'):
        super(LossFunction, self).__init__(name=name)
        self._data_loss_func = look_up_operations(
            loss_type, SUPPORTED_LOSS, 'regression loss_type')
        self._loss_func_params = dict(loss_func_params or {})

    def layer_op(self, prediction, ground_truth=None, weight_map=None):
        """The mean loss (a scalar tensor); see the class docstring."""
        if ground_truth is None:
            raise ValueError('the regression loss needs a ground truth')
        predictions = (list(prediction)
                       if isinstance(prediction, (list, tuple))
                       else [prediction])
        batch = tf.shape(ground_truth)[0]
        ground_truth = tf.reshape(tf.cast(ground_truth, tf.float32),
                                  tf.stack([batch, -1]))
        if weight_map is not None:
            weight_map = tf.reshape(tf.cast(weight_map, tf.float32),
                                    tf.stack([batch, -1]))
        losses = []
        for pred in predictions:
            pred = tf.reshape(tf.cast(pred, tf.float32),
                              tf.shape(ground_truth))
            elems = (pred, ground_truth) if weight_map is None else (
                pred, ground_truth, weight_map)
            per_sample = tf.map_fn(self._sample_loss, elems,
                                   fn_output_signature=tf.float32)
            losses.append(tf.reduce_mean(per_sample))
        return tf.reduce_mean(tf.stack(losses))

    def _sample_loss(self, sample):
        weight = sample[2] if len(sample) > 2 else None
        return tf.cast(self._data_loss_func(
            prediction=sample[0], ground_truth=sample[1], weight_map=weight,
            **self._loss_func_params), tf.float32)
