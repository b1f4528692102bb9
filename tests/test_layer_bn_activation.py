"""Batch norm, instance norm, activations and fully-connected layers."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from niftydrive.layer.activation import ActiLayer
from niftydrive.layer.bn import BN_COLLECTION, BNLayer, InstanceNormLayer
from niftydrive.layer.fully_connected import FCLayer, FullyConnectedLayer

RNG = np.random.RandomState(0)
DATA = (RNG.randn(4, 3, 3, 2) * [1.0, 3.0] + [2.0, -1.0]).astype(np.float32)


def test_bn_collection_is_update_ops():
    assert BN_COLLECTION == tf.GraphKeys.UPDATE_OPS


def test_bn_training_normalises_and_updates_moving_stats(graph):
    bn = BNLayer(moving_decay=0.9, name='bn')
    out = bn(tf.constant(DATA), is_training=True)
    update_ops = tf.get_collection(BN_COLLECTION)
    assert len(update_ops) == 2
    variables = {v.op.name: v for v in tf.global_variables()}
    assert sorted(variables) == ['bn/beta', 'bn/gamma', 'bn/moving_mean',
                                 'bn/moving_variance']
    assert len(tf.trainable_variables()) == 2
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        value = sess.run(out)
        np.testing.assert_allclose(value.mean(axis=(0, 1, 2)), 0, atol=1e-5)
        np.testing.assert_allclose(value.std(axis=(0, 1, 2)), 1, atol=1e-3)
        before = sess.run(variables['bn/moving_mean'])
        np.testing.assert_allclose(before, 0)
        sess.run(update_ops)
        mean, var = sess.run([variables['bn/moving_mean'],
                              variables['bn/moving_variance']])
    np.testing.assert_allclose(mean, 0.1 * DATA.mean(axis=(0, 1, 2)),
                               rtol=1e-5)
    np.testing.assert_allclose(var, 0.9 + 0.1 * DATA.var(axis=(0, 1, 2)),
                               rtol=1e-5)


def test_bn_inference_uses_moving_stats_and_adds_no_updates(graph):
    bn = BNLayer(eps=0.0, name='bn')
    out = bn(tf.constant(DATA), is_training=False)
    assert tf.get_collection(BN_COLLECTION) == []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        # moving mean 0 and variance 1: the identity
        np.testing.assert_allclose(sess.run(out), DATA, rtol=1e-6)


def test_bn_with_boolean_tensor_updates_only_in_training(graph):
    is_training = tf.placeholder(tf.bool, [])
    bn = BNLayer(eps=0.0, name='bn')
    out = bn(tf.constant(DATA), is_training=is_training)
    update_ops = tf.get_collection(BN_COLLECTION)
    moving_mean = [v for v in tf.global_variables()
                   if v.op.name == 'bn/moving_mean'][0]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        value, _ = sess.run([out, update_ops], {is_training: False})
        np.testing.assert_allclose(value, DATA, rtol=1e-6)
        np.testing.assert_allclose(sess.run(moving_mean), 0)
        value, _ = sess.run([out, update_ops], {is_training: True})
        np.testing.assert_allclose(value.mean(axis=(0, 1, 2)), 0, atol=1e-5)
        assert np.all(sess.run(moving_mean) != 0)


def test_bn_shared_across_towers(graph):
    bn = BNLayer(name='bn')
    for i in range(2):
        with tf.name_scope('worker_{}'.format(i)):
            bn(tf.constant(DATA), is_training=True)
    assert len(tf.global_variables()) == 4
    worker_1_ops = tf.get_collection(BN_COLLECTION, 'worker_1')
    assert len(worker_1_ops) == 2
    assert all('worker' not in v.op.name for v in tf.global_variables())


def test_instance_norm(graph):
    out = InstanceNormLayer()(tf.constant(DATA))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        value = sess.run(out)
    np.testing.assert_allclose(value.mean(axis=(1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(value.std(axis=(1, 2)), 1, atol=1e-3)


X = np.linspace(-3, 3, 13).astype(np.float32).reshape(1, 13, 1)

NUMPY_ACTI = {
    'relu': lambda x: np.maximum(x, 0),
    'relu6': lambda x: np.clip(x, 0, 6),
    'elu': lambda x: np.where(x > 0, x, np.exp(x) - 1),
    'softplus': lambda x: np.log1p(np.exp(x)),
    'softsign': lambda x: x / (1 + np.abs(x)),
    'sigmoid': lambda x: 1 / (1 + np.exp(-x)),
    'tanh': np.tanh,
    'selu': lambda x: 1.0507009873554805 * np.where(
        x > 0, x, 1.6732632423543772 * (np.exp(x) - 1)),
    'leakyrelu': lambda x: np.where(x > 0, x, 0.01 * x),
    'prelu': lambda x: np.maximum(x, 0),  # alpha starts at 0
}


@pytest.mark.parametrize('func', sorted(NUMPY_ACTI))
def test_activation_numerics(graph, func):
    out = ActiLayer(func)(tf.constant(X))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run(out), NUMPY_ACTI[func](X),
                                   rtol=1e-5, atol=1e-6)


def test_prelu_alpha_is_trainable_per_channel(graph):
    layer = ActiLayer('PReLU', name='acti')
    x = np.array([[[-2.0, -4.0], [3.0, 1.0]]], np.float32)
    out = layer(tf.constant(x))
    alpha = tf.trainable_variables()
    assert [v.op.name for v in alpha] == ['prelu_acti/alpha']
    assert alpha[0].shape.as_list() == [2]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(alpha[0].assign([0.5, 0.25]))
        np.testing.assert_allclose(sess.run(out),
                                   [[[-1.0, -1.0], [3.0, 1.0]]])


def test_dropout(graph):
    layer = ActiLayer('dropout')
    out = layer(tf.ones([1000]), keep_prob=0.5)
    kept_all = layer(tf.ones([10]), keep_prob=1.0)
    with tf.Session() as sess:
        value, ones = sess.run([out, kept_all])
    assert set(np.unique(value)) <= {0.0, 2.0}
    assert 350 < np.count_nonzero(value) < 650
    np.testing.assert_allclose(ones, 1.0)
    with pytest.raises(ValueError, match='keep_prob'):
        ActiLayer('dropout', name='no_prob')(tf.ones([3]))


def test_unknown_activation_suggests_a_name(graph):
    with pytest.raises(ValueError, match='did you mean "sigmoid"') as error:
        ActiLayer('sigmiod')
    assert 'activation function' in str(error.value)
    assert 'sigmiod' in str(error.value)


def test_fc_layer_flattens_non_batch_dims(graph):
    images = tf.placeholder(tf.float32, [None, 3, 4, 2])
    out = FCLayer(5, name='fc')(images)
    assert out.shape.as_list() == [None, 5]
    weights = {v.op.name: v.shape.as_list() for v in tf.trainable_variables()}
    assert weights == {'fc/w': [24, 5], 'fc/b': [5]}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        value = sess.run(out, {images: np.ones((7, 3, 4, 2))})
    assert value.shape == (7, 5)


def test_fc_layer_computes_affine_map(graph):
    x = np.array([[1.0, 2.0], [3.0, -1.0]], np.float32)
    layer = FCLayer(1, w_initializer=tf.constant_initializer([[2.0], [1.0]]),
                    b_initializer=tf.constant_initializer(0.5))
    out = layer(tf.constant(x))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run(out), [[4.5], [5.5]])


def test_fully_connected_layer_names_and_shapes(graph):
    layer = FullyConnectedLayer(3, acti_func='relu', name='fc')
    out = layer(tf.ones([4, 2, 5]), is_training=True)
    assert out.shape.as_list() == [4, 3]
    assert layer.layer_scope().name == 'fc_bn_relu'
    assert sorted(v.op.name for v in tf.trainable_variables()) == [
        'fc_bn_relu/bn_/beta', 'fc_bn_relu/bn_/gamma', 'fc_bn_relu/fc_/b',
        'fc_bn_relu/fc_/w']
    with pytest.raises(ValueError, match='non-batch'):
        FCLayer(2, name='bad')(tf.placeholder(tf.float32, [None, None]))
