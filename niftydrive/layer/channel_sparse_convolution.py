"""Channel-sparse convolutions: convolve a subset of the input channels
into a subset of the output channels, so that channel dropout ("batch-wise
spatial dropout" of DenseVNet) skips the dropped channels' computations."""
import math

import tensorflow.compat.v1 as tf
from tensorflow.python.training import moving_averages

from niftydrive.layer import layer_util
from niftydrive.layer.activation import ActiLayer
from niftydrive.layer.base_layer import TrainableLayer
from niftydrive.layer.bn import BN_COLLECTION, BNLayer
from niftydrive.layer.convolution import (
    ConvLayer, composite_layer_name, set_weight_and_bias_init)


def _all_channels(n_channels):
    return tf.ones([n_channels], dtype=tf.bool)


class ChannelSparseConvLayer(ConvLayer):
    """A ``ConvLayer`` (same arguments and variables ``w``/``b``, shaped for
    all channels) called as ``layer(input_tensor, input_mask=None,
    output_mask=None)``: ``input_tensor`` holds only the channels where the
    boolean ``input_mask`` (one entry per full input channel) is True, and
    only the output channels where ``output_mask`` is True are computed.
    ``None`` masks mean every channel."""

    def layer_op(self, input_tensor, input_mask=None, output_mask=None):
        """The selected output channels."""
        _, kernel, strides, dilations = self.spatial_params(input_tensor)
        if input_mask is None:
            input_mask = _all_channels(int(input_tensor.shape[-1]))
        n_full_input = input_mask.shape.as_list()[0]
        rank = len(kernel)
        weights = self.get_weights(kernel + [n_full_input,
                                             self.n_output_chns])
        weights = tf.boolean_mask(weights, input_mask, axis=rank)
        if output_mask is not None:
            weights = tf.boolean_mask(weights, output_mask, axis=rank + 1)
        output = tf.nn.convolution(input_tensor, weights,
                                   padding=self.padding, strides=strides,
                                   dilation_rate=dilations, name='conv')
        if output_mask is None:
            output.set_shape(output.shape[:-1].concatenate(
                [self.n_output_chns]))
        if self.with_bias:
            bias = tf.get_variable(
                'b', shape=[self.n_output_chns],
                initializer=self.initializers['b'],
                regularizer=self.regularizers['b'])
            if output_mask is not None:
                bias = tf.boolean_mask(bias, output_mask)
            output = output + bias
        return output


class ChannelSparseBNLayer(BNLayer):
    """Batch normalisation of the channels selected by ``mask`` out of
    ``n_dense_channels``: called as ``bn(inputs, is_training, mask,
    use_local_stats=False)``; only the selected channels' moving statistics
    are updated.  ``is_training`` must be a Python bool."""

    def __init__(self, n_dense_channels, regularizer=None, moving_decay=0.9,
                 eps=1e-5, name='bn'):
        super(ChannelSparseBNLayer, self).__init__(
            regularizer=regularizer, moving_decay=moving_decay, eps=eps,
            name=name)
        self.n_dense_channels = int(n_dense_channels)

    def layer_op(self, inputs, is_training, mask=None,
                 use_local_stats=False):
        """Normalise the selected channels ``inputs``."""
        if not isinstance(is_training, bool):
            raise ValueError('ChannelSparseBNLayer needs is_training as a '
                             'Python bool, got {!r}'.format(is_training))
        if mask is None:
            mask = _all_channels(self.n_dense_channels)
        shape = [self.n_dense_channels]
        variables = {}
        for name in ('beta', 'gamma'):
            variables[name] = tf.get_variable(
                name, shape=shape, initializer=self.initializers[name],
                regularizer=self.regularizers[name])
        for name in ('moving_mean', 'moving_variance'):
            variables[name] = tf.get_variable(
                name, shape=shape, initializer=self.initializers[name],
                trainable=False,
                collections=[tf.GraphKeys.GLOBAL_VARIABLES,
                             tf.GraphKeys.MOVING_AVERAGE_VARIABLES])
        selected = {name: tf.boolean_mask(var, mask)
                    for name, var in variables.items()}
        mean, variance = tf.nn.moments(
            inputs, list(range(inputs.shape.ndims - 1)))
        if is_training:
            selected_ids = tf.cast(tf.where(mask)[:, 0], tf.int32)
            other_ids = tf.cast(tf.where(tf.logical_not(mask))[:, 0],
                                tf.int32)
            for name, batch_stat in (('moving_mean', mean),
                                     ('moving_variance', variance)):
                moving = variables[name]
                target = tf.dynamic_stitch(
                    [selected_ids, other_ids],
                    [batch_stat, tf.gather(moving, other_ids)])
                tf.add_to_collection(
                    BN_COLLECTION, moving_averages.assign_moving_average(
                        moving, target, self.moving_decay,
                        zero_debias=False))
        if is_training or use_local_stats:
            use_mean, use_variance = mean, variance
        else:
            use_mean = selected['moving_mean']
            use_variance = selected['moving_variance']
        output = tf.nn.batch_normalization(
            inputs, use_mean, use_variance, selected['beta'],
            selected['gamma'], self.eps, name='batch_norm')
        output.set_shape(inputs.shape)
        return output


