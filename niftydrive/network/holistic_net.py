"""HolisticNet (Fidon et al., "Generalised Wasserstein Dice score for
imbalanced multi-class segmentation using holistic convolutional
networks", BrainLes 2017)."""
import tensorflow.compat.v1 as tf

from niftydrive.layer.base_layer import TrainableLayer
from niftydrive.layer.convolution import ConvLayer, ConvolutionalLayer
from niftydrive.layer.dilatedcontext import DilatedTensor
from niftydrive.layer.downsample import DownSampleLayer
from niftydrive.layer.upsample import UpSampleLayer
from niftydrive.network.base_net import BaseNet
from niftydrive.network.highres3dnet import HighResBlock
from niftydrive.network.vnet import check_divisible_window
from niftydrive.utilities.util_common import look_up_operations


class ScoreLayer(TrainableLayer):
    """Class scores from features: a convolution (batch norm, activation)
    for each of ``num_features[1:]``, then a 1x1x1 convolution to
    ``num_classes`` channels."""

    def __init__(self, num_features=None, w_initializer=None,
                 w_regularizer=None, num_classes=1, acti_func='elu',
                 name='ScoreLayer'):
        super(ScoreLayer, self).__init__(name=name)
        self.num_classes = num_classes
        self.acti_func = acti_func
        self.num_features = list(num_features or [])
        self.n_layers = len(self.num_features)
        self.initializers = {'w': w_initializer}
        self.regularizers = {'w': w_regularizer}

    def layer_op(self, input_tensor, is_training, layer_id=-1):
        """The scores."""
        flow = input_tensor
        for layer in range(self.n_layers - 1):
            flow = ConvolutionalLayer(
                self.num_features[layer + 1], kernel_size=3,
                acti_func=self.acti_func,
                w_initializer=self.initializers['w'],
                w_regularizer=self.regularizers['w'],
                name='conv_fc_{}'.format(layer))(flow, is_training)
        return ConvolutionalLayer(self.num_classes, kernel_size=1)(
            flow, is_training)


SUPPORTED_OPS = {'AVERAGE': 'AVERAGE', 'WEIGHTED_AVERAGE': 'WEIGHTED_AVERAGE',
                 'MAXOUT': 'MAXOUT'}


class MergeLayer(TrainableLayer):
    """``merge(roots)`` fuses a list of equally shaped score maps: their
    maximum ('MAXOUT'), mean ('AVERAGE'), or for each class a learnt
    weighted sum of the maps (a 1x1x1 convolution, 'WEIGHTED_AVERAGE')."""

    def __init__(self, func, w_initializer=None, w_regularizer=None,
                 acti_func='elu', name='MergeLayer'):
        super(MergeLayer, self).__init__(name=name)
        self.func = look_up_operations(str(func).upper(), SUPPORTED_OPS,
                                       'MergeLayer func')
        self.acti_func = acti_func
        self.initializers = {'w': w_initializer}
        self.regularizers = {'w': w_regularizer}

    def layer_op(self, roots):
        """The fused score map."""
        stacked = tf.stack(roots, axis=-1)  # [..., classes, roots]
        if self.func == 'MAXOUT':
            return tf.reduce_max(stacked, axis=-1)
        if self.func == 'AVERAGE':
            return tf.reduce_mean(stacked, axis=-1)
        per_class = tf.unstack(stacked, axis=-2)
        merged = [ConvLayer(1, kernel_size=1,
                            w_initializer=self.initializers['w'],
                            w_regularizer=self.regularizers['w'])(scores)
                  for scores in per_class]
        return tf.concat(merged, axis=-1)


class HolisticNet(BaseNet):
    """HolisticNet: a convolution, then four scales of ``HighResBlock``s
    (dilation 1 and 2 at full resolution, then 1 and 2 after a 2x average
    pooling), each scale producing class scores (``ScoreLayer``; the
    low-resolution ones are up-sampled channel-wise), fused by a learnt
    weighted average of their softmax.  In training
    ``net(images, is_training=True)`` returns the list ``[score_1, score_2,
    score_3, score_4, fused]`` (for a multi-scale loss), else the fused
    scores.  Every spatial size must be a multiple of 4."""

    def __init__(self, num_classes, w_initializer=None, w_regularizer=None,
                 b_initializer=None, b_regularizer=None, acti_func='elu',
                 name='HolisticNet'):
        super(HolisticNet, self).__init__(
            num_classes=num_classes, w_initializer=w_initializer,
            w_regularizer=w_regularizer, b_initializer=b_initializer,
            b_regularizer=b_regularizer, acti_func=acti_func, name=name)
        self.num_res_blocks = [3, 3, 3, 3]
        self.num_features = [70] * 4
        self.num_fea_score_layers = [[70, 140]] * 4

    def _scale(self, flow, scale, dilation, is_training):
        with DilatedTensor(flow, dilation_factor=dilation) as dilated:
            for j in range(self.num_res_blocks[scale]):
                dilated.tensor = HighResBlock(
                    self.num_features[scale], acti_func=self.acti_func,
                    name='res_{}_{}'.format(scale + 1, j),
                    **self.weight_kwargs())(dilated.tensor, is_training)
        flow = dilated.tensor
        score = ScoreLayer(num_features=self.num_fea_score_layers[scale],
                           num_classes=self.num_classes,
                           acti_func=self.acti_func,
                           name='ScoreLayer_{}'.format(scale + 1),
                           **self.weight_kwargs())(flow, is_training)
        return flow, score

    def _upsample(self, score, kernel_size, name):
        return UpSampleLayer(
            'CHANNELWISE_DECONV', kernel_size=kernel_size, stride=2,
            w_initializer=tf.constant_initializer(1.0), name=name)(score)

    def layer_op(self, input_tensor, is_training=True, layer_id=-1,
                 **unused_kwargs):
        """See the class docstring."""
        check_divisible_window(input_tensor, 4, 'HolisticNet')
        flow = ConvolutionalLayer(
            self.num_features[0], kernel_size=3, acti_func=self.acti_func,
            name='conv_1_1', **self.weight_kwargs())(input_tensor,
                                                     is_training)
        flow, score_1 = self._scale(flow, 0, 1, is_training)
        flow, score_2 = self._scale(flow, 1, 2, is_training)
        flow = DownSampleLayer('AVG', kernel_size=2, stride=2)(flow)
        flow, score_3 = self._scale(flow, 2, 1, is_training)
        _, score_4 = self._scale(flow, 3, 2, is_training)
        scores = [score_1, score_2,
                  self._upsample(score_3, 2, 'upsample_3'),
                  self._upsample(score_4, 1, 'upsample_4')]
        fused = MergeLayer('WEIGHTED_AVERAGE')(
            [tf.nn.softmax(score) for score in scores])
        if isinstance(is_training, bool) and is_training:
            return scores + [fused]
        return fused
