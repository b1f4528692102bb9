"""V-Net (Milletari et al., "V-Net: fully convolutional neural networks
for volumetric medical image segmentation", 3DV 2016)."""
import tensorflow.compat.v1 as tf

from niftydrive.layer import layer_util
from niftydrive.layer.activation import ActiLayer
from niftydrive.layer.base_layer import TrainableLayer
from niftydrive.layer.convolution import ConvLayer
from niftydrive.layer.deconvolution import DeconvLayer
from niftydrive.layer.elementwise import ElementwiseLayer
from niftydrive.network.base_net import BaseNet
from niftydrive.utilities.errors import UserInputError
from niftydrive.utilities.util_common import look_up_operations

SUPPORTED_OP = {'DOWNSAMPLE': 'DOWNSAMPLE', 'UPSAMPLE': 'UPSAMPLE',
                'SAME': 'SAME'}


def check_divisible_window(images, factor, net_name):
    """``UserInputError`` naming the window size unless every spatial size
    of ``images`` is known and a multiple of ``factor``."""
    spatial = images.shape.as_list()[1:-1]
    if any(size is None or size % factor for size in spatial):
        raise UserInputError(
            '{} needs every spatial size of its input window to be a '
            'multiple of {}, but the window size is {}; change '
            'spatial_window_size (e.g. to {})'.format(
                net_name, factor, spatial,
                [max(factor, -(-(size or factor) // factor) * factor)
                 for size in spatial]))


class VNetBlock(TrainableLayer):
    """``n_conv`` 5x5x5 convolutions (``n_feature_chns`` channels, an
    activation between them) summed with ``bypass_flow``, then a 2x
    down-sampling convolution ('DOWNSAMPLE'), a 2x transposed convolution
    ('UPSAMPLE') or a 1x1x1 convolution ('SAME') to ``n_output_chns``
    channels, and an activation.  ``block(main_flow, bypass_flow)`` returns
    ``(residual, output)``."""

    def __init__(self, func, n_conv, n_feature_chns, n_output_chns,
                 w_initializer=None, w_regularizer=None, b_initializer=None,
                 b_regularizer=None, acti_func='relu', name='vnet_block'):
        super(VNetBlock, self).__init__(name=name)
        self.func = look_up_operations(str(func).upper(), SUPPORTED_OP,
                                       'VNetBlock func')
        self.n_conv = int(n_conv)
        self.n_feature_chns = n_feature_chns
        self.n_output_chns = n_output_chns
        self.acti_func = acti_func
        self.initializers = {'w': w_initializer, 'b': b_initializer}
        self.regularizers = {'w': w_regularizer, 'b': b_regularizer}

    def layer_op(self, main_flow, bypass_flow):
        """See the class docstring."""
        weights = dict(w_initializer=self.initializers['w'],
                       w_regularizer=self.regularizers['w'])
        for i in range(self.n_conv):
            main_flow = ConvLayer(self.n_feature_chns, kernel_size=5,
                                  name='conv_{}'.format(i),
                                  **weights)(main_flow)
            if i < self.n_conv - 1:  # no activation after the last one
                main_flow = ActiLayer(
                    self.acti_func, regularizer=self.regularizers['w'])(
                        main_flow)
        res_flow = ElementwiseLayer('SUM')(main_flow, bypass_flow)
        if self.func == 'DOWNSAMPLE':
            main_flow = ConvLayer(self.n_output_chns, kernel_size=2,
                                  stride=2, with_bias=True,
                                  name='downsample', **weights)(res_flow)
        elif self.func == 'UPSAMPLE':
            main_flow = DeconvLayer(self.n_output_chns, kernel_size=2,
                                    stride=2, with_bias=True,
                                    name='upsample', **weights)(res_flow)
        else:
            main_flow = ConvLayer(
                self.n_output_chns, kernel_size=1, with_bias=True,
                b_initializer=self.initializers['b'],
                b_regularizer=self.regularizers['b'], name='conv_1x1x1',
                **weights)(res_flow)
        main_flow = ActiLayer(self.acti_func)(main_flow)
        return res_flow, main_flow


class VNet(BaseNet):
    """V-Net: four down-sampling ``VNetBlock``s (``L1``..``L4``, 1, 2, 3, 3
    convolutions), a bottom block ``V_``, three up-sampling blocks
    (``R4``..``R2``) with skip connections and the output block ``R1``.
    Channels per level: ``n_features`` (default 16, 32, 64, 128, 256).  As
    in NiftyNet the output block ends with the activation, so the "logits"
    are activated.  Every spatial size must be a multiple of 16 (four 2x
    down-samplings)."""

    def __init__(self, num_classes, w_initializer=None, w_regularizer=None,
                 b_initializer=None, b_regularizer=None, acti_func='relu',
                 name='VNet'):
        super(VNet, self).__init__(
            num_classes=num_classes, w_initializer=w_initializer,
            w_regularizer=w_regularizer, b_initializer=b_initializer,
            b_regularizer=b_regularizer, acti_func=acti_func, name=name)
        self.n_features = [16, 32, 64, 128, 256]

    def layer_op(self, images, is_training=True, layer_id=-1,
                 **unused_kwargs):
        """Output ``[batch, spatial..., num_classes]`` (``is_training`` and
        ``layer_id`` are accepted for the applications; V-Net has no batch
        norm)."""
        check_divisible_window(images, 16, 'VNet')
        rank = layer_util.infer_spatial_rank(images)
        if rank not in (2, 3):
            raise UserInputError('VNet needs 2-D or 3-D images, got shape '
                                 '{}'.format(images.shape))
        feats = self.n_features

        def block(func, n_conv, n_feat, n_out, name, with_bias=False):
            kwargs = self.weight_kwargs(with_bias=with_bias)
            return VNetBlock(func, n_conv, n_feat, n_out,
                             acti_func=self.acti_func, name=name, **kwargs)

        padded = tf.tile(images, [1] * (rank + 1) + [feats[0]])
        res_1, down_1 = block('DOWNSAMPLE', 1, feats[0], feats[1], 'L1')(
            images, padded)
        res_2, down_2 = block('DOWNSAMPLE', 2, feats[1], feats[2], 'L2')(
            down_1, down_1)
        res_3, down_3 = block('DOWNSAMPLE', 3, feats[2], feats[3], 'L3')(
            down_2, down_2)
        res_4, down_4 = block('DOWNSAMPLE', 3, feats[3], feats[4], 'L4')(
            down_3, down_3)
        _, up_4 = block('UPSAMPLE', 3, feats[4], feats[4], 'V_')(
            down_4, down_4)
        concat = ElementwiseLayer('CONCAT')(up_4, res_4)
        _, up_3 = block('UPSAMPLE', 3, feats[4], feats[3], 'R4')(concat, up_4)
        concat = ElementwiseLayer('CONCAT')(up_3, res_3)
        _, up_2 = block('UPSAMPLE', 3, feats[3], feats[2], 'R3')(concat, up_3)
        concat = ElementwiseLayer('CONCAT')(up_2, res_2)
        _, up_1 = block('UPSAMPLE', 2, feats[2], feats[1], 'R2')(concat, up_2)
        concat = ElementwiseLayer('CONCAT')(up_1, res_1)
        _, output = block('SAME', 1, feats[1], self.num_classes, 'R1',
                          with_bias=True)(concat, up_1)
        return output
