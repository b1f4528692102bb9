"""Up-sampling, an optional skip connection, then a residual unit (the
decoder block of NiftyNet's registration networks)."""
from niftydrive.layer.additive_upsample import ResidualUpsampleLayer
from niftydrive.layer.base_layer import TrainableLayer
from niftydrive.layer.deconvolution import DeconvolutionalLayer
from niftydrive.layer.elementwise import ElementwiseLayer
from niftydrive.layer.residual_unit import ResidualUnit


class UpBlock(TrainableLayer):
    """Up-sample by ``upsample_stride`` (``ResidualUpsampleLayer`` when
    ``is_residual_upsampling``, else a transposed convolution), add the
    ``forwarding`` tensor when given, then a ``ResidualUnit`` with
    ``n_output_chns`` channels.  Called as ``block(inputs,
    forwarding=None, is_training=True)``.  With residual up-sampling the
    input channels must be a multiple of ``n_output_chns``."""

    def __init__(self, n_output_chns=4, kernel_size=3, upsample_stride=2,
                 acti_func='relu', w_initializer=None, w_regularizer=None,
                 is_residual_upsampling=True, type_string='bn_acti_conv',
                 name='res-upsample'):
        super(UpBlock, self).__init__(name=name)
        self.n_output_chns = n_output_chns
        self.kernel_size = kernel_size
        self.upsample_stride = upsample_stride
        self.acti_func = acti_func
        self.is_residual_upsampling = is_residual_upsampling
        self.type_string = type_string
        self.initializers = {'w': w_initializer}
        self.regularizers = {'w': w_regularizer}

    def layer_op(self, inputs, forwarding=None, is_training=True):
        """See the class docstring."""
        weights = dict(w_initializer=self.initializers['w'],
                       w_regularizer=self.regularizers['w'])
        if self.is_residual_upsampling:
            n_input_chns = inputs.shape.as_list()[-1]
            upsampled = ResidualUpsampleLayer(
                kernel_size=self.kernel_size, stride=self.upsample_stride,
                n_splits=n_input_chns // self.n_output_chns,
                acti_func=self.acti_func, **weights)(inputs, is_training)
        else:
            upsampled = DeconvolutionalLayer(
                self.n_output_chns, kernel_size=self.kernel_size,
                stride=self.upsample_stride, acti_func=self.acti_func,
                with_bias=False, with_bn=True, **weights)(inputs, is_training)
        if forwarding is not None:
            upsampled = ElementwiseLayer('SUM')(upsampled, forwarding)
        return ResidualUnit(
            self.n_output_chns, kernel_size=self.kernel_size,
            acti_func=self.acti_func, type_string=self.type_string,
            **weights)(upsampled, is_training)
