"""Group normalisation (Wu and He, 2018)."""
import tensorflow.compat.v1 as tf

from niftydrive.layer.base_layer import TrainableLayer


class GNLayer(TrainableLayer):
    """Normalise each sample over its spatial axes and groups of
    ``C / group`` channels (``group`` is capped at the channel count and
    must divide it), then scale by ``gamma`` (init 1) and shift by ``beta``
    (init 0), one per channel."""

    def __init__(self, group=32, regularizer=None, eps=1e-5,
                 name='group_norm'):
        super(GNLayer, self).__init__(name=name)
        self.group = int(group)
        self.eps = eps
        self.initializers = {'beta': tf.constant_initializer(0.0),
                             'gamma': tf.constant_initializer(1.0)}
        self.regularizers = {'beta': regularizer, 'gamma': regularizer}

    def layer_op(self, inputs, use_local_stats=False):
        """Normalise ``inputs`` (``use_local_stats`` is accepted for
        NiftyNet compatibility: group norm always uses the sample's own
        statistics)."""
        shape = inputs.shape.as_list()
        n_chns = shape[-1]
        group = min(self.group, n_chns)
        if n_chns % group:
            raise ValueError('GNLayer: {} channels cannot be split into {} '
                             'groups'.format(n_chns, group))
        dynamic = tf.shape(inputs)
        grouped = tf.reshape(inputs, tf.concat(
            [dynamic[:-1], [group, n_chns // group]], axis=0))
        rank = len(shape)
        axes = list(range(1, rank - 1)) + [rank]
        mean, variance = tf.nn.moments(grouped, axes, keepdims=True)
        normalised = tf.reshape((grouped - mean) * tf.rsqrt(variance + self.eps),
                                dynamic)
        params_shape = [1] * (rank - 1) + [n_chns]
        beta = tf.get_variable('beta', shape=params_shape,
                               initializer=self.initializers['beta'],
                               regularizer=self.regularizers['beta'])
        gamma = tf.get_variable('gamma', shape=params_shape,
                                initializer=self.initializers['gamma'],
                                regularizer=self.regularizers['gamma'])
        output = normalised * gamma + beta
        output.set_shape(inputs.shape)
        return output
