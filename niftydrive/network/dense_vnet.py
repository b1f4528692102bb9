"""Dense V-Net (Gibson et al., "Automatic multi-organ segmentation on
abdominal CT with dense V-networks", IEEE TMI 2018)."""
from collections import namedtuple

import numpy as np
import tensorflow.compat.v1 as tf

from niftydrive.layer import layer_util
from niftydrive.layer.base_layer import TrainableLayer
from niftydrive.layer.bn import BNLayer
from niftydrive.layer.channel_sparse_convolution import (
    ChannelSparseConvolutionalLayer)
from niftydrive.layer.convolution import ConvolutionalLayer
from niftydrive.layer.grid_warper import AffineGridWarperLayer
from niftydrive.layer.linear_resize import LinearResizeLayer
from niftydrive.layer.resampler import ResamplerLayer
from niftydrive.network.base_net import BaseNet
from niftydrive.network.vnet import check_divisible_window
from niftydrive.utilities.errors import UserInputError

DenseVNetDesc = namedtuple(
    'DenseVNetParts', ['initial_bn', 'initial_conv', 'dense_vblocks',
                       'seg_layer'])


def image_resize(image, output_size):
    """``image`` linearly resized to the spatial shape ``output_size``
    (unchanged when it already has it)."""
    if list(output_size) == image.shape.as_list()[1:-1]:
        return image
    return LinearResizeLayer(list(output_size))(image)


class SpatialPriorBlock(TrainableLayer):
    """A trainable spatial prior: ``prior_shape`` probabilities (initialised
    to 1) resized to ``output_shape``; ``block()`` returns their log, to be
    added to the logits."""

    def __init__(self, prior_shape, output_shape,
                 name='spatial_prior_block'):
        super(SpatialPriorBlock, self).__init__(name=name)
        self.prior_shape = list(prior_shape)
        self.output_shape = list(output_shape)

    def layer_op(self):
        """The log prior, ``[1, output_shape..., 1]``."""
        prior = tf.get_variable('prior', shape=self.prior_shape,
                                initializer=tf.constant_initializer(1.0))
        prior = tf.reshape(prior, [1] + self.prior_shape + [1])
        return tf.log(image_resize(prior, self.output_shape))


class DenseFeatureStackBlock(TrainableLayer):
    """A stack of convolutions, each applied to the concatenation of the
    input and every previous output (one per entry of
    ``dilation_rates``).  ``block(input, is_training, keep_prob)`` returns
    the list ``[input, output_1, ...]``; with ``use_bdo`` the convolutions
    are channel-sparse and ``keep_prob`` drops channels (not on the last
    one)."""

    def __init__(self, n_dense_channels, kernel_size, dilation_rates,
                 use_bdo, name='dense_feature_stack_block', **kwargs):
        super(DenseFeatureStackBlock, self).__init__(name=name)
        self.n_dense_channels = n_dense_channels
        self.kernel_size = kernel_size
        self.dilation_rates = list(dilation_rates)
        self.use_bdo = use_bdo
        self.kwargs = kwargs

    def layer_op(self, input_tensor, is_training=None, keep_prob=None):
        """See the class docstring."""
        stack = [input_tensor]
        input_mask = tf.ones([input_tensor.shape.as_list()[-1]], tf.bool)
        for index, _ in enumerate(self.dilation_rates):
            if index == len(self.dilation_rates) - 1:
                keep_prob = None  # no dropout on the last layer
            features = tf.concat(stack, axis=-1)
            if self.use_bdo:
                conv, new_mask = ChannelSparseConvolutionalLayer(
                    self.n_dense_channels, kernel_size=self.kernel_size,
                    **self.kwargs)(features, input_mask=input_mask,
                                   is_training=is_training,
                                   keep_prob=keep_prob)
                input_mask = tf.concat([input_mask, new_mask], axis=0)
            else:
                conv = ConvolutionalLayer(
                    self.n_dense_channels, kernel_size=self.kernel_size,
                    **self.kwargs)(features, is_training=is_training,
                                   keep_prob=keep_prob)
            stack.append(conv)
        return stack


