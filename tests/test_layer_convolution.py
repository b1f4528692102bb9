"""Convolution, transposed convolution, pooling, cropping and merging."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from niftydrive.layer.convolution import ConvLayer, ConvolutionalLayer
from niftydrive.layer.crop import CropLayer
from niftydrive.layer.deconvolution import DeconvLayer, DeconvolutionalLayer
from niftydrive.layer.downsample import DownSampleLayer
from niftydrive.layer.elementwise import ElementwiseLayer

SHAPES = {1: [2, 8, 3], 2: [2, 8, 6, 3], 3: [2, 8, 6, 4, 3]}


def _run(tensors, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(tensors, feed_dict=feed)


@pytest.mark.parametrize('rank', [1, 2, 3])
def test_conv_layer_output_shapes_per_rank(graph, rank):
    images = tf.ones(SHAPES[rank])
    same = ConvLayer(5, kernel_size=3, name='same')(images)
    valid = ConvLayer(5, kernel_size=3, padding='valid', name='valid')(images)
    strided = ConvLayer(5, kernel_size=3, stride=2, name='strided')(images)
    dilated = ConvLayer(5, kernel_size=3, dilation=2, name='dilated')(images)
    spatial = SHAPES[rank][1:-1]
    assert same.shape.as_list() == [2] + spatial + [5]
    assert valid.shape.as_list() == [2] + [s - 2 for s in spatial] + [5]
    halved = [(s + 1) // 2 for s in spatial]
    assert strided.shape.as_list() == [2] + halved + [5]
    assert dilated.shape.as_list() == [2] + spatial + [5]
    out = _run(same)
    assert out.shape == tuple([2] + spatial + [5])
    weights = [v for v in tf.trainable_variables() if v.op.name == 'same/w']
    assert weights[0].shape.as_list() == [3] * rank + [3, 5]


def test_conv_layer_computes_a_convolution(graph):
    images = tf.constant(np.arange(5, dtype=np.float32).reshape(1, 5, 1))
    conv = ConvLayer(1, kernel_size=3, with_bias=True,
                     w_initializer=tf.constant_initializer(1.0),
                     b_initializer=tf.constant_initializer(0.5), name='sum3')
    out = _run(conv(images))
    # window sums of [0 1 2 3 4] with zero padding, plus the bias
    np.testing.assert_allclose(out.ravel(), [1.5, 3.5, 6.5, 9.5, 7.5])


def test_conv_layer_dilation_spreads_the_kernel(graph):
    impulse = np.zeros((1, 9, 1), np.float32)
    impulse[0, 4, 0] = 1.0
    conv = ConvLayer(1, kernel_size=3, dilation=2,
                     w_initializer=tf.constant_initializer(1.0), name='dil')
    out = _run(conv(tf.constant(impulse)))
    np.testing.assert_allclose(out.ravel(), [0, 0, 1, 0, 1, 0, 1, 0, 0])


def test_conv_layer_anisotropic_kernel_and_errors(graph):
    images = tf.ones([1, 6, 6, 2])
    out = ConvLayer(2, kernel_size=[3, 1], padding='VALID', name='k31')(images)
    assert out.shape.as_list() == [1, 4, 6, 2]
    with pytest.raises(ValueError, match='kernel_size'):
        ConvLayer(2, kernel_size=[3, 3, 3], name='bad_k')(images)
    with pytest.raises(ValueError, match='cannot both'):
        ConvLayer(2, stride=2, dilation=2, name='bad_sd')(images)
    with pytest.raises(ValueError, match='did you mean "SAME"'):
        ConvLayer(2, padding='SAMe2')
    with pytest.raises(ValueError, match='spatial'):
        ConvLayer(2, name='bad_rank')(tf.ones([4, 2]))


def test_convolutional_layer_names_and_variables(graph):
    layer = ConvolutionalLayer(4, acti_func='selu', name='conv')
    plain = ConvolutionalLayer(2, kernel_size=1, with_bn=False,
                               with_bias=True, name='out')
    assert layer.layer_scope().name == 'conv_bn_selu'
    flow = layer(tf.ones([2, 5, 5, 1]), is_training=True)
    flow = plain(flow)
    assert flow.shape.as_list() == [2, 5, 5, 2]
    names = sorted(v.op.name for v in tf.trainable_variables())
    assert names == ['conv_bn_selu/bn_/beta', 'conv_bn_selu/bn_/gamma',
                     'conv_bn_selu/conv_/w', 'out/conv_/b', 'out/conv_/w']
    with pytest.raises(ValueError, match='is_training'):
        ConvolutionalLayer(4, name='needs_flag')(tf.ones([2, 5, 5, 1]))


def test_convolutional_layer_prelu_and_dropout(graph):
    layer = ConvolutionalLayer(3, acti_func='prelu', name='c')
    keep = tf.placeholder_with_default(1.0, [])
    out = layer(tf.ones([2, 4, 4, 4, 1]), is_training=False, keep_prob=keep)
    assert layer.layer_scope().name == 'c_bn_prelu'
    assert 'c_bn_prelu/prelu_acti_/alpha' in [
        v.op.name for v in tf.trainable_variables()]
    assert _run(out).shape == (2, 4, 4, 4, 3)


@pytest.mark.parametrize('rank', [1, 2, 3])
def test_deconv_doubles_spatial_size(graph, rank):
    images = tf.ones(SHAPES[rank])
    same = DeconvLayer(4, kernel_size=2, stride=2, name='up')(images)
    valid = DeconvLayer(4, kernel_size=3, stride=2, padding='VALID',
                        name='up_valid')(images)
    spatial = SHAPES[rank][1:-1]
    assert same.shape.as_list() == [2] + [2 * s for s in spatial] + [4]
    assert valid.shape.as_list() == [2] + [2 * s + 1 for s in spatial] + [4]
    out_same, out_valid = _run([same, valid])
    assert out_same.shape == tuple([2] + [2 * s for s in spatial] + [4])
    assert out_valid.shape == tuple([2] + [2 * s + 1 for s in spatial] + [4])


def test_deconv_with_unknown_batch_size(graph):
    images = tf.placeholder(tf.float32, [None, 3, 3, 2])
    layer = DeconvolutionalLayer(4, kernel_size=2, stride=2,
                                 acti_func='relu', name='up')
    out = layer(images, is_training=True)
    assert out.shape.as_list() == [None, 6, 6, 4]
    assert layer.layer_scope().name == 'up_bn_relu'
    assert 'up_bn_relu/deconv_/w' in [v.op.name for v in
                                      tf.trainable_variables()]
    value = _run(out, {images: np.ones((3, 3, 3, 2), np.float32)})
    assert value.shape == (3, 6, 6, 4)


def test_downsample_layer(graph):
    images = tf.constant(np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1))
    max_out = DownSampleLayer('MAX', kernel_size=2, stride=2)(images)
    avg_out = DownSampleLayer('avg', kernel_size=2, stride=2)(images)
    const_out = DownSampleLayer('CONSTANT', stride=2)(images)
    max_v, avg_v, const_v = _run([max_out, avg_out, const_out])
    np.testing.assert_allclose(max_v[0, ..., 0], [[5, 7], [13, 15]])
    np.testing.assert_allclose(avg_v[0, ..., 0], [[2.5, 4.5], [10.5, 12.5]])
    np.testing.assert_allclose(const_v[0, ..., 0], [[0, 2], [8, 10]])
    volume = DownSampleLayer('MAX', kernel_size=2, stride=2)(
        tf.ones([2, 8, 8, 8, 3]))
    assert volume.shape.as_list() == [2, 4, 4, 4, 3]
    with pytest.raises(ValueError, match='did you mean "MAX"'):
        DownSampleLayer('MAXX')


def test_crop_layer(graph):
    images = tf.constant(np.arange(36, dtype=np.float32).reshape(1, 6, 6, 1))
    out = _run(CropLayer(border=2)(images))
    np.testing.assert_allclose(out[0, ..., 0], [[14, 15], [20, 21]])
    assert CropLayer(border=[1, 0, 2])(tf.ones([1, 6, 6, 6, 1])).shape \
        .as_list() == [1, 4, 6, 2, 1]
    assert CropLayer(border=[1, 2])(images).shape.as_list() == [1, 4, 2, 1]
    with pytest.raises(ValueError, match='too large'):
        CropLayer(border=3)(images)
    with pytest.raises(ValueError, match='one per spatial dimension'):
        CropLayer(border=[1, 1, 1])(images)


def test_elementwise_layer(graph):
    small = tf.ones([1, 2, 2, 2])
    large = tf.ones([1, 2, 2, 4]) * 3.0
    summed_pad = ElementwiseLayer('SUM', name='pad')(large, small)
    summed_proj = ElementwiseLayer('SUM', name='proj')(small, large)
    concat = ElementwiseLayer('CONCAT')(small, large)
    pad_v, proj_v, concat_v = _run([summed_pad, summed_proj, concat])
    # bypass with fewer channels is zero-padded on both sides of the channels
    np.testing.assert_allclose(pad_v[0, 0, 0], [3, 4, 4, 3])
    assert proj_v.shape == (1, 2, 2, 2)
    assert concat_v.shape == (1, 2, 2, 6)
    assert 'sum_proj/proj/w' in [v.op.name for v in tf.trainable_variables()]
