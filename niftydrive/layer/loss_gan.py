"""GAN losses (NiftyNet's ``loss_gan``)."""
import tensorflow.compat.v1 as tf

from niftydrive.layer.base_layer import Layer
from niftydrive.utilities.util_common import look_up_operations


def cross_entropy(pred_real, pred_fake):
    """The standard (non-saturating) GAN losses on discriminator logits:
    ``(generator_loss, discriminator_loss)`` with ``generator_loss =
    mean(xent(fake, 1))`` and ``discriminator_loss = mean(xent(real, 1)) +
    mean(xent(fake, 0))`` (sigmoid cross entropy)."""
    xent = tf.nn.sigmoid_cross_entropy_with_logits
    pred_real = tf.cast(pred_real, tf.float32)
    pred_fake = tf.cast(pred_fake, tf.float32)
    generator_loss = tf.reduce_mean(
        xent(labels=tf.ones_like(pred_fake), logits=pred_fake))
    discriminator_loss = \
        tf.reduce_mean(xent(labels=tf.ones_like(pred_real),
                            logits=pred_real)) + \
        tf.reduce_mean(xent(labels=tf.zeros_like(pred_fake),
                            logits=pred_fake))
    return generator_loss, discriminator_loss


SUPPORTED_LOSS = {'CrossEntropy': cross_entropy}


class LossFunction(Layer):
    """The GAN loss as a layer: ``loss(real_logits, fake_logits)`` returns
    ``(generator_loss, discriminator_loss)``."""

    def __init__(self, loss_type='CrossEntropy', loss_func_params=None,
                 name='loss_function'):
        super(LossFunction, self).__init__(name=name)
        self._data_loss_func = look_up_operations(
            loss_type, SUPPORTED_LOSS, 'GAN loss_type')
        self._loss_func_params = dict(loss_func_params or {})

    def layer_op(self, real_logits, fake_logits):
        """``(generator_loss, discriminator_loss)``."""
        return self._data_loss_func(real_logits, fake_logits,
                                    **self._loss_func_params)
