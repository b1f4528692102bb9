"""Classification losses (NiftyNet's ``loss_classification``).

``LossFunction(n_class, loss_type)`` is the layer applications use; the loss
functions take logits ``[n_samples, n_class]`` and integer labels
``[n_samples]`` and return one loss per sample.
"""
import tensorflow.compat.v1 as tf

from niftydrive.layer.base_layer import Layer
from niftydrive.utilities.util_common import look_up_operations


def cross_entropy(prediction, ground_truth):
    """Softmax cross entropy of the logits ``prediction``, one value per
    sample."""
    return tf.nn.sparse_softmax_cross_entropy_with_logits(
        logits=tf.cast(prediction, tf.float32),
        labels=tf.cast(ground_truth, tf.int64))


SUPPORTED_LOSS = {'CrossEntropy': cross_entropy}


class LossFunction(Layer):
    """The classification loss as a layer.

    ``loss(prediction, ground_truth)``: ``prediction`` is logits reshaped
    to ``[-1, n_class]`` (or a list of them, e.g. the outputs of a holistic
    network, whose losses are averaged); ``ground_truth`` holds one integer
    label per row of the prediction.  Returns the mean loss.
    ``loss_func_params`` are extra keyword arguments of the loss function.
    """

    def __init__(self, n_class, loss_type='CrossEntropy',
                 loss_func_params=None, name='loss_function'):
        super(LossFunction, self).__init__(name=name)
        self._num_classes = int(n_class)
        self._data_loss_func = look_up_operations(
            loss_type, SUPPORTED_LOSS, 'classification loss_type')
        self._loss_func_params = dict(loss_func_params or {})

    def layer_op(self, prediction, ground_truth=None, var_scope=None):
        """The mean loss (a scalar tensor); ``var_scope`` is accepted for
        NiftyNet compatibility and unused."""
        if ground_truth is None:
            raise ValueError('the classification loss needs a ground truth')
        ground_truth = tf.reshape(ground_truth, [-1])
        predictions = (list(prediction)
                       if isinstance(prediction, (list, tuple))
                       else [prediction])
        if self._num_classes > 0:
            predictions = [tf.reshape(pred, [-1, self._num_classes])
                           for pred in predictions]
        losses = [tf.reduce_mean(self._data_loss_func(
            pred, ground_truth, **self._loss_func_params))
            for pred in predictions]
        return tf.reduce_mean(tf.stack(losses))
