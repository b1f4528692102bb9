"""Finite-difference image gradients."""
import tensorflow.compat.v1 as tf

from niftydrive.layer.base_layer import Layer
from niftydrive.layer.layer_util import infer_spatial_rank


class SpatialGradientLayer(Layer):
    """Central differences along one spatial axis:
    ``out[i] = in[i + 2] - in[i]`` (the convolution with ``[-1, 0, 1]``
    without padding).  ``spatial_axis=0`` is the first spatial dimension
    (axis 1 of the tensor).  With ``do_cropping`` every spatial dimension
    loses 2 voxels (1 at each end), so gradients along different axes have
    the same shape; without it only the gradient axis shrinks by 2."""

    def __init__(self, spatial_axis=0, do_cropping=True,
                 name='spatial_gradient'):
        super(SpatialGradientLayer, self).__init__(name=name)
        self.spatial_axis = int(spatial_axis)
        self.do_cropping = do_cropping

    def layer_op(self, input_tensor):
        """The gradient of ``input_tensor`` along ``spatial_axis``."""
        rank = infer_spatial_rank(input_tensor)
        if not 0 <= self.spatial_axis < rank:
            raise ValueError(
                'spatial_axis {} is not one of the {} spatial axes'.format(
                    self.spatial_axis, rank))
        ahead, behind = [slice(None)], [slice(None)]
        for axis in range(rank):
            if axis == self.spatial_axis:
                ahead.append(slice(2, None))
                behind.append(slice(None, -2))
            elif self.do_cropping:
                ahead.append(slice(1, -1))
                behind.append(slice(1, -1))
            else:
                ahead.append(slice(None))
                behind.append(slice(None))
        return input_tensor[tuple(ahead)] - input_tensor[tuple(behind)]
