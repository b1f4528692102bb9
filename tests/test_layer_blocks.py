"""Residual units and blocks, up-sampling, dilation, group norm,
channel-sparse convolutions, CRF-as-RNN and post-processing: shapes,
values and gradients."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from niftydrive.layer.additive_upsample import (
    AdditiveUpsampleLayer, ResidualUpsampleLayer)
from niftydrive.layer.bn import BN_COLLECTION
from niftydrive.layer.channel_sparse_convolution import (
    ChannelSparseBNLayer, ChannelSparseConvolutionalLayer)
from niftydrive.layer.crf import (
    CRFAsRNNLayer, _bilateral_filter, _spatial_filter)
from niftydrive.layer.dilatedcontext import DilatedTensor
from niftydrive.layer.downsample_res_block import DownBlock
from niftydrive.layer.gn import GNLayer
from niftydrive.layer.post_processing import PostProcessingLayer
from niftydrive.layer.residual_unit import ResidualUnit
from niftydrive.layer.upsample import UpSampleLayer
from niftydrive.layer.upsample_res_block import UpBlock
from niftydrive.utilities.errors import UserInputError


def _run(tensors, init=True):
    with tf.Session() as sess:
        if init:
            sess.run(tf.global_variables_initializer())
        return sess.run(tensors)


def _random(shape, seed=0):
    return tf.constant(np.random.RandomState(seed).randn(*shape), tf.float32)


def _assert_all_variables_get_gradients(output, layer):
    variables = layer.trainable_variables()
    assert variables
    grads = tf.gradients(tf.reduce_sum(tf.square(output)), variables)
    missing = [v.op.name for v, g in zip(variables, grads) if g is None]
    assert not missing
    assert all(np.all(np.isfinite(g)) for g in _run(grads))


@pytest.mark.parametrize('type_string', [
    'original', 'conv_bn_acti', 'acti_conv_bn', 'bn_acti_conv'])
def test_residual_unit_types(graph, type_string):
    unit = ResidualUnit(4, type_string=type_string)
    output = unit(_random([2, 6, 6, 2]), is_training=True)
    assert output.shape.as_list() == [2, 6, 6, 4]
    _assert_all_variables_get_gradients(output, unit)
    with pytest.raises(UserInputError, match='type_string'):
        ResidualUnit(4, type_string='bn_conv')


def test_down_and_up_blocks(graph):
    down, conv_0, conv_res = DownBlock(4)(_random([1, 8, 8, 2]), True)
    assert down.shape.as_list() == [1, 4, 4, 4]
    assert conv_0.shape.as_list() == conv_res.shape.as_list() == [1, 8, 8, 4]
    up_block = UpBlock(2)
    up = up_block(_random([1, 4, 4, 4]), _random([1, 8, 8, 2]), True)
    assert up.shape.as_list() == [1, 8, 8, 2]
    _assert_all_variables_get_gradients(up, up_block)
    deconv_up = UpBlock(3, is_residual_upsampling=False)(
        _random([1, 2, 2, 2, 4]), is_training=True)
    assert deconv_up.shape.as_list() == [1, 4, 4, 4, 3]


def test_additive_and_residual_upsampling(graph):
    channels = np.arange(1, 5, dtype=np.float32).reshape(1, 1, 1, 4)
    image = tf.constant(np.tile(channels, [1, 2, 2, 1]))
    additive = _run(AdditiveUpsampleLayer((4, 4), 2)(image), init=False)
    assert additive.shape == (1, 4, 4, 2)
    np.testing.assert_allclose(additive[0, 1, 2], [1 + 3, 2 + 4])
    with pytest.raises(ValueError, match='multiple of n_splits'):
        AdditiveUpsampleLayer((4, 4), 3)(image)
    layer = ResidualUpsampleLayer(n_splits=2)
    output = layer(_random([1, 4, 4, 4]), is_training=True)
    assert output.shape.as_list() == [1, 8, 8, 2]
    _assert_all_variables_get_gradients(output, layer)


def test_upsample_replicate_and_channelwise_deconv(graph):
    image = tf.constant([[[[1.0], [2.0]], [[3.0], [4.0]]]])
    replicated = _run(UpSampleLayer('REPLICATE', kernel_size=2, stride=2)(
        image), init=False)
    np.testing.assert_allclose(replicated[0, ..., 0], [
        [1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]])
    deconv = UpSampleLayer('CHANNELWISE_DECONV', kernel_size=2, stride=2)
    output = deconv(_random([1, 3, 3, 2]))
    assert output.shape.as_list() == [1, 6, 6, 2]
    # one single-channel kernel per channel: nothing mixes channels
    assert sorted(v.shape.as_list() for v in deconv.trainable_variables()) \
        == [[2, 2, 1, 1], [2, 2, 1, 1]]
    with pytest.raises(ValueError, match='kernel_size == stride'):
        UpSampleLayer('REPLICATE', kernel_size=3, stride=2)(image)


def test_dilated_tensor_makes_plain_convolutions_dilated(graph):
    image = _random([1, 8, 8, 1])
    kernel = _random([3, 3, 1, 1], seed=1)
    with DilatedTensor(image, dilation_factor=2) as dilated:
        dilated.tensor = tf.nn.convolution(dilated.tensor, kernel, 'SAME')
    expected = tf.nn.convolution(image, kernel, 'SAME', dilation_rate=[2, 2])
    result, reference = _run([dilated.tensor, expected], init=False)
    np.testing.assert_allclose(result, reference, atol=1e-5)
    with pytest.raises(ValueError, match='multiple of the dilation'):
        DilatedTensor(_random([1, 6, 6, 1]), 4)


def test_group_norm_normalises_each_group(graph):
    inputs = np.random.RandomState(2).randn(2, 3, 3, 4).astype(np.float32)
    layer = GNLayer(group=2)
    output = layer(tf.constant(inputs * 5.0 + 3.0))
    value = _run(output)
    groups = value.reshape(2, 9, 2, 2)
    np.testing.assert_allclose(groups.mean(axis=(1, 3)), 0.0, atol=1e-5)
    np.testing.assert_allclose(groups.std(axis=(1, 3)), 1.0, atol=1e-3)
    _assert_all_variables_get_gradients(output, layer)
    with pytest.raises(ValueError, match='3 groups'):
        GNLayer(group=3)(tf.ones([1, 2, 2, 4]))


def test_channel_sparse_convolution_drops_channels(graph):
    layer = ChannelSparseConvolutionalLayer(6, acti_func='relu')
    full, full_mask = layer(_random([2, 5, 5, 3]), is_training=True)
    dropped, mask = layer(_random([2, 5, 5, 3]), is_training=True,
                          keep_prob=0.5)
    assert full.shape.as_list() == [2, 5, 5, 6]
    assert dropped.shape.as_list() == [2, 5, 5, 3]
    full_mask, mask = _run([full_mask, mask])
    assert full_mask.all() and mask.sum() == 3
    # variables are shaped for all channels
    weights = {v.op.name.split('/')[-1]: v.shape.as_list()
               for v in layer.trainable_variables()}
    assert weights['w'] == [3, 3, 3, 6] and weights['gamma'] == [6]
    # a sparse input: 2 of 4 channels present
    sparse_in = ChannelSparseConvolutionalLayer(2, with_bn=False, name='s')
    out, _ = sparse_in(_random([1, 4, 4, 2]),
                       input_mask=tf.constant([True, False, True, False]))
    assert out.shape.as_list() == [1, 4, 4, 2]
    _assert_all_variables_get_gradients(out, sparse_in)


def test_channel_sparse_bn_updates_only_selected_statistics(graph):
    layer = ChannelSparseBNLayer(3, moving_decay=0.0)
    inputs = tf.constant(np.full((4, 2, 2), 5.0, np.float32))
    layer(inputs, True, tf.constant([True, False, True]))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(tf.get_collection(BN_COLLECTION))
        moving_mean = [v for v in tf.global_variables()
                       if 'moving_mean' in v.name][0]
        np.testing.assert_allclose(sess.run(moving_mean), [5, 0, 5])


def test_crf_filters_match_dense_numpy(graph):
    rng = np.random.RandomState(3)
    features = rng.rand(12, 3).astype(np.float32)
    values = rng.rand(12, 2).astype(np.float32)
    kernel = np.exp(-0.5 * ((features[:, None] - features[None]) ** 2).sum(-1))
    expected = kernel @ values / kernel.sum(1, keepdims=True)
    filtered = _run(_bilateral_filter(tf.constant(features),
                                      tf.constant(values)), init=False)
    np.testing.assert_allclose(filtered, expected, rtol=1e-5)
    # spatial kernel on a 4x4 image, bandwidth 1 voxel
    image = rng.rand(1, 4, 4, 2).astype(np.float32)
    pos = np.stack(np.meshgrid(np.arange(4), np.arange(4), indexing='ij'),
                   -1).reshape(16, 2).astype(np.float32)
    kernel = np.exp(-0.5 * ((pos[:, None] - pos[None]) ** 2).sum(-1))
    expected = kernel @ image.reshape(16, 2) / kernel.sum(1, keepdims=True)
    spatial = _run(_spatial_filter(tf.constant(image), [1.0, 1.0]),
                   init=False)
    np.testing.assert_allclose(spatial.reshape(16, 2), expected, rtol=1e-5)


def test_crf_as_rnn_shapes_variables_and_gradients(graph):
    logits = _random([2, 4, 4, 3])
    crf = CRFAsRNNLayer(T=2)
    refined = crf(_random([2, 4, 4, 1], seed=4), logits)
    assert refined.shape.as_list() == [2, 4, 4, 3]
    names = sorted(v.op.name for v in crf.trainable_variables())
    assert names == ['crf_as_rnn/Compatibility', 'crf_as_rnn/FilterWeights0',
                     'crf_as_rnn/FilterWeights1']
    _assert_all_variables_get_gradients(refined, crf)
    assert tf.gradients(tf.reduce_sum(refined), logits)[0] is not None
    with pytest.raises(ValueError, match='alpha must be positive'):
        CRFAsRNNLayer(alpha=0)
    with pytest.raises(ValueError, match='at most'):
        crf(tf.zeros([1, 40, 40, 40, 1]), tf.zeros([1, 40, 40, 40, 2]))


def test_post_processing(graph):
    logits = tf.constant([[[0.0, 2.0, 1.0]]])
    post = {func: PostProcessingLayer(func, num_classes=3)
            for func in ('SOFTMAX', 'ARGMAX', 'IDENTITY')}
    values = _run({f: layer(logits) for f, layer in post.items()},
                  init=False)
    np.testing.assert_allclose(values['SOFTMAX'].sum(), 1.0, rtol=1e-6)
    assert values['ARGMAX'].tolist() == [[[1]]]
    assert values['ARGMAX'].dtype == np.int32
    assert post['SOFTMAX'].num_output_channels() == 3
    assert post['ARGMAX'].num_output_channels() == 1
    with pytest.raises(UserInputError, match='did you mean "SOFTMAX"'):
        PostProcessingLayer('SOFTMAXX')
