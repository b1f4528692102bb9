"""Batch normalisation and instance normalisation layers."""
import tensorflow.compat.v1 as tf
from tensorflow.python.training import moving_averages

from niftydrive.layer.base_layer import TrainableLayer

# the driver runs these (from the last tower) before applying gradients
BN_COLLECTION = tf.GraphKeys.UPDATE_OPS


def _is_python_bool(value):
    return isinstance(value, bool) or value is None


class BNLayer(TrainableLayer):
    """Batch normalisation over every axis but the last (channels).

    Called as ``bn(inputs, is_training)``.  In training the batch mean and
    variance normalise the input and ops that update ``moving_mean`` and
    ``moving_variance`` (``moving = decay * moving + (1 - decay) * batch``)
    are added to ``BN_COLLECTION``; in inference the moving statistics are
    used.  ``is_training`` may be a Python bool or a boolean tensor; with a
    tensor the update ops leave the moving statistics unchanged when it is
    False.  ``use_local_stats=True`` normalises with batch statistics without
    updating the moving ones.
    """

    def __init__(self, regularizer=None, moving_decay=0.9, eps=1e-5,
                 name='bn'):
        super(BNLayer, self).__init__(name=name, regularizer=regularizer)
        self.moving_decay = moving_decay
        self.eps = eps
        self.initializers = {
            'beta': tf.constant_initializer(0.0),
            'gamma': tf.constant_initializer(1.0),
            'moving_mean': tf.constant_initializer(0.0),
            'moving_variance': tf.constant_initializer(1.0)}
        self.regularizers = {'beta': regularizer, 'gamma': regularizer}

    def layer_op(self, inputs, is_training, use_local_stats=False):
        """Normalise ``inputs``; see the class docstring."""
        if is_training is None:
            raise ValueError(
                'BNLayer "{}" needs is_training (a bool or a boolean '
                'tensor) when called'.format(self.name))
        params_shape = inputs.shape[-1:]
        axes = list(range(inputs.shape.ndims - 1))
        beta = tf.get_variable(
            'beta', shape=params_shape, initializer=self.initializers['beta'],
            regularizer=self.regularizers['beta'], dtype=tf.float32)
        gamma = tf.get_variable(
            'gamma', shape=params_shape,
            initializer=self.initializers['gamma'],
            regularizer=self.regularizers['gamma'], dtype=tf.float32)
        stats_collections = [tf.GraphKeys.GLOBAL_VARIABLES,
                             tf.GraphKeys.MOVING_AVERAGE_VARIABLES]
        moving_mean = tf.get_variable(
            'moving_mean', shape=params_shape,
            initializer=self.initializers['moving_mean'], trainable=False,
            collections=stats_collections, dtype=tf.float32)
        moving_variance = tf.get_variable(
            'moving_variance', shape=params_shape,
            initializer=self.initializers['moving_variance'],
            trainable=False, collections=stats_collections, dtype=tf.float32)

        mean, variance = tf.nn.moments(inputs, axes)

        if _is_python_bool(is_training):
            if is_training:
                self._add_update_ops(moving_mean, moving_variance, mean,
                                     variance, self.moving_decay)
            if is_training or use_local_stats:
                use_mean, use_variance = mean, variance
            else:
                use_mean, use_variance = moving_mean, moving_variance
        else:
            # decay 1.0 leaves the moving statistics as they are
            decay = tf.where(is_training, self.moving_decay, 1.0)
            self._add_update_ops(moving_mean, moving_variance, mean,
                                 variance, decay)
            if use_local_stats:
                use_mean, use_variance = mean, variance
            else:
                use_mean, use_variance = tf.cond(
                    is_training,
                    lambda: (mean, variance),
                    lambda: (tf.identity(moving_mean),
                             tf.identity(moving_variance)))
        return tf.nn.batch_normalization(
            inputs, use_mean, use_variance, beta, gamma, self.eps,
            name='batch_norm')

    @staticmethod
    def _add_update_ops(moving_mean, moving_variance, mean, variance, decay):
        update_mean = moving_averages.assign_moving_average(
            moving_mean, mean, decay, zero_debias=False)
        update_variance = moving_averages.assign_moving_average(
            moving_variance, variance, decay, zero_debias=False)
        tf.add_to_collection(BN_COLLECTION, update_mean)
        tf.add_to_collection(BN_COLLECTION, update_variance)


class InstanceNormLayer(TrainableLayer):
    """Instance normalisation: each sample and channel is normalised over
    its spatial axes, then scaled by ``gamma`` and shifted by ``beta``."""

    def __init__(self, eps=1e-6, gamma_initializer=None,
                 name='instance_norm'):
        super(InstanceNormLayer, self).__init__(name=name)
        self.eps = eps
        self.gamma_initializer = (gamma_initializer or
                                  tf.constant_initializer(1.0))

    def layer_op(self, inputs, is_training=None):
        """Normalise ``inputs`` (``is_training`` is accepted and ignored so
        the layer can replace a ``BNLayer``)."""
        params_shape = inputs.shape[-1:]
        axes = list(range(1, inputs.shape.ndims - 1))
        beta = tf.get_variable('beta', shape=params_shape,
                               initializer=tf.constant_initializer(0.0))
        gamma = tf.get_variable('gamma', shape=params_shape,
                                initializer=self.gamma_initializer)
        mean, variance = tf.nn.moments(inputs, axes, keepdims=True)
        return tf.nn.batch_normalization(
            inputs, mean, variance, beta, gamma, self.eps,
            name='instance_norm')
