"""TinyNet, the toy application's GAN."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from niftydrive.layer.bn import BN_COLLECTION
from niftydrive.network.toy_gan import TinyNet

BATCH, SIZE = 4, 12


def test_tinynet_variable_names_and_shapes(graph):
    net = TinyNet()
    noise = tf.random_normal([BATCH, SIZE, 1])
    real = tf.random_normal([BATCH, SIZE, 1])
    fake, real_logits, fake_logits = net(noise, real, is_training=True)
    assert fake.shape.as_list() == [BATCH, SIZE, 1]
    assert real_logits.shape.as_list() == [BATCH, 1]
    assert fake_logits.shape.as_list() == [BATCH, 1]
    names = {v.name for v in tf.trainable_variables()}
    assert 'G/conv_bn_selu/conv_/w:0' in names
    assert 'G/conv_bn_selu_1/conv_/w:0' in names
    assert 'G/conv/w:0' in names
    assert 'D/conv_selu/conv_/w:0' in names
    g_names = {v.name for v in net.generator_variables()}
    d_names = {v.name for v in net.discriminator_variables()}
    assert g_names and d_names and not g_names & d_names
    assert all(n.startswith('G/') for n in g_names)
    assert all(n.startswith('D/') for n in d_names)
    assert g_names | d_names == names
    # the moving averages of G's batch norms are updated by BN_COLLECTION
    assert len(tf.get_collection(BN_COLLECTION)) == 4
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        fake_v, real_v = sess.run([fake, real_logits])
    assert fake_v.shape == (BATCH, SIZE, 1)
    assert np.all(np.isfinite(real_v))


def test_discriminator_is_shared_between_real_fake_and_towers(graph):
    net = TinyNet()
    for i in range(2):
        with tf.name_scope('worker_{}'.format(i)):
            fake = net.generator(tf.random_normal([BATCH, SIZE]), True)
            net.discriminator(tf.zeros([BATCH, SIZE, 1]), True)
            net.discriminator(fake, True)
        if i == 0:
            n_vars = len(tf.global_variables())
    assert len(tf.global_variables()) == n_vars
    assert not [v for v in tf.global_variables() if 'worker' in v.name]
    with pytest.raises(ValueError, match='vector_size'):
        net.generator(tf.zeros([2, 3, 3, 1]), True)


def test_tinynet_trains(graph):
    """A few steps of the usual GAN losses move both networks."""
    tf.set_random_seed(1)
    net = TinyNet()
    noise = tf.random_normal([BATCH, SIZE, 1])
    real = tf.random_normal([BATCH, SIZE, 1], mean=3.0)
    fake, real_logits, fake_logits = net(noise, real, is_training=True)
    xent = tf.nn.sigmoid_cross_entropy_with_logits
    d_loss = tf.reduce_mean(xent(labels=tf.ones_like(real_logits),
                                 logits=real_logits) +
                            xent(labels=tf.zeros_like(fake_logits),
                                 logits=fake_logits))
    g_loss = tf.reduce_mean(xent(labels=tf.ones_like(fake_logits),
                                 logits=fake_logits))
    optimiser = tf.train.AdamOptimizer(0.01)
    with tf.control_dependencies(tf.get_collection(BN_COLLECTION)):
        d_step = optimiser.minimize(d_loss,
                                    var_list=net.discriminator_variables())
        g_step = optimiser.minimize(g_loss,
                                    var_list=net.generator_variables())
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        g_before = sess.run(net.generator_variables())
        first = sess.run(d_loss)
        for _ in range(20):
            sess.run(d_step)
        assert sess.run(d_loss) < first
        sess.run(g_step)
        g_after = sess.run(net.generator_variables())
    assert any(not np.allclose(a, b) for a, b in zip(g_before, g_after))
