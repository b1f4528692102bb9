"""Fully-connected layers (inputs are flattened to ``[batch, features]``)."""
import tensorflow.compat.v1 as tf

from niftydrive.layer.base_layer import TrainableLayer
from niftydrive.layer.convolution import (
    LinearNormActiLayer, add_bias, set_weight_and_bias_init)


def flatten_non_batch(input_tensor):
    """Reshape ``[batch, d1, d2, ...]`` to ``[batch, d1 * d2 * ...]``; the
    non-batch dimensions must be known when the graph is built."""
    n_features = input_tensor.shape[1:].num_elements()
    if n_features is None:
        raise ValueError(
            'fully-connected layers need the non-batch dimensions of their '
            'input to be known, got shape {}'.format(input_tensor.shape))
    if input_tensor.shape.ndims == 2:
        return input_tensor, n_features
    return tf.reshape(input_tensor, [-1, n_features]), n_features


class FCLayer(TrainableLayer):
    """``output = flatten(input) @ w (+ b)``, shape ``[batch,
    n_output_chns]``."""

    def __init__(self, n_output_chns, with_bias=True, w_initializer=None,
                 w_regularizer=None, b_initializer=None, b_regularizer=None,
                 name='fc'):
        super(FCLayer, self).__init__(name=name)
        self.n_output_chns = int(n_output_chns)
        self.with_bias = with_bias
        set_weight_and_bias_init(self, w_initializer, w_regularizer,
                              b_initializer, b_regularizer)

    def layer_op(self, input_tensor):
        """Apply the affine map to the flattened input."""
        flat, n_features = flatten_non_batch(input_tensor)
        weights = tf.get_variable(
            'w', shape=[n_features, self.n_output_chns],
            initializer=self.initializers['w'],
            regularizer=self.regularizers['w'])
        output_tensor = tf.matmul(flat, weights)
        if self.with_bias:
            output_tensor = add_bias(self, output_tensor, self.n_output_chns)
        return output_tensor


class FullyConnectedLayer(LinearNormActiLayer):
    """Fully-connected layer, then optional batch norm, activation and
    dropout; named like ``ConvolutionalLayer`` (``fc_bn_relu`` with an inner
    ``fc_``).  Called as ``layer(input, is_training=None, keep_prob=None)``.
    """

    linear_name = 'fc_'

    def __init__(self, n_output_chns, with_bias=True, with_bn=True,
                 acti_func=None, w_initializer=None, w_regularizer=None,
                 b_initializer=None, b_regularizer=None, moving_decay=0.9,
                 eps=1e-5, name='fc'):
        super(FullyConnectedLayer, self).__init__(
            n_output_chns, with_bias, with_bn, acti_func, w_initializer,
            w_regularizer, b_initializer, b_regularizer, moving_decay, eps,
            name)

    def linear_layer(self):
        """The inner ``FCLayer``."""
        return FCLayer(**self.linear_kwargs())
