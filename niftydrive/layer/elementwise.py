"""Merging two tensors: sum (residual connections) or concatenation."""
import tensorflow.compat.v1 as tf

from niftydrive.layer import layer_util
from niftydrive.layer.base_layer import TrainableLayer
from niftydrive.layer.convolution import ConvLayer
from niftydrive.utilities.util_common import look_up_operations

SUPPORTED_OP = {'SUM': 'SUM', 'CONCAT': 'CONCAT'}


class ElementwiseLayer(TrainableLayer):
    """``layer(param_flow, bypass_flow)``: 'SUM' adds the two (when the bypass
    has fewer channels it is zero-padded on the channel axis; when it has
    more, a 1x1 convolution ``proj`` projects it), 'CONCAT' concatenates them
    on the channel axis."""

    def __init__(self, func, initializer=None, regularizer=None,
                 name='residual'):
        self.func = look_up_operations(str(func).upper(), SUPPORTED_OP)
        self.layer_name = '{}_{}'.format(self.func.lower(), name)
        super(ElementwiseLayer, self).__init__(
            name=self.layer_name, initializer=initializer,
            regularizer=regularizer)
        self.initializers = {
            'w': initializer or layer_util.default_w_initializer()}
        self.regularizers = {'w': regularizer}

    def layer_op(self, param_flow, bypass_flow):
        """Merge ``param_flow`` and ``bypass_flow``."""
        if self.func == 'CONCAT':
            return tf.concat([param_flow, bypass_flow], axis=-1)
        n_param = int(param_flow.shape[-1])
        n_bypass = int(bypass_flow.shape[-1])
        if n_param > n_bypass:
            pad_before = (n_param - n_bypass) // 2
            pad_after = n_param - n_bypass - pad_before
            paddings = ([[0, 0]] * (bypass_flow.shape.ndims - 1) +
                        [[pad_before, pad_after]])
            bypass_flow = tf.pad(bypass_flow, paddings)
        elif n_param < n_bypass:
            projector = ConvLayer(
                n_output_chns=n_param, kernel_size=1, stride=1,
                padding='SAME', w_initializer=self.initializers['w'],
                w_regularizer=self.regularizers['w'], name='proj')
            bypass_flow = projector(bypass_flow)
        return param_flow + bypass_flow
