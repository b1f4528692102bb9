"""A convolution, a residual unit, then max pooling (the encoder block of
NiftyNet's registration networks)."""
from niftydrive.layer.base_layer import TrainableLayer
from niftydrive.layer.convolution import ConvolutionalLayer
from niftydrive.layer.downsample import DownSampleLayer
from niftydrive.layer.residual_unit import ResidualUnit


class DownBlock(TrainableLayer):
    """``conv_0`` (convolution, batch norm, activation) -> ``ResidualUnit``
    -> max pooling.  ``block(inputs, is_training=True)`` returns
    ``(down_sampled, conv_0, conv_res)``: the last two are kept for skip
    connections."""

    def __init__(self, n_output_chns=4, kernel_size=3,
                 downsample_kernel_size=2, downsample_stride=2,
                 acti_func='relu', w_initializer=None, w_regularizer=None,
                 type_string='bn_acti_conv', name='res-downsample'):
        super(DownBlock, self).__init__(name=name)
        self.n_output_chns = n_output_chns
        self.kernel_size = kernel_size
        self.downsample_kernel_size = downsample_kernel_size
        self.downsample_stride = downsample_stride
        self.acti_func = acti_func
        self.type_string = type_string
        self.initializers = {'w': w_initializer}
        self.regularizers = {'w': w_regularizer}

    def layer_op(self, inputs, is_training=True):
        """See the class docstring."""
        weights = dict(w_initializer=self.initializers['w'],
                       w_regularizer=self.regularizers['w'])
        conv_0 = ConvolutionalLayer(
            self.n_output_chns, kernel_size=self.kernel_size,
            acti_func=self.acti_func, with_bias=False, with_bn=True,
            **weights)(inputs, is_training)
        conv_res = ResidualUnit(
            self.n_output_chns, kernel_size=self.kernel_size,
            acti_func=self.acti_func, type_string=self.type_string,
            **weights)(conv_0, is_training)
        conv_down = DownSampleLayer(
            'MAX', kernel_size=self.downsample_kernel_size,
            stride=self.downsample_stride)(conv_res)
        return conv_down, conv_0, conv_res
