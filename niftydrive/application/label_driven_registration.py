"""Label-driven registration: NiftyNet's ``RegApp`` (a re-implementation of
Hu et al., "Weakly-supervised convolutional neural networks for multimodal
image registration", Medical Image Analysis 2018).

Config: the ``[REGISTRATION]`` section names the input sections of
``fixed_image``, ``fixed_label``, ``moving_image`` and ``moving_label`` (one
file each per subject; subject ``i``'s moving image is registered to its
fixed image). ``[NETWORK] name`` is a registration network
(``interventional_affine_net``, ``interventional_dense_net``,
``interventional_hybrid_net`` or a dotted path), built as NiftyNet's with
``decay`` (and ``activation_function``).

- training: ``PairwiseUniformSampler`` windows (``spatial_window_size`` of
  the fixed image's section) of fixed and moving image and label, cut at the
  same place after the moving volumes are resized to the fixed grid. The
  network maps (fixed image, moving image) to a sampling grid over the
  moving image; the moving label is warped with it (linear, replicated
  border) and compared with the fixed label by ``[TRAINING] loss_type``
  (one foreground channel, no softmax: ``Dice_Dense`` or
  ``Dice_Dense_NS``); the loss is that plus ``decay`` times the bending
  energy of dense displacement fields, as in NiftyNet (NiftyNet's RegApp
  leaves the networks' L2 weight penalties out of the loss; so does this
  one). The console shows ``one_minus_data_loss``, ``bending_energy`` (dense
  networks), ``total_loss`` and ``ave_fg_dice`` (hard Dice of the warped and
  fixed labels thresholded at 0.5); TensorBoard ``data_loss``,
  ``total_loss`` and ``averaged_foreground_Dice``. Validation subjects, if
  any, are sampled on validation iterations.
- inference: ``PairwiseResizeSampler`` resizes each pair to the window; the
  warped moving image is resized back to the fixed image and written with
  its geometry (``output_interp_order``) as
  ``save_seg_dir/<subject><output_postfix>.nii.gz`` (NiftyNet's output);
  when ``moving_label`` is given, the warped moving label too (linear,
  values in the label's range: threshold at 0.5 for a binary mask) as
  ``<subject>_label<output_postfix>.nii.gz``. Both are listed in
  ``inferred.csv``.
- evaluation: none (NiftyNet's RegApp had none): refused.

``[NETWORK] volume_padding_size`` pads all four volumes before sampling
(``volume_padding_mode``); the padding is removed from the outputs.
"""
import inspect
import logging

import numpy as np
import tensorflow.compat.v1 as tf

from niftydrive.application.base_application import BaseApplication, \
    training_or_validation_batch
from niftydrive.application.segmentation_application import _param
from niftydrive.contrib.sampler_pairwise.sampler_pairwise import PAIRED_FIELDS
from niftydrive.contrib.sampler_pairwise.sampler_pairwise_resize import \
    PairwiseResizeSampler
from niftydrive.contrib.sampler_pairwise.sampler_pairwise_uniform import \
    PairwiseUniformSampler
from niftydrive.engine.application_factory import ApplicationNetFactory
from niftydrive.engine.application_optimiser import create_optimiser
from niftydrive.engine.application_variables import CONSOLE, NETWORK_OUTPUT, \
    TF_SUMMARIES
from niftydrive.engine.image_window import N_SPATIAL, location_name
from niftydrive.engine.windows_aggregator_base import subject_name
from niftydrive.engine.windows_aggregator_resize import ResizeSamplesAggregator
from niftydrive.io.filename_matching import as_tuple_of_str
from niftydrive.io.image_reader import ImageReader
from niftydrive.io.image_sets_partitioner import ALL, INFER, TRAIN, VALID
from niftydrive.layer.loss_segmentation import LossFunction
from niftydrive.layer.layer_util import resize_3d
from niftydrive.layer.pad import PadLayer
from niftydrive.layer.resampler import ResamplerLayer
from niftydrive.utilities import user_parameters_default
from niftydrive.utilities.errors import UserInputError

LOGGER = logging.getLogger(__name__)

SUPPORTED_INPUT = set(PAIRED_FIELDS)

#: label losses that compare one foreground probability channel with a
#: soft (warped) reference; NiftyNet's sparse names map to them
LABEL_LOSSES = ('Dice_Dense', 'Dice_Dense_NS')
SPARSE_TO_DENSE_LOSS = {'Dice': 'Dice_Dense', 'Dice_NS': 'Dice_Dense_NS'}

