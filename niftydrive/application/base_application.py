"""The interface every application implements for ``ApplicationDriver``."""
import logging

import tensorflow.compat.v1 as tf

from niftydrive.engine.application_optimiser import prepare_gradients
from niftydrive.utilities.errors import UserInputError
from niftydrive.utilities.util_common import list_depth_count, traverse_nested

TRAIN = 'train'
INFER = 'inference'
EVAL = 'evaluation'
SUPPORTED_ACTIONS = (TRAIN, INFER, EVAL)

LOGGER = logging.getLogger(__name__)


def resolve_action(value):
    """The full action name for ``value`` (a prefix such as ``infer`` works);
    ``UserInputError`` when it names no action or more than one."""
    matches = [name for name in SUPPORTED_ACTIONS
               if value and name.startswith(str(value).lower())]
    if len(matches) != 1:
        raise UserInputError('unknown action "{}": expected one of {}'.format(
            value, ', '.join(SUPPORTED_ACTIONS)))
    return matches[0]


def training_or_validation_batch(samplers, is_validation):
    """A batch of ``samplers[0]``, or of ``samplers[1]`` (the validation
    sampler, when there is one) while ``is_validation`` is True."""
    if len(samplers) > 1:
        return tf.cond(tf.logical_not(is_validation),
                       lambda: samplers[0].pop_batch_op(),
                       lambda: samplers[1].pop_batch_op())
    return samplers[0].pop_batch_op()


class SingletonApplication(type):
    """Metaclass: one instance of each application class per process.

    ``AppClass.clear()`` forgets the instance so the next call builds a new
    one (the driver does this before creating an application).
    """

    _instances = {}

    def __call__(cls, *args, **kwargs):
        if cls not in SingletonApplication._instances:
            SingletonApplication._instances[cls] = \
                super(SingletonApplication, cls).__call__(*args, **kwargs)
        return SingletonApplication._instances[cls]

    def clear(cls):
        """Forget this class's instance."""
        SingletonApplication._instances.pop(cls, None)

    @staticmethod
    def clear_all():
        """Forget every application instance."""
        SingletonApplication._instances.clear()


class BaseApplication(metaclass=SingletonApplication):
    """An application: data loading, sampling, the network and its outputs.

    The driver calls, in order: ``initialise_dataset_loader``,
    ``initialise_sampler`` (inside the graph), ``initialise_network``,
    ``add_validation_flag``, ``connect_data_and_network`` once per tower,
    ``set_network_gradient_op`` (training), then per iteration
    ``set_iteration_update`` and ``interpret_output``, and ``stop`` at the end.
    """

    #: the config section holding the application's own parameters
    REQUIRED_CONFIG_SECTION = None

    def __init__(self, net_param=None, action_param=None, action=TRAIN):
        self.net_param = net_param
        self.action_param = action_param
        self.action = action
        self.readers = None
        self.sampler = None
        self.net = None
        self.optimiser = None
        self.gradient_op = None
        self.output_decoder = None
        self.is_validation = None

    @property
    def action(self):
        """``TRAIN``, ``INFER`` or ``EVAL``."""
        return self._action

    @action.setter
    def action(self, value):
        self._action = resolve_action(value)

    @property
    def is_training(self):
        """True when the action is training."""
        return self._action == TRAIN

    @property
    def is_inference(self):
        """True when the action is inference."""
        return self._action == INFER

    @property
    def is_evaluation(self):
        """True when the action is evaluation."""
        return self._action == EVAL

    def initialise_dataset_loader(self, data_param=None, task_param=None,
                                  data_partitioner=None):
        """Set up readers from the input sections and the data split."""
        raise NotImplementedError(self._missing_hook('initialise_dataset_loader'))

    def initialise_sampler(self):
        """Create ``self.sampler``: a nested list of samplers."""
        raise NotImplementedError(self._missing_hook('initialise_sampler'))

    def initialise_aggregator(self):
        """Create ``self.output_decoder`` for inference outputs."""
        raise NotImplementedError(self._missing_hook('initialise_aggregator'))

    def initialise_network(self):
        """Create ``self.net``."""
        raise NotImplementedError(self._missing_hook('initialise_network'))

    def connect_data_and_network(self, outputs_collector=None,
                                 gradients_collector=None):
        """Build one tower: inputs, network, loss, gradients, outputs."""
        raise NotImplementedError(self._missing_hook('connect_data_and_network'))

    def interpret_output(self, batch_output):
        """Use one iteration's ``NETWORK_OUTPUT`` values; False ends inference."""
        raise NotImplementedError(self._missing_hook('interpret_output'))

    def _missing_hook(self, hook):
        return '{}.{}() is not implemented: a BaseApplication subclass must ' \
            'define it (the driver calls it)'.format(type(self).__name__, hook)

    def initialise_evaluator(self, eval_param):
        """Create ``self.evaluator`` from the [EVALUATION] parameters."""
        raise NotImplementedError

    def evaluate(self):
        """Run the ``evaluation`` action (applications that support it)."""
        raise UserInputError('application {} has no evaluation action'.format(
            type(self).__name__))

    def set_network_gradient_op(self, gradients):
        """Build ``self.gradient_op`` from the tower-averaged gradients.

        ``self.optimiser`` is one optimiser and ``gradients`` a list of
        ``(grad, var)``, or both are lists (one entry per optimiser).
        ``[TRAINING] vars_to_freeze`` and ``gradient_clipping`` apply to
        each optimiser's gradients.
        """
        if list_depth_count(gradients) > 2:
            optimisers = self.optimiser if isinstance(self.optimiser, (list, tuple)) \
                else [self.optimiser] * len(gradients)
            if len(optimisers) != len(gradients):
                raise ValueError('{} optimisers for {} gradient lists'.format(
                    len(optimisers), len(gradients)))
            gradients = prepare_gradients(gradients, self.action_param)
            # every gradient is computed before any optimiser writes: otherwise one
            # network's update could race another's backward pass through it (a GAN's
            # generator gradient reads the discriminator's weights), making the
            # losses depend on thread scheduling
            computed = [grad.op for grads in gradients for grad, _ in grads if grad is not None]
            with tf.control_dependencies(computed):
                self.gradient_op = [optimiser.apply_gradients(grads)
                                    for optimiser, grads in zip(optimisers, gradients)]
        else:
            gradients = prepare_gradients([gradients], self.action_param)[0]
            self.gradient_op = self.optimiser.apply_gradients(gradients)

    def add_validation_flag(self):
        """Create ``self.is_validation``: a boolean placeholder, False by default."""
        self.is_validation = tf.placeholder_with_default(
            False, [], name='is_validation')

    def set_iteration_update(self, iteration_message):
        """Adjust an iteration before it runs: feed ``is_validation``."""
        if self.is_validation is not None and not iteration_message.is_inference:
            iteration_message.data_feed_dict[self.is_validation] = \
                iteration_message.is_validation

    def get_sampler(self):
        """The samplers whose threads the driver starts."""
        return self.sampler

    def stop(self):
        """Close every sampler's queue and join its threads."""
        for sampler in traverse_nested(self.get_sampler() or []):
            if sampler is not None and hasattr(sampler, 'close_all'):
                sampler.close_all()

    def check_initialisations(self):
        """Fail early when the network was not created."""
        if self.net is None:
            raise NotImplementedError(
                '{}.initialise_network() did not set self.net'.format(
                    type(self).__name__))
