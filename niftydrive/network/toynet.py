"""A two-layer network for tests and demonstrations."""
from niftydrive.layer.convolution import ConvolutionalLayer
from niftydrive.network.base_net import BaseNet


class ToyNet(BaseNet):
    """A 3x3(x3) convolution with batch norm and activation
    (``hidden_features`` channels), then a 1x1(x1) convolution with bias to
    ``num_classes`` channels (the logits).  Works on 1-D, 2-D and 3-D images;
    the output has the input's spatial shape.

    Variables: ``ToyNet/conv_input_bn_<acti>/...``, ``ToyNet/conv_output/...``.
    """

    def __init__(self, num_classes, w_initializer=None, w_regularizer=None,
                 b_initializer=None, b_regularizer=None, acti_func='prelu',
                 name='ToyNet', hidden_features=10):
        super(ToyNet, self).__init__(
            num_classes=num_classes, w_initializer=w_initializer,
            w_regularizer=w_regularizer, b_initializer=b_initializer,
            b_regularizer=b_regularizer, acti_func=acti_func, name=name)
        self.hidden_features = hidden_features

    def layer_op(self, images, is_training=True, **unused_kwargs):
        """Logits ``[batch, spatial..., num_classes]`` for ``images``."""
        conv_1 = ConvolutionalLayer(
            self.hidden_features, kernel_size=3, with_bn=True,
            acti_func=self.acti_func, name='conv_input',
            **self.weight_kwargs())
        conv_2 = ConvolutionalLayer(
            self.num_classes, kernel_size=1, with_bias=True, with_bn=False,
            acti_func=None, name='conv_output',
            **self.weight_kwargs(with_bias=True))
        flow = conv_1(images, is_training)
        return conv_2(flow, is_training)
