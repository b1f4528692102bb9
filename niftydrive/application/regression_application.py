"""Image-to-image regression: NiftyNet's ``net_regress`` application.

Config: the ``[REGRESSION]`` section names the input sections forming
``image`` (one channel each), ``output`` (the target image), optionally
``weight`` (voxel-wise loss weights) and ``sampler`` (a sampling prior),
with ``loss_border`` (voxels at each window border left out of the loss)
and ``error_map`` (inference writes the squared error against ``output``
instead of the prediction).

It shares segmentation's data pipeline (readers, padding, histogram
normalisation and whitening, windows, samplers, grid aggregation); what
differs is the target (real-valued, one channel per voxel), the loss
(``[TRAINING] loss_type``: L1Loss, L2Loss, RMSE, MAE, Huber) and the
outputs (real-valued images; ``net_run evaluation`` reports mse, rmse and
mae per subject, or the ``[EVALUATION] evaluations`` asked for).
"""

import tensorflow.compat.v1 as tf

from niftydrive.application.segmentation_application import \
    SegmentationApplication, _param
from niftydrive.engine.application_variables import NETWORK_OUTPUT
from niftydrive.engine.image_window import location_name
from niftydrive.evaluation.regression_evaluator import RegressionEvaluator
from niftydrive.io.image_sets_partitioner import ALL, INFER, TRAIN, VALID
from niftydrive.layer.crop import CropLayer
from niftydrive.layer.loss_regression import LossFunction
from niftydrive.utilities.errors import UserInputError


class RegressionApplication(SegmentationApplication):
    """Train, infer and evaluate voxel-wise regression networks."""

    REQUIRED_CONFIG_SECTION = 'REGRESSION'
    REFERENCE_FIELD = 'output'
    DEFAULT_LOSS_TYPE = 'L2Loss'  # as NiftyNet's regression configs set

    @property
    def num_classes(self):
        """The network's output channels: one real value per voxel."""
        return 1

    def initialise_dataset_loader(self, data_param=None, task_param=None,
                                  data_partitioner=None):
        """Readers of the action's subjects (image, output, weight, sampler)."""
        self.data_param = data_param or {}
        self.segmentation_param = task_param  # the [REGRESSION] section
        self.partitioner = data_partitioner
        if not self._sections('image'):
            raise UserInputError('[REGRESSION] image = <input section(s)> is not set.')
        if self.is_evaluation:
            self.initialise_evaluator(self.action_param)
            return
        self.check_window_sampling()
        self._normalisers = self._normalisation_layers()
        optional = [field for field in ('weight', 'sampler') if self._sections(field)]
        if self.is_training:
            if not self._sections('output'):
                raise UserInputError(
                    'Training needs [REGRESSION] output = <input section> (the target).')
            fields = ['image', 'output'] + optional
            self.readers = [self._reader(fields, TRAIN)]
            if _param(self.action_param, 'validation_every_n', -1) > 0 and \
                    data_partitioner.has_validation:
                self.readers.append(self._reader(fields, VALID))
        else:
            fields = ['image'] + (['output'] if self._error_map else [])
            phase = _param(self.action_param, 'dataset_to_infer', '') or (
                INFER if data_partitioner.has_inference else ALL)
            self.readers = [self._reader(fields, phase)]
            self.initialise_evaluator(self.action_param)

    @property
    def _error_map(self):
        return bool(_param(self.segmentation_param, 'error_map', False))

    def initialise_evaluator(self, eval_param):
        """``RegressionEvaluator`` (mse, rmse, mae unless asked otherwise)."""
        self.evaluator = RegressionEvaluator(self.segmentation_param, eval_param)

    def _writes_labels(self):
        return False

    def _connect_training(self, outputs_collector, gradients_collector):
        data = self._training_batch()
        image = tf.cast(data['image'], tf.float32)
        target = tf.cast(data['output'], tf.float32)
        prediction = self.net(image, is_training=self.is_training)
        weight = data.get('weight')
        border = int(_param(self.segmentation_param, 'loss_border', 0))
        if border > 0:
            crop = CropLayer(border=border, name='crop_loss_border')
            prediction, target = crop(prediction), crop(target)
            weight = crop(weight) if weight is not None else None
        self._create_optimiser()
        loss = self._minimise(
            LossFunction(loss_type=self._loss_type())(
                prediction, target, weight_map=weight), gradients_collector)
        rmse = tf.sqrt(tf.reduce_mean(tf.squared_difference(prediction, target)))
        self._report_training(outputs_collector, loss=loss, rmse=rmse)

    def _connect_inference(self, outputs_collector):
        data = self.get_sampler()[0][0].pop_batch_op()
        output = self.net(tf.cast(data['image'], tf.float32), is_training=False)
        if self._error_map:
            output = tf.squared_difference(output, tf.cast(data['output'], tf.float32))
        outputs_collector.add_to_collection(var=output, name='window',
                                            collection=NETWORK_OUTPUT)
        outputs_collector.add_to_collection(var=data[location_name('image')],
                                            name='location', collection=NETWORK_OUTPUT)
        self.initialise_aggregator()

    def _evaluate_after_inference(self):
        if self._error_map or not self._sections('output'):
            return
        super(RegressionApplication, self)._evaluate_after_inference()