#: system keys NiftyNet's RegApp never read: any value but the default is
#: refused rather than ignored
UNUSED_KEYS = {
    'NETWORK': ('window_sampling', 'normalisation', 'whitening',
                'normalise_foreground_only', 'weight_initializer',
                'bias_initializer', 'keep_prob', 'reg_type'),
    'TRAINING': ('sample_per_volume', 'rotation_angle', 'rotation_angle_x',
                 'rotation_angle_y', 'rotation_angle_z', 'scaling_percentage',
                 'bias_field_range', 'random_flipping_axes',
                 'do_elastic_deformation'),
    'INFERENCE': ('spatial_window_size', 'border'),
}


def refuse_unused_keys(section, namespace, names):
    """``UserInputError`` if a key of ``names`` differs from its default."""
    declared = user_parameters_default.SUPPORTED_DEFAULT_SECTIONS[section]
    for name in names:
        value = getattr(namespace, name, None)
        default = declared[name].default
        if isinstance(value, list):
            value = tuple(value)
        if value is not None and value != default:
            raise UserInputError(
                '[{}] {} = {}: the registration application does not use this key '
                '(neither did NiftyNet\'s RegApp); remove it or set it to {!r}'.format(
                    section, name, value, default))


class RegistrationAggregator(ResizeSamplesAggregator):
    """Writes, per subject, the warped moving image resized back to the fixed
    image (``<subject><prefix>.nii.gz``, with ``interp_order``) and, when
    given, the warped moving label (``<subject>_label<prefix>.nii.gz``,
    linear), both with the fixed image's geometry."""

    def __init__(self, image_reader, output_path, interp_order=3,
                 prefix='_niftynet_out'):
        super(RegistrationAggregator, self).__init__(
            image_reader=image_reader, name='fixed_image', output_path=output_path,
            interp_order=interp_order, prefix=prefix, is_label=False)

    def decode_batch(self, window, location, label_window=None):
        """Write each subject of the batch; False at the stopping signal.

        :param window: warped moving images ``[n, x, y, z, 1]``
        :param location: rows ``[n, 7]``, the subject index first
        :param label_window: warped moving labels ``[n, x, y, z, 1]`` or None
        """
        window = np.asarray(window)
        labels = [None] * len(window) if label_window is None else \
            np.asarray(label_window)
        for image, label, loc in zip(window, labels, np.asarray(location).astype(np.int64)):
            if self._is_stopping_signal(loc):
                return False
            idx = self.image_id = int(loc[0])
            self._write(idx, image, self.output_interp_order, self.prefix)
            if label is not None:
                self._write(idx, label, 1, '_label' + self.prefix)
        return True

    def _write(self, idx, window, interp_order, prefix):
        volume = resize_3d(window[..., 0], self._image_shape(idx), interp_order)
        subject = subject_name(self.reader, idx)
        path = self.write_image(idx, volume[..., np.newaxis].astype(np.float32),
                                '{}{}.nii.gz'.format(subject, prefix),
                                name=self.name, interp_order=interp_order)
        self.saved.append((subject, path))


