"""Look up applications, networks, optimisers, losses, initialisers and
evaluation metrics by name.

A name is either a short name from the tables below or a dotted import path
(``my_package.my_module.MyClass``) to a user's own class.
"""
import importlib

import tensorflow.compat.v1 as tf

from niftydrive.utilities.errors import UserInputError
from niftydrive.utilities.util_common import closest_match

SUPPORTED_APP = {
    'net_segment':
        'niftydrive.application.segmentation_application.SegmentationApplication',
    'toy': 'niftydrive.application.toy_application.ToyApplication',
    'net_regress':
        'niftydrive.application.regression_application.RegressionApplication',
    'net_classify':
        'niftydrive.application.classification_application.ClassificationApplication',
    'net_gan': 'niftydrive.application.gan_application.GANApplication',
    'net_reg': 'niftydrive.application.label_driven_registration.RegApp',
    'net_autoencoder':
        'niftydrive.application.autoencoder_application.AutoencoderApplication',
}

# NiftyNet applications that niftydrive does not provide (yet).
NIFTYNET_APPS_NOT_AVAILABLE = {
}

SUPPORTED_NETWORK = {
    # segmentation
    'toynet': 'niftydrive.network.toynet.ToyNet',
    'highres3dnet': 'niftydrive.network.highres3dnet.HighRes3DNet',
    'highres3dnet_small':
        'niftydrive.network.highres3dnet_small.HighRes3DNetSmall',
    'highres3dnet_large':
        'niftydrive.network.highres3dnet_large.HighRes3DNetLarge',
    'unet': 'niftydrive.network.unet.UNet3D',
    'unet_2d': 'niftydrive.network.unet_2d.UNet2D',
    'vnet': 'niftydrive.network.vnet.VNet',
    'dense_vnet': 'niftydrive.network.dense_vnet.DenseVNet',
    'deepmedic': 'niftydrive.network.deepmedic.DeepMedic',
    'scalenet': 'niftydrive.network.scalenet.ScaleNet',
    'holisticnet': 'niftydrive.network.holistic_net.HolisticNet',
    # classification
    'resnet': 'niftydrive.network.resnet.ResNet',
    # autoencoder
    'vae': 'niftydrive.network.vae.VAE',
    # GAN
    'tinynet': 'niftydrive.network.toy_gan.TinyNet',
    'simple_gan': 'niftydrive.network.simple_gan.SimpleGAN',
    'simulator_gan': 'niftydrive.network.simulator_gan.SimulatorGAN',
    # registration
    'interventional_affine_net':
        'niftydrive.network.interventional_affine_net.INetAffine',
    'interventional_dense_net':
        'niftydrive.network.interventional_dense_net.INetDense',
    'interventional_hybrid_net':
        'niftydrive.network.interventional_hybrid_net.INetHybridPreWarp',
}

SUPPORTED_EVENT_HANDLERS = {
    'model_restorer': 'niftydrive.engine.handler_model.ModelRestorer',
    'model_saver': 'niftydrive.engine.handler_model.ModelSaver',
    'sampler_threading': 'niftydrive.engine.handler_sampler.SamplerThreading',
    'apply_gradients': 'niftydrive.engine.handler_gradient.ApplyGradients',
    'output_interpreter':
        'niftydrive.engine.handler_network_output.OutputInterpreter',
    'console_logger': 'niftydrive.engine.handler_console.ConsoleLogger',
    'tensorboard_logger': 'niftydrive.engine.handler_tensorboard.TensorBoardLogger',
    'nan_guard': 'niftydrive.engine.handler_nan_guard.NaNGuard',
    'best_model_saver': 'niftydrive.engine.handler_best_model.BestModelSaver',
    'early_stopper': 'niftydrive.engine.handler_early_stopping.EarlyStopper',
}

