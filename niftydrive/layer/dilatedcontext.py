"""Dilated convolutions by space-to-batch (NiftyNet's ``DilatedTensor``)."""
import tensorflow.compat.v1 as tf

from niftydrive.layer import layer_util


class DilatedTensor(object):
    """Context manager: inside ``with DilatedTensor(t, d) as dilated``,
    ``dilated.tensor`` is ``t`` rearranged by ``space_to_batch_nd`` with
    block ``d`` in every spatial dimension, so plain convolutions applied to
    it act as convolutions dilated by ``d``; on exit the (updated) tensor is
    rearranged back.  Every spatial size must be a multiple of ``d``."""

    def __init__(self, input_tensor, dilation_factor):
        self.dilation_factor = int(dilation_factor)
        if not layer_util.check_spatial_dims(
                input_tensor, lambda size: size % self.dilation_factor == 0):
            raise ValueError(
                'DilatedTensor: every spatial size of {} must be a multiple '
                'of the dilation factor {}'.format(
                    input_tensor.shape.as_list()[1:-1], self.dilation_factor))
        self._tensor = input_tensor
        rank = layer_util.infer_spatial_rank(input_tensor)
        self.block_shape = [self.dilation_factor] * rank
        self.zero_paddings = [[0, 0]] * rank

    def __enter__(self):
        if self.dilation_factor > 1:
            self._tensor = tf.space_to_batch_nd(
                self._tensor, self.block_shape, self.zero_paddings,
                name='dilated')
        return self

    def __exit__(self, *args):
        if self.dilation_factor > 1:
            self._tensor = tf.batch_to_space_nd(
                self._tensor, self.block_shape, self.zero_paddings,
                name='de-dilate')

    @property
    def tensor(self):
        """The (dilated, inside the context) tensor."""
        return self._tensor

    @tensor.setter
    def tensor(self, value):
        self._tensor = value
