# -*- coding: utf-8 -*-
"""Variational autoencoders: NiftyNet's ``net_autoencoder`` application.

Config: the ``[AUTOENCODER]`` section names the input sections forming
``image`` (the images to encode) and, for ``linear_interpolation``,
``feature`` (codes written by an ``encode`` inference), with
``inference_type``, ``noise_stddev`` and ``n_interpolations``.
``[NETWORK] name`` is ``vae`` or a dotted path to a network with the VAE's
interface (its output list, ``shared_decoder`` and ``decoder_means``).

- training: every subject's image is resized to its section's
  ``spatial_window_size`` (``ResizeSampler``, one window per image, as
  NiftyNet); the network's outputs go through the ``[TRAINING] loss_type``
  autoencoder loss (``VariationalLowerBound``; the Dice default means it);
  ``total_loss`` (with weight decay) and ``variational_lower_bound`` are
  shown on the console and in TensorBoard, with coronal slices of the
  originals, the decoded means and variances.
- inference, by ``inference_type`` (files in ``save_seg_dir``, named by
  ``WindowAsImageAggregator`` and listed in ``inferred.csv``):

  - ``encode``: each image's code (the posterior sample), saved as one
    voxel with ``number_of_latent_variables`` channels (a 1x1x1x1xN NIfTI
    image: a ``feature`` section with ``spatial_window_size = (1, 1, 1)``
    reads it back), ``0_<subject>_niftynet_generated.nii.gz``;
  - ``encode-decode``: each image's reconstruction (the decoded means);
  - ``sample``: one batch of images decoded from codes drawn from
    ``N(0, noise_stddev)``, ``<k>_<random id>_niftynet_generated.nii.gz``;
  - ``linear_interpolation``: for each ``feature`` subject, its code mixed
    with another subject's in ``n_interpolations`` steps, decoded,
    ``<k>_<subject>_<other subject>_niftynet_generated.nii.gz``.

  The images' window is ``[INFERENCE] spatial_window_size``, or the
  ``image`` section's.
- evaluation: none (as in NiftyNet).
"""

import tensorflow.compat.v1 as tf

from niftydrive.application.segmentation_application import \
    SegmentationApplication, _param
from niftydrive.engine.application_factory import ApplicationNetFactory
from niftydrive.engine.application_variables import CONSOLE, NETWORK_OUTPUT, \
    TF_SUMMARIES
from niftydrive.engine.image_window import location_name
from niftydrive.engine.sampler_linear_interpolate import LinearInterpolateSampler
from niftydrive.engine.sampler_resize import ResizeSampler
from niftydrive.engine.windows_aggregator_identity import WindowAsImageAggregator
from niftydrive.io.image_sets_partitioner import ALL, INFER, TRAIN, VALID
from niftydrive.layer.loss_autoencoder import LossFunction
from niftydrive.utilities.errors import UserInputError


SUPPORTED_INPUT = ('image', 'feature')
SUPPORTED_INFERENCE = ('encode', 'encode-decode', 'sample', 'linear_interpolation')

# indices into the VAE's output list
_DATA_MEANS, _ORIGINALS, _DATA_VARIANCES, _SAMPLE = 2, 4, 5, 7


