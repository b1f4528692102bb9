# -*- coding: utf-8 -*-
"""Image-level classification: NiftyNet's ``net_classify`` application.

Config: the ``[CLASSIFICATION]`` section names the input sections forming
``image`` (several: one channel each) and ``label``, with ``num_classes``
(required), ``output_prob`` and ``label_normalisation``.  A subject's label
is an image whose voxels all hold its class (e.g. a 1x1x1 NIfTI); it may
have another spatial shape than the image (``SHAPE_INDEPENDENT_FIELDS``).
The network maps an image window to ``[batch, num_classes]`` logits.

- training: ``NETWORK window_sampling = resize`` (the only sampling
  NiftyNet's classification had): each subject's whole image is resized to
  the image section's ``spatial_window_size``; the label section's window
  is its own ``spatial_window_size`` or 1x1x1, and the class is its first
  voxel.  The ``[TRAINING] loss_type`` classification loss (CrossEntropy)
  plus weight decay is minimised; ``loss`` and ``accuracy`` (of the batch)
  are shown on the console and in TensorBoard;
- inference: each subject's resized image goes through the network;
  ``ClassifierSamplesAggregator`` writes its class (with
  ``label_normalisation``: the original label value), or with
  ``output_prob`` the class probabilities, into ``save_seg_dir`` as
  ``<output_postfix>.csv`` (``subject,value...``) and as a 1x1x1 image per
  subject (listed in ``inferred.csv``); with labels, the metrics are then
  written to ``save_seg_dir/evaluation.csv``;
- evaluation (``net_run evaluation``): accuracy, the confusion matrix and,
  for two classes, ROC AUC over the inferred subjects
  (see ``ClassificationEvaluator``).

Readers, preprocessing (histogram normalisation, whitening, label
normalisation), augmentation and validation are segmentation's.
"""
import tensorflow.compat.v1 as tf

from niftydrive.application.segmentation_application import \
    SegmentationApplication, _param
from niftydrive.engine.application_variables import NETWORK_OUTPUT
from niftydrive.engine.image_window import location_name
from niftydrive.engine.windows_aggregator_classifier import ClassifierSamplesAggregator
from niftydrive.evaluation.classification_evaluator import ClassificationEvaluator
from niftydrive.layer.loss_classification import LossFunction
from niftydrive.layer.post_processing import PostProcessingLayer
from niftydrive.utilities.errors import UserInputError
from niftydrive.utilities.util_common import ParserNamespace


class ClassificationApplication(SegmentationApplication):
    """Train, infer and evaluate image-level classification networks."""

    REQUIRED_CONFIG_SECTION = 'CLASSIFICATION'
    DEFAULT_LOSS_TYPE = 'CrossEntropy'
    SHAPE_INDEPENDENT_FIELDS = ('label',)
    LABEL_WINDOW = (1, 1, 1)

    def initialise_dataset_loader(self, data_param=None, task_param=None,
                                  data_partitioner=None):
        """Segmentation's readers, after the classification checks."""
        self.segmentation_param = task_param   # the [CLASSIFICATION] section
        if self.num_classes < 1:
            raise UserInputError('[CLASSIFICATION] num_classes must be set to the number of '
                                 'classes (got {}).'.format(self.num_classes))
        if self._sections('sampler'):
            raise UserInputError('[CLASSIFICATION] sampler is not supported yet: '
                                 'classification resizes whole images (no sampling map).')
        super(ClassificationApplication, self).initialise_dataset_loader(
            data_param, task_param, data_partitioner)

    def check_window_sampling(self):
        """Classification samples whole images: ``window_sampling = resize``."""
        sampling = str(_param(self.net_param, 'window_sampling', 'uniform')).lower()
        if not self.is_evaluation and sampling != 'resize':
            raise UserInputError('NETWORK window_sampling = {} is not supported by '
                                 'net_classify; set window_sampling = resize (each whole '
                                 'image resized to the window).'.format(sampling))
        return sampling

    def initialise_evaluator(self, eval_param):
        """``ClassificationEvaluator`` (accuracy, confusion matrix, ROC AUC)."""
        self.evaluator = ClassificationEvaluator(self.segmentation_param, eval_param)

    def _window_param(self):
        """Segmentation's windows, but a label section without a window size
        gets one voxel (not the image's window)."""
        data_param = super(ClassificationApplication, self)._window_param()
        for section in self._sections('label'):
            if not tuple(_param(self.data_param[section], 'spatial_window_size', ()) or ()):
                data_param[section] = ParserNamespace(**dict(
                    vars(self.data_param[section]), spatial_window_size=self.LABEL_WINDOW))
        return data_param

    def initialise_aggregator(self):
        """``ClassifierSamplesAggregator`` writing into ``save_seg_dir``."""
        self.output_decoder = ClassifierSamplesAggregator(
            image_reader=self.readers[0], name='image',
            output_path=_param(self.action_param, 'save_seg_dir', '.') or '.',
            prefix=_param(self.action_param, 'output_postfix', '_niftynet_out'),
            label_mapping=self.label_mapping if self._writes_labels() else None)

    def _logits(self, image):
        net_out = self.net(tf.cast(image, tf.float32), is_training=self.is_training)
        if net_out.shape.ndims != 2:
            raise UserInputError(
                'NETWORK name = {}: net_classify needs a network whose output is '
                '[batch, num_classes], got shape {}.'.format(
                    _param(self.net_param, 'name', ''), net_out.shape.as_list()))
        return net_out

    def _connect_training(self, outputs_collector, gradients_collector):
        data = self._training_batch()
        net_out = self._logits(data['image'])
        batch = tf.shape(net_out)[0]
        label = tf.cast(tf.round(tf.reshape(data['label'], [batch, -1])[:, 0]), tf.int64)
        self._create_optimiser()
        loss = self._minimise(
            LossFunction(n_class=self.num_classes,
                         loss_type=self._loss_type())(
                             prediction=net_out, ground_truth=label), gradients_collector)
        accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(net_out, -1), label),
                                          tf.float32))
        self._report_training(outputs_collector, loss=loss, accuracy=accuracy)

    def _connect_inference(self, outputs_collector):
        data = self.get_sampler()[0][0].pop_batch_op()
        post_processing = PostProcessingLayer(
            'ARGMAX' if self._writes_labels() else 'SOFTMAX', num_classes=self.num_classes)
        outputs_collector.add_to_collection(var=post_processing(self._logits(data['image'])),
                                            name='window', collection=NETWORK_OUTPUT)
        outputs_collector.add_to_collection(var=data[location_name('image')],
                                            name='location', collection=NETWORK_OUTPUT)
        self.initialise_aggregator()
