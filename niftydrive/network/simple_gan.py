"""A simple image GAN: up-sampling generator, down-sampling discriminator
(2-D or 3-D images)."""
import numpy as np
import tensorflow.compat.v1 as tf

from niftydrive.layer.convolution import ConvLayer, ConvolutionalLayer
from niftydrive.layer.fully_connected import FCLayer
from niftydrive.layer.gan_blocks import (
    BaseDiscriminator, BaseGenerator, GANImageBlock)
from niftydrive.layer.linear_resize import LinearResizeLayer


def _resize(tensor, spatial_size):
    if tensor.shape.as_list()[1:-1] == list(spatial_size):
        return tensor
    return LinearResizeLayer(list(spatial_size))(tensor)


def _with_conditioning(flow, conditioning):
    """``flow`` with the conditioning (resized to it) as extra channels."""
    if conditioning is None:
        return flow
    return tf.concat([flow, _resize(tf.cast(conditioning, tf.float32),
                                    flow.shape.as_list()[1:-1])], axis=-1)


class ImageGenerator(BaseGenerator):
    """Noise -> fully-connected layer -> a coarse image with
    ``hidden_layer_channels[0]`` channels at ``1 / 2^n`` of the output size
    (n = number of hidden layers) -> for each hidden layer: 2x linear
    up-sampling and two 3x3 convolutions (batch norm, ReLU; none on the
    very last) -> a per-channel scale and shift -> tanh."""

    def __init__(self, hidden_layer_channels=(128, 64, 32, 16),
                 name='generator'):
        super(ImageGenerator, self).__init__(name=name)
        self.hidden_layer_channels = list(hidden_layer_channels)

    def layer_op(self, random_source, image_size, conditioning, is_training):
        """Images ``[batch] + image_size``."""
        channels = self.hidden_layer_channels
        sizes = [list(image_size)]
        for n_chns in channels[::-1]:
            sizes.insert(0, [int(round(s / 2.0)) for s in sizes[0][:-1]] +
                         [n_chns])
        flow = FCLayer(int(np.prod(sizes[0])), name='noise_to_image')(
            tf.reshape(random_source, [tf.shape(random_source)[0], -1]))
        flow = tf.reshape(flow, [-1] + sizes[0])
        for index, size in enumerate(sizes[1:]):
            is_last = index == len(sizes) - 2
            flow = _resize(_with_conditioning(flow, conditioning), size[:-1])
            flow = ConvolutionalLayer(size[-1], acti_func='relu',
                                      name='up_conv_{}'.format(index))(
                                          flow, is_training)
            if is_last:
                flow = ConvLayer(size[-1], with_bias=True,
                                 name='conv_{}'.format(index))(flow)
            else:
                flow = ConvolutionalLayer(
                    size[-1], acti_func='relu',
                    name='conv_{}'.format(index))(flow, is_training)
        rank = len(image_size) - 1
        scale = tf.get_variable('G_scale', [1] * (rank + 1) + [image_size[-1]],
                                initializer=tf.constant_initializer(0.1))
        shift = tf.get_variable('G_shift', [1] + list(image_size),
                                initializer=tf.constant_initializer(0.0))
        return tf.nn.tanh(flow * scale + shift)


class ImageDiscriminator(BaseDiscriminator):
    """For each consecutive pair of ``hidden_layer_channels``: a 3x3
    convolution (batch norm, ReLU), 2x linear down-sampling and a 3x3
    convolution to the next channel count; then a fully-connected layer to
    one logit per sample.  The conditioning (if any) is concatenated to the
    image."""

    def __init__(self, hidden_layer_channels=(16, 32, 64, 128),
                 name='discriminator'):
        super(ImageDiscriminator, self).__init__(name=name)
        self.hidden_layer_channels = list(hidden_layer_channels)

    def layer_op(self, image, conditioning, is_training):
        """Logits ``[batch, 1]``."""
        flow = _with_conditioning(image, conditioning)
        channels = self.hidden_layer_channels
        for index, (n_in, n_out) in enumerate(zip(channels[:-1],
                                                  channels[1:])):
            flow = ConvolutionalLayer(n_in, acti_func='relu',
                                      name='conv_{}'.format(index))(
                                          flow, is_training)
            half = [max(1, s // 2) for s in flow.shape.as_list()[1:-1]]
            flow = ConvolutionalLayer(n_out, acti_func='relu',
                                      name='down_conv_{}'.format(index))(
                                          _resize(flow, half), is_training)
        return FCLayer(1, name='logits')(flow)


class SimpleGAN(GANImageBlock):
    """``ImageGenerator`` (channels 128, 64, 32, 16) and
    ``ImageDiscriminator`` (16, 32, 64, 128); called as ``gan(noise,
    training_image, conditioning, is_training)`` -> ``(fake_image,
    real_logits, fake_logits)``."""

    def __init__(self, name='simple_GAN'):
        super(SimpleGAN, self).__init__(
            generator=ImageGenerator(name='generator'),
            discriminator=ImageDiscriminator(name='discriminator'),
            clip=None, name=name)
