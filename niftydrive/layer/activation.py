"""Element-wise activation functions (and dropout) as a layer."""
import tensorflow.compat.v1 as tf

from niftydrive.layer.base_layer import TrainableLayer
from niftydrive.utilities.errors import UserInputError
from niftydrive.utilities.util_common import look_up_operations

LEAKY_RELU_ALPHA = 0.01


def prelu(features, alpha):
    """Parametric ReLU: ``x`` for ``x >= 0``, ``alpha * x`` otherwise."""
    return tf.nn.relu(features) + alpha * (features - tf.abs(features)) * 0.5


def leaky_relu(features, alpha=LEAKY_RELU_ALPHA):
    """ReLU with slope ``alpha`` for negative inputs."""
    return tf.maximum(alpha * features, features)


def selu(features):
    """Scaled exponential linear unit (Klambauer et al. 2017)."""
    return tf.nn.selu(features)


def dropout(features, keep_prob):
    """Dropout keeping each element with probability ``keep_prob``."""
    return tf.nn.dropout(features, rate=1.0 - keep_prob)


SUPPORTED_OP = {
    'relu': tf.nn.relu,
    'relu6': tf.nn.relu6,
    'elu': tf.nn.elu,
    'softplus': tf.nn.softplus,
    'softsign': tf.nn.softsign,
    'sigmoid': tf.nn.sigmoid,
    'tanh': tf.nn.tanh,
    'prelu': prelu,
    'selu': selu,
    'leakyrelu': leaky_relu,
    'dropout': dropout,
}


class ActiLayer(TrainableLayer):
    """Apply the activation named ``func`` (one of ``SUPPORTED_OP``).

    ``prelu`` owns a trainable per-channel slope ``alpha`` (initialised to 0,
    so it starts as a ReLU); ``dropout`` needs ``keep_prob`` at call time.
    The variable scope is ``<func>_<name>``, e.g. ``prelu_acti_``.
    """

    def __init__(self, func, regularizer=None, name='activation'):
        if not isinstance(func, str):
            raise ValueError(
                'activation function name must be a string, got {!r}'.format(
                    func))
        self.func = func.lower()
        try:
            self._op_fn = look_up_operations(self.func, SUPPORTED_OP)
        except UserInputError as error:
            raise UserInputError(
                'activation function: {}'.format(error)) from None
        self.layer_name = '{}_{}'.format(self.func, name)
        super(ActiLayer, self).__init__(name=self.layer_name,
                                        regularizer=regularizer)
        self.initializers = {'alpha': tf.constant_initializer(0.0)}
        self.regularizers = {'alpha': regularizer}

    def layer_op(self, input_tensor, keep_prob=None):
        """Activate ``input_tensor``; ``keep_prob`` is used by dropout only."""
        if self.func == 'prelu':
            alpha = tf.get_variable(
                'alpha', shape=input_tensor.shape[-1:],
                initializer=self.initializers['alpha'],
                regularizer=self.regularizers['alpha'])
            return prelu(input_tensor, alpha)
        if self.func == 'dropout':
            if keep_prob is None:
                raise ValueError(
                    'ActiLayer(func="dropout") needs keep_prob '
                    '(probability of keeping an element) when called')
            return dropout(input_tensor, keep_prob)
        return self._op_fn(input_tensor)
