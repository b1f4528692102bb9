"""Transposed convolutions (up-sampling) on 1-D, 2-D and 3-D inputs."""
import tensorflow.compat.v1 as tf

from niftydrive.layer import layer_util
from niftydrive.layer.convolution import (
    ConvLayer, LinearNormActiLayer, add_bias)


def deconv_output_size(input_size, kernel_size, stride, padding):
    """Spatial size after a transposed convolution: ``input * stride`` with
    'SAME' padding, ``(input - 1) * stride + kernel`` with 'VALID'."""
    if padding == 'SAME':
        return input_size * stride
    return (input_size - 1) * stride + kernel_size


class DeconvLayer(ConvLayer):
    """A plain transposed convolution with weights ``w`` (shape
    ``kernel + [n_output_chns, n_input_chns]``) and an optional bias ``b``."""

    def __init__(self, n_output_chns, kernel_size=3, stride=1,
                 padding='SAME', with_bias=False, w_initializer=None,
                 w_regularizer=None, b_initializer=None, b_regularizer=None,
                 name='deconv'):
        super(DeconvLayer, self).__init__(
            n_output_chns, kernel_size=kernel_size, stride=stride,
            dilation=1, padding=padding, with_bias=with_bias,
            w_initializer=w_initializer, w_regularizer=w_regularizer,
            b_initializer=b_initializer, b_regularizer=b_regularizer,
            name=name)

    def layer_op(self, input_tensor):
        """Up-sample ``input_tensor`` by the stride."""
        rank, kernel, strides, _ = self.spatial_params(input_tensor)
        weights = self.get_weights(
            kernel + [self.n_output_chns, input_tensor.shape[-1]])
        dynamic_shape = tf.shape(input_tensor)
        static_shape = input_tensor.shape.as_list()
        out_shape = [dynamic_shape[0]]
        for dim in range(rank):
            size = static_shape[dim + 1]
            if size is None:
                size = dynamic_shape[dim + 1]
            out_shape.append(deconv_output_size(
                size, kernel[dim], strides[dim], self.padding))
        out_shape.append(self.n_output_chns)
        output_tensor = tf.nn.conv_transpose(
            input_tensor, weights, tf.stack(out_shape),
            strides=[1] + strides + [1], padding=self.padding,
            name='deconv')
        # conv_transpose loses the static shape when the batch is dynamic
        output_tensor.set_shape(
            [static_shape[0]] +
            [None if s is None else deconv_output_size(
                s, kernel[i], strides[i], self.padding)
             for i, s in enumerate(static_shape[1:-1])] +
            [self.n_output_chns])
        if self.with_bias:
            output_tensor = add_bias(self, output_tensor, self.n_output_chns)
        return output_tensor


class DeconvolutionalLayer(LinearNormActiLayer):
    """Transposed convolution, then optional batch norm, activation and
    dropout; named like ``ConvolutionalLayer`` (``deconv_bn_relu`` with an
    inner ``deconv_``)."""

    linear_name = 'deconv_'

    def __init__(self, n_output_chns, kernel_size=3, stride=1,
                 padding='SAME', with_bias=False, with_bn=True,
                 acti_func=None, w_initializer=None, w_regularizer=None,
                 b_initializer=None, b_regularizer=None, moving_decay=0.9,
                 eps=1e-5, name='deconv'):
        super(DeconvolutionalLayer, self).__init__(
            n_output_chns, with_bias, with_bn, acti_func, w_initializer,
            w_regularizer, b_initializer, b_regularizer, moving_decay, eps,
            name)
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = layer_util.check_padding(padding)

    def linear_layer(self):
        """The inner ``DeconvLayer``."""
        return DeconvLayer(kernel_size=self.kernel_size, stride=self.stride,
                           padding=self.padding, **self.linear_kwargs())
