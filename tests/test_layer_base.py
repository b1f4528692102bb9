"""Variable sharing of layers across towers, and the base layer API."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from niftydrive.layer.base_layer import (
    DataDependentLayer, Layer, LayerFromCallable, RandomisedLayer,
    TrainableLayer)
from niftydrive.layer.convolution import ConvolutionalLayer


class _Scale(TrainableLayer):
    def layer_op(self, x):
        w = tf.get_variable('w', [1], initializer=tf.ones_initializer())
        return x * w


def test_same_layer_in_two_towers_shares_variables(graph):
    layer = ConvolutionalLayer(4, kernel_size=3, acti_func='selu', name='conv')
    outputs = []
    for i in range(2):
        with tf.name_scope('worker_{}'.format(i)):
            outputs.append(layer(tf.ones([2, 6, 6, 1]), is_training=True))
            if i == 0:
                n_vars = len(tf.trainable_variables())
                n_global = len(tf.global_variables())
    assert len(tf.trainable_variables()) == n_vars == 3  # w, beta, gamma
    assert len(tf.global_variables()) == n_global
    names = sorted(v.op.name for v in tf.global_variables())
    assert names == ['conv_bn_selu/bn_/beta', 'conv_bn_selu/bn_/gamma',
                     'conv_bn_selu/bn_/moving_mean',
                     'conv_bn_selu/bn_/moving_variance',
                     'conv_bn_selu/conv_/w']
    assert all('worker' not in name for name in names)
    # the ops themselves live in the towers' name scopes
    assert outputs[0].name.startswith('worker_0/')
    assert outputs[1].name.startswith('worker_1/')
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out_0, out_1 = sess.run(outputs)
    np.testing.assert_allclose(out_0, out_1)


def test_nested_layers_get_unique_scopes_and_reuse(graph):
    class Net(TrainableLayer):
        def layer_op(self, x):
            x = _Scale('scale')(x)
            return _Scale('scale')(x)

    net = Net('G')
    for i in range(3):
        with tf.name_scope('worker_{}'.format(i)):
            net(tf.ones([2]))
    assert [v.op.name for v in net.trainable_variables()] == [
        'G/scale/w', 'G/scale_1/w']
    assert net.num_trainable_params() == 2
    assert net.layer_scope().name == 'G'


def test_trainable_variables_do_not_leak_to_similar_scope_names(graph):
    first, second = _Scale('G'), _Scale('G_extra')
    first(tf.ones([1]))
    second(tf.ones([1]))
    assert [v.op.name for v in first.trainable_variables()] == ['G/w']


def test_two_objects_with_one_name_get_distinct_scopes(graph):
    first, second = _Scale('scale'), _Scale('scale')
    first(tf.ones([1]))
    second(tf.ones([1]))
    assert first.layer_scope().name == 'scale'
    assert second.layer_scope().name == 'scale_1'


def test_regularizer_loss_sums_layer_regularisers(graph):
    layer = ConvolutionalLayer(
        2, kernel_size=1, with_bn=False,
        w_initializer=tf.constant_initializer(3.0),
        w_regularizer=lambda w: tf.reduce_sum(tf.square(w)), name='reg')
    layer(tf.ones([1, 3, 1]))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        losses = layer.regularizer_loss()
        assert isinstance(losses, list) and len(losses) == 1
        assert sess.run(tf.add_n(losses)) == pytest.approx(18.0)
    assert ConvolutionalLayer(2, kernel_size=1, name='plain').regularizer_loss() == []


def test_layer_without_layer_op_raises(graph):
    with pytest.raises(NotImplementedError, match='layer_op'):
        Layer('nothing')(1)


def test_layer_from_callable_and_other_bases(graph):
    double = LayerFromCallable(lambda x: 2 * x, name='double')
    with tf.Session() as sess:
        assert sess.run(double(tf.constant(3.0))) == 6.0
    assert DataDependentLayer().is_ready()
    with pytest.raises(NotImplementedError):
        RandomisedLayer().randomise()
    with pytest.raises(TypeError, match='callable'):
        LayerFromCallable(3)
    assert 'double' in str(double)


def test_restore_from_checkpoint_starts_a_layer_from_saved_weights(tmp_path):
    from niftydrive.engine.application_variables import global_vars_init_or_restore
    checkpoint = str(tmp_path / 'pretrained.ckpt')
    with tf.Graph().as_default():
        pretrained = ConvolutionalLayer(2, kernel_size=1, with_bn=False, name='old_name',
                                        w_initializer=tf.constant_initializer(7.0))
        pretrained(tf.ones([1, 3, 1]))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            tf.train.Saver().save(sess, checkpoint)
    with tf.Graph().as_default():
        layer = ConvolutionalLayer(2, kernel_size=1, with_bn=False, name='new_name',
                                   w_initializer=tf.constant_initializer(0.0))
        other = ConvolutionalLayer(2, kernel_size=1, with_bn=False, name='fresh',
                                   w_initializer=tf.constant_initializer(1.0))
        layer(tf.ones([1, 3, 1]))
        other(tf.ones([1, 3, 1]))
        layer.restore_from_checkpoint(checkpoint, scope='old_name')
        with tf.Session() as sess:
            sess.run(global_vars_init_or_restore())
            weights = sess.run(layer.trainable_variables())
            assert all(np.all(w == 7.0) for w in weights if w.ndim > 1)
            assert all(np.all(w == 1.0) for w in sess.run(other.trainable_variables())
                       if w.ndim > 1)
