"""Reshaping as a layer."""
import tensorflow.compat.v1 as tf

from niftydrive.layer.base_layer import Layer


class ReshapeLayer(Layer):
    """``layer(input)`` is ``tf.reshape(input, new_size)`` (one entry may
    be -1)."""

    def __init__(self, new_size, name='reshape'):
        super(ReshapeLayer, self).__init__(name=name)
        self.new_size = list(new_size)

    def layer_op(self, input_tensor):
        """The reshaped tensor."""
        return tf.reshape(input_tensor, self.new_size)
