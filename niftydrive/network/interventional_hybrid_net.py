"""Affine plus dense registration networks (Hu et al., arXiv:1711.01666)."""
import tensorflow.compat.v1 as tf

from niftydrive.layer.resampler import ResamplerLayer
from niftydrive.network.base_net import BaseNet
from niftydrive.network.interventional_affine_net import INetAffine
from niftydrive.network.interventional_dense_net import INetDense


class _INetHybrid(BaseNet):
    """An ``INetAffine`` (``inet-global``) and an ``INetDense``
    (``inet-local``) sharing the constructor arguments."""

    default_name = 'inet-hybrid'

    def __init__(self, decay, affine_w_initializer=None,
                 affine_b_initializer=None, disp_w_initializer=None,
                 disp_b_initializer=None, acti_func='relu', interp='linear',
                 boundary='replicate', name=None):
        super(_INetHybrid, self).__init__(name=name or self.default_name)
        # the two nets' variables live under this network's scope
        with tf.variable_scope(self.layer_scope()):
            self.global_net = INetAffine(
                decay=decay, affine_w_initializer=affine_w_initializer,
                affine_b_initializer=affine_b_initializer,
                acti_func=acti_func, name='inet-global')
            self.local_net = INetDense(
                decay=decay, disp_w_initializer=disp_w_initializer,
                disp_b_initializer=disp_b_initializer, acti_func=acti_func,
                name='inet-local')
        self.interp = interp
        self.boundary = boundary


class INetHybridPreWarp(_INetHybrid):
    """The moving image is warped by the affine grid, then the dense net
    refines it: ``net(fixed, moving, is_training=True)`` returns
    ``(dense_field, affine_field)``, both sampling grids over the moving
    image (the dense one starts from the affine one)."""

    default_name = 'inet-hybrid-pre-warp'

    def layer_op(self, fixed_image, moving_image, is_training=True,
                 **unused_kwargs):
        """See the class docstring."""
        affine_field = self.global_net(fixed_image, moving_image,
                                       is_training)
        warped = ResamplerLayer(self.interp, self.boundary)(moving_image,
                                                            affine_field)
        dense_field = self.local_net(fixed_image, warped, affine_field,
                                     is_training)
        return dense_field, affine_field


class INetHybridTwoStream(_INetHybrid):
    """Affine and dense nets side by side on the unwarped pair:
    ``net(fixed, moving, is_training=True)`` returns ``(combined_field,
    displacement, affine_field)`` where ``combined_field = affine_field +
    displacement`` is the sampling grid and ``displacement`` the dense
    net's field (NiftyNet's version passed ``is_training`` as the dense
    net's base grid and added two grids; this one adds the displacement
    to the affine grid)."""

    default_name = 'inet-hybrid-two-stream'

    def layer_op(self, fixed_image, moving_image, is_training=True,
                 **unused_kwargs):
        """See the class docstring."""
        affine_field = self.global_net(fixed_image, moving_image,
                                       is_training)
        combined = self.local_net(fixed_image, moving_image, affine_field,
                                  is_training)
        return combined, combined - affine_field, affine_field