class DenseFeatureStackBlockWithSkipAndDownsample(TrainableLayer):
    """A ``DenseFeatureStackBlock``, then a convolution of all its features
    to ``n_seg_channels`` (the skip output) and, when
    ``n_downsample_channels`` is not None, a stride-2 convolution to that
    many channels (the down-sampled output, else None).  ``block(input,
    is_training, keep_prob)`` returns ``(skip, down)``."""

    def __init__(self, n_dense_channels, kernel_size, dilation_rates,
                 n_seg_channels, n_downsample_channels, use_bdo,
                 name='dense_feature_stack_block', **kwargs):
        super(DenseFeatureStackBlockWithSkipAndDownsample, self).__init__(
            name=name)
        self.n_dense_channels = n_dense_channels
        self.kernel_size = kernel_size
        self.dilation_rates = dilation_rates
        self.n_seg_channels = n_seg_channels
        self.n_downsample_channels = n_downsample_channels
        self.use_bdo = use_bdo
        self.kwargs = kwargs

    def layer_op(self, input_tensor, is_training=None, keep_prob=None):
        """See the class docstring."""
        stack = DenseFeatureStackBlock(
            self.n_dense_channels, self.kernel_size, self.dilation_rates,
            self.use_bdo, **self.kwargs)(input_tensor, is_training,
                                         keep_prob)
        features = tf.concat(stack, axis=-1)
        skip = ConvolutionalLayer(
            self.n_seg_channels, kernel_size=self.kernel_size,
            **self.kwargs)(features, is_training=is_training,
                           keep_prob=keep_prob)
        down = None
        if self.n_downsample_channels is not None:
            down = ConvolutionalLayer(
                self.n_downsample_channels, kernel_size=self.kernel_size,
                stride=2, **self.kwargs)(features, is_training=is_training,
                                         keep_prob=keep_prob)
        return skip, down


class Affine3DAugmentationLayer(TrainableLayer):
    """Random affine augmentation of 3-D batches: each corner of the volume
    (in [-1, 1] coordinates) moves inwards by up to ``scale``; the affine
    transform that best fits the moved corners resamples the input.
    ``inverse()`` is a layer applying the inverse transform (same random
    draw), e.g. to bring the segmentation back."""

    def __init__(self, scale, interpolation, boundary, transform_func=None,
                 name='AffineAugmentation'):
        super(Affine3DAugmentationLayer, self).__init__(name=name)
        self.scale = scale
        self.interpolation = interpolation
        self.boundary = boundary
        self.transform_func = transform_func or self.random_transform
        self._transform = None

    def random_transform(self, batch_size):
        """``[batch, 4, 4]`` relative transforms (drawn once per layer)."""
        if self._transform is None:
            corners = np.array(np.meshgrid([-1., 1.], [-1., 1.], [-1., 1.],
                                           indexing='ij')).reshape(3, 8).T
            corners = tf.tile(tf.constant(corners[None], tf.float32),
                              [batch_size, 1, 1])
            moved = corners * (1.0 - tf.random_uniform(
                [batch_size, 8, 3], 0.0, self.scale))
            ones = tf.ones([batch_size, 8, 1])
            solution = tf.matrix_solve_ls(tf.concat([corners, ones], 2),
                                          tf.concat([moved, ones], 2))
            self._transform = tf.transpose(solution, [0, 2, 1])
        return self._transform

    def inverse_transform(self, batch_size):
        """The inverse of ``transform_func``."""
        return tf.matrix_inverse(self.transform_func(batch_size))

    def layer_op(self, input_tensor):
        """The resampled (augmented) batch."""
        shape = input_tensor.shape.as_list()
        if len(shape) != 5 or any(size is None for size in shape[:-1]):
            raise ValueError('Affine3DAugmentationLayer needs a 3-D batch '
                             'of known shape, got {}'.format(shape))
        relative = self.transform_func(shape[0])
        scales = [2.0 / (size - 1) for size in shape[1:4]]
        to_relative = np.diag(scales + [1.0]).astype(np.float32)
        to_relative[:3, 3] = -1.0
        to_relative = tf.constant(to_relative)
        from_relative = tf.matrix_inverse(to_relative)
        voxel_transform = tf.einsum('ij,bjk,kl->bil', from_relative,
                                    relative, to_relative)
        params = tf.reshape(voxel_transform[:, :3, :], [shape[0], 12])
        grid = AffineGridWarperLayer(shape[1:4], shape[1:4])(params)
        return ResamplerLayer(self.interpolation, self.boundary)(
            input_tensor, grid)

    def inverse(self, interpolation=None, boundary=None):
        """A layer applying the inverse transformation."""
        return Affine3DAugmentationLayer(
            self.scale, interpolation or self.interpolation,
            boundary or self.boundary, self.inverse_transform)


