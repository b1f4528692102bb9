# -*- coding: utf-8 -*-
"""Generative adversarial networks: NiftyNet's ``net_gan`` application.

Config: the ``[GAN]`` section names the input sections forming ``image``
(the real images, one channel per section) and, for a conditional GAN,
``conditioning`` (one channel per section, e.g. coordinate maps), with
``noise_size`` (length of the generator's noise vector) and
``n_interpolations``.  ``[NETWORK] name`` is a GAN network: ``simple_gan``,
``simulator_gan`` or a dotted path to a ``GANImageBlock`` subclass.

- training: every subject's inputs are resized to their section's
  ``spatial_window_size`` (``ResizeSampler``, as NiftyNet's GAN did; a
  whole image is one sample, queued ``sample_per_volume`` times per visit;
  ``window_sampling`` may only be ``resize``); the generator turns normal
  noise (and the conditioning) into images, the discriminator scores real
  and generated images; the ``[TRAINING] loss_type`` GAN loss (CrossEntropy) gives
  ``lossG`` and ``lossD``, minimised by two optimisers (``[TRAINING]
  optimiser``, ``lr``), one over the generator's variables and one over the
  discriminator's; ``decay`` > 0 adds weight decay (``reg_type`` L2 or L1)
  of each network's weights to its own loss.  Both losses are shown on the
  console and in TensorBoard; validation subjects, if any, are scored on
  validation iterations.  Preprocessing (histogram normalisation,
  whitening) and augmentation (flips, zooms, rotations) are segmentation's.
- inference: ``RandomVectorSampler`` draws runs of ``n_interpolations``
  noise vectors, evenly spaced between two random points.  Conditional:
  each inference subject's conditioning is resized and repeated
  ``n_interpolations`` times, one run of vectors each, and the generated
  images are written as ``<k>_<subject>_niftynet_generated.nii.gz``
  (``k`` = 0 .. n_interpolations-1).  Unconditional (NiftyNet needed a
  conditioning input here): one run of ``n_interpolations`` images is
  generated, ``0_<random id>_niftynet_generated.nii.gz``.  Images have the
  ``image`` window's shape, one channel per ``image`` section, and go to
  ``save_seg_dir`` through ``WindowAsImageAggregator`` (listed in
  ``inferred.csv``).
- evaluation: none (as in NiftyNet).
"""

import tensorflow.compat.v1 as tf

from niftydrive.application.segmentation_application import \
    SegmentationApplication, _param
from niftydrive.engine.application_factory import ApplicationNetFactory
from niftydrive.engine.application_optimiser import create_optimiser
from niftydrive.engine.application_variables import CONSOLE, NETWORK_OUTPUT, \
    TF_SUMMARIES
from niftydrive.engine.image_window import location_name
from niftydrive.engine.sampler_random_vector import RandomVectorSampler
from niftydrive.engine.sampler_resize import ResizeSampler
from niftydrive.engine.windows_aggregator_identity import WindowAsImageAggregator
from niftydrive.io.image_sets_partitioner import ALL, INFER, TRAIN, VALID
from niftydrive.layer.gan_blocks import GANImageBlock
from niftydrive.layer.loss_gan import LossFunction
from niftydrive.utilities.errors import UserInputError


SUPPORTED_INPUT = ('image', 'conditioning')


