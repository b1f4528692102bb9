"""Pre-activation ResNet for classification (He et al., "Identity mappings
in deep residual networks", ECCV 2016)."""
import functools
from collections import namedtuple

import tensorflow.compat.v1 as tf

from niftydrive.layer.base_layer import TrainableLayer
from niftydrive.layer.bn import BNLayer
from niftydrive.layer.convolution import ConvolutionalLayer
from niftydrive.layer.fully_connected import FCLayer
from niftydrive.layer.layer_util import infer_spatial_rank
from niftydrive.network.base_net import BaseNet

ResNetDesc = namedtuple('ResNetDesc', ['bn', 'fc', 'conv1', 'blocks'])
BottleneckBlockDesc1 = namedtuple('BottleneckBlockDesc1', ['conv'])
BottleneckBlockDesc2 = namedtuple('BottleneckBlockDesc2',
                                  ['common_bn', 'conv', 'conv_shortcut'])
DownResBlockDesc = namedtuple('DownResBlockDesc', ['blocks'])


class BottleneckBlock(TrainableLayer):
    """A bottleneck residual block: pre-activated 1x1 (``stride``), 3x3
    and 1x1 convolutions with ``n_output_chns / 4``, ``n_output_chns / 4``
    and ``n_output_chns`` channels, plus the input (or, when the channel
    count or the resolution changes, a strided 1x1 projection of the
    normalised input)."""

    def __init__(self, n_output_chns, stride, Conv, name='bottleneck'):
        self.n_output_chns = n_output_chns
        self.stride = stride
        self.bottle_neck_chns = max(1, n_output_chns // 4)
        self.Conv = Conv
        super(BottleneckBlock, self).__init__(name=name)

    def _identity_shortcut(self, input_chns):
        return self.n_output_chns == input_chns and self.stride == 1

    def create(self, input_chns):
        """The block's layers for ``input_chns`` input channels."""
        if self._identity_shortcut(input_chns):
            return BottleneckBlockDesc1(conv=[
                self.Conv(self.bottle_neck_chns, kernel_size=1,
                          stride=self.stride),
                self.Conv(self.bottle_neck_chns, kernel_size=3),
                self.Conv(self.n_output_chns, kernel_size=1)])
        return BottleneckBlockDesc2(
            common_bn=BNLayer(),
            conv=[self.Conv(self.bottle_neck_chns, kernel_size=1,
                            stride=self.stride, acti_func=None,
                            with_bn=False),
                  self.Conv(self.bottle_neck_chns, kernel_size=3),
                  self.Conv(self.n_output_chns, kernel_size=1)],
            conv_shortcut=self.Conv(self.n_output_chns, kernel_size=1,
                                    stride=self.stride, acti_func=None,
                                    with_bn=False))

    def layer_op(self, images, is_training=True):
        """The block's output."""
        input_chns = images.shape.as_list()[-1]
        layers = self.create(input_chns)
        if self._identity_shortcut(input_chns):
            out = images
            for conv in layers.conv:
                out = conv(out, is_training)
            return out + images
        normalised = tf.nn.relu(layers.common_bn(images, is_training))
        out = normalised
        for conv in layers.conv:
            out = conv(out, is_training)
        return layers.conv_shortcut(normalised, is_training) + out


class DownResBlock(TrainableLayer):
    """``count`` bottleneck blocks with ``n_output_chns`` channels, the
    first one strided by ``stride``."""

    def __init__(self, n_output_chns, count, stride, Conv, name='downres'):
        self.count = count
        self.stride = stride
        self.n_output_chns = n_output_chns
        self.Conv = Conv
        super(DownResBlock, self).__init__(name=name)

    def create(self):
        """The block's bottleneck blocks."""
        return DownResBlockDesc(blocks=[
            BottleneckBlock(self.n_output_chns,
                            self.stride if index == 0 else 1, self.Conv)
            for index in range(self.count)])

    def layer_op(self, images, is_training):
        """The block's output."""
        out = images
        for block in self.create().blocks:
            out = block(out, is_training)
        return out


class ResNet(BaseNet):
    """ResNet: a convolution with ``n_features[0]`` channels, one
    ``DownResBlock`` of ``n_blocks_per_resolution`` bottleneck blocks per
    further entry of ``n_features`` (the first at full resolution, the
    others strided by 2), batch norm, ReLU, global average pooling and a
    fully-connected layer: ``net(images, is_training)`` -> logits
    ``[batch, num_classes]`` (2-D or 3-D images)."""

    def __init__(self, num_classes, n_features=(16, 64, 128, 256),
                 n_blocks_per_resolution=10, w_initializer=None,
                 w_regularizer=None, b_initializer=None, b_regularizer=None,
                 acti_func='relu', name='ResNet'):
        super(ResNet, self).__init__(
            num_classes=num_classes, w_initializer=w_initializer,
            w_regularizer=w_regularizer, b_initializer=b_initializer,
            b_regularizer=b_regularizer, acti_func=acti_func, name=name)
        self.n_features = list(n_features)
        self.n_blocks_per_resolution = n_blocks_per_resolution
        self.Conv = functools.partial(
            ConvolutionalLayer, w_initializer=w_initializer,
            w_regularizer=w_regularizer, b_initializer=b_initializer,
            b_regularizer=b_regularizer, preactivation=True,
            acti_func=acti_func)

    def create(self):
        """The network's layers (``ResNetDesc``)."""
        blocks = [DownResBlock(n_chns, self.n_blocks_per_resolution,
                               1 if index == 0 else 2, self.Conv)
                  for index, n_chns in enumerate(self.n_features[1:])]
        return ResNetDesc(
            bn=BNLayer(), fc=FCLayer(self.num_classes),
            conv1=self.Conv(self.n_features[0], acti_func=None,
                            with_bn=False),
            blocks=blocks)

    def layer_op(self, images, is_training=True, **unused_kwargs):
        """Logits ``[batch, num_classes]``."""
        layers = self.create()
        out = layers.conv1(images, is_training)
        for block in layers.blocks:
            out = block(out, is_training)
        out = tf.nn.relu(layers.bn(out, is_training))
        rank = infer_spatial_rank(out)
        return layers.fc(tf.reduce_mean(out, axis=list(range(1, rank + 1))))
