"""Image smoothing by separable 1-D kernels (not trainable)."""
import numpy as np
import tensorflow.compat.v1 as tf

from niftydrive.layer.base_layer import Layer
from niftydrive.layer.layer_util import infer_spatial_rank
from niftydrive.utilities.util_common import look_up_operations


def _kernel_support(sigma, truncated):
    tail = int(sigma * truncated + 0.5)
    return np.arange(-tail, tail + 1, dtype=np.float64)


def gaussian_1d(sigma, truncated=3.0):
    """Normalised Gaussian kernel truncated at ``truncated`` sigmas (a
    constant 0 when ``sigma <= 0``)."""
    if sigma <= 0:
        return tf.constant(0.0)
    positions = _kernel_support(sigma, truncated)
    kernel = np.exp(-0.5 * np.square(positions / sigma))
    return tf.constant(kernel / kernel.sum(), dtype=tf.float32)


def cauchy_1d(sigma, truncated=5.0):
    """Normalised Cauchy kernel ``1 / (1 + (x / sigma)^2)`` truncated at
    ``truncated`` sigmas (a constant 0 when ``sigma <= 0``)."""
    if sigma <= 0:
        return tf.constant(0.0)
    positions = _kernel_support(sigma, truncated)
    kernel = 1.0 / (1.0 + np.square(positions / sigma))
    return tf.constant(kernel / kernel.sum(), dtype=tf.float32)


SUPPORTED_KERNELS = {'gaussian': gaussian_1d, 'cauchy': cauchy_1d}


def _per_dimension(value, rank):
    values = np.atleast_1d(np.asarray(value, dtype=np.float64)).tolist()
    if len(values) == 1:
        values = values * rank
    if len(values) != rank:
        raise ValueError('{!r} does not match the {} spatial dimensions of '
                         'the input'.format(value, rank))
    return values


class SmoothingLayer(Layer):
    """Smooth each channel of ``[batch, x(, y, z), channels]`` with a 1-D
    kernel (``type_str`` 'gaussian' or 'cauchy', width ``sigma`` voxels,
    truncated at ``truncate`` sigmas) along every spatial dimension, 'SAME'
    (zero) padding.  ``sigma`` and ``truncate`` are a number or one per
    dimension; when any sigma is 0 the image is returned unchanged."""

    def __init__(self, sigma=1, truncate=3.0, type_str='gaussian'):
        super(SmoothingLayer, self).__init__(name='approximated_smoothing')
        self.kernel_func = look_up_operations(
            str(type_str).lower(), SUPPORTED_KERNELS, 'smoothing kernel')
        self.sigma = sigma
        self.truncate = truncate

    def layer_op(self, image):
        """The smoothed image."""
        rank = infer_spatial_rank(image)
        sigmas = _per_dimension(self.sigma, rank)
        truncates = _per_dimension(self.truncate, rank)
        if not all(sigmas):
            return image
        n_chns = image.shape.as_list()[-1]
        # channels become batch entries so one single-channel kernel works
        perm = [rank + 1] + list(range(rank + 1))
        flow = tf.expand_dims(tf.transpose(image, perm), -1)
        flow = tf.reshape(flow, tf.concat(
            [[-1], tf.shape(flow)[2:]], axis=0))
        for dim in range(rank):
            kernel_shape = [1] * (rank + 2)
            kernel_shape[dim] = -1
            kernel = tf.reshape(
                self.kernel_func(sigma=sigmas[dim], truncated=truncates[dim]),
                kernel_shape)
            flow = tf.nn.convolution(flow, kernel, padding='SAME')
        shape = tf.shape(image)
        flow = tf.reshape(flow, tf.concat(
            [[n_chns, shape[0]], shape[1:-1], [1]], axis=0))
        inverse = list(range(1, rank + 2)) + [0]
        smoothed = tf.squeeze(tf.transpose(flow, inverse + [rank + 2]),
                              axis=-1)
        smoothed.set_shape(image.shape)
        return smoothed