class DenseVNet(BaseNet):
    """Dense V-Net: the input is down-sampled (3x3x3 average pooling,
    stride 2) and batch-normalised; a stride-2 5x5x5 convolution gives the
    first features; three ``DenseFeatureStackBlockWithSkipAndDownsample``
    blocks produce skip outputs at 1/2, 1/4 and 1/8 resolution, which are
    resized to 1/2 resolution, concatenated (with the down-sampled input)
    and convolved to the classes; the logits are resized to the input size.

    ``hyperparameters`` overrides ``__hyper_params__`` (channels per block,
    ``p_channels_selected`` = keep probability of the channel dropout,
    ``augmentation_scale`` of the random affine augmentation in training,
    3-D only), ``architecture_parameters`` overrides ``__net_params__``
    (``use_bdo``: channel-sparse dropout convolutions; ``use_prior``: a
    trainable spatial prior).  Every spatial size must be a multiple of
    ``2 ** len(dilation_rates)``.  Dilated convolutions, non-dense
    connections and coordinate channels are refused, as in NiftyNet.
    """

    __hyper_params__ = dict(
        prior_size=12,
        p_channels_selected=0.5,
        n_dense_channels=(4, 8, 16),
        n_seg_channels=(12, 24, 24),
        n_input_channels=(24, 24, 24),
        dilation_rates=([1] * 5, [1] * 10, [1] * 10),
        final_kernel=3,
        augmentation_scale=0.1)

    __net_params__ = dict(
        use_bdo=False,
        use_prior=False,
        use_dense_connections=True,
        use_coords=False)

    def __init__(self, num_classes, hyperparameters=None,
                 architecture_parameters=None, w_initializer=None,
                 w_regularizer=None, b_initializer=None, b_regularizer=None,
                 acti_func='relu', name='DenseVNet'):
        super(DenseVNet, self).__init__(
            num_classes=num_classes, w_initializer=w_initializer,
            w_regularizer=w_regularizer, b_initializer=b_initializer,
            b_regularizer=b_regularizer, acti_func=acti_func, name=name)
        self.hyperparameters = dict(self.__hyper_params__)
        self.hyperparameters.update(hyperparameters or {})
        if any(rate != 1 for rates in self.hyperparameters['dilation_rates']
               for rate in rates):
            raise UserInputError('DenseVNet: dilated convolutions are not '
                                 'supported (all dilation_rates must be 1)')
        self.architecture_parameters = dict(self.__net_params__)
        self.architecture_parameters.update(architecture_parameters or {})
        if not self.architecture_parameters['use_dense_connections']:
            raise UserInputError('DenseVNet: non-dense connections are not '
                                 'supported')
        if self.architecture_parameters['use_coords']:
            raise UserInputError('DenseVNet: coordinate augmentation is not '
                                 'supported')

    def create_network(self):
        """The layers of the network (``DenseVNetDesc``)."""
        hp = self.hyperparameters
        conv_kwargs = dict(acti_func=self.acti_func, **self.weight_kwargs())
        down_channels = list(hp['n_input_channels'][1:]) + [None]
        blocks = [DenseFeatureStackBlockWithSkipAndDownsample(
            hp['n_dense_channels'][idx], 3, hp['dilation_rates'][idx],
            hp['n_seg_channels'][idx], down_channels[idx],
            self.architecture_parameters['use_bdo'],
            name='dense_feature_stack_block_{}'.format(idx), **conv_kwargs)
                  for idx in range(len(hp['n_dense_channels']))]
        return DenseVNetDesc(
            initial_bn=BNLayer(name='initial_bn'),
            initial_conv=ConvolutionalLayer(
                hp['n_input_channels'][0], kernel_size=5, stride=2,
                name='initial_conv', **conv_kwargs),
            dense_vblocks=blocks,
            seg_layer=ConvolutionalLayer(
                self.num_classes, kernel_size=hp['final_kernel'],
                with_bn=False, with_bias=True, name='seg_layer',
                **self.weight_kwargs(with_bias=True)))

    @staticmethod
    def downsample_input(input_tensor, n_spatial_dims):
        """3x3x3 average pooling with stride 2."""
        return tf.nn.pool(input_tensor, [3] * n_spatial_dims, 'AVG', 'SAME',
                          strides=[2] * n_spatial_dims)

    def layer_op(self, input_tensor, is_training=True, layer_id=-1,
                 **unused_kwargs):
        """Logits with the spatial shape of ``input_tensor``."""
        hp = self.hyperparameters
        net = self.create_network()
        rank = layer_util.infer_spatial_rank(input_tensor)
        spatial_size = input_tensor.shape.as_list()[1:-1]
        check_divisible_window(input_tensor, 2 ** len(hp['dilation_rates']),
                               'DenseVNet')
        augment = is_training is True and hp['augmentation_scale'] > 0 and \
            rank == 3
        if augment:
            augment_layer = Affine3DAugmentationLayer(
                hp['augmentation_scale'], 'LINEAR', 'ZERO')
            input_tensor = augment_layer(input_tensor)
        keep_prob = hp['p_channels_selected'] if is_training is True \
            else None
        downsampled = net.initial_bn(
            self.downsample_input(input_tensor, rank), is_training)
        features = [downsampled]
        output_shape = downsampled.shape.as_list()[1:-1]
        initial = net.initial_conv(input_tensor, is_training)
        down = tf.concat([downsampled, initial], axis=-1)
        for block in net.dense_vblocks:
            skip, down = block(down, is_training=is_training,
                               keep_prob=keep_prob)
            features.append(image_resize(skip, output_shape))
        seg = net.seg_layer(tf.concat(features, axis=-1), is_training)
        if self.architecture_parameters['use_prior']:
            seg += SpatialPriorBlock([hp['prior_size']] * rank,
                                     output_shape)()
        if augment:
            seg = augment_layer.inverse()(seg)
        return image_resize(seg, spatial_size)
