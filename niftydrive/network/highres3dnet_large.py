"""HighRes3DNet with an extra 3x3x3 convolution before the 1x1x1 ones."""
from niftydrive.layer.convolution import ConvolutionalLayer
from niftydrive.network.highres3dnet import HighRes3DNet


class HighRes3DNetLarge(HighRes3DNet):
    """HighRes3DNet (Li et al. 2017), larger version: ``conv_0`` (3x3x3),
    the three residual stages, then ``conv_1`` (3x3x3, ``n_fc_features``
    channels), ``conv_2`` (1x1x1, ``n_fc_features``) and ``conv_3``
    (1x1x1, the classes, no activation).  ``net(images, is_training=True,
    layer_id=-1)``."""

    def __init__(self, num_classes, w_initializer=None, w_regularizer=None,
                 b_initializer=None, b_regularizer=None, acti_func='relu',
                 name='HighRes3DNet', n_features=(16, 32, 64), repeat=3,
                 n_fc_features=64):
        super(HighRes3DNetLarge, self).__init__(
            num_classes, w_initializer=w_initializer,
            w_regularizer=w_regularizer, b_initializer=b_initializer,
            b_regularizer=b_regularizer, acti_func=acti_func, name=name,
            n_features=n_features, repeat=repeat,
            n_fc_features=n_fc_features)

    def layer_op(self, images, is_training=True, layer_id=-1,
                 **unused_kwargs):
        """Logits with the spatial shape of ``images`` (``layer_id``: an
        index into the list of layer outputs)."""
        outputs = []
        flow = ConvolutionalLayer(
            self.n_features[0], kernel_size=3, acti_func=self.acti_func,
            name='conv_0', **self.weight_kwargs())(images, is_training)
        outputs.append(flow)
        flow = self.residual_stages(flow, is_training, outputs)
        for name, n_chns, kernel, acti in (
                ('conv_1', self.n_fc_features, 3, self.acti_func),
                ('conv_2', self.n_fc_features, 1, self.acti_func),
                ('conv_3', self.num_classes, 1, None)):
            flow = ConvolutionalLayer(
                n_chns, kernel_size=kernel, acti_func=acti, name=name,
                **self.weight_kwargs())(flow, is_training)
            outputs.append(flow)
        return outputs[layer_id]
