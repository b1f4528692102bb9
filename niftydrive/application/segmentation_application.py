"""Segmentation of NIfTI images: NiftyNet's ``net_segment`` application.

Config: the ``[SEGMENTATION]`` section names the input sections forming
``image`` (several: one channel each), ``label`` and optionally ``weight``,
with ``num_classes``, ``output_prob`` and ``label_normalisation``.

- training: random windows (``spatial_window_size`` of the input sections,
  ``sample_per_volume`` per subject visit; ``NETWORK window_sampling``:
  ``UniformSampler``, ``WeightedSampler`` or ``BalancedSampler`` on the
  ``sampler`` input, or ``ResizeSampler``) feed the network;
  the loss (``loss_type``) plus weight decay is minimised; ``loss`` and
  ``dice`` (hard Dice of the foreground classes in the batch) are shown on
  the console and in TensorBoard; validation subjects, if any, are sampled
  on validation iterations; the training subjects (never the validation or
  inference ones) are augmented on every read, in NiftyNet's order, by the
  layers the TRAINING keys ask for: random flips (``random_flipping_axes``),
  zooms (``scaling_percentage``), rotations (``rotation_angle``,
  ``rotation_angle_x/y/z``), elastic deformation (``do_elastic_deformation``)
  and bias fields (``bias_field_range``); labels are resampled with nearest
  neighbours, images with their section's ``interp_order``;
- inference: ``GridSampler`` windows (``border``) go through the network
  (with ``window_sampling = resize``: each whole image resized, and
  ``ResizeSamplesAggregator`` resizing outputs back);
  labels (or class probabilities with ``output_prob``) are stitched back by
  ``GridSamplesAggregator`` into ``save_seg_dir``; when the subjects have
  labels, the default metrics (dice, jaccard, average_distance) per subject
  and label are then written to ``save_seg_dir/evaluation.csv``;
- evaluation (``net_run evaluation``): the ``[EVALUATION] evaluations``
  metrics (default: as at inference) of the outputs listed in
  ``inferred.csv`` (or the ``inferred`` input section) against the labels,
  per subject and ``evaluation_units`` unit, into
  ``EVALUATION.save_csv_dir/evaluation.csv`` (see ``SegmentationEvaluator``).

Preprocessing, in NiftyNet's order, for training, validation and inference
alike: volume padding (``volume_padding_size``/``volume_padding_mode``),
histogram normalisation (``normalisation``: landmarks trained on the
training subjects and saved to ``NETWORK.histogram_ref_file``, read back at
inference), whitening (``whitening``), both over the foreground mask
(``foreground_type``, ``multimod_foreground_type``) when
``normalise_foreground_only``, and label normalisation
(``label_normalisation``: label values found in the training labels mapped
to 0..K-1, the values kept in the same ``histogram_ref_file``, by default
``<model_dir>/histogram_ref_file.txt`` as in NiftyNet, and used to write
outputs with the original label values).
"""
import logging
import os

import tensorflow.compat.v1 as tf

from niftydrive.application.base_application import BaseApplication, \
    training_or_validation_batch
from niftydrive.engine.application_factory import (
    ApplicationNetFactory, InitializerFactory)
