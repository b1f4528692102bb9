"""Dense CRF as a recurrent network (Zheng et al., "Conditional random
fields as recurrent neural networks", ICCV 2015) for N-D images, with the
bilateral and spatial Gaussian kernels of Krahenbuhl and Koltun (2011).

NiftyNet filters with a permutohedral lattice (an approximation of the
Gaussian filters, CPU only).  This layer computes the filters exactly:
the spatial kernel as separable 1-D convolutions and the bilateral kernel
as an explicit sum over all voxel pairs, in blocks of rows.  The bilateral
cost grows with the square of the number of voxels per image, so it suits
the small windows CRF refinement is usually trained on; larger inputs are
refused with a message rather than exhausting memory.
"""
import numpy as np
import tensorflow.compat.v1 as tf

from niftydrive.layer.base_layer import TrainableLayer
from niftydrive.layer.layer_util import infer_spatial_rank

# pairwise bilateral filtering of one image: at most this many voxels
MAX_BILATERAL_VOXELS = 32 ** 3
_ROWS_PER_BLOCK = 1024


def _spatial_filter(values, bandwidths):
    """Normalised Gaussian filter of ``values`` ``[batch, spatial...,
    channels]`` with ``exp(-d^2 / (2 b^2))`` per dimension (``b`` in
    voxels), by separable convolutions; the sum over the kernel inside the
    image normalises each voxel."""
    rank = len(bandwidths)
    n_chns = values.shape.as_list()[-1]
    ones = tf.ones_like(values[..., :1])
    stacked = tf.concat([values, ones], axis=-1)
    flow = tf.expand_dims(tf.transpose(
        stacked, [rank + 1] + list(range(rank + 1))), -1)
    shape = tf.shape(flow)
    flow = tf.reshape(flow, tf.concat([[-1], shape[2:]], axis=0))
    for dim, bandwidth in enumerate(bandwidths):
        tail = max(int(np.ceil(3.0 * bandwidth)), 1)
        offsets = np.arange(-tail, tail + 1, dtype=np.float64)
        kernel = np.exp(-0.5 * np.square(offsets / bandwidth))
        kernel_shape = [1] * (rank + 2)
        kernel_shape[dim] = -1
        flow = tf.nn.convolution(
            flow, tf.constant(kernel.reshape(kernel_shape), tf.float32),
            padding='SAME')
    flow = tf.reshape(flow, shape)
    perm = list(range(1, rank + 2)) + [0, rank + 2]
    flow = tf.squeeze(tf.transpose(flow, perm), axis=-1)
    return flow[..., :n_chns] / flow[..., n_chns:]


def _bilateral_filter(features, values):
    """Normalised Gaussian filter ``sum_j k_ij v_j / sum_j k_ij`` with
    ``k_ij = exp(-|f_i - f_j|^2 / 2)`` for ``features`` ``[n, d]`` and
    ``values`` ``[n, c]`` of one image."""
    n_voxels = features.shape.as_list()[0]
    values = tf.concat([values, tf.ones_like(values[:, :1])], axis=-1)
    squared_norms = tf.reduce_sum(tf.square(features), axis=1)

    def _rows(start):
        rows = features[start:start + _ROWS_PER_BLOCK]
        distances = (tf.reduce_sum(tf.square(rows), axis=1, keepdims=True) -
                     2.0 * tf.matmul(rows, features, transpose_b=True) +
                     squared_norms[None, :])
        return tf.matmul(tf.exp(-0.5 * tf.maximum(distances, 0.0)), values)

    filtered = tf.concat([_rows(start) for start in
                          range(0, n_voxels, _ROWS_PER_BLOCK)], axis=0)
    return filtered[:, :-1] / filtered[:, -1:]


