"""Up-sampling by additive (bi/tri)linear resizing and its residual
combination with a transposed convolution (Wojna et al., "The devil is in
the decoder", 2017)."""
import tensorflow.compat.v1 as tf

from niftydrive.layer.base_layer import Layer, TrainableLayer
from niftydrive.layer.deconvolution import DeconvolutionalLayer
from niftydrive.layer.elementwise import ElementwiseLayer
from niftydrive.layer.layer_util import check_divisible_channels
from niftydrive.layer.linear_resize import LinearResizeLayer


class AdditiveUpsampleLayer(Layer):
    """Resize linearly to the spatial shape ``new_size``, then sum the
    channels in ``n_splits`` consecutive groups: ``C`` input channels give
    ``C / n_splits`` output channels (``n_splits`` must divide ``C``)."""

    def __init__(self, new_size, n_splits, name='linear_additive_upsample'):
        super(AdditiveUpsampleLayer, self).__init__(name=name)
        self.new_size = new_size
        self.n_splits = int(n_splits)

    def layer_op(self, input_tensor):
        """The up-sampled tensor; see the class docstring."""
        check_divisible_channels(input_tensor, self.n_splits)
        resized = LinearResizeLayer(self.new_size)(input_tensor)
        groups = tf.split(resized, self.n_splits, axis=-1)
        return tf.add_n(groups)


class ResidualUpsampleLayer(TrainableLayer):
    """The sum of a transposed convolution (batch norm and activation,
    ``C / n_splits`` channels, ``stride`` up-sampling) and the additive
    up-sampling of the input to the same shape.  Called as
    ``layer(input_tensor, is_training=True)``."""

    def __init__(self, kernel_size=3, stride=2, n_splits=2,
                 w_initializer=None, w_regularizer=None, acti_func='relu',
                 name='residual_additive_upsample'):
        super(ResidualUpsampleLayer, self).__init__(name=name)
        self.kernel_size = kernel_size
        self.stride = stride
        self.n_splits = n_splits
        self.acti_func = acti_func
        self.initializers = {'w': w_initializer}
        self.regularizers = {'w': w_regularizer}

    def layer_op(self, input_tensor, is_training=True):
        """The up-sampled tensor with ``C / n_splits`` channels."""
        n_output_chns = check_divisible_channels(input_tensor, self.n_splits)
        deconv = DeconvolutionalLayer(
            n_output_chns, kernel_size=self.kernel_size, stride=self.stride,
            with_bias=False, with_bn=True, acti_func=self.acti_func,
            w_initializer=self.initializers['w'],
            w_regularizer=self.regularizers['w'])(input_tensor, is_training)
        additive = AdditiveUpsampleLayer(
            deconv.shape.as_list()[1:-1], self.n_splits)(input_tensor)
        return ElementwiseLayer('SUM')(deconv, additive)
