"""``TinyNet``: the small GAN of the toy application (SPEC section 5).

Samples are 1-D vectors shaped ``[batch, vector_size, 1]``.  The generator
``G`` maps noise of that shape (``[batch, vector_size]`` is also accepted) to
a vector of the same length; the discriminator ``D`` gives one logit per
sample.  Variables live under the scopes ``G/`` and ``D/``, e.g.
``G/conv_bn_selu/conv_/w``, ``G/conv_bn_selu_1/conv_/w``, ``G/conv/w``,
``D/conv_selu/conv_/w``, ``D/fc_selu/fc_/w``, ``D/fc/fc_/w``.
"""
import tensorflow.compat.v1 as tf

from niftydrive.layer.base_layer import TrainableLayer
from niftydrive.layer.convolution import ConvLayer, ConvolutionalLayer
from niftydrive.layer.fully_connected import FullyConnectedLayer
from niftydrive.network.base_net import BaseNet


def as_vector_batch(tensor):
    """``[batch, n]`` -> ``[batch, n, 1]``; ``[batch, n, 1]`` unchanged."""
    tensor = tf.cast(tensor, tf.float32)
    if tensor.shape.ndims == 2:
        return tf.expand_dims(tensor, -1)
    if tensor.shape.ndims != 3:
        raise ValueError(
            'TinyNet works on vectors shaped [batch, vector_size, 1] or '
            '[batch, vector_size], got shape {}'.format(tensor.shape))
    return tensor


class TinyGenerator(TrainableLayer):
    """Three convolutions: two ``conv_bn_selu`` (batch norm, selu) with
    ``n_features`` channels, then a plain convolution (with bias) to one
    channel."""

    def __init__(self, n_features=8, name='G'):
        super(TinyGenerator, self).__init__(name=name)
        self.n_features = n_features

    def layer_op(self, random_source, is_training=True):
        """Generated vectors ``[batch, vector_size, 1]``."""
        flow = as_vector_batch(random_source)
        for _ in range(2):
            # the second layer gets the unique scope conv_bn_selu_1
            flow = ConvolutionalLayer(
                self.n_features, kernel_size=3, with_bn=True,
                acti_func='selu', name='conv')(flow, is_training)
        return ConvLayer(1, kernel_size=3, with_bias=True, name='conv')(flow)


class TinyDiscriminator(TrainableLayer):
    """A convolution with selu, a fully-connected layer with selu and a
    fully-connected layer to one logit per sample (no batch norm, so real
    and generated batches do not influence each other's logits)."""

    def __init__(self, n_features=8, n_hidden=16, name='D'):
        super(TinyDiscriminator, self).__init__(name=name)
        self.n_features = n_features
        self.n_hidden = n_hidden

    def layer_op(self, vectors, is_training=True):
        """Logits ``[batch, 1]`` (``is_training`` is accepted for a uniform
        call signature)."""
        flow = as_vector_batch(vectors)
        flow = ConvolutionalLayer(
            self.n_features, kernel_size=3, with_bias=True, with_bn=False,
            acti_func='selu', name='conv')(flow)
        flow = FullyConnectedLayer(
            self.n_hidden, with_bn=False, acti_func='selu', name='fc')(flow)
        return FullyConnectedLayer(1, with_bn=False, name='fc')(flow)


class TinyNet(BaseNet):
    """The toy GAN: ``net.generator`` (scope ``G``) and
    ``net.discriminator`` (scope ``D``), each a layer object that shares its
    variables between calls and towers.

    ``net(random_source, training_image, is_training=True)`` returns
    ``(fake_image, real_logits, fake_logits)``.  The constructor takes the
    common network arguments so the factory can build it like any network,
    but the toy GAN always uses selu and the layers' default initialisers.
    """

    def __init__(self, num_classes=0, w_initializer=None, w_regularizer=None,
                 b_initializer=None, b_regularizer=None, acti_func='selu',
                 name='TinyNet', n_features=8, n_hidden=16):
        super(TinyNet, self).__init__(
            num_classes=num_classes, w_initializer=w_initializer,
            w_regularizer=w_regularizer, b_initializer=b_initializer,
            b_regularizer=b_regularizer, acti_func=acti_func, name=name)
        # built here, outside this net's own scope, so their scopes are the
        # top-level G and D
        self.generator = TinyGenerator(n_features=n_features, name='G')
        self.discriminator = TinyDiscriminator(
            n_features=n_features, n_hidden=n_hidden, name='D')

    def layer_op(self, random_source, training_image, is_training=True,
                 **unused_kwargs):
        """``(fake_image, real_logits, fake_logits)``."""
        fake_image = self.generator(random_source, is_training)
        real_logits = self.discriminator(training_image, is_training)
        fake_logits = self.discriminator(fake_image, is_training)
        return fake_image, real_logits, fake_logits

    def generator_variables(self):
        """Trainable variables of the generator (scope ``G``)."""
        return self.generator.trainable_variables()

    def discriminator_variables(self):
        """Trainable variables of the discriminator (scope ``D``)."""
        return self.discriminator.trainable_variables()

    def trainable_variables(self):
        """Trainable variables of the generator and the discriminator."""
        return self.generator_variables() + self.discriminator_variables()
