"""Optimisers by name: each class builds a TF1 optimiser for a learning rate."""
import tensorflow.compat.v1 as tf


class Adam(object):
    """Adam (Kingma and Ba, 2015)."""

    @staticmethod
    def get_instance(learning_rate):
        """A ``tf.train.AdamOptimizer``."""
        return tf.train.AdamOptimizer(learning_rate=learning_rate, beta1=0.9,
                                      beta2=0.999, epsilon=1e-8)


class GradientDescent(object):
    """Plain stochastic gradient descent."""

    @staticmethod
    def get_instance(learning_rate):
        """A ``tf.train.GradientDescentOptimizer``."""
        return tf.train.GradientDescentOptimizer(learning_rate=learning_rate)


class Momentum(object):
    """Gradient descent with momentum 0.9."""

    @staticmethod
    def get_instance(learning_rate):
        """A ``tf.train.MomentumOptimizer``."""
        return tf.train.MomentumOptimizer(learning_rate=learning_rate,
                                          momentum=0.9)


class NesterovMomentum(object):
    """Gradient descent with Nesterov momentum 0.9."""

    @staticmethod
    def get_instance(learning_rate):
        """A ``tf.train.MomentumOptimizer`` with ``use_nesterov=True``."""
        return tf.train.MomentumOptimizer(learning_rate=learning_rate,
                                          momentum=0.9, use_nesterov=True)


class Adagrad(object):
    """Adagrad."""

    @staticmethod
    def get_instance(learning_rate):
        """A ``tf.train.AdagradOptimizer``."""
        return tf.train.AdagradOptimizer(learning_rate=learning_rate)


class RMSProp(object):
    """RMSProp."""

    @staticmethod
    def get_instance(learning_rate):
        """A ``tf.train.RMSPropOptimizer``."""
        return tf.train.RMSPropOptimizer(learning_rate=learning_rate)
