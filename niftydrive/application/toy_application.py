"""The toy application: a small GAN learning to imitate random vectors.

It needs no data (``RandomVectorSampler`` draws the "real" vectors), so it
trains on a fresh machine: ``net_run train -c configs/toy.ini``.  Inference
restores the latest checkpoint and writes generated vectors as CSV files.
"""
import logging
import os

import numpy as np
import tensorflow.compat.v1 as tf

from niftydrive.application.base_application import BaseApplication
from niftydrive.engine.application_optimiser import create_optimiser
from niftydrive.engine.application_variables import CONSOLE, NETWORK_OUTPUT, \
    TF_SUMMARIES
from niftydrive.engine.sampler_random_vector import RandomVectorSampler
from niftydrive.io.misc_io import touch_folder
from niftydrive.network.toy_gan import TinyNet

LOGGER = logging.getLogger(__name__)


class ToyApplication(BaseApplication):
    """Trains ``TinyNet`` as a GAN on normally distributed vectors.

    ``[CUSTOM]`` parameters (all optional): ``vector_size`` (length of a
    vector), ``mean`` and ``stddev`` of the real vectors, ``n_interpolations``
    and ``inference_batches`` (how many batches inference writes).
    """

    REQUIRED_CONFIG_SECTION = 'CUSTOM'

    def __init__(self, net_param, action_param, action):
        super(ToyApplication, self).__init__(net_param, action_param, action)
        self.app_param = None
        self._written = []

    def _custom(self, name, default):
        return getattr(self.app_param, name, default) if self.app_param else default

    def initialise_dataset_loader(self, data_param=None, task_param=None,
                                  data_partitioner=None):
        """No images: only remember the application's own parameters."""
        self.app_param = task_param
        self.readers = None

    def _vector_sampler(self, repeat, name):
        return RandomVectorSampler(
            names=('vectors',), vector_size=(self._custom('vector_size', 100),),
            batch_size=self.net_param.batch_size,
            n_interpolations=self._custom('n_interpolations', 10),
            mean=self._custom('mean', 0.0), stddev=self._custom('stddev', 1.0),
            repeat=repeat, queue_length=getattr(self.net_param, 'queue_length', 10),
            name=name)

    def initialise_sampler(self):
        """Real vectors for training (and validation); noise for inference."""
        if self.is_training:
            samplers = [self._vector_sampler(None, 'train_vectors')]
            if getattr(self.action_param, 'validation_every_n', -1) > 0:
                samplers.append(self._vector_sampler(None, 'valid_vectors'))
            self.sampler = [samplers]
        else:
            # enough runs of n_interpolations vectors for inference_batches batches
            vectors = self._custom('inference_batches', 4) * self.net_param.batch_size
            runs = -(-vectors // max(self._custom('n_interpolations', 10), 1))
            self.sampler = [[self._vector_sampler(runs, 'noise_vectors')]]

    def initialise_network(self):
        """The GAN: generator ``G`` and discriminator ``D``."""
        self.net = TinyNet()

    def _real_vectors(self):
        samplers = self.get_sampler()[0]
        if len(samplers) > 1:
            return tf.cond(tf.logical_not(self.is_validation),
                           lambda: samplers[0].pop_batch_op()['vectors'],
                           lambda: samplers[-1].pop_batch_op()['vectors'])
        return samplers[0].pop_batch_op()['vectors']

    def connect_data_and_network(self, outputs_collector=None,
                                 gradients_collector=None):
        """One tower: losses and gradients (training) or generated vectors."""
        if not self.is_training:
            batch = self.get_sampler()[0][0].pop_batch_op()
            generated = self.net.generator(batch['vectors'][..., tf.newaxis],
                                           is_training=False)
            outputs_collector.add_to_collection(
                var=generated[..., 0], name='generated', collection=NETWORK_OUTPUT)
            outputs_collector.add_to_collection(
                var=batch['vectors_location'], name='location', collection=NETWORK_OUTPUT)
            return
        real = self._real_vectors()[..., tf.newaxis]
        noise = tf.random_normal(tf.shape(real), name='noise')
        fake = self.net.generator(noise, is_training=True)
        real_logits = self.net.discriminator(real, is_training=True)
        fake_logits = self.net.discriminator(fake, is_training=True)
        with tf.name_scope('losses'):
            d_loss = tf.reduce_mean(
                tf.nn.sigmoid_cross_entropy_with_logits(
                    labels=tf.ones_like(real_logits), logits=real_logits) +
                tf.nn.sigmoid_cross_entropy_with_logits(
                    labels=tf.zeros_like(fake_logits), logits=fake_logits))
            g_loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
                labels=tf.ones_like(fake_logits), logits=fake_logits))
        if self.optimiser is None:
            self.optimiser = [create_optimiser(self.action_param, 'd_lr'),
                              create_optimiser(self.action_param, 'g_lr')]
        d_grads = self.optimiser[0].compute_gradients(
            d_loss, var_list=self.net.discriminator_variables())
        g_grads = self.optimiser[1].compute_gradients(
            g_loss, var_list=self.net.generator_variables())
        gradients_collector.add_to_collection([d_grads, g_grads])

        mean, variance = tf.nn.moments(fake, axes=[0, 1, 2])
        for name, value in (('d_loss', d_loss), ('g_loss', g_loss)):
            outputs_collector.add_to_collection(
                var=value, name=name, average_over_devices=True, collection=CONSOLE)
            outputs_collector.add_to_collection(
                var=value, name=name, average_over_devices=True,
                collection=TF_SUMMARIES)
        outputs_collector.add_to_collection(
            var=mean, name='fake_mean', average_over_devices=True, collection=CONSOLE)
        outputs_collector.add_to_collection(
            var=tf.sqrt(variance), name='fake_std', average_over_devices=True,
            collection=CONSOLE)
        outputs_collector.add_to_collection(
            var=real, name='real_vectors', collection=TF_SUMMARIES,
            summary_type='histogram')
        outputs_collector.add_to_collection(
            var=fake, name='generated_vectors', collection=TF_SUMMARIES,
            summary_type='histogram')

    def interpret_output(self, batch_output):
        """Training: nothing to do. Inference: write each batch as a CSV.

        Inference ends at the sampler's stopping signal (location rows of
        -1, whose vectors are not written) or after ``inference_batches`` files.
        """
        if self.is_training:
            return True
        real = np.all(np.asarray(batch_output['location']) >= 0, axis=1)
        if np.any(real):
            output_dir = touch_folder(self.action_param.save_seg_dir)
            filename = os.path.join(output_dir,
                                    'generated_{:04d}.csv'.format(len(self._written)))
            np.savetxt(filename, np.asarray(batch_output['generated'])[real], delimiter=',',
                       fmt='%.6f')
            self._written.append(filename)
            LOGGER.info('generated vectors saved to %s', filename)
        return bool(np.all(real)) and \
            len(self._written) < self._custom('inference_batches', 4)

    @property
    def written_files(self):
        """The CSV files inference wrote, in order."""
        return list(self._written)