class RegApp(BaseApplication):
    """Train and apply label-driven registration networks."""

    REQUIRED_CONFIG_SECTION = 'REGISTRATION'

    def __init__(self, net_param, action_param, action):
        super(RegApp, self).__init__(net_param, action_param, action)
        LOGGER.info('starting label-driven registration')
        self.registration_param = None
        self.data_param = None

    # ---------------------------------------------------------------- data
    def _sections(self, field):
        return as_tuple_of_str(_param(self.registration_param, field, ()))

    def _check_keys(self):
        refuse_unused_keys('NETWORK', self.net_param, UNUSED_KEYS['NETWORK'])
        section = 'TRAINING' if self.is_training else 'INFERENCE'
        refuse_unused_keys(section, self.action_param, UNUSED_KEYS[section])
        for field in PAIRED_FIELDS:
            sections = self._sections(field)
            if len(sections) > 1:
                raise UserInputError(
                    '[REGISTRATION] {} = {}: one input section per field (NiftyNet\'s '
                    'registration registers one image to one image)'.format(
                        field, ', '.join(sections)))

    def _fields(self):
        """(fixed fields, moving fields) this action reads."""
        if self.is_training:
            required = PAIRED_FIELDS
        else:   # no fixed label needed; the moving label is warped if given
            required = ('fixed_image', 'moving_image')
        missing = [field for field in required if not self._sections(field)]
        if missing:
            raise UserInputError(
                '{} needs [REGISTRATION] {} = <input section> (set: {})'.format(
                    'Training' if self.is_training else 'Inference',
                    ' / '.join(missing), ', '.join(
                        '{} = {}'.format(f, self._sections(f)[0]) for f in PAIRED_FIELDS
                        if self._sections(f)) or 'none'))
        fixed = [f for f in ('fixed_image', 'fixed_label') if f in required]
        moving = ['moving_image'] + (['moving_label'] if self._sections('moving_label')
                                     else [])
        return fixed, moving

    def initialise_dataset_loader(self, data_param=None, task_param=None,
                                  data_partitioner=None):
        """A fixed and a moving reader per phase, built from the same subjects."""
        self.data_param = data_param or {}
        self.registration_param = task_param
        if self.is_evaluation:
            raise UserInputError(
                'the registration application has no evaluation action (nor had '
                'NiftyNet\'s); run inference: it writes the warped moving images and '
                'labels')
        self._check_keys()
        fixed, moving = self._fields()
        if self.is_training:
            phases = [TRAIN]
            if _param(self.action_param, 'validation_every_n', -1) > 0 and \
                    data_partitioner.has_validation:
                phases.append(VALID)
        else:
            phases = [_param(self.action_param, 'dataset_to_infer', '') or (
                INFER if data_partitioner.has_inference else ALL)]
        self.readers = []
        for phase in phases:
            sections = [self._sections(f)[0] for f in fixed + moving]
            rows = data_partitioner.get_file_list(phase, *sections)
            if not rows:
                raise UserInputError(
                    'No {} subject has files in all of the input sections {}.'.format(
                        phase, ', '.join(sections)))
            self.readers += [self._reader(fixed, rows), self._reader(moving, rows)]
            LOGGER.info('%s: %d registration pair(s)', phase, self.readers[-1].num_subjects)

    def _reader(self, fields, rows):
        reader = ImageReader(fields).initialise(self.data_param, self.registration_param,
                                                rows)
        padding = _param(self.net_param, 'volume_padding_size', (0, 0, 0))
        if any(padding or ()):
            reader.add_preprocessing_layers([PadLayer(
                image_name=fields, border=padding,
                mode=_param(self.net_param, 'volume_padding_mode', 'minimum'))])
        reader.preload()   # bad voxel data is reported now, not in a sampler thread
        return reader

    # ------------------------------------------------------------- sampler
    def initialise_sampler(self):
        """Training: a uniform pairwise sampler per phase; inference: a
        resize pairwise sampler."""
        options = dict(data_param=self.data_param,
                       batch_size=int(_param(self.net_param, 'batch_size', 1)),
                       queue_length=int(_param(self.net_param, 'queue_length', 5)))
        sampler_class = PairwiseUniformSampler if self.is_training \
            else PairwiseResizeSampler
        self.sampler = [[sampler_class(reader_0=fixed, reader_1=moving, **options)
                         for fixed, moving in zip(self.readers[::2], self.readers[1::2])]]
        size = self.sampler[0][0].window_size
        if len(size) != N_SPATIAL or min(size) < 2:
            raise UserInputError(
                'spatial_window_size {} of [{}]: the registration networks take 3-D '
                'windows'.format(size, self._sections('fixed_image')[0]))

    # ------------------------------------------------------------- network
    def initialise_network(self):
        """``[NETWORK] name`` built with ``decay`` (and ``activation_function``)."""
        name = _param(self.net_param, 'name', '')
        if not name:
            raise UserInputError(
                '[NETWORK] name: set a registration network (interventional_affine_net, '
                'interventional_dense_net, interventional_hybrid_net or a dotted path)')
        net_class = ApplicationNetFactory.create(name)
        options = {}
        try:
            accepted = inspect.signature(net_class).parameters
        except (TypeError, ValueError):
            accepted = {}
        if 'acti_func' in accepted:
            options['acti_func'] = _param(self.net_param, 'activation_function', 'relu')
        self.net = net_class(float(_param(self.net_param, 'decay', 0.0)), **options)

    def _warp(self, data):
        """``(grid, bending energy terms of this tower)`` of a batch."""
        before = len(tf.get_collection('bending_energy'))
        grid = self.net(data['fixed_image'], data['moving_image'],
                        is_training=self.is_training)
        if isinstance(grid, (tuple, list)):
            grid = grid[0]   # hybrid networks: the final grid first
        return grid, tf.get_collection('bending_energy')[before:]

    def _loss_type(self):
        loss_type = _param(self.action_param, 'loss_type', 'Dice')
        if loss_type in SPARSE_TO_DENSE_LOSS:
            LOGGER.info('loss_type %s: the warped label is a foreground probability, so '
                        'registration uses %s', loss_type, SPARSE_TO_DENSE_LOSS[loss_type])
            return SPARSE_TO_DENSE_LOSS[loss_type]
        if loss_type not in LABEL_LOSSES:
            raise UserInputError(
                '[TRAINING] loss_type = {}: registration compares the warped moving label '
                'with the fixed label as one foreground channel; use {}'.format(
                    loss_type, ' or '.join(LABEL_LOSSES)))
        return loss_type

    def connect_data_and_network(self, outputs_collector=None, gradients_collector=None):
        """One tower: label loss and gradients (training) or warped outputs."""
        resampler = ResamplerLayer(interpolation='linear', boundary='replicate')
        if not self.is_training:
            data = self.get_sampler()[0][0].pop_batch_op()
            grid, _ = self._warp(data)
            outputs_collector.add_to_collection(
                var=resampler(data['moving_image'], grid),
                name='resampled_moving_image', collection=NETWORK_OUTPUT)
            if 'moving_label' in data:
                outputs_collector.add_to_collection(
                    var=resampler(data['moving_label'], grid),
                    name='resampled_moving_label', collection=NETWORK_OUTPUT)
            outputs_collector.add_to_collection(
                var=data[location_name('fixed_image')], name='locations',
                collection=NETWORK_OUTPUT)
            self.initialise_aggregator()
            return
        data = training_or_validation_batch(self.get_sampler()[0], self.is_validation)
        grid, bending = self._warp(data)
        warped_label = resampler(data['moving_label'], grid)
        loss_func = LossFunction(n_class=1, loss_type=self._loss_type(), softmax=False)
        label_loss = loss_func(prediction=warped_label, ground_truth=data['fixed_label'])
        total_loss = label_loss
        if bending:
            bending_energy = tf.reduce_mean(tf.stack(bending))
            total_loss = total_loss + \
                float(_param(self.net_param, 'decay', 0.0)) * bending_energy
        with tf.name_scope('Optimiser'):
            if self.optimiser is None:
                self.optimiser = create_optimiser(self.action_param)
        gradients_collector.add_to_collection(
            self.optimiser.compute_gradients(total_loss))
        hard_dice = 1.0 - loss_func(
            prediction=tf.cast(warped_label >= 0.5, tf.float32),
            ground_truth=tf.cast(data['fixed_label'] >= 0.5, tf.float32))
        console = [(1.0 - label_loss, 'one_minus_data_loss')]
        if bending:
            console.append((bending_energy, 'bending_energy'))
        console += [(total_loss, 'total_loss'), (hard_dice, 'ave_fg_dice')]
        for var, name in console:
            outputs_collector.add_to_collection(
                var=var, name=name, average_over_devices=True, collection=CONSOLE)
        for var, name in ((1.0 - label_loss, 'data_loss'), (total_loss, 'total_loss'),
                          (hard_dice, 'averaged_foreground_Dice')):
            outputs_collector.add_to_collection(
                var=var, name=name, average_over_devices=True, summary_type='scalar',
                collection=TF_SUMMARIES)

    # -------------------------------------------------------------- output
    def initialise_aggregator(self):
        """The aggregator writing warped moving images (and labels) in the
        fixed images' geometry into ``save_seg_dir``."""
        self.output_decoder = RegistrationAggregator(
            image_reader=self.readers[0],
            output_path=_param(self.action_param, 'save_seg_dir', '.') or '.',
            interp_order=_param(self.action_param, 'output_interp_order', 0),
            prefix=_param(self.action_param, 'output_postfix', '_niftynet_out'))

    def interpret_output(self, batch_output):
        """Inference: write each pair's outputs; False once all are written."""
        if not self.is_inference:
            return True
        return self.output_decoder.decode_batch(
            batch_output['resampled_moving_image'], batch_output['locations'],
            batch_output.get('resampled_moving_label'))