class GANApplication(SegmentationApplication):
    """Train GANs (conditional or not) and generate images with them."""

    REQUIRED_CONFIG_SECTION = 'GAN'
    DEFAULT_LOSS_TYPE = 'CrossEntropy'  # as NiftyNet's GAN configs set

    @property
    def gan_param(self):
        """The ``[GAN]`` section (NiftyNet's name for it)."""
        return self.segmentation_param

    @property
    def is_conditional(self):
        """True when ``[GAN] conditioning`` names input sections."""
        return bool(self._sections('conditioning'))

    @property
    def noise_size(self):
        """``[GAN] noise_size``."""
        return int(_param(self.gan_param, 'noise_size', 100))

    @property
    def n_interpolations(self):
        """``[GAN] n_interpolations``."""
        return int(_param(self.gan_param, 'n_interpolations', 10))

    # ---------------------------------------------------------------- data
    def initialise_dataset_loader(self, data_param=None, task_param=None,
                                  data_partitioner=None):
        """Readers of image (and conditioning) for training and validation;
        of the conditioning alone for inference (none when unconditional)."""
        self.data_param = data_param or {}
        self.segmentation_param = task_param
        self.partitioner = data_partitioner
        if self.is_evaluation:
            raise UserInputError('net_gan has no evaluation action (NiftyNet\'s GAN '
                                 'application had none): use train or inference.')
        if not self._sections('image'):
            raise UserInputError('[GAN] image = <input section(s)> is not set: the '
                                 'real images (at inference, their window size is the '
                                 'size of the generated images).')
        if self.noise_size < 1:
            raise UserInputError('[GAN] noise_size must be set to the length of the '
                                 'noise vector (got {}).'.format(self.noise_size))
        self.check_window_sampling()
        # image normalisation; inference reads no image (only conditioning)
        self._normalisers = self._normalisation_layers() if self.is_training else []
        conditioning = ['conditioning'] if self.is_conditional else []
        if self.is_training:
            fields = ['image'] + conditioning
            self.readers = [self._reader(fields, TRAIN)]
            if _param(self.action_param, 'validation_every_n', -1) > 0 and \
                    data_partitioner.has_validation:
                self.readers.append(self._reader(fields, VALID))
        elif self.is_conditional:
            phase = _param(self.action_param, 'dataset_to_infer', '') or (
                INFER if data_partitioner.has_inference else ALL)
            self.readers = [self._reader(conditioning, phase)]
        else:
            self.readers = []

    def check_window_sampling(self):
        """The GAN resizes whole images (NiftyNet's GAN did): ``window_sampling``
        unset (its default, uniform) or ``resize``; others are refused."""
        sampling = str(_param(self.net_param, 'window_sampling', 'uniform')).lower()
        if sampling not in ('uniform', 'resize'):
            raise UserInputError(
                'NETWORK window_sampling = {}: net_gan resizes each whole image to its '
                'window (as NiftyNet\'s GAN did); set window_sampling = resize or leave '
                'it unset.'.format(sampling))
        return 'resize'

    def _check_trained(self):
        """Inference reads no image: no landmarks are needed."""

    def _image_shape(self):
        """One image as the generator makes it: the ``image`` window with
        its axes of length one dropped (as in a batch), then one channel per
        ``image`` section."""
        window = self._window_param()[self._sections('image')[0]].spatial_window_size
        spatial = [int(size) for size in window if int(size) != 1]
        return spatial + [len(self._sections('image'))]

    # ------------------------------------------------------------- sampler
    def initialise_sampler(self):
        """Training: resized whole images; inference: noise vectors (and the
        resized conditioning, ``n_interpolations`` copies per subject)."""
        batch_size = int(_param(self.net_param, 'batch_size', 1))
        queue_length = int(_param(self.net_param, 'queue_length', 5))
        if self.is_training:
            data_param = self._window_param()
            per_volume = int(_param(self.action_param, 'sample_per_volume', 1))
            self.sampler = [[ResizeSampler(
                reader=reader, data_param=data_param, batch_size=batch_size,
                windows_per_image=per_volume, shuffle_buffer=True,
                queue_length=max(queue_length, per_volume))
                for reader in self.readers]]
            return
        self.sampler = [[RandomVectorSampler(
            names=('vector',), vector_size=(self.noise_size,), batch_size=batch_size,
            n_interpolations=self.n_interpolations,
            repeat=None if self.is_conditional else 1,
            queue_length=max(queue_length, self.n_interpolations))]]
        if self.is_conditional:
            self.sampler.append([ResizeSampler(
                reader=self.readers[0], data_param=self._window_param(),
                batch_size=batch_size, windows_per_image=self.n_interpolations,
                shuffle_buffer=False,
                queue_length=max(queue_length, self.n_interpolations))])

    def initialise_aggregator(self):
        """Each generated image saved on its own into ``save_seg_dir``."""
        self.output_decoder = WindowAsImageAggregator(
            image_reader=self.readers[0] if self.readers else None,
            output_path=_param(self.action_param, 'save_seg_dir', '.') or '.')

    # ------------------------------------------------------------- network
    def initialise_network(self):
        """The GAN named by ``[NETWORK] name`` (a ``GANImageBlock``)."""
        name = _param(self.net_param, 'name', '')
        net_class = ApplicationNetFactory.create(name)
        if not (isinstance(net_class, type) and issubclass(net_class, GANImageBlock)):
            raise UserInputError(
                'NETWORK name = {}: net_gan needs a GAN network (simple_gan, '
                'simulator_gan, or a GANImageBlock subclass).'.format(name))
        self.net = net_class()

    def connect_data_and_network(self, outputs_collector=None, gradients_collector=None):
        """One tower: both losses and both gradient lists (training), or
        generated images (inference)."""
        if self.is_training:
            self._connect_training(outputs_collector, gradients_collector)
        else:
            self._connect_inference(outputs_collector)

    def _conditioning(self, data):
        if not self.is_conditional:
            return None
        return tf.cast(data['conditioning'], tf.float32)

    def _connect_training(self, outputs_collector, gradients_collector):
        data = self._training_batch()
        images = tf.cast(data['image'], tf.float32)
        noise = tf.random_normal([int(_param(self.net_param, 'batch_size', 1)),
                                  self.noise_size], name='noise')
        _, real_logits, fake_logits = self.net(
            noise, images, self._conditioning(data), self.is_training)
        loss_g, loss_d = LossFunction(loss_type=self._loss_type())(
            real_logits, fake_logits)
        generator_vars = self.net.generator.trainable_variables()
        discriminator_vars = self.net.discriminator.trainable_variables()
        loss_g = loss_g + self._weight_decay(generator_vars)
        loss_d = loss_d + self._weight_decay(discriminator_vars)
        with tf.name_scope('Optimiser'):
            if self.optimiser is None:   # shared by every tower
                self.optimiser = [create_optimiser(self.action_param, 'lr_generator'),
                                  create_optimiser(self.action_param, 'lr_discriminator')]
        with tf.name_scope('ComputeGradients'):
            gradients_collector.add_to_collection([
                self.optimiser[0].compute_gradients(loss_g, var_list=generator_vars),
                self.optimiser[1].compute_gradients(loss_d, var_list=discriminator_vars)])
        for collection in (CONSOLE, TF_SUMMARIES):
            for name, value in (('lossG', loss_g), ('lossD', loss_d)):
                outputs_collector.add_to_collection(
                    var=value, name=name, average_over_devices=True, collection=collection)

    def _weight_decay(self, variables):
        """``decay`` times the L2 (or L1) norm of the weights; 0 without decay."""
        decay = float(_param(self.net_param, 'decay', 0.0))
        weights = [var for var in variables if len(var.shape) > 1]
        if decay <= 0 or not weights:
            return 0.0
        reg_type = str(_param(self.net_param, 'reg_type', 'L2')).lower()
        if reg_type == 'l2':
            return decay * tf.add_n([tf.nn.l2_loss(w) for w in weights])
        if reg_type == 'l1':
            return decay * tf.add_n([tf.reduce_sum(tf.abs(w)) for w in weights])
        raise UserInputError('NETWORK reg_type must be L1 or L2, got {}.'.format(reg_type))

    def _connect_inference(self, outputs_collector):
        vectors = self.get_sampler()[0][0].pop_batch_op()
        if self.is_conditional:
            data = self.get_sampler()[1][0].pop_batch_op()
            location = data[location_name('conditioning')]
        else:
            data = {}
            location = vectors[location_name('vector')]
        batch_size = int(_param(self.net_param, 'batch_size', 1))
        placeholder_image = tf.zeros([batch_size] + self._image_shape())
        generated = self.net(vectors['vector'], placeholder_image,
                             self._conditioning(data), self.is_training)[0]
        outputs_collector.add_to_collection(var=generated, name='image',
                                            collection=NETWORK_OUTPUT)
        outputs_collector.add_to_collection(var=location, name='location',
                                            collection=NETWORK_OUTPUT)
        self.initialise_aggregator()

    # -------------------------------------------------------------- output
    def interpret_output(self, batch_output):
        """Inference: save the generated images; False at the end of the
        conditioning subjects (or of the one run of vectors)."""
        if not self.is_inference:
            return True
        return self.output_decoder.decode_batch(batch_output['image'],
                                                batch_output['location'])
