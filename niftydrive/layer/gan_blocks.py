"""Building blocks of generative adversarial networks."""
import tensorflow.compat.v1 as tf

from niftydrive.layer.base_layer import TrainableLayer


class GANImageBlock(TrainableLayer):
    """A generator and a discriminator: ``gan(random_source,
    training_image, conditioning, is_training)`` generates an image shaped
    like ``training_image`` (per sample) from the noise (and the
    conditioning, which may be None) and returns ``(fake_image,
    real_logits, fake_logits)``, the discriminator's logits on the training
    images (clipped to ``[-clip, clip]`` when ``clip`` is set) and on the
    generated ones.  As in NiftyNet the generator and the discriminator
    keep their own top-level scopes (``generator/...``,
    ``discriminator/...``), so that an application can select each one's
    variables by scope."""

    def __init__(self, generator, discriminator, clip=None,
                 name='GAN_image_block'):
        self._generator = generator
        self._discriminator = discriminator
        self.clip = clip
        super(GANImageBlock, self).__init__(name=name)

    def trainable_variables(self):
        """The variables of the generator, the discriminator and the block."""
        return (self._generator.trainable_variables() +
                self._discriminator.trainable_variables() +
                super(GANImageBlock, self).trainable_variables())

    @property
    def generator(self):
        """The generator layer."""
        return self._generator

    @property
    def discriminator(self):
        """The discriminator layer."""
        return self._discriminator

    def layer_op(self, random_source, training_image, conditioning,
                 is_training):
        """See the class docstring."""
        shape_to_generate = training_image.shape.as_list()[1:]
        fake_image = self._generator(random_source, shape_to_generate,
                                     conditioning, is_training)
        fake_logits = self._discriminator(fake_image, conditioning,
                                          is_training)
        if self.clip:
            with tf.name_scope('clip_real_images'):
                training_image = tf.clip_by_value(training_image,
                                                  -self.clip, self.clip)
        real_logits = self._discriminator(training_image, conditioning,
                                          is_training)
        return fake_image, real_logits, fake_logits


class BaseGenerator(TrainableLayer):
    """Base of generators: ``generator(random_source, image_size,
    conditioning, is_training)`` returns images ``[batch] + image_size``."""

    def __init__(self, name='generator', *args, **kwargs):
        super(BaseGenerator, self).__init__(name=name)


class BaseDiscriminator(TrainableLayer):
    """Base of discriminators: ``discriminator(image, conditioning,
    is_training)`` returns one logit per sample."""

    def __init__(self, name='discriminator', *args, **kwargs):
        super(BaseDiscriminator, self).__init__(name=name)
