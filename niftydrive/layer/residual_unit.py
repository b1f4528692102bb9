"""Residual units of He et al. (ResNet, CVPR 2016, and "Identity mappings
in deep residual networks", ECCV 2016)."""
from niftydrive.layer.activation import ActiLayer
from niftydrive.layer.base_layer import TrainableLayer
from niftydrive.layer.bn import BNLayer
from niftydrive.layer.convolution import ConvLayer
from niftydrive.layer.elementwise import ElementwiseLayer
from niftydrive.utilities.util_common import look_up_operations

# the order of (convolution, batch norm, activation) in each of the two
# branches of a unit
SUPPORTED_OP = {
    'original': 'original',          # conv-bn-acti, conv-bn, sum, acti
    'conv_bn_acti': 'conv_bn_acti',  # activation before the sum
    'acti_conv_bn': 'acti_conv_bn',  # ReLU-only pre-activation
    'bn_acti_conv': 'bn_acti_conv',  # full pre-activation (recommended)
}


class ResidualUnit(TrainableLayer):
    """Two convolutions (``kernel_size``, ``dilation``, ``n_output_chns``
    channels) with batch norm and activation ordered as ``type_string``
    says, plus the input (zero-padded or 1x1-projected by the sum when its
    channel count differs).  Called as ``unit(inputs, is_training=True)``;
    the output has ``n_output_chns`` channels and the input's spatial
    shape."""

    def __init__(self, n_output_chns=1, kernel_size=3, dilation=1,
                 acti_func='relu', w_initializer=None, w_regularizer=None,
                 moving_decay=0.9, eps=1e-5, type_string='bn_acti_conv',
                 name='res-downsample'):
        super(ResidualUnit, self).__init__(name=name)
        self.type_string = look_up_operations(
            str(type_string).lower(), SUPPORTED_OP, 'ResidualUnit type_string')
        self.n_output_chns = int(n_output_chns)
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.acti_func = acti_func
        self.moving_decay = moving_decay
        self.eps = eps
        self.initializers = {'w': w_initializer}
        self.regularizers = {'w': w_regularizer}

    def _branch_layers(self, index):
        conv = ConvLayer(self.n_output_chns, kernel_size=self.kernel_size,
                         dilation=self.dilation,
                         w_initializer=self.initializers['w'],
                         w_regularizer=self.regularizers['w'],
                         name='conv_{}'.format(index))
        bn_layer = BNLayer(regularizer=self.regularizers['w'],
                           moving_decay=self.moving_decay, eps=self.eps,
                           name='bn_{}'.format(index))
        acti = ActiLayer(self.acti_func, regularizer=self.regularizers['w'],
                         name='acti_{}'.format(index))
        return conv, bn_layer, acti

    def layer_op(self, inputs, is_training=True):
        """Apply the unit; see the class docstring."""
        flow = inputs
        order = self.type_string
        for index in range(2):
            conv, bn_layer, acti = self._branch_layers(index)
            if order == 'bn_acti_conv':
                flow = conv(acti(bn_layer(flow, is_training)))
            elif order == 'acti_conv_bn':
                flow = bn_layer(conv(acti(flow)), is_training)
            elif order == 'conv_bn_acti' or index == 0:
                flow = acti(bn_layer(conv(flow), is_training))
            else:  # 'original', second branch: activation after the sum
                flow = bn_layer(conv(flow), is_training)
                flow = ElementwiseLayer('SUM')(flow, inputs)
                return acti(flow)
        return ElementwiseLayer('SUM')(flow, inputs)