# The handlers of a run when ``[SYSTEM] event_handler`` is empty, in the
# order they receive each signal: outputs are interpreted before they are
# logged, logged before the checkpoint is written; the NaN guard stops a
# run before a non-finite iteration is logged or saved; the best model is
# saved before early stopping ends a run.
DEFAULT_EVENT_HANDLERS = (
    'model_restorer', 'sampler_threading', 'apply_gradients',
    'output_interpreter', 'nan_guard', 'console_logger',
    'tensorboard_logger', 'model_saver', 'best_model_saver', 'early_stopper')

SUPPORTED_ITERATION_GENERATORS = {
    'iteration_generator':
        'niftydrive.engine.application_iteration.IterationMessageGenerator',
}

SUPPORTED_OPTIMIZERS = {
    'adam': 'niftydrive.engine.application_optimiser.Adam',
    'gradientdescent': 'niftydrive.engine.application_optimiser.GradientDescent',
    'momentum': 'niftydrive.engine.application_optimiser.Momentum',
    'nesterov': 'niftydrive.engine.application_optimiser.NesterovMomentum',
    'adagrad': 'niftydrive.engine.application_optimiser.Adagrad',
    'rmsprop': 'niftydrive.engine.application_optimiser.RMSProp',
}

SUPPORTED_LOSS_SEGMENTATION = {
    'Dice': 'niftydrive.layer.loss_segmentation.dice',
    'CrossEntropy': 'niftydrive.layer.loss_segmentation.cross_entropy',
    'DicePlusXEnt': 'niftydrive.layer.loss_segmentation.dice_plus_xent_loss',
    'GDSC': 'niftydrive.layer.loss_segmentation.generalised_dice_loss',
    'Dice_NS': 'niftydrive.layer.loss_segmentation.dice_nosquare',
    'SensSpec':
        'niftydrive.layer.loss_segmentation.sensitivity_specificity_loss',
    'Dice_Dense': 'niftydrive.layer.loss_segmentation.dice_dense',
    'Dice_Dense_NS': 'niftydrive.layer.loss_segmentation.dice_dense_nosquare',
    'CrossEntropy_Dense':
        'niftydrive.layer.loss_segmentation.cross_entropy_dense',
    'Tversky': 'niftydrive.layer.loss_segmentation.tversky',
    'WGDL': 'niftydrive.layer.loss_segmentation.'
            'generalised_wasserstein_dice_loss',
}

SUPPORTED_LOSS_REGRESSION = {
    'L1Loss': 'niftydrive.layer.loss_regression.l1_loss',
    'L2Loss': 'niftydrive.layer.loss_regression.l2_loss',
    'RMSE': 'niftydrive.layer.loss_regression.rmse_loss',
    'MAE': 'niftydrive.layer.loss_regression.mae_loss',
    'Huber': 'niftydrive.layer.loss_regression.huber_loss',
}

SUPPORTED_LOSS_CLASSIFICATION = {
    'CrossEntropy': 'niftydrive.layer.loss_classification.cross_entropy',
}

SUPPORTED_LOSS_AUTOENCODER = {
    'VariationalLowerBound':
        'niftydrive.layer.loss_autoencoder.variational_lower_bound',
}

SUPPORTED_LOSS_GAN = {
    'CrossEntropy': 'niftydrive.layer.loss_gan.cross_entropy',
}

_SEG_EVAL = 'niftydrive.evaluation.segmentation_evaluations.'
_REG_EVAL = 'niftydrive.evaluation.regression_evaluations.'

# NiftyNet's metric names, plus common aliases (recall, precision, ppv...).
SUPPORTED_EVALUATIONS = dict(
    [(name, _SEG_EVAL + name) for name in (
        'dice', 'Dice', 'jaccard', 'Jaccard', 'n_pos_ref', 'n_neg_ref', 'n_pos_seg',
        'n_neg_seg', 'fp', 'fn', 'tp', 'tn', 'n_intersection', 'n_union', 'specificity',
        'sensitivity', 'accuracy', 'false_positive_rate', 'false_negative_rate',
        'positive_predictive_values', 'negative_predictive_values',
        'intersection_over_union', 'informedness', 'markedness', 'vol_diff',
        'average_distance', 'hausdorff_distance', 'hausdorff95_distance',
        'connected_elements')] +
    [(alias, _SEG_EVAL + name) for alias, name in (
        ('recall', 'sensitivity'), ('precision', 'positive_predictive_values'),
        ('ppv', 'positive_predictive_values'), ('npv', 'negative_predictive_values'),
        ('fpr', 'false_positive_rate'), ('fnr', 'false_negative_rate'),
        ('IoU', 'jaccard'), ('ave_dist', 'average_distance'),
        ('haus_dist', 'hausdorff_distance'), ('hausdorff95', 'hausdorff95_distance'))] +
    [(name, _REG_EVAL + name) for name in ('mse', 'rmse', 'mae')])

