"""Resizing of 2-D and 3-D images by (bi/tri)linear interpolation."""
import tensorflow.compat.v1 as tf

from niftydrive.layer import layer_util
from niftydrive.layer.base_layer import Layer


def _resize_2d(images, new_size):
    # TF1's resize_bilinear (align_corners=False, half_pixel_centers=False)
    return tf.image.resize_bilinear(images, new_size)


class LinearResizeLayer(Layer):
    """Resize ``[batch, x, y(, z), channels]`` to the spatial shape
    ``new_size`` (an int, or one per spatial dimension) by linear
    interpolation, with the conventions of TF1's ``resize_bilinear``.
    3-D volumes are resized as two successive 2-D resizes (y-z, then x);
    the batch size and the spatial shape must be known."""

    def __init__(self, new_size, name='trilinear_resize'):
        super(LinearResizeLayer, self).__init__(name=name)
        self.new_size = new_size

    def layer_op(self, input_tensor):
        """The resized tensor (``input_tensor`` itself when the shape
        already matches)."""
        rank = layer_util.infer_spatial_rank(input_tensor)
        if rank not in (2, 3):
            raise ValueError(
                'LinearResizeLayer resizes 2-D or 3-D images, got shape '
                '{}'.format(input_tensor.shape))
        new_size = layer_util.expand_spatial_params(
            [int(s) for s in self._as_list(self.new_size)], rank, 'new_size')
        shape = input_tensor.shape.as_list()
        if shape[1:-1] == new_size:
            return input_tensor
        if rank == 2:
            return _resize_2d(input_tensor, new_size)
        _, size_x, size_y, size_z, n_chns = shape
        batch = tf.shape(input_tensor)[0]
        # y-z planes, the batch and x folded together
        planes = tf.reshape(input_tensor, [-1, size_y, size_z, n_chns])
        planes = _resize_2d(planes, new_size[1:])
        flow = tf.reshape(planes, tf.stack(
            [batch, size_x, new_size[1] * new_size[2], n_chns]))
        # then x against the (flattened) y-z positions
        flow = _resize_2d(flow, [new_size[0], new_size[1] * new_size[2]])
        flow = tf.reshape(flow, tf.stack([batch] + new_size + [n_chns]))
        flow.set_shape([shape[0]] + new_size + [n_chns])
        return flow

    @staticmethod
    def _as_list(size):
        if isinstance(size, tf.TensorShape):
            return size.as_list()
        if hasattr(size, '__iter__'):
            return list(size)
        return [size]