class CRFAsRNNLayer(TrainableLayer):
    """``crf(I, U)``: ``T`` mean-field iterations of a dense CRF whose unary
    potentials are the logits ``U`` ``[batch, spatial..., n_classes]`` and
    whose pairwise term compares voxels by position and by the features
    ``I`` ``[batch, spatial..., n_features]``; returns refined logits of
    ``U``'s shape.

    ``alpha``/``beta``: bandwidths of the bilateral kernel for positions (in
    voxels, scaled by ``aspect_ratio``) and features; ``gamma``: bandwidth
    of the spatial kernel.  Trainable: the compatibility matrix
    ``Compatibility`` (``mu_init``, default ``-identity``) and the kernel
    weights ``FilterWeights0`` (bilateral) and ``FilterWeights1`` (spatial),
    one per class (``w_init``, default ones).  Each iteration computes
    ``U - (w0 * Q_bilateral + w1 * Q_spatial) @ mu`` from the softmax of the
    previous logits.  Shapes must be known; at most
    ``MAX_BILATERAL_VOXELS`` voxels per image.
    """

    def __init__(self, alpha=5., beta=5., gamma=5., T=5, aspect_ratio=None,
                 mu_init=None, w_init=None, name='crf_as_rnn'):
        super(CRFAsRNNLayer, self).__init__(name=name)
        for what, value in (('alpha', alpha), ('beta', beta),
                            ('gamma', gamma)):
            if value <= 0:
                raise ValueError('CRFAsRNNLayer: {} must be positive, got '
                                 '{}'.format(what, value))
        self._alpha = float(alpha)
        self._beta = float(beta)
        self._gamma = float(gamma)
        self._T = int(T)
        self._aspect_ratio = aspect_ratio
        self._mu_init = mu_init
        self._w_init = w_init

    def _spacing(self, rank):
        spacing = np.ones(rank) if self._aspect_ratio is None else \
            np.broadcast_to(np.asarray(self._aspect_ratio, np.float64),
                            [rank])
        return spacing.astype(np.float64)

    def layer_op(self, I, U):  # noqa: E741  (NiftyNet's argument names)
        """Refined logits; see the class docstring."""
        rank = infer_spatial_rank(U)
        shape = U.shape.as_list()
        if any(size is None for size in shape) or \
                I.shape.as_list()[1:-1] != shape[1:-1]:
            raise ValueError(
                'CRFAsRNNLayer needs known spatial shapes, equal for the '
                'features {} and the logits {}'.format(I.shape, U.shape))
        n_voxels = int(np.prod(shape[1:-1]))
        if n_voxels > MAX_BILATERAL_VOXELS:
            raise ValueError(
                'CRFAsRNNLayer computes the bilateral filter exactly: at most '
                '{} voxels per image, got {} (window {})'.format(
                    MAX_BILATERAL_VOXELS, n_voxels, shape[1:-1]))
        n_classes = shape[-1]
        spacing = self._spacing(rank)
        mu_init = -np.eye(n_classes) if self._mu_init is None else \
            np.reshape(self._mu_init, [n_classes, n_classes])
        mu = tf.get_variable('Compatibility', initializer=tf.constant(
            mu_init, dtype=tf.float32))
        w_init = self._w_init if self._w_init is not None else \
            [np.ones(n_classes), np.ones(n_classes)]
        weights = [tf.get_variable('FilterWeights{}'.format(idx),
                                   initializer=tf.constant(
                                       np.reshape(w_init[idx], [n_classes]),
                                       dtype=tf.float32))
                   for idx in range(2)]

        grid = np.stack(np.meshgrid(
            *[np.arange(size) * step for size, step in
              zip(shape[1:-1], spacing)], indexing='ij'), axis=-1)
        positions = tf.constant(grid.reshape(-1, rank) / self._alpha,
                                dtype=tf.float32)
        features = [tf.concat(
            [positions, tf.reshape(tf.cast(image, tf.float32),
                                   [n_voxels, -1]) / self._beta], axis=1)
                    for image in tf.unstack(I, num=shape[0])]
        spatial_bandwidths = [self._gamma / step for step in spacing]

        logits = U
        for _ in range(self._T):
            probs = tf.nn.softmax(logits)
            bilateral = tf.stack([
                tf.reshape(_bilateral_filter(
                    feats, tf.reshape(prob, [n_voxels, n_classes])),
                    shape[1:])
                for feats, prob in zip(features,
                                       tf.unstack(probs, num=shape[0]))])
            spatial = _spatial_filter(probs, spatial_bandwidths)
            message = bilateral * weights[0] + spatial * weights[1]
            logits = U - tf.tensordot(message, mu, axes=[[rank + 1], [0]])
        return logits
