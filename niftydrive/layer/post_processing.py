"""Turning raw network outputs into inference results."""
import tensorflow.compat.v1 as tf

from niftydrive.layer.base_layer import Layer
from niftydrive.utilities.util_common import look_up_operations

SUPPORTED_OPS = {'SOFTMAX': 'SOFTMAX', 'ARGMAX': 'ARGMAX',
                 'IDENTITY': 'IDENTITY'}


class PostProcessingLayer(Layer):
    """'SOFTMAX': class probabilities (float32, ``num_classes`` channels);
    'ARGMAX': the most likely class, int32 with one channel; 'IDENTITY':
    the input as float32."""

    def __init__(self, func='', num_classes=0, name='post_processing'):
        super(PostProcessingLayer, self).__init__(name=name)
        self.func = look_up_operations(str(func).upper(), SUPPORTED_OPS,
                                       'post-processing func')
        self.num_classes = num_classes

    def num_output_channels(self):
        """Channels of the output: ``num_classes`` for 'SOFTMAX', else 1."""
        return self.num_classes if self.func == 'SOFTMAX' else 1

    def layer_op(self, inputs):
        """The post-processed tensor."""
        if self.func == 'SOFTMAX':
            return tf.nn.softmax(tf.cast(inputs, tf.float32))
        if self.func == 'ARGMAX':
            return tf.expand_dims(
                tf.cast(tf.argmax(inputs, axis=-1), tf.int32), axis=-1)
        return tf.cast(inputs, tf.float32)