class AutoencoderApplication(SegmentationApplication):
    """Train variational autoencoders; encode, reconstruct, sample and
    interpolate with them."""

    REQUIRED_CONFIG_SECTION = 'AUTOENCODER'
    DEFAULT_LOSS_TYPE = 'VariationalLowerBound'

    def __init__(self, net_param, action_param, action):
        super(AutoencoderApplication, self).__init__(net_param, action_param, action)
        self._infer_type = None

    @property
    def autoencoder_param(self):
        """The ``[AUTOENCODER]`` section (NiftyNet's name for it)."""
        return self.segmentation_param

    # ---------------------------------------------------------------- data
    def initialise_dataset_loader(self, data_param=None, task_param=None,
                                  data_partitioner=None):
        """Readers of the images (training, validation, ``encode``,
        ``encode-decode``), of the codes (``linear_interpolation``), or
        none (``sample``)."""
        self.data_param = data_param or {}
        self.segmentation_param = task_param
        self.partitioner = data_partitioner
        if self.is_evaluation:
            raise UserInputError('net_autoencoder has no evaluation action (NiftyNet\'s '
                                 'autoencoder had none): use train or inference.')
        if not self._sections('image'):
            raise UserInputError('[AUTOENCODER] image = <input section(s)> is not set: the '
                                 'images (their window size is the network\'s input size).')
        self.check_window_sampling()
        self.readers = []
        if self.is_training:
            self._normalisers = self._normalisation_layers()
            self.readers = [self._reader(['image'], TRAIN)]
            if _param(self.action_param, 'validation_every_n', -1) > 0 and \
                    data_partitioner.has_validation:
                self.readers.append(self._reader(['image'], VALID))
            return
        self._infer_type = _param(self.autoencoder_param, 'inference_type', 'encode')
        if self._infer_type not in SUPPORTED_INFERENCE:
            raise UserInputError('AUTOENCODER inference_type = {} is not one of {}.'.format(
                self._infer_type, ', '.join(SUPPORTED_INFERENCE)))
        phase = _param(self.action_param, 'dataset_to_infer', '') or (
            INFER if data_partitioner.has_inference else ALL)
        if self._infer_type in ('encode', 'encode-decode'):
            self._normalisers = self._normalisation_layers()
            self.readers = [self._reader(['image'], phase)]
        elif self._infer_type == 'linear_interpolation':
            if not self._sections('feature'):
                raise UserInputError(
                    'inference_type = linear_interpolation needs [AUTOENCODER] feature = '
                    '<input section> naming the codes an encode inference wrote.')
            self.readers = [self._reader(['feature'], ALL)]

    def check_window_sampling(self):
        """The autoencoder resizes whole images (as NiftyNet's did):
        ``window_sampling`` unset (its default, uniform) or ``resize``."""
        sampling = str(_param(self.net_param, 'window_sampling', 'uniform')).lower()
        if sampling not in ('uniform', 'resize'):
            raise UserInputError(
                'NETWORK window_sampling = {}: net_autoencoder resizes each whole image to '
                'its window (as NiftyNet\'s autoencoder did); set window_sampling = resize '
                'or leave it unset.'.format(sampling))
        return 'resize'

    def _needs_image_window(self, section):
        """Codes (``feature``) keep their own shape."""
        return section not in self._sections('feature')

    def _check_trained(self):
        """No histogram landmarks or label values are needed to infer."""

    def _image_shape(self):
        """The network's input image: ``[INFERENCE] spatial_window_size`` or
        the ``image`` window, axes of length one dropped (as in a batch),
        then one channel per ``image`` section."""
        window = tuple(_param(self.action_param, 'spatial_window_size', ()) or ()) or \
            self._window_param()[self._sections('image')[0]].spatial_window_size
        spatial = [int(size) for size in window if int(size) != 1]
        return spatial + [len(self._sections('image'))]

    # ------------------------------------------------------------- sampler
    def initialise_sampler(self):
        """Resized whole images (training, ``encode``, ``encode-decode``),
        mixtures of codes (``linear_interpolation``), nothing (``sample``)."""
        batch_size = int(_param(self.net_param, 'batch_size', 1))
        queue_length = int(_param(self.net_param, 'queue_length', 5))
        self.sampler = []
        if self.is_training or self._infer_type in ('encode', 'encode-decode'):
            self.sampler = [[ResizeSampler(
                reader=reader, data_param=self._window_param(), batch_size=batch_size,
                windows_per_image=1, shuffle_buffer=self.is_training,
                queue_length=queue_length) for reader in self.readers]]
        elif self._infer_type == 'linear_interpolation':
            n_interpolations = int(_param(self.autoencoder_param, 'n_interpolations', 10))
            self.sampler = [[LinearInterpolateSampler(
                reader=self.readers[0], data_param=self.data_param, batch_size=batch_size,
                n_interpolations=n_interpolations,
                queue_length=max(queue_length, n_interpolations))]]

    # ------------------------------------------------------------- network
    def initialise_network(self):
        """The autoencoder named by ``[NETWORK] name`` (``vae``), with weight
        decay if asked."""
        w_regularizer, b_regularizer = self._regularizers()
        self.net = ApplicationNetFactory.create(_param(self.net_param, 'name', ''))(
            w_regularizer=w_regularizer, b_regularizer=b_regularizer)

    def connect_data_and_network(self, outputs_collector=None, gradients_collector=None):
        """One tower: the loss and its gradients (training), or the outputs
        of the inference type."""
        if self.is_training:
            self._connect_training(outputs_collector, gradients_collector)
        else:
            self._connect_inference(outputs_collector)

    def _connect_training(self, outputs_collector, gradients_collector):
        data = self._training_batch()
        net_output = self.net(tf.cast(data['image'], tf.float32), is_training=True)
        self._create_optimiser()
        data_loss = LossFunction(loss_type=self._loss_type())(net_output)
        total_loss = self._minimise(data_loss, gradients_collector)
        self._report_training(outputs_collector, total_loss=total_loss,
                              variational_lower_bound=data_loss)
        if net_output[_ORIGINALS].shape.ndims == 5:   # slices of 3-D images
            for name, index in (('Originals', _ORIGINALS), ('Means', _DATA_MEANS),
                                ('Variances', _DATA_VARIANCES)):
                outputs_collector.add_to_collection(
                    var=net_output[index], name=name, average_over_devices=False,
                    summary_type='image3_coronal', collection=TF_SUMMARIES)

    def _decode(self, codes):
        """The decoded means of ``codes`` (shared decoder, then means decoder)."""
        if self.net.shared_decoder is not None:
            codes = self.net.shared_decoder(codes, is_training=False)
        return self.net.decoder_means(codes, is_training=False)

    def _connect_inference(self, outputs_collector):
        def add(var, name):
            outputs_collector.add_to_collection(var=var, name=name,
                                                collection=NETWORK_OUTPUT)

        batch_size = int(_param(self.net_param, 'batch_size', 1))
        if self._infer_type in ('encode', 'encode-decode'):
            data = self.get_sampler()[0][0].pop_batch_op()
            net_output = self.net(tf.cast(data['image'], tf.float32), is_training=False)
            if self._infer_type == 'encode':
                # a code is saved as one voxel with a channel per latent
                # variable, the shape a feature section reads back
                code = net_output[_SAMPLE]
                add(tf.reshape(code, [-1, 1, 1, 1, 1, code.shape.as_list()[-1]]),
                    'generated')
            else:
                add(net_output[_DATA_MEANS], 'generated')
            add(data[location_name('image')][:, 0:1], 'location')
        else:
            # the whole network is built first: the decoders exist after it
            net_output = self.net(tf.zeros([batch_size] + self._image_shape()),
                                  is_training=False)
            code_shape = net_output[_SAMPLE].shape.as_list()
            if self._infer_type == 'sample':
                stddev = float(_param(self.autoencoder_param, 'noise_stddev', 1.0))
                add(self._decode(tf.random_normal(code_shape, stddev=stddev)),
                    'generated')
            else:
                data = self.get_sampler()[0][0].pop_batch_op()
                codes = tf.reshape(tf.cast(data['feature'], tf.float32), code_shape)
                add(self._decode(codes), 'generated')
                add(data[location_name('feature')][:, :2], 'location')
        self.output_decoder = WindowAsImageAggregator(
            image_reader=self.readers[0] if self.readers else None,
            output_path=_param(self.action_param, 'save_seg_dir', '.') or '.')

    # -------------------------------------------------------------- output
    def interpret_output(self, batch_output):
        """Inference: save the batch's codes or images; False when done (one
        batch for ``sample``)."""
        if not self.is_inference:
            return True
        return self.output_decoder.decode_batch(batch_output['generated'],
                                                batch_output.get('location'))
