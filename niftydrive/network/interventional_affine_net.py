"""Affine registration network (Hu et al., arXiv:1711.01666)."""
import numpy as np
import tensorflow.compat.v1 as tf

from niftydrive.layer.convolution import ConvolutionalLayer
from niftydrive.layer.downsample_res_block import DownBlock
from niftydrive.layer.fully_connected import FullyConnectedLayer
from niftydrive.layer.grid_warper import AffineGridWarperLayer
from niftydrive.layer.layer_util import infer_spatial_rank
from niftydrive.layer.linear_resize import LinearResizeLayer
from niftydrive.network.base_net import BaseNet
from niftydrive.network.interventional_dense_net import (
    l2_regularizer, registration_layer_params)
from niftydrive.utilities.errors import UserInputError


def init_affine_w(std=1e-8):
    """Near-zero weights for the affine regression layer."""
    return tf.random_normal_initializer(0, std)


def init_affine_b(spatial_rank, initial_bias=0.0):
    """Biases giving the identity transformation (plus ``initial_bias``)."""
    if spatial_rank not in (2, 3):
        raise UserInputError('affine registration needs 2-D or 3-D images')
    identity = np.eye(spatial_rank, spatial_rank + 1).flatten()
    return tf.constant_initializer(identity + initial_bias)


class INetAffine(BaseNet):
    """Four ``DownBlock``s (channels ``fea``) and a convolution encode the
    (fixed, moving) pair; a fully-connected layer regresses the ``N x (N +
    1)`` affine matrix (initialised to the identity).
    ``net(fixed_image, moving_image, is_training=True)`` returns the
    sampling grid ``[batch, spatial..., rank]`` of that transformation over
    the fixed image's voxels (voxel units of the moving image, which is
    first resized to the fixed one)."""

    def __init__(self, decay=1e-6, affine_w_initializer=None,
                 affine_b_initializer=None, acti_func='relu',
                 name='inet-affine'):
        super(INetAffine, self).__init__(name=name)
        self.fea = [4, 8, 16, 32, 64]
        self.k_conv = 3
        self.affine_w_initializer = affine_w_initializer
        self.affine_b_initializer = affine_b_initializer
        self.res_param = registration_layer_params(decay, acti_func)
        self.affine_param = {'w_regularizer': l2_regularizer(decay),
                             'b_regularizer': None}

    def layer_op(self, fixed_image, moving_image, is_training=True,
                 **unused_kwargs):
        """See the class docstring."""
        rank = infer_spatial_rank(moving_image)
        spatial_shape = fixed_image.shape.as_list()[1:-1]
        moving_image = LinearResizeLayer(spatial_shape)(moving_image)
        flow = tf.concat([moving_image, fixed_image], axis=-1)
        for index, n_chns in enumerate(self.fea[:4]):
            flow = DownBlock(n_chns, kernel_size=7 if index == 0 else 3,
                             **self.res_param)(flow, is_training)[0]
        flow = ConvolutionalLayer(self.fea[4], kernel_size=self.k_conv,
                                  with_bias=False, with_bn=True,
                                  **self.res_param)(flow, is_training)
        affine = FullyConnectedLayer(
            rank * (rank + 1), with_bn=False,
            w_initializer=self.affine_w_initializer or init_affine_w(),
            b_initializer=self.affine_b_initializer or init_affine_b(rank),
            **self.affine_param)(flow)
        return AffineGridWarperLayer(source_shape=spatial_shape,
                                     output_shape=spatial_shape)(affine)