from niftydrive.engine.application_optimiser import create_optimiser
from niftydrive.engine.application_variables import CONSOLE, NETWORK_OUTPUT, TF_SUMMARIES
from niftydrive.engine.image_window import location_name
from niftydrive.engine.sampler_balanced import BalancedSampler
from niftydrive.engine.sampler_grid import GridSampler
from niftydrive.engine.sampler_resize import ResizeSampler
from niftydrive.engine.sampler_uniform import UniformSampler
from niftydrive.engine.sampler_weighted import WeightedSampler
from niftydrive.engine.windows_aggregator_grid import INFERRED_CSV, GridSamplesAggregator
from niftydrive.engine.windows_aggregator_resize import ResizeSamplesAggregator
from niftydrive.evaluation.base_evaluator import EVALUATION_CSV, read_inferred_csv
from niftydrive.evaluation.segmentation_evaluator import SegmentationEvaluator
from niftydrive.io.filename_matching import as_tuple_of_str
from niftydrive.io.image_reader import ImageReader, LabelMapping
from niftydrive.io.image_sets_partitioner import ALL, INFER, TRAIN, VALID
from niftydrive.layer.binary_masking import BinaryMaskingLayer
from niftydrive.layer.discrete_label_normalisation import DiscreteLabelNormalisationLayer
from niftydrive.layer.histogram_normalisation import HistogramNormalisationLayer
from niftydrive.layer.mean_variance_normalisation import MeanVarNormalisationLayer
from niftydrive.layer.crop import crop_to_spatial_shape
from niftydrive.layer.pad import PadLayer
from niftydrive.layer.loss_segmentation import LossFunction
from niftydrive.layer.rand_bias_field import RandomBiasFieldLayer
from niftydrive.layer.rand_elastic_deform import RandomElasticDeformationLayer
from niftydrive.layer.rand_flip import RandomFlipLayer
from niftydrive.layer.rand_rotation import RandomRotationLayer
from niftydrive.layer.rand_spatial_scaling import RandomSpatialScalingLayer
from niftydrive.utilities.errors import UserInputError
from niftydrive.utilities.util_common import ParserNamespace

LOGGER = logging.getLogger(__name__)

#: the fields whose windows are cut together with the image's
WINDOWED_FIELDS = ('image', 'label', 'weight', 'sampler')
SUPPORTED_SAMPLING = ('uniform', 'weighted', 'balanced', 'resize')


def _param(namespace, name, default=None):
    value = getattr(namespace, name, default) if namespace is not None else default
    return default if value is None else value


