"""HighRes3DNet (Li et al. 2017, "On the compactness, efficiency, and
representation of 3D convolutional networks: brain parcellation as a pretext
task"): a 3x3x3 convolution, three stages of residual blocks with 16, 32 and
64 channels whose convolutions are dilated by 1, 2 and 4, then two 1x1x1
convolutions (80 channels, then the classes).

Dilation is done by the convolutions themselves (not by NiftyNet's
space-to-batch trick), so any spatial size works; the output has the
input's spatial shape.
"""
from niftydrive.layer.activation import ActiLayer
from niftydrive.layer.base_layer import TrainableLayer
from niftydrive.layer.bn import BNLayer
from niftydrive.layer.convolution import ConvLayer, ConvolutionalLayer
from niftydrive.layer.elementwise import ElementwiseLayer
from niftydrive.network.base_net import BaseNet


class HighResBlock(TrainableLayer):
    """Pre-activation residual block: (batch norm, activation, convolution)
    for each kernel size in ``kernels``, plus the input (zero-padded on the
    channel axis when it has fewer channels)."""

    def __init__(self, n_output_chns, kernels=(3, 3), dilation=1,
                 acti_func='relu', w_initializer=None, w_regularizer=None,
                 with_res=True, name='HighResBlock'):
        super(HighResBlock, self).__init__(name=name)
        self.n_output_chns = n_output_chns
        self.kernels = (tuple(kernels) if hasattr(kernels, '__iter__')
                        else (kernels,))
        self.dilation = dilation
        self.acti_func = acti_func
        self.with_res = with_res
        self.initializers = {'w': w_initializer}
        self.regularizers = {'w': w_regularizer}

    def layer_op(self, input_tensor, is_training):
        """Apply the block to ``input_tensor``."""
        output_tensor = input_tensor
        for i, kernel_size in enumerate(self.kernels):
            bn_op = BNLayer(regularizer=self.regularizers['w'],
                            name='bn_{}'.format(i))
            acti_op = ActiLayer(func=self.acti_func,
                                regularizer=self.regularizers['w'],
                                name='acti_{}'.format(i))
            conv_op = ConvLayer(
                n_output_chns=self.n_output_chns, kernel_size=kernel_size,
                dilation=self.dilation, w_initializer=self.initializers['w'],
                w_regularizer=self.regularizers['w'],
                name='conv_{}'.format(i))
            output_tensor = bn_op(output_tensor, is_training)
            output_tensor = acti_op(output_tensor)
            output_tensor = conv_op(output_tensor)
        if self.with_res:
            output_tensor = ElementwiseLayer('SUM')(output_tensor,
                                                    input_tensor)
        return output_tensor


class HighRes3DNet(BaseNet):
    """HighRes3DNet; ``net(images, is_training=True)`` -> logits with the
    spatial shape of ``images`` (1-D, 2-D or 3-D).

    ``n_features`` (default ``(16, 32, 64)``) are the channels of the three
    residual stages, ``repeat`` the number of blocks per stage (3 in the
    paper) and ``n_fc_features`` the channels of the first 1x1x1 layer.
    """

    def __init__(self, num_classes, w_initializer=None, w_regularizer=None,
                 b_initializer=None, b_regularizer=None, acti_func='prelu',
                 name='HighRes3DNet', n_features=(16, 32, 64), repeat=3,
                 n_fc_features=80):
        super(HighRes3DNet, self).__init__(
            num_classes=num_classes, w_initializer=w_initializer,
            w_regularizer=w_regularizer, b_initializer=b_initializer,
            b_regularizer=b_regularizer, acti_func=acti_func, name=name)
        if len(n_features) != 3:
            raise ValueError(
                'HighRes3DNet needs the channels of its 3 residual stages, '
                'got n_features={!r}'.format(n_features))
        self.n_features = tuple(int(n) for n in n_features)
        self.repeat = int(repeat)
        self.n_fc_features = int(n_fc_features)
        self.dilations = (1, 2, 4)

    def layer_op(self, images, is_training=True, layer_id=-1,
                 **unused_kwargs):
        """Logits for ``images``; ``layer_id`` selects an intermediate
        output (an index into the list of layer outputs; -1: the last)."""
        outputs = []
        first_conv = ConvolutionalLayer(
            self.n_features[0], kernel_size=3, acti_func=self.acti_func,
            name='conv_0', **self.weight_kwargs())
        flow = first_conv(images, is_training)
        outputs.append(flow)
        flow = self.residual_stages(flow, is_training, outputs)
        fc_layer = ConvolutionalLayer(
            self.n_fc_features, kernel_size=1, acti_func=self.acti_func,
            name='conv_1', **self.weight_kwargs())
        flow = fc_layer(flow, is_training)
        outputs.append(flow)
        out_layer = ConvolutionalLayer(
            self.num_classes, kernel_size=1, with_bn=True, acti_func=None,
            name='conv_2', **self.weight_kwargs())
        flow = out_layer(flow, is_training)
        outputs.append(flow)
        return outputs[layer_id]

    def residual_stages(self, flow, is_training, outputs):
        """The three stages of ``repeat`` residual blocks (``res_<stage>_<j>``,
        dilations 1, 2, 4); each block's output is appended to
        ``outputs``."""
        for stage, (n_chns, dilation) in enumerate(
                zip(self.n_features, self.dilations)):
            for j in range(self.repeat):
                block = HighResBlock(
                    n_chns, kernels=(3, 3), dilation=dilation,
                    acti_func=self.acti_func, name='res_{}_{}'.format(
                        stage + 1, j), **self.weight_kwargs())
                flow = block(flow, is_training)
                outputs.append(flow)
        return flow