_CLS_EVAL = 'niftydrive.evaluation.classification_evaluations.'

# Metrics whose names a kind of evaluator reads its own way (classification's
# ``accuracy`` is over subjects, segmentation's over voxels).
SUPPORTED_EVALUATIONS_BY_KIND = {
    'classification': dict((name, _CLS_EVAL + name) for name in (
        'accuracy', 'confusion_matrix', 'roc_auc')),
}


def _import_by_path(dotted_path, kind):
    """Import ``package.module.Name`` and return ``Name``."""
    module_name, _, attribute = dotted_path.rpartition('.')
    if not module_name:
        raise UserInputError('Could not import {} "{}": not a dotted path '
                             '(package.module.Name)'.format(kind, dotted_path))
    if module_name.split('.')[0] == 'niftynet':
        # NiftyNet configs name NiftyNet's modules; ours mirror them
        module_name = 'niftydrive' + module_name[len('niftynet'):]
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise UserInputError('Could not import {} "{}": {}'.format(
            kind, dotted_path, error)) from error
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise UserInputError('Could not import {} "{}": module {} has no {}'.format(
            kind, dotted_path, module_name, attribute)) from None


class ModuleFactory(object):
    """Base factory: a short name from ``SUPPORTED`` or a dotted path."""

    SUPPORTED = {}
    type_str = 'object'
    case_sensitive = True

    @classmethod
    def _key(cls, name):
        if cls.case_sensitive:
            return name
        return {key.lower(): key for key in cls.SUPPORTED}.get(name.lower(), name)

    @classmethod
    def create(cls, name):
        """The class (or function) called ``name``; ``UserInputError`` if none."""
        if not isinstance(name, str) or not name.strip():
            raise UserInputError('Could not import {}: no name given ({!r})'.format(
                cls.type_str, name))
        name = name.strip()
        key = cls._key(name)
        if key in cls.SUPPORTED:
            return _import_by_path(cls.SUPPORTED[key], cls.type_str)
        if '.' in name:
            return _import_by_path(name, cls.type_str)
        suggestion = closest_match(name, list(cls.SUPPORTED))
        hint = ('did you mean "{}"?'.format(suggestion) if suggestion else
                'known names: {}.'.format(', '.join(sorted(cls.SUPPORTED))))
        raise UserInputError(
            'Could not import {} "{}": not a known name or a dotted import '
            'path; {}'.format(cls.type_str, name, hint))


class ApplicationFactory(ModuleFactory):
    """Applications (``BaseApplication`` subclasses)."""

    SUPPORTED = SUPPORTED_APP
    type_str = 'application'

    @classmethod
    def create(cls, name):
        if isinstance(name, str) and name.strip() in NIFTYNET_APPS_NOT_AVAILABLE:
            raise UserInputError(
                'application "{}" (NiftyNet\'s {} application) is not available '
                'in niftydrive yet; available: {}'.format(
                    name.strip(), NIFTYNET_APPS_NOT_AVAILABLE[name.strip()],
                    ', '.join(sorted(SUPPORTED_APP))))
        app_class = super(ApplicationFactory, cls).create(name)
        from niftydrive.application.base_application import BaseApplication
        if not (isinstance(app_class, type) and
                issubclass(app_class, BaseApplication)):
            raise UserInputError(
                'application "{}" is not a subclass of niftydrive.application.'
                'base_application.BaseApplication; an application must '
                'subclass it'.format(name))
        return app_class


