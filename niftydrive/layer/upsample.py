"""Channel-wise up-sampling (no mixing across channels)."""
import numpy as np
import tensorflow.compat.v1 as tf

from niftydrive.layer import layer_util
from niftydrive.layer.base_layer import TrainableLayer
from niftydrive.layer.deconvolution import DeconvLayer
from niftydrive.utilities.util_common import look_up_operations

SUPPORTED_OP = {'REPLICATE': 'REPLICATE',
                'CHANNELWISE_DECONV': 'CHANNELWISE_DECONV'}


class UpSampleLayer(TrainableLayer):
    """'REPLICATE' repeats every voxel ``kernel_size`` times along each
    spatial dimension (``kernel_size`` must equal ``stride``);
    'CHANNELWISE_DECONV' applies one single-channel transposed convolution
    per channel (``kernel_size``, ``stride``).  ``[N, X, Y, C]`` becomes
    ``[N, X * stride, Y * stride, C]``."""

    def __init__(self, func, kernel_size=3, stride=2, w_initializer=None,
                 w_regularizer=None, with_bias=False, b_initializer=None,
                 b_regularizer=None, name='upsample'):
        self.func = look_up_operations(str(func).upper(), SUPPORTED_OP,
                                       'UpSampleLayer func')
        self.layer_name = '{}_{}'.format(self.func.lower(), name)
        super(UpSampleLayer, self).__init__(name=self.layer_name)
        self.kernel_size = kernel_size
        self.stride = stride
        self.with_bias = with_bias
        self.initializers = {'w': w_initializer, 'b': b_initializer}
        self.regularizers = {'w': w_regularizer, 'b': b_regularizer}

    def layer_op(self, input_tensor):
        """The up-sampled tensor."""
        rank = layer_util.infer_spatial_rank(input_tensor)
        if self.func == 'REPLICATE':
            kernel = layer_util.expand_spatial_params(self.kernel_size, rank)
            if kernel != layer_util.expand_spatial_params(self.stride, rank,
                                                          'stride'):
                raise ValueError(
                    "UpSampleLayer 'REPLICATE' needs kernel_size == stride, "
                    "got {} and {}".format(self.kernel_size, self.stride))
            # copies of the batch, then interleave them spatially
            tiled = tf.tile(input_tensor,
                            [int(np.prod(kernel))] + [1] * (rank + 1))
            return tf.batch_to_space_nd(tiled, kernel, [[0, 0]] * rank)
        channels = tf.unstack(input_tensor, axis=-1)
        upsampled = [
            DeconvLayer(1, kernel_size=self.kernel_size, stride=self.stride,
                        padding='SAME', with_bias=self.with_bias,
                        w_initializer=self.initializers['w'],
                        w_regularizer=self.regularizers['w'],
                        b_initializer=self.initializers['b'],
                        b_regularizer=self.regularizers['b'],
                        name='deconv_{}'.format(index))(
                            tf.expand_dims(channel, -1))
            for index, channel in enumerate(channels)]
        return tf.concat(upsampled, axis=-1)
