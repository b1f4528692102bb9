"""Pooling layers."""
import tensorflow.compat.v1 as tf

from niftydrive.layer import layer_util
from niftydrive.layer.base_layer import Layer
from niftydrive.utilities.util_common import look_up_operations

SUPPORTED_OP = {'MAX': 'MAX', 'AVG': 'AVG', 'CONSTANT': 'CONSTANT'}


class DownSampleLayer(Layer):
    """Max ('MAX') or average ('AVG') pooling, or 'CONSTANT' (keep every
    ``stride``-th element), on 1-D, 2-D or 3-D inputs."""

    def __init__(self, func, kernel_size=3, stride=2, padding='SAME',
                 name='pooling'):
        self.func = look_up_operations(str(func).upper(), SUPPORTED_OP)
        self.layer_name = '{}_{}'.format(self.func.lower(), name)
        super(DownSampleLayer, self).__init__(name=self.layer_name)
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = layer_util.check_padding(padding)

    def layer_op(self, input_tensor):
        """Down-sample ``input_tensor``."""
        rank = layer_util.infer_spatial_rank(input_tensor)
        kernel = layer_util.expand_spatial_params(self.kernel_size, rank)
        strides = layer_util.expand_spatial_params(self.stride, rank,
                                                   'stride')
        if self.func == 'CONSTANT':
            slices = [slice(None)] + [slice(None, None, s) for s in strides]
            return input_tensor[tuple(slices)]
        return tf.nn.pool(input_tensor, window_shape=kernel,
                          pooling_type=self.func, padding=self.padding,
                          strides=strides, name=self.func.lower())
