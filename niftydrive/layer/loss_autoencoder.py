"""Autoencoder losses (NiftyNet's ``loss_autoencoder``)."""
import numpy as np
import tensorflow.compat.v1 as tf

from niftydrive.layer.base_layer import Layer
from niftydrive.utilities.util_common import look_up_operations


def variational_lower_bound(prediction):
    """The negative evidence lower bound of a VAE, averaged over the batch:
    the Gaussian negative log-likelihood of the images
    ``0.5 sum(logvar + log(2 pi) + (x - mean)^2 / exp(logvar))`` plus the
    KL divergence of the posterior from the standard normal prior
    ``-0.5 sum(1 + logvar_z - mean_z^2 - exp(logvar_z))``.  ``prediction``
    is the VAE's output list (its first five entries are used)."""
    posterior_means, posterior_logvars, data_means, data_logvars, \
        originals = prediction[:5]
    batch = tf.shape(originals)[0]

    def _per_sample_sum(tensor):
        return tf.reduce_sum(tf.reshape(tensor, tf.stack([batch, -1])), 1)

    negative_log_likelihood = 0.5 * _per_sample_sum(
        data_logvars + np.log(2.0 * np.pi) +
        tf.exp(-data_logvars) * tf.square(tf.cast(originals, tf.float32) -
                                          data_means))
    kl_divergence = -0.5 * _per_sample_sum(
        1.0 + posterior_logvars - tf.square(posterior_means) -
        tf.exp(posterior_logvars))
    return tf.reduce_mean(negative_log_likelihood + kl_divergence)


SUPPORTED_LOSS = {'VariationalLowerBound': variational_lower_bound}


class LossFunction(Layer):
    """The autoencoder loss as a layer: ``loss(prediction)`` with the
    network's output list."""

    def __init__(self, loss_type='VariationalLowerBound',
                 loss_func_params=None, name='loss_function'):
        super(LossFunction, self).__init__(name=name)
        self._data_loss_func = look_up_operations(
            loss_type, SUPPORTED_LOSS, 'autoencoder loss_type')
        self._loss_func_params = dict(loss_func_params or {})

    def layer_op(self, prediction):
        """The loss (a scalar tensor)."""
        return self._data_loss_func(prediction, **self._loss_func_params)
