"""The conditional GAN of NiftyNet's ultrasound simulator demo
(``GAN_demo_train_config.ini``): images generated from noise and
conditioning images (e.g. coordinate maps)."""
import numpy as np
import tensorflow.compat.v1 as tf

from niftydrive.layer.convolution import ConvolutionalLayer
from niftydrive.layer.deconvolution import DeconvolutionalLayer
from niftydrive.layer.gan_blocks import (
    BaseDiscriminator, BaseGenerator, GANImageBlock)
from niftydrive.network.simple_gan import _with_conditioning

LEAKY_ALPHA = 0.2


class ImageGenerator(BaseGenerator):
    """Noise -> fully-connected layer (ReLU) -> an image at 1/16 of the
    output size -> a convolution, then four blocks of (2x transposed
    convolution, conditioning concatenated, convolution), every layer with
    batch norm and ReLU; a last convolution (no batch norm) and
    ``2 tanh``.  The channels start at ``noise_size`` (plus the
    conditioning channels) and halve at each block; the conditioning is
    concatenated at every resolution but the last."""

    shortcuts = (True, True, True, True, False)

    def __init__(self, name='generator'):
        super(ImageGenerator, self).__init__(name=name)

    def layer_op(self, random_source, image_size, conditioning, is_training):
        """Images ``[batch] + image_size``."""
        w_init = tf.random_normal_initializer(0.0, 0.08)
        noise_size = random_source.shape.as_list()[-1]
        n_cond = 0 if conditioning is None else \
            conditioning.shape.as_list()[-1]
        channels = [noise_size + n_cond * self.shortcuts[0]]
        for level in range(1, 5):
            channels.append(channels[-1] // 2 +
                            n_cond * self.shortcuts[level])
        sizes = [list(image_size[:-1])]
        for _ in range(4):
            sizes.insert(0, [size // 2 for size in sizes[0]])

        def conditioned(flow, level):
            if self.shortcuts[level]:
                return _with_conditioning(flow, conditioning)
            return flow

        n_coarse = int(np.prod(sizes[0])) * channels[0]
        weights = tf.get_variable('G_W1p', [noise_size, n_coarse],
                                  initializer=w_init)
        bias = tf.get_variable('G_b1p', [n_coarse],
                               initializer=tf.constant_initializer(0.001))
        flow = tf.nn.relu(tf.matmul(random_source, weights) + bias)
        flow = tf.reshape(flow, [-1] + sizes[0] + [channels[0]])
        flow = ConvolutionalLayer(channels[0], acti_func='relu',
                                  w_initializer=w_init, name='conv')(
                                      conditioned(flow, 0), is_training)
        for level in range(1, 5):
            flow = DeconvolutionalLayer(
                channels[level], stride=2, acti_func='relu',
                w_initializer=w_init, name='up')(flow, is_training)
            flow = ConvolutionalLayer(
                channels[level], acti_func='relu', w_initializer=w_init,
                name='conv')(conditioned(flow, level), is_training)
        flow = ConvolutionalLayer(image_size[-1], with_bn=False,
                                  w_initializer=w_init, name='final_image')(
                                      flow, is_training)
        return 2.0 * tf.nn.tanh(flow)


class ImageDiscriminator(BaseDiscriminator):
    """The image (with the conditioning) -> a 5x5 convolution and a
    residual pair of 3x3 convolutions with ``channels[0]`` channels -> for
    each further entry of ``channels`` (default 64 ... 1024) a down-sampling
    block (stride-2 convolution, then a residual pair of convolutions) ->
    one logit per sample.  Leaky ReLU (0.2) everywhere."""

    def __init__(self, name='discriminator'):
        super(ImageDiscriminator, self).__init__(name=name)
        self.channels = [32, 64, 128, 256, 512, 1024]

    def layer_op(self, image, conditioning, is_training):
        """Logits ``[batch, 1]``."""
        w_init = tf.random_normal_initializer(0.0, 0.2)

        def conv(n_chns, flow, stride=1, kernel=3, **kwargs):
            return ConvolutionalLayer(
                n_chns, kernel_size=kernel, stride=stride,
                w_initializer=w_init, **kwargs)(flow, is_training)

        def residual_pair(n_chns, flow):
            inner = tf.nn.leaky_relu(conv(n_chns, flow), LEAKY_ALPHA)
            return tf.nn.leaky_relu(conv(n_chns, inner) + flow, LEAKY_ALPHA)

        flow = _with_conditioning(image, conditioning)
        flow = tf.nn.leaky_relu(conv(self.channels[0], flow, kernel=5,
                                     with_bias=True, with_bn=False),
                                LEAKY_ALPHA)
        flow = residual_pair(self.channels[0], flow)
        for n_chns in self.channels[1:]:
            flow = tf.nn.leaky_relu(conv(n_chns, flow, stride=2), LEAKY_ALPHA)
            flow = residual_pair(n_chns, flow)
        n_features = int(np.prod(flow.shape.as_list()[1:]))
        flow = tf.reshape(flow, [-1, n_features])
        weights = tf.get_variable('D_Wo', [n_features, 1],
                                  initializer=w_init)
        bias = tf.get_variable('D_bo', [1],
                               initializer=tf.constant_initializer(0.001))
        return tf.matmul(flow, weights) + bias


class SimulatorGAN(GANImageBlock):
    """The simulator GAN: ``gan(noise, training_image, conditioning,
    is_training)`` -> ``(fake_image, real_logits, fake_logits)``; images
    sizes should be multiples of 32 (four generator up-samplings, five
    discriminator down-samplings)."""

    def __init__(self, name='simulator_GAN'):
        super(SimulatorGAN, self).__init__(
            generator=ImageGenerator(name='generator'),
            discriminator=ImageDiscriminator(name='discriminator'),
            name=name)