class SegmentationApplication(BaseApplication):
    """Train, infer and evaluate voxel-wise segmentation networks."""

    REQUIRED_CONFIG_SECTION = 'SEGMENTATION'
    # the input field evaluation compares the outputs with
    REFERENCE_FIELD = 'label'
    # input fields whose images may have another spatial shape than the image's
    SHAPE_INDEPENDENT_FIELDS = ()
    # the loss when [TRAINING] loss_type is left at its declared default (Dice,
    # a segmentation loss); applications of other tasks name their own
    DEFAULT_LOSS_TYPE = 'Dice'

    def __init__(self, net_param, action_param, action):
        super(SegmentationApplication, self).__init__(net_param, action_param, action)
        self.data_param = None
        self.segmentation_param = None
        self.partitioner = None
        self.label_mapping = None
        self.label_normaliser = None
        self._normalisers = []
        self.evaluator = None
        self.evaluation_rows = None

    # ---------------------------------------------------------------- data
    def _sections(self, field):
        return as_tuple_of_str(_param(self.segmentation_param, field, ()))

    @property
    def num_classes(self):
        """``num_classes`` of the [SEGMENTATION] section."""
        return int(_param(self.segmentation_param, 'num_classes', -1))

    @property
    def mapping_file(self):
        """Where the label normalisation mapping is kept (None: not kept)."""
        return _param(self.net_param, 'histogram_ref_file', '') or None

    def initialise_dataset_loader(self, data_param=None, task_param=None,
                                  data_partitioner=None):
        """Create the readers of the action's subjects and check their files."""
        self.data_param = data_param or {}
        self.segmentation_param = task_param
        self.partitioner = data_partitioner
        if not self._sections('image'):
            raise UserInputError('[{}] image = <input section(s)> is not set.'.format(
                self.REQUIRED_CONFIG_SECTION))
        if self.is_evaluation:
            self.initialise_evaluator(self.action_param)
            return
        if self.num_classes < 1:
            raise UserInputError('[{}] num_classes must be set to the number of '
                                 'classes (got {}).'.format(self.REQUIRED_CONFIG_SECTION,
                                                            self.num_classes))
        sampling = self.check_window_sampling()
        self._normalisers = self._normalisation_layers()
        if self.is_training:
            fields = ['image', 'label'] + (['weight'] if self._sections('weight') else [])
            if sampling in ('weighted', 'balanced'):
                fields.append('sampler')
                self._set_sampler_sections(sampling)
            if not self._sections('label'):
                raise UserInputError('Training needs [{}] label = <input section>.'.format(
                    self.REQUIRED_CONFIG_SECTION))
            self.readers = [self._reader(fields, TRAIN)]
            if _param(self.action_param, 'validation_every_n', -1) > 0 and \
                    data_partitioner.has_validation:
                self.readers.append(self._reader(fields, VALID))
        else:
            phase = _param(self.action_param, 'dataset_to_infer', '') or (
                INFER if data_partitioner.has_inference else ALL)
            self.readers = [self._reader(['image'], phase)]
            self.initialise_evaluator(self.action_param)   # evaluates after inference

    def check_window_sampling(self):
        """``NETWORK window_sampling`` must name a sampler this application has."""
        sampling = str(_param(self.net_param, 'window_sampling', 'uniform')).lower()
        if self.is_training and sampling not in SUPPORTED_SAMPLING:
            raise UserInputError('NETWORK window_sampling = {} is not supported yet by '
                                 'niftydrive; use {}.'.format(
                                     sampling, ', '.join(SUPPORTED_SAMPLING)))
        return sampling

    def _set_sampler_sections(self, sampling):
        """Weighted sampling needs ``sampler``; balanced sampling defaults to the labels."""
        if self._sections('sampler'):
            return
        if sampling == 'weighted':
            raise UserInputError('NETWORK window_sampling = weighted needs a sampling prior: '
                                 'set [SEGMENTATION] sampler = <input section>.')
        LOGGER.info('window_sampling = balanced: balancing the classes of [SEGMENTATION] '
                    'label (no sampler section given)')
        self.segmentation_param = ParserNamespace(**dict(
            vars(self.segmentation_param), sampler=self._sections('label')))

    def initialise_evaluator(self, eval_param):
        """Create ``self.evaluator`` (metric names checked now, before any work).

        :param eval_param: a namespace with ``evaluations`` (the [EVALUATION]
            section), or None for the default metrics
        """
        self.evaluator = SegmentationEvaluator(self.segmentation_param, eval_param)

    def _normalisation_layers(self):
        """Histogram normalisation, whitening, label normalisation (NiftyNet's order).

        Built once, so every reader shares them: they are trained on the
        training reader (or read from ``histogram_ref_file``) and then used
        as they are for validation and inference.
        """
        net = self.net_param
        masking = BinaryMaskingLayer(
            type_str=_param(net, 'foreground_type', 'otsu_plus'),
            multimod_fusion=_param(net, 'multimod_foreground_type', 'and'),
            threshold=0.0) if _param(net, 'normalise_foreground_only', False) else None
        layers = []
        if _param(net, 'normalisation', False):
            if not self.mapping_file:
                raise UserInputError('NETWORK normalisation = True needs histogram_ref_file.')
            layers.append(HistogramNormalisationLayer(
                image_name='image', modalities=self._sections('image'),
                model_filename=self.mapping_file, binary_masking_func=masking,
                norm_type=_param(net, 'norm_type', 'percentile'),
                cutoff=_param(net, 'cutoff', (0.01, 0.99)), name='hist_norm_layer'))
        if _param(net, 'whitening', False):
            layers.append(MeanVarNormalisationLayer(image_name='image',
                                                    binary_masking_func=masking))
        if _param(self.segmentation_param, 'label_normalisation', False):
            self.label_normaliser = DiscreteLabelNormalisationLayer(
                image_name='label', modalities=self._sections('label'),
                model_filename=self.mapping_file)
            if self.is_training:
                layers.append(self.label_normaliser)
        return layers

    def _padding_layers(self, fields):
        size = _param(self.net_param, 'volume_padding_size', (0, 0, 0))
        if not any(size or ()):
            return []
        return [PadLayer(image_name=fields, border=size,
                         mode=_param(self.net_param, 'volume_padding_mode', 'minimum'))]

    def _check_trained(self):
        """Inference: the landmarks and label values must come from training."""
        needed = [layer for layer in self._normalisers
                  if isinstance(layer, HistogramNormalisationLayer)]
        if not _param(self.segmentation_param, 'output_prob', False):
            needed.append(self.label_normaliser)   # to write the original label values
        for layer in needed:
            if layer is not None and not layer.is_ready():
                path = self.mapping_file
                raise UserInputError(
                    'NETWORK histogram_ref_file {} {}: run training first (it writes the '
                    'histogram landmarks and label values there), or point '
                    'histogram_ref_file at the file training wrote.'.format(
                        path, 'does not exist' if not os.path.isfile(path) else
                        'has no entry for {}'.format(getattr(layer, 'key', None) or
                                                      ', '.join(layer.modalities))))

    def _reader(self, fields, phase):
        sections = [s for field in fields for s in self._sections(field)]
        rows = self.partitioner.get_file_list(phase, *sections)
        if not rows:
            raise UserInputError('No {} subject has files in all of the input sections {}.'
                                 .format(phase, ', '.join(sections)))
        reader = ImageReader(fields)
        reader.shape_independent_fields = self.SHAPE_INDEPENDENT_FIELDS
        reader.initialise(self.data_param, self.segmentation_param, rows)
        reader.label_fields = ('label',) if 'label' in fields else ()
        if 'label' in fields and reader.num_channels('label') != 1:
            label = reader.output_list[0]['label']
            raise UserInputError(
                'Subject {}: label {} has shape {}: a label map has one value per voxel '
                '(3-D, or 2-D), not several time points or channels.'.format(
                    reader.subject_id(0), label.file_path[0], tuple(label.shape)))
        reader.num_classes = self.num_classes
        if not self.is_training:
            self._check_trained()
        layers = self._padding_layers(fields) + self._normalisers
        if self.is_training and phase == TRAIN:   # never validation or inference
            layers = layers + self._augmentation_layers()
        reader.add_preprocessing_layers(layers)
        reader.check_num_classes()
        if self.label_normaliser is not None and self.label_normaliser.is_ready():
            self.label_mapping = LabelMapping(self.label_normaliser.mapping)
        LOGGER.info('%s: %d subject(s), fields %s', phase, reader.num_subjects,
                    ', '.join(fields))
        reader.preload()   # bad voxel data is reported now, not in a sampler thread
        return reader

    def _range(self, key, lowest=None):
        """A TRAINING ``(min, max)`` key, or () when unset."""
        values = tuple(_param(self.action_param, key, ()) or ())
        if not values:
            return ()
        if len(values) != 2 or values[0] > values[1] or \
                (lowest is not None and values[0] <= lowest):
            raise UserInputError('TRAINING {} = {} must be two numbers (min, max) with min <= '
                                 'max{}.'.format(key, values, '' if lowest is None else
                                                 ' and min > {}'.format(lowest)))
        return values

    def _augmentation_layers(self):
        """The training reader's augmentation layers, in NiftyNet's order."""
        layers = []
        flip_axes = tuple(_param(self.action_param, 'random_flipping_axes', ()) or ())
        if flip_axes and flip_axes != (-1,):   # NiftyNet's -1: no flipping
            if any(a not in (0, 1, 2) for a in flip_axes):
                raise UserInputError('TRAINING random_flipping_axes = {} must list spatial axes '
                                     '0, 1 or 2 (or -1 for none).'.format(flip_axes))
            layers.append(RandomFlipLayer(flip_axes=flip_axes))
        scaling = self._range('scaling_percentage', lowest=-100.0)
        if scaling:
            layers.append(RandomSpatialScalingLayer(
                min_percentage=scaling[0], max_percentage=scaling[1],
                antialiasing=_param(self.action_param, 'antialiasing', True),
                isotropic=_param(self.action_param, 'isotropic_scaling', False)))
        angle = self._range('rotation_angle')
        per_axis = [self._range('rotation_angle_' + axis) for axis in 'xyz']
        if angle or any(per_axis):
            rotation = RandomRotationLayer()
            if angle:
                rotation.init_uniform_angle(angle)
            else:
                rotation.init_non_uniform_angle(*per_axis)
            layers.append(rotation)
        if _param(self.action_param, 'do_elastic_deformation', False):
            layers.append(RandomElasticDeformationLayer(
                num_controlpoints=_param(self.action_param, 'num_ctrl_points', 4),
                std_deformation_sigma=_param(self.action_param, 'deformation_sigma', 15.0),
                proportion_to_augment=_param(self.action_param, 'proportion_to_deform', 0.5)))
        bias_range = self._range('bias_field_range')
        if bias_range:
            bias_field = RandomBiasFieldLayer()
            bias_field.init_order(_param(self.action_param, 'bf_order', 3))
            bias_field.init_uniform_coeff(bias_range)
            layers.append(bias_field)
        if layers:
            LOGGER.info('Training augmentation: %s', ', '.join(l.name for l in layers))
        return layers

    def _window_param(self):
        """The input sections' parameters, every section with a window size.

        NiftyNet required ``spatial_window_size`` in every input section; here
        a section without one (e.g. the label's) takes the image's.  Labels
        and weights may have their own window (e.g. a network's output size:
        DeepMedic's 9^3 for 57^3 images); see :meth:`_match_output_and_label`.
        """
        image_size = ()
        for section in self._sections('image'):
            image_size = tuple(_param(self.data_param[section], 'spatial_window_size', ()))
            if image_size:
                break
        if not image_size:
            raise UserInputError('spatial_window_size is not set in the image input section '
                                 '[{}].'.format(self._sections('image')[0]))
        data_param = {}
        for section, param in self.data_param.items():
            size = tuple(_param(param, 'spatial_window_size', ()) or ())
            if not size:
                param = ParserNamespace(**dict(vars(param), spatial_window_size=image_size))
            elif size != image_size and self._needs_image_window(section):
                raise UserInputError(
                    '[{}] spatial_window_size = {} differs from the image\'s {} ([{}]): '
                    '{}; set it to {} or leave it empty.'.format(
                        section, size, image_size, self._sections('image')[0],
                        'images, sampling maps and (with resize sampling) every input '
                        'of a window are cut with the same window', image_size))
            data_param[section] = param
        return data_param

    def _needs_image_window(self, section):
        """Whether input ``section`` must have the image's window size.

        The image sections (channels of one window), the sampling map, and
        with ``window_sampling = resize`` every windowed input must.  With
        the other samplers a label or weight window is cut concentric with
        the image's, so it may be smaller (a network with valid convolutions)
        or larger.
        """
        fields = WINDOWED_FIELDS if self.check_window_sampling() == 'resize' \
            else ('image', 'sampler')
        return any(section in self._sections(field) for field in fields)

    # ------------------------------------------------------------- sampler
    def initialise_sampler(self):
        """Training and validation: the ``window_sampling`` sampler (uniform,
        weighted, balanced or resize); inference: a grid sampler, or a resize
        sampler with ``window_sampling = resize``."""
        batch_size = int(_param(self.net_param, 'batch_size', 1))
        queue_length = int(_param(self.net_param, 'queue_length', 5))
        data_param = self._window_param()
        sampling = self.check_window_sampling()
        if self.is_training:
            per_volume = int(_param(self.action_param, 'sample_per_volume', 1))
            if sampling == 'resize':
                self.sampler = [[ResizeSampler(
                    reader=reader, data_param=data_param, batch_size=batch_size,
                    windows_per_image=per_volume, shuffle_buffer=True,
                    queue_length=queue_length) for reader in self.readers]]
                return
            sampler_class = {'uniform': UniformSampler, 'weighted': WeightedSampler,
                             'balanced': BalancedSampler}[sampling]
            self.sampler = [[sampler_class(reader=reader, data_param=data_param,
                                           batch_size=batch_size,
                                           windows_per_image=per_volume,
                                           queue_length=queue_length)
                             for reader in self.readers]]
        elif sampling == 'resize':
            self.sampler = [[ResizeSampler(
                reader=self.readers[0], data_param=data_param, batch_size=batch_size,
                spatial_window_size=_param(self.action_param, 'spatial_window_size', ()),
                shuffle_buffer=False, queue_length=queue_length)]]
        else:
            self.sampler = [[GridSampler(
                reader=self.readers[0], data_param=data_param, batch_size=batch_size,
                spatial_window_size=_param(self.action_param, 'spatial_window_size', ()),
                window_border=_param(self.action_param, 'border', (0, 0, 0)),
                queue_length=queue_length)]]

    def _writes_labels(self):
        """True when inference writes labels (not probabilities or values)."""
        return not _param(self.segmentation_param, 'output_prob', False)

    def initialise_aggregator(self):
        """The grid (or, with ``window_sampling = resize``, resize) aggregator
        writing into ``save_seg_dir``."""
        writes_labels = self._writes_labels()
        aggregator_class = ResizeSamplesAggregator \
            if self.check_window_sampling() == 'resize' else GridSamplesAggregator
        self.output_decoder = aggregator_class(
            image_reader=self.readers[0],
            output_path=_param(self.action_param, 'save_seg_dir', '.') or '.',
            name='image',
            window_border=_param(self.action_param, 'border', (0, 0, 0)),
            interp_order=_param(self.action_param, 'output_interp_order', 0),
            prefix=_param(self.action_param, 'output_postfix', '_niftynet_out'),
            fill_constant=_param(self.action_param, 'fill_constant', 0.0),
            label_mapping=self.label_mapping if writes_labels else None,
            is_label=writes_labels)

    # ------------------------------------------------------------- network
    def _regularizers(self):
        """``(w_regularizer, b_regularizer)`` of ``NETWORK decay`` and
        ``reg_type`` (L2 or L1); ``(None, None)`` without decay."""
        decay = float(_param(self.net_param, 'decay', 0.0))
        reg_type = str(_param(self.net_param, 'reg_type', 'L2')).lower()
        w_regularizer = b_regularizer = None
        if decay > 0:
            if reg_type == 'l2':
                w_regularizer = lambda w: decay * tf.nn.l2_loss(w)  # noqa: E731
            elif reg_type == 'l1':
                w_regularizer = lambda w: decay * tf.reduce_sum(tf.abs(w))  # noqa: E731
            else:
                raise UserInputError('NETWORK reg_type must be L1 or L2, got {}.'.format(
                    reg_type))
            b_regularizer = w_regularizer
        return w_regularizer, b_regularizer

    def initialise_network(self):
        """The network named by ``NETWORK.name``, with weight decay if asked."""
        w_regularizer, b_regularizer = self._regularizers()
        net_class = ApplicationNetFactory.create(_param(self.net_param, 'name', ''))
        self.net = net_class(
            num_classes=self.num_classes,
            w_initializer=InitializerFactory.get_initializer(
                _param(self.net_param, 'weight_initializer', 'he_normal')),
            b_initializer=InitializerFactory.get_initializer(
                _param(self.net_param, 'bias_initializer', 'zeros')),
            w_regularizer=w_regularizer, b_regularizer=b_regularizer,
            acti_func=_param(self.net_param, 'activation_function', 'relu'))

    def _training_batch(self):
        return training_or_validation_batch(self.get_sampler()[0], self.is_validation)

    def connect_data_and_network(self, outputs_collector=None, gradients_collector=None):
        """One tower: loss and gradients (training) or window outputs (inference)."""
        if self.is_training:
            self._connect_training(outputs_collector, gradients_collector)
        else:
            self._connect_inference(outputs_collector)

    def _connect_training(self, outputs_collector, gradients_collector):
        data = self._training_batch()
        image = tf.cast(data['image'], tf.float32)
        label = tf.cast(tf.round(data['label']), tf.int32)
        net_out = self.net(image, is_training=self.is_training)
        net_out, label, weight = self._match_output_and_label(
            net_out, label, data.get('weight'))
        self._create_optimiser()
        loss_func = LossFunction(n_class=self.num_classes,
                                 loss_type=self._loss_type())
        loss = self._minimise(loss_func(prediction=net_out, ground_truth=label,
                                        weight_map=weight), gradients_collector)
        # multi-scale networks (HolisticNet) return a list in training: the
        # loss averages over it; the Dice is that of the last (fused) output
        final_out = net_out[-1] if isinstance(net_out, (list, tuple)) else net_out
        self._report_training(outputs_collector, loss=loss,
                              dice=self._hard_dice(final_out, label))

    def _minimise(self, data_loss, gradients_collector):
        """The loss plus weight decay, its gradients given to the collector."""
        loss = data_loss
        reg_losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
        if reg_losses:
            loss = loss + tf.add_n([tf.reduce_mean(r) for r in reg_losses])
        gradients_collector.add_to_collection(self.optimiser.compute_gradients(loss))
        return loss

    @staticmethod
    def _report_training(outputs_collector, **scalars):
        """Show each named scalar (averaged over devices) on the console and in
        TensorBoard."""
        for collection in (CONSOLE, TF_SUMMARIES):
            for name, var in scalars.items():
                outputs_collector.add_to_collection(var=var, name=name,
                                                    average_over_devices=True,
                                                    collection=collection)

    def _match_output_and_label(self, net_out, label, weight=None):
        """``(net_out, label, weight)`` over the same voxels.

        The label (and weight) window is concentric with the image window;
        a network may output another size (DeepMedic and other networks with
        valid convolutions output less than their input; NiftyNet's configs
        give the label window that output size, e.g. 9^3 for 57^3 images).
        Along each axis the larger of output and label is cropped to the
        centre of the smaller, so the loss compares the same voxels.
        """
        outputs = list(net_out) if isinstance(net_out, (list, tuple)) else [net_out]
        out_size = outputs[-1].shape.as_list()[1:-1]
        label_size = label.shape.as_list()[1:-1]
        if len(out_size) != len(label_size) or out_size == label_size:
            return net_out, label, weight
        common = [min(a, b) for a, b in zip(out_size, label_size)]
        if not getattr(self, '_logged_crop', False):
            LOGGER.info('network output %s and label window %s differ: the loss uses '
                        'their common centre %s', out_size, label_size, common)
            self._logged_crop = True
        outputs = [crop_to_spatial_shape(out, common) for out in outputs]
        label = crop_to_spatial_shape(label, common)
        if weight is not None:
            weight = crop_to_spatial_shape(weight, common)
        return (outputs if isinstance(net_out, (list, tuple)) else outputs[0]), label, weight

    def _loss_type(self):
        """``[TRAINING] loss_type``; its declared default, Dice, means
        ``DEFAULT_LOSS_TYPE`` in an application of another task."""
        loss_type = _param(self.action_param, 'loss_type', self.DEFAULT_LOSS_TYPE)
        if loss_type == 'Dice' and self.DEFAULT_LOSS_TYPE != 'Dice':
            LOGGER.info('loss_type Dice is a segmentation loss: %s uses %s',
                        self.REQUIRED_CONFIG_SECTION.lower(), self.DEFAULT_LOSS_TYPE)
            return self.DEFAULT_LOSS_TYPE
        return loss_type

    def _create_optimiser(self):
        """``self.optimiser`` from ``[TRAINING] optimiser``, ``lr`` and
        ``lr_schedule`` (once: every tower shares it)."""
        with tf.name_scope('Optimiser'):
            if self.optimiser is None:
                self.optimiser = create_optimiser(self.action_param)
        return self.optimiser

    def _hard_dice(self, logits, label):
        """Mean Dice over the foreground classes present in the batch (or predicted)."""
        with tf.name_scope('dice'):
            predicted = tf.one_hot(tf.argmax(logits, -1), self.num_classes)
            truth = tf.one_hot(tf.reshape(label, tf.shape(logits)[:-1]), self.num_classes)
            axes = list(range(len(logits.shape) - 1))
            overlap = tf.reduce_sum(predicted * truth, axis=axes)
            total = tf.reduce_sum(predicted, axis=axes) + tf.reduce_sum(truth, axis=axes)
            scores = (2.0 * overlap / tf.maximum(total, 1.0))[1:]
            present = tf.cast(total[1:] > 0, tf.float32)
            return tf.reduce_sum(scores * present) / tf.maximum(tf.reduce_sum(present), 1.0)

    def _connect_inference(self, outputs_collector):
        data = self.get_sampler()[0][0].pop_batch_op()
        net_out = self.net(tf.cast(data['image'], tf.float32), is_training=False)
        if _param(self.segmentation_param, 'output_prob', False):
            output = tf.nn.softmax(net_out)
        else:
            output = tf.expand_dims(tf.cast(tf.argmax(net_out, -1), tf.int32), -1)
        outputs_collector.add_to_collection(var=output, name='window',
                                            collection=NETWORK_OUTPUT)
        outputs_collector.add_to_collection(var=data[location_name('image')], name='location',
                                            collection=NETWORK_OUTPUT)
        self.initialise_aggregator()

    # -------------------------------------------------------------- output
    def interpret_output(self, batch_output):
        """Inference: stitch windows; False once every subject is written."""
        if not self.is_inference:
            return True
        if self.output_decoder.decode_batch(batch_output['window'], batch_output['location']):
            return True
        self._evaluate_after_inference()
        return False

    def _evaluate_after_inference(self):
        labels = self._sections(self.REFERENCE_FIELD)
        if not labels or _param(self.segmentation_param, 'output_prob', False):
            return
        references = self._reference_files()
        pairs = [(sid, path, references[sid]) for sid, path in self.output_decoder.saved
                 if sid in references]
        if not pairs:
            LOGGER.info('No labels for the inferred subjects: no evaluation.')
            return
        self.evaluation_rows = self.evaluator.run(
            pairs, os.path.join(self.output_decoder.output_path, EVALUATION_CSV))

    def _reference_files(self):
        section = self._sections(self.REFERENCE_FIELD)[0]
        try:
            rows = self.partitioner.get_file_list(ALL, section)
        except UserInputError:
            return {}
        return {row['subject_id']: row[section] for row in rows}

    def _inferred_outputs(self):
        """``{subject_id: path}`` of the inference outputs, and where they were found."""
        inferred = self._sections('inferred')
        if inferred:
            rows = self.partitioner.get_file_list(ALL, inferred[0])
            return {row['subject_id']: row[inferred[0]] for row in rows}, inferred[0]
        candidates = []
        for namespace in (self.action_param,):
            if _param(namespace, 'save_seg_dir', ''):
                candidates.append(namespace.save_seg_dir)
        csv_dir = _param(self.action_param, 'save_csv_dir', '')
        if csv_dir:   # the default layout: <model_dir>/{inference,evaluation}
            candidates.append(os.path.join(os.path.dirname(os.path.abspath(csv_dir)),
                                           'inference'))
        if self.mapping_file:
            candidates.append(os.path.join(os.path.dirname(self.mapping_file), 'inference'))
        for folder in candidates:
            path = os.path.join(folder, INFERRED_CSV)
            if os.path.isfile(path):
                return read_inferred_csv(path), path
        raise UserInputError(
            'Evaluation found no inference outputs: no {} in {}; run `net_run inference` '
            'first, or name the outputs\' input section in [SEGMENTATION] inferred.'.format(
                INFERRED_CSV, ', '.join(candidates) or '(no folder configured)'))

    def _trained_label_mapping(self):
        """The label values training found (``histogram_ref_file``)."""
        layer = DiscreteLabelNormalisationLayer(
            image_name='label', modalities=self._sections('label'),
            model_filename=self.mapping_file)
        if not layer.is_ready():
            raise UserInputError(
                'label_normalisation = True and output_prob = True, but NETWORK '
                'histogram_ref_file {} has no label values to map the most likely classes '
                'back to: point it at the file training wrote.'.format(self.mapping_file))
        return LabelMapping(layer.mapping)

    def evaluate(self):
        """The ``evaluation`` action: the metrics per subject and unit into a CSV.

        :return: the CSV's rows (dicts: column -> value)
        """
        if not self._sections(self.REFERENCE_FIELD):
            raise UserInputError('Evaluation needs [{}] {} = <input section>.'.format(
                self.REQUIRED_CONFIG_SECTION, self.REFERENCE_FIELD))
        outputs, source = self._inferred_outputs()
        references = self._reference_files()
        pairs = [(sid, outputs[sid], references[sid]) for sid in sorted(outputs)
                 if sid in references]
        if not pairs:
            raise UserInputError('None of the {} subject(s) of {} has a {} file in [{}].'.format(
                len(outputs), source, self.REFERENCE_FIELD,
                self._sections(self.REFERENCE_FIELD)[0]))
        folder = _param(self.action_param, 'save_csv_dir', '') or \
            os.path.dirname(os.path.abspath(source))
        if getattr(self.evaluator, 'output_prob', False) and _param(self.segmentation_param,
                                                 'label_normalisation', False):
            self.evaluator.label_mapping = self._trained_label_mapping()
        self.evaluation_rows = self.evaluator.run(pairs, os.path.join(folder, EVALUATION_CSV))
        return self.evaluation_rows