class ApplicationNetFactory(ModuleFactory):
    """Networks (``BaseNet`` subclasses)."""

    SUPPORTED = SUPPORTED_NETWORK
    type_str = 'network'
    case_sensitive = False


class OptimiserFactory(ModuleFactory):
    """Optimisers: classes with a static ``get_instance(learning_rate)``."""

    SUPPORTED = SUPPORTED_OPTIMIZERS
    type_str = 'optimiser'
    case_sensitive = False


class LossSegmentationFactory(ModuleFactory):
    """Segmentation loss functions."""

    SUPPORTED = SUPPORTED_LOSS_SEGMENTATION
    type_str = 'segmentation loss'


class LossRegressionFactory(ModuleFactory):
    """Regression loss functions."""

    SUPPORTED = SUPPORTED_LOSS_REGRESSION
    type_str = 'regression loss'


class EventHandlerFactory(ModuleFactory):
    """Event handlers (``[SYSTEM] event_handler``): classes constructed with
    the driver's settings as keyword arguments."""

    SUPPORTED = SUPPORTED_EVENT_HANDLERS
    type_str = 'event handler'


class IteratorFactory(ModuleFactory):
    """Iteration generators (``[SYSTEM] iteration_generator``)."""

    SUPPORTED = SUPPORTED_ITERATION_GENERATORS
    type_str = 'iteration generator'


class LossGANFactory(ModuleFactory):
    """GAN loss functions."""

    SUPPORTED = SUPPORTED_LOSS_GAN
    type_str = 'GAN loss'


class LossAutoencoderFactory(ModuleFactory):
    """Autoencoder loss functions."""

    SUPPORTED = SUPPORTED_LOSS_AUTOENCODER
    type_str = 'autoencoder loss'


class LossClassificationFactory(ModuleFactory):
    """Classification loss functions."""

    SUPPORTED = SUPPORTED_LOSS_CLASSIFICATION
    type_str = 'classification loss'


class EvaluationFactory(ModuleFactory):
    """Evaluation metrics (``BaseEvaluation`` subclasses); names in any case."""

    SUPPORTED = SUPPORTED_EVALUATIONS
    type_str = 'evaluation'
    case_sensitive = False


class InitializerFactory(object):
    """Weight initialisers by name, with optional arguments."""

    @staticmethod
    def _builders():
        return {
            'constant': lambda args: tf.constant_initializer(
                float(args.get('value', 0.0))),
            'zeros': lambda args: tf.zeros_initializer(),
            'ones': lambda args: tf.ones_initializer(),
            'uniform_scaling': lambda args: tf.uniform_unit_scaling_initializer(
                factor=float(args.get('factor', 1.0))),
            'orthogonal': lambda args: tf.orthogonal_initializer(
                gain=float(args.get('gain', 1.0))),
            'variance_scaling': lambda args: tf.variance_scaling_initializer(
                scale=float(args.get('scale', 1.0)),
                mode=args.get('mode', 'fan_in'),
                distribution=args.get('distribution', 'truncated_normal')),
            'glorot_normal': lambda args: tf.glorot_normal_initializer(),
            'glorot_uniform': lambda args: tf.glorot_uniform_initializer(),
            'he_normal': lambda args: tf.variance_scaling_initializer(
                scale=2.0, mode='fan_in', distribution='truncated_normal'),
            'he_uniform': lambda args: tf.variance_scaling_initializer(
                scale=2.0, mode='fan_in', distribution='uniform'),
        }

    @staticmethod
    def get_initializer(name, args=None):
        """A TF initialiser; unknown names raise ``UserInputError``."""
        builders = InitializerFactory._builders()
        if name not in builders:
            suggestion = closest_match(name, list(builders))
            raise UserInputError('Could not import initializer "{}"{}'.format(
                name, '; did you mean "{}"?'.format(suggestion) if suggestion
                else '; known: ' + ', '.join(sorted(builders))))
        return builders[name](args or {})
