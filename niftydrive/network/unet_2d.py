"""2-D U-Net (Ronneberger et al., "U-Net: convolutional networks for
biomedical image segmentation", MICCAI 2015), 'VALID' convolutions."""
from niftydrive.layer.base_layer import Layer, TrainableLayer
from niftydrive.layer.convolution import ConvolutionalLayer
from niftydrive.layer.crop import CropLayer
from niftydrive.layer.deconvolution import DeconvolutionalLayer
from niftydrive.layer.downsample import DownSampleLayer
from niftydrive.layer.elementwise import ElementwiseLayer
from niftydrive.layer.linear_resize import LinearResizeLayer
from niftydrive.network.base_net import BaseNet


class TwoLayerConv(TrainableLayer):
    """Two convolutions with ``n_chns`` channels each (``conv_params``:
    keyword arguments of ``ConvolutionalLayer``)."""

    def __init__(self, n_chns, conv_params):
        super(TwoLayerConv, self).__init__(name='TwoConv')
        self.n_chns = n_chns
        self.conv_params = conv_params

    def layer_op(self, input_tensor, is_training=None):
        """Apply both convolutions."""
        flow = input_tensor
        for _ in range(2):
            flow = ConvolutionalLayer(self.n_chns, **self.conv_params)(
                flow, is_training=is_training)
        return flow


class CropConcat(Layer):
    """``layer(tensor_a, tensor_b)``: crop ``tensor_a`` equally on every
    side (by half the size difference of the first spatial dimension),
    resize it linearly to ``tensor_b``'s spatial shape and concatenate the
    two on the channel axis."""

    def __init__(self, name='crop_concat'):
        super(CropConcat, self).__init__(name=name)

    def layer_op(self, tensor_a, tensor_b):
        """The concatenation; see the class docstring."""
        border = (tensor_a.shape.as_list()[1] -
                  tensor_b.shape.as_list()[1]) // 2
        if border > 0:
            tensor_a = CropLayer(border=border)(tensor_a)
        tensor_a = LinearResizeLayer(tensor_b.shape.as_list()[1:-1])(
            tensor_a)
        return ElementwiseLayer('CONCAT')(tensor_a, tensor_b)


class UNet2D(BaseNet):
    """2-D U-Net: four levels of two 3x3 'VALID' convolutions (batch norm,
    activation) and 2x2 max pooling, a bottom level, then four levels of
    2x2 transposed convolution, crop-and-concatenate with the skip
    connection and two convolutions; a 1x1 convolution gives the logits.
    Channels per level: ``n_fea`` (default 64 ... 1024).  The output is
    smaller than the input (572 -> 388; 188 -> 4 is the smallest)."""

    def __init__(self, num_classes, w_initializer=None, w_regularizer=None,
                 b_initializer=None, b_regularizer=None, acti_func='relu',
                 name='UNet2D'):
        super(UNet2D, self).__init__(
            num_classes=num_classes, w_initializer=w_initializer,
            w_regularizer=w_regularizer, b_initializer=b_initializer,
            b_regularizer=b_regularizer, acti_func=acti_func, name=name)
        self.n_fea = [64, 128, 256, 512, 1024]
        net_params = dict(padding='VALID', with_bias=True, with_bn=True,
                          acti_func=acti_func, w_initializer=w_initializer,
                          b_initializer=b_initializer,
                          w_regularizer=w_regularizer,
                          b_regularizer=b_regularizer)
        self.conv_params = dict(kernel_size=3, stride=1, **net_params)
        self.deconv_params = dict(kernel_size=2, stride=2, **net_params)
        self.pooling_params = {'kernel_size': 2, 'stride': 2}

    def layer_op(self, images, is_training=True, **unused_kwargs):
        """Logits for the centre of ``images``."""
        skips = []
        flow = images
        for n_chns in self.n_fea[:-1]:
            flow = TwoLayerConv(n_chns, self.conv_params)(
                flow, is_training=is_training)
            skips.append(flow)
            flow = DownSampleLayer('MAX', **self.pooling_params)(flow)
        flow = TwoLayerConv(self.n_fea[-1], self.conv_params)(
            flow, is_training=is_training)
        for n_chns, skip in zip(self.n_fea[-2::-1], skips[::-1]):
            up = DeconvolutionalLayer(n_chns, **self.deconv_params)(
                flow, is_training=is_training)
            flow = TwoLayerConv(n_chns, self.conv_params)(
                CropConcat()(skip, up), is_training=is_training)
        classifier = ConvolutionalLayer(
            self.num_classes, kernel_size=1, with_bias=True, with_bn=False,
            **self.weight_kwargs(with_bias=True))
        return classifier(flow)
