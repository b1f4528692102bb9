"""ToyNet, HighRes3DNet and UNet3D: shapes, variable sharing, training."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from niftydrive.layer.bn import BN_COLLECTION
from niftydrive.layer.loss_segmentation import LossFunction
from niftydrive.network.base_net import BaseNet
from niftydrive.network.highres3dnet import HighRes3DNet
from niftydrive.network.highres3dnet_small import HighRes3DNetSmall
from niftydrive.network.toynet import ToyNet
from niftydrive.network.unet import UNet3D
from niftydrive.utilities.errors import UserInputError


def _fixed_batch(shape, seed=0):
    """Images and labels: label 1 where the image is bright."""
    rng = np.random.RandomState(seed)
    images = rng.randn(*shape).astype(np.float32)
    labels = (images > 0.3).astype(np.int32)
    return images, labels


def _train(net, shape, steps, learning_rate=0.05):
    images, labels = _fixed_batch(shape)
    logits = net(tf.constant(images), is_training=True)
    assert logits.shape.as_list() == list(shape[:-1]) + [2]
    loss = LossFunction(2, loss_type='CrossEntropy')(logits,
                                                     tf.constant(labels))
    with tf.control_dependencies(tf.get_collection(BN_COLLECTION)):
        train_op = tf.train.AdamOptimizer(learning_rate).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss)
        for _ in range(steps):
            sess.run(train_op)
        last = sess.run(loss)
    return first, last


def test_base_net_is_a_trainable_layer(graph):
    net = BaseNet(num_classes=3, name='net')
    assert net.num_classes == 3 and net.acti_func == 'prelu'
    assert net.layer_scope().name == 'net'
    with pytest.raises(NotImplementedError):
        net(tf.ones([1]))


@pytest.mark.parametrize('shape', [(2, 8, 1), (2, 8, 8, 2), (2, 6, 6, 6, 1)])
def test_toynet_output_shape_per_rank(graph, shape):
    net = ToyNet(num_classes=3)
    logits = net(tf.ones(shape), is_training=True)
    assert logits.shape.as_list() == list(shape[:-1]) + [3]
    names = sorted(v.op.name for v in net.trainable_variables())
    assert names == ['ToyNet/conv_input_bn_prelu/bn_/beta',
                     'ToyNet/conv_input_bn_prelu/bn_/gamma',
                     'ToyNet/conv_input_bn_prelu/conv_/w',
                     'ToyNet/conv_input_bn_prelu/prelu_acti_/alpha',
                     'ToyNet/conv_output/conv_/b',
                     'ToyNet/conv_output/conv_/w']


def test_toynet_shares_variables_across_towers(graph):
    net = ToyNet(num_classes=2)
    for i in range(2):
        with tf.name_scope('worker_{}'.format(i)):
            net(tf.ones([1, 4, 4, 4, 1]), is_training=True)
            if i == 0:
                n_vars = len(tf.global_variables())
    assert len(tf.global_variables()) == n_vars
    assert not [v for v in tf.global_variables() if 'worker' in v.name]
    assert len(tf.get_collection(BN_COLLECTION, 'worker_1')) == 2


def test_toynet_training_reduces_loss(graph):
    first, last = _train(ToyNet(num_classes=2), (2, 6, 6, 6, 1), steps=15)
    assert last < 0.7 * first


def test_highres3dnet_structure(graph):
    net = HighRes3DNet(num_classes=4)
    logits = net(tf.placeholder(tf.float32, [None, 8, 8, 8, 1]),
                 is_training=False)
    assert logits.shape.as_list() == [None, 8, 8, 8, 4]
    names = {v.op.name for v in net.trainable_variables()}
    for stage, n_chns in zip((1, 2, 3), (16, 32, 64)):
        for block in range(3):
            weight = 'HighRes3DNet/res_{}_{}/conv_1/w'.format(stage, block)
            assert weight in names
    weights = {v.op.name: v.shape.as_list()
               for v in net.trainable_variables()}
    assert weights['HighRes3DNet/conv_0_bn_prelu/conv_/w'] == [3, 3, 3, 1, 16]
    assert weights['HighRes3DNet/res_2_0/conv_0/w'] == [3, 3, 3, 16, 32]
    assert weights['HighRes3DNet/res_3_2/conv_1/w'] == [3, 3, 3, 64, 64]
    assert weights['HighRes3DNet/conv_1_bn_prelu/conv_/w'] == [1, 1, 1, 64,
                                                                80]
    assert weights['HighRes3DNet/conv_2_bn/conv_/w'] == [1, 1, 1, 80, 4]
    # stages 2 and 3 are dilated (by 2 and 4): TF implements a dilated 3-D
    # convolution with space-to-batch, plain ones without
    graph_ops = tf.get_default_graph().get_operations()
    for stage, dilated in ((1, False), (2, True), (3, True)):
        assert dilated == any(
            op.type == 'SpaceToBatchND' and '/res_{}_'.format(stage) in op.name
            for op in graph_ops)


def test_highres3dnet_small_trains(graph):
    net = HighRes3DNetSmall(num_classes=2, n_features=(4, 4, 8),
                            n_fc_features=8)
    first, last = _train(net, (2, 6, 6, 6, 1), steps=15)
    assert last < 0.8 * first
    assert net.layer_scope().name == 'HighRes3DNetSmall'


def test_unet3d_output_shape_and_training(graph):
    net = UNet3D(num_classes=2, n_features=2)
    first, last = _train(net, (1, 8, 8, 8, 1), steps=10)
    assert last < 0.8 * first
    weights = {v.op.name: v.shape.as_list()
               for v in net.trainable_variables()}
    assert weights['UNet/L4/up_2x2_bn_prelu/deconv_/w'] == [2, 2, 2, 32, 32]
    assert weights['UNet/conv_output/conv_/w'] == [1, 1, 1, 4, 2]


def test_unet3d_rejects_window_not_divisible_by_8(graph):
    net = UNet3D(num_classes=2, n_features=2)
    with pytest.raises(UserInputError) as error:
        net(tf.ones([1, 8, 12, 8, 1]), is_training=True)
    message = str(error.value)
    assert 'divisible by 8' in message
    assert '[8, 12, 8]' in message
    assert '[8, 16, 8]' in message
    with pytest.raises(UserInputError, match='window size'):
        net(tf.placeholder(tf.float32, [1, None, 8, 8, 1]), is_training=True)
