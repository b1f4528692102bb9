"""Dense displacement fields between a fixed and a moving image (Hu et al.,
"Label-driven weakly-supervised learning for multimodal deformable image
registration", ISBI 2018, arXiv:1711.01666)."""
import numpy as np
import tensorflow.compat.v1 as tf

from niftydrive.layer.convolution import ConvolutionalLayer
from niftydrive.layer.downsample_res_block import DownBlock
from niftydrive.layer.grid_warper import _create_affine_features
from niftydrive.layer.layer_util import infer_spatial_rank
from niftydrive.layer.linear_resize import LinearResizeLayer
from niftydrive.layer.spatial_gradient import SpatialGradientLayer
from niftydrive.layer.upsample_res_block import UpBlock
from niftydrive.network.base_net import BaseNet
from niftydrive.network.vnet import check_divisible_window


def l2_regularizer(decay):
    """``decay * sum(w^2) / 2`` as a regulariser (None when decay is 0)."""
    if not decay:
        return None
    return lambda weights: decay * tf.nn.l2_loss(weights)


def registration_layer_params(decay, acti_func):
    """Glorot-uniform weights with L2 decay, as NiftyNet's INet blocks."""
    return {'w_initializer': tf.glorot_uniform_initializer(),
            'w_regularizer': l2_regularizer(decay),
            'acti_func': acti_func}


def identity_grid(spatial_shape):
    """``[1, spatial..., rank]`` voxel coordinates of every voxel."""
    coords = np.asarray(_create_affine_features(
        spatial_shape, spatial_shape)[:-1])
    return tf.constant(
        coords.T.reshape([1] + list(spatial_shape) + [len(spatial_shape)]),
        dtype=tf.float32)


class INetDense(BaseNet):
    """Encoder-decoder of ``DownBlock``s and residual-up-sampling
    ``UpBlock``s (channels ``fea``) estimating a dense displacement field
    from a (fixed, moving) image pair; with ``multi_scale_fusion`` the
    fields predicted at every decoder scale are resized and summed.

    ``net(fixed_image, moving_image, base_grid=None, is_training=True)``
    returns the sampling coordinates ``base_grid + displacement``
    (``[batch, spatial..., rank]``, voxel units of the moving image; the
    identity grid when ``base_grid`` is None), for a ``ResamplerLayer``.
    The moving image is first resized to the fixed one; every spatial size
    must be a multiple of 16.  ``smoothing`` > 0 smooths the field with a
    Gaussian of that sigma (voxels).  The field's bending energy and
    gradient norm are added to the graph collections ``bending_energy`` and
    ``gradient_norm`` (regularisation terms for the application).
    """

    def __init__(self, decay=0.0, smoothing=0, disp_w_initializer=None,
                 disp_b_initializer=None, acti_func='relu',
                 multi_scale_fusion=True, name='inet-dense'):
        super(INetDense, self).__init__(name=name)
        self.fea = [30, 60, 120, 240, 480]
        self.k_conv = 3
        self.multi_scale_fusion = multi_scale_fusion
        self.down_res_param = registration_layer_params(decay, acti_func)
        self.up_res_param = dict(
            registration_layer_params(decay, acti_func),
            is_residual_upsampling=True, type_string='bn_acti_conv')
        self.disp_param = {
            'w_initializer': disp_w_initializer,
            'w_regularizer': l2_regularizer(decay),
            'b_initializer': disp_b_initializer or
            tf.constant_initializer(0.0),
            'b_regularizer': None}
        self.smoothing = smoothing

    def layer_op(self, fixed_image, moving_image, base_grid=None,
                 is_training=True, **unused_kwargs):
        """See the class docstring."""
        rank = infer_spatial_rank(fixed_image)
        spatial_shape = fixed_image.shape.as_list()[1:-1]
        check_divisible_window(fixed_image, 16, 'INetDense')
        moving_image = LinearResizeLayer(spatial_shape)(moving_image)
        flow = tf.concat([moving_image, fixed_image], axis=-1)
        skips = []
        for index, n_chns in enumerate(self.fea[:4]):
            kernel = 7 if index == 0 else self.k_conv
            flow, conv_0, _ = DownBlock(n_chns, kernel_size=kernel,
                                        **self.down_res_param)(
                                            flow, is_training)
            skips.append(conv_0)
        flow = ConvolutionalLayer(self.fea[4], kernel_size=self.k_conv,
                                  **self.down_res_param)(flow, is_training)
        scale_outputs = [flow]
        for n_chns, skip in zip(self.fea[3::-1], skips[::-1]):
            flow = UpBlock(n_chns, **self.up_res_param)(flow, skip,
                                                        is_training)
            scale_outputs.insert(0, flow)
        if not self.multi_scale_fusion:
            scale_outputs = scale_outputs[:1]
        fields = [LinearResizeLayer(spatial_shape)(ConvolutionalLayer(
            rank, kernel_size=self.k_conv, with_bias=True, with_bn=False,
            acti_func=None, **self.disp_param)(output))
                  for output in scale_outputs]
        dense_field = tf.add_n(fields)
        if self.smoothing > 0:
            dense_field = _smooth(dense_field, self.smoothing, rank)
        tf.add_to_collection('bending_energy',
                             _computing_bending_energy(dense_field))
        tf.add_to_collection('gradient_norm',
                             _computing_gradient_norm(dense_field))
        if base_grid is None:
            base_grid = identity_grid(spatial_shape)
        return dense_field + base_grid


def _smooth(field, sigma, rank):
    """Each component of ``field`` convolved with a normalised Gaussian."""
    tail = int(sigma * 2)
    offsets = np.mgrid[[slice(-tail, tail + 1)] * rank]
    kernel = np.exp(-0.5 * np.sum(np.square(offsets), axis=0) / sigma ** 2)
    kernel = tf.constant((kernel / kernel.sum())[..., None, None],
                         dtype=field.dtype)
    return tf.concat([tf.nn.convolution(tf.expand_dims(component, -1),
                                        kernel, 'SAME')
                      for component in tf.unstack(field, axis=-1)], axis=-1)


def _computing_bending_energy(displacement):
    """Mean squared second derivatives of the field (cross terms twice)."""
    rank = infer_spatial_rank(displacement)
    first = [SpatialGradientLayer(axis)(displacement) for axis in range(rank)]
    terms = []
    for axis in range(rank):
        second = SpatialGradientLayer(axis)(first[axis])
        terms.append(tf.reduce_mean(second * second))
        for other in range(axis + 1, rank):
            mixed = SpatialGradientLayer(other)(first[axis])
            terms.append(2.0 * tf.reduce_mean(mixed * mixed))
    return tf.reduce_mean(tf.stack(terms))


def _computing_gradient_norm(displacement, flag_L1=False):
    """Mean squared (or absolute, ``flag_L1``) first derivatives."""
    norms = []
    for axis in range(infer_spatial_rank(displacement)):
        gradient = SpatialGradientLayer(axis)(displacement)
        norms.append(tf.reduce_mean(
            tf.abs(gradient) if flag_L1 else gradient * gradient))
    return tf.reduce_mean(tf.stack(norms))