class ChannelSparseConvolutionalLayer(TrainableLayer):
    """Channel-sparse convolution, then optional batch norm and activation,
    named like ``ConvolutionalLayer``.  ``layer(input_tensor,
    input_mask=None, is_training=None, keep_prob=None)`` returns
    ``(output, output_mask)``: with ``keep_prob`` a random subset of
    ``ceil(keep_prob * n_output_chns)`` output channels is computed (the
    others are dropped) and ``output_mask`` says which."""

    def __init__(self, n_output_chns, kernel_size=3, stride=1, dilation=1,
                 padding='SAME', with_bias=False, with_bn=True,
                 acti_func=None, w_initializer=None, w_regularizer=None,
                 b_initializer=None, b_regularizer=None, moving_decay=0.9,
                 eps=1e-5, name='conv'):
        self.with_bn = with_bn
        self.acti_func = acti_func
        self.layer_name = composite_layer_name(name, with_bn, acti_func)
        super(ChannelSparseConvolutionalLayer, self).__init__(
            name=self.layer_name)
        self.n_output_chns = int(n_output_chns)
        self.conv_kwargs = dict(kernel_size=kernel_size, stride=stride,
                                dilation=dilation,
                                padding=layer_util.check_padding(padding),
                                with_bias=with_bias)
        self.moving_decay = moving_decay
        self.eps = eps
        set_weight_and_bias_init(self, w_initializer, w_regularizer,
                                 b_initializer, b_regularizer)

    def layer_op(self, input_tensor, input_mask=None, is_training=None,
                 keep_prob=None):
        """See the class docstring."""
        n_out = self.n_output_chns
        if keep_prob is not None:
            n_kept = int(math.ceil(keep_prob * n_out))
            output_mask = tf.cast(tf.random_shuffle(tf.range(n_out)),
                                  tf.float32) < keep_prob * n_out
        else:
            n_kept = n_out
            output_mask = _all_channels(n_out)
        conv = ChannelSparseConvLayer(
            n_out, w_initializer=self.initializers['w'],
            w_regularizer=self.regularizers['w'],
            b_initializer=self.initializers['b'],
            b_regularizer=self.regularizers['b'], name='conv_',
            **self.conv_kwargs)
        output = conv(input_tensor, input_mask, output_mask)
        output.set_shape(output.shape[:-1].concatenate([n_kept]))
        if self.with_bn:
            if is_training is None:
                raise ValueError('"{}" uses batch normalisation: call it with '
                                 'is_training'.format(self.layer_name))
            output = ChannelSparseBNLayer(
                n_out, regularizer=self.regularizers['w'],
                moving_decay=self.moving_decay, eps=self.eps,
                name='bn_')(output, is_training, output_mask)
        if self.acti_func is not None:
            output = ActiLayer(self.acti_func,
                               regularizer=self.regularizers['w'],
                               name='acti_')(output)
        return output, output_mask
