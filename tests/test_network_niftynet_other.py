"""VAE, GANs, ResNet and the registration networks, built by their
factory names on tiny inputs: outputs, a few training steps."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from niftydrive.engine.application_factory import (
    ApplicationNetFactory, LossAutoencoderFactory, LossGANFactory)
from niftydrive.layer.loss_autoencoder import (
    LossFunction as AutoencoderLoss, variational_lower_bound)
from niftydrive.layer.loss_classification import (
    LossFunction as ClassificationLoss)
from niftydrive.layer.loss_gan import (
    LossFunction as GANLoss, cross_entropy as gan_cross_entropy)
from niftydrive.layer.resampler import ResamplerLayer
from niftydrive.network.interventional_dense_net import _smooth
from niftydrive.utilities.errors import UserInputError
from network_training import fast_session_config, train_a_few_steps


def _random(shape, seed=0):
    return tf.constant(np.random.RandomState(seed).rand(*shape), tf.float32)


def _tiny_vae():
    vae = ApplicationNetFactory.create('vae')()
    vae.denoising_variance = 0.001
    vae.conv_output_channels = [2, 4]
    vae.conv_kernel_sizes = [3, 3]
    vae.conv_pooling_factors = [2, 2]
    vae.acti_func_conv = ['selu', 'selu']
    vae.layer_sizes_encoder = [8]
    vae.acti_func_encoder = ['selu']
    vae.number_of_latent_variables = 3
    vae.number_of_samples_from_posterior = 2
    vae.layer_sizes_decoder_shared = [8]
    vae.acti_func_decoder_shared = ['selu']
    vae.layer_sizes_decoder = [8]
    vae.acti_func_decoder = ['selu', 'selu']
    vae.trans_conv_output_channels_means = [2]
    vae.trans_conv_kernel_sizes_means = [3, 3]
    vae.trans_conv_unpooling_factors_means = [2, 2]
    vae.acti_func_trans_conv_means = ['selu', 'sigmoid']
    vae.trans_conv_output_channels_logvars = [2]
    vae.trans_conv_kernel_sizes_logvars = [3, 3]
    vae.trans_conv_unpooling_factors_logvars = [2, 2]
    vae.acti_func_trans_conv_logvars = ['selu', None]
    return vae


def test_variational_lower_bound_value(graph):
    # one sample, one voxel x = 1, mean 0, logvar 0; posterior N(1, e^0):
    # NLL = 0.5 (0 + log 2 pi + 1), KL = -0.5 (1 + 0 - 1 - 1) = 0.5
    outputs = [tf.ones([1, 1]), tf.zeros([1, 1]), tf.zeros([1, 1, 1]),
               tf.zeros([1, 1, 1]), tf.ones([1, 1, 1])]
    loss = LossAutoencoderFactory.create('VariationalLowerBound')(outputs)
    assert LossAutoencoderFactory.create('VariationalLowerBound') is \
        variational_lower_bound
    with tf.Session() as sess:
        value = sess.run(AutoencoderLoss()(outputs))
        assert sess.run(loss) == pytest.approx(value)
    assert value == pytest.approx(0.5 * (np.log(2 * np.pi) + 1) + 0.5,
                                  rel=1e-6)


def test_vae_outputs_and_training(graph):
    vae = _tiny_vae()
    images = _random([4, 8, 8, 1])
    outputs = vae(images, is_training=True)
    assert len(outputs) == 8
    shapes = [o.shape.as_list() for o in outputs]
    assert shapes[0] == shapes[1] == shapes[6] == shapes[7] == [4, 3]
    assert shapes[2] == shapes[3] == shapes[5] == [4, 8, 8, 1]
    assert outputs[4] is images
    # the applications decode samples through these two
    decoded = vae.decoder_means(vae.shared_decoder(tf.zeros([2, 3]), False),
                                False)
    assert decoded.shape.as_list() == [2, 8, 8, 1]
    first, last = train_a_few_steps(AutoencoderLoss()(outputs), steps=6,
                                    learning_rate=0.05)
    assert last < first
    with pytest.raises(UserInputError, match='multiple of 4'):
        _tiny_vae()(tf.zeros([1, 6, 8, 1]), True)


def test_gan_cross_entropy_losses(graph):
    real, fake = tf.constant([[2.0], [0.0]]), tf.constant([[-1.0], [1.0]])
    assert LossGANFactory.create('CrossEntropy') is gan_cross_entropy
    g_loss, d_loss = GANLoss()(real, fake)
    with tf.Session() as sess:
        g_value, d_value = sess.run([g_loss, d_loss])
    # xent(x, 1) = log(1 + e^-x), xent(x, 0) = log(1 + e^x)
    assert g_value == pytest.approx(
        (np.log1p(np.e) + np.log1p(np.exp(-1))) / 2, rel=1e-6)
    assert d_value == pytest.approx(
        (np.log1p(np.exp(-2)) + np.log(2)) / 2 +
        (np.log1p(np.exp(-1)) + np.log1p(np.e)) / 2, rel=1e-6)
    with pytest.raises(UserInputError, match='GAN loss_type'):
        GANLoss('Wasserstein')


def _train_gan(gan, image_shape, conditioning_shape, noise_size):
    images = _random(image_shape)
    conditioning = None if conditioning_shape is None else \
        _random(conditioning_shape, seed=1)
    noise = tf.random_normal([image_shape[0], noise_size], seed=2)
    fake, real_logits, fake_logits = gan(noise, images, conditioning, True)
    assert fake.shape.as_list() == list(image_shape)
    assert real_logits.shape.as_list() == fake_logits.shape.as_list() == \
        [image_shape[0], 1]
    _, d_loss = GANLoss()(real_logits, fake_logits)
    d_vars = gan.discriminator.trainable_variables()
    g_vars = gan.generator.trainable_variables()
    assert d_vars and g_vars and not set(d_vars) & set(g_vars)
    tf.set_random_seed(3)
    first, last = train_a_few_steps(d_loss, steps=4, learning_rate=0.01,
                                    var_list=d_vars)
    assert last < first


def test_simple_gan(graph):
    gan = ApplicationNetFactory.create('simple_gan')()
    gan.generator.hidden_layer_channels = [4, 2]
    gan.discriminator.hidden_layer_channels = [2, 4]
    _train_gan(gan, (2, 8, 8, 1), (2, 8, 8, 2), noise_size=4)
    names = {v.op.name for v in gan.trainable_variables()}
    assert 'generator/G_scale' in names


def test_simulator_gan(graph):
    gan = ApplicationNetFactory.create(
        'niftynet.network.simulator_gan.SimulatorGAN')()
    gan.discriminator.channels = [2, 2, 2]
    _train_gan(gan, (2, 16, 16, 1), (2, 16, 16, 1), noise_size=8)
    names = {v.op.name for v in gan.trainable_variables()}
    assert {'generator/G_W1p', 'discriminator/D_Wo'} <= names
    assert set(tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES,
                                 scope='discriminator')) == \
        set(gan.discriminator.trainable_variables())


def test_resnet_classifies(graph):
    net = ApplicationNetFactory.create('resnet')(
        num_classes=3, n_features=[2, 4, 4], n_blocks_per_resolution=1)
    images = _random([4, 8, 8, 1])
    logits = net(images, is_training=True)
    assert logits.shape.as_list() == [4, 3]
    loss = ClassificationLoss(3)(logits, tf.constant([0, 1, 2, 1]))
    first, last = train_a_few_steps(loss, steps=5, learning_rate=0.05)
    assert last < first
    shapes = {v.op.name.split('ResNet/')[1]: v.shape.as_list()
              for v in net.trainable_variables()}
    # pre-activation: the batch norm before the last 1x1 convolution
    # normalises its 1 (bottleneck) input channel, not its 4 outputs
    assert shapes['downres_1/bottleneck/conv_bn_relu_1/bn_/gamma'] == [1]
    assert shapes['downres_1/bottleneck/conv_bn_relu_1/conv_/w'] == \
        [1, 1, 1, 4]


def _registration_pair(shape):
    rng = np.random.RandomState(4)
    fixed = np.zeros(shape, np.float32)
    centre = [s // 2 for s in shape[1:-1]]
    fixed[(slice(None),) + tuple(slice(c - 3, c + 3) for c in centre)] = 1.0
    moving = np.roll(fixed, 1, axis=1) + 0.01 * rng.rand(*shape)
    return tf.constant(fixed), tf.constant(moving.astype(np.float32))


def _warp_loss(moving, grid, fixed):
    warped = ResamplerLayer('LINEAR', 'REPLICATE')(moving, grid)
    return tf.reduce_mean(tf.square(warped - fixed))


def test_registration_nets_train_together_in_the_hybrid(graph):
    # INetHybridPreWarp holds an INetAffine and an INetDense: training it
    # trains both
    fixed, moving = _registration_pair([2, 16, 16, 1])
    hybrid = ApplicationNetFactory.create('interventional_hybrid_net')(
        decay=0.0)
    assert isinstance(hybrid.global_net, ApplicationNetFactory.create(
        'interventional_affine_net'))
    assert isinstance(hybrid.local_net, ApplicationNetFactory.create(
        'interventional_dense_net'))
    hybrid.global_net.fea = [2, 2, 2, 2, 2]
    hybrid.local_net.fea = [2, 2, 2, 2, 2]
    dense_field, affine_field = hybrid(fixed, moving, is_training=True)
    assert dense_field.shape.as_list() == affine_field.shape.as_list() == \
        [2, 16, 16, 2]
    assert len(tf.get_collection('bending_energy')) == 1
    assert len(tf.get_collection('gradient_norm')) == 1
    names = {v.op.name.split('/')[1] for v in hybrid.trainable_variables()}
    assert names == {'inet-global', 'inet-local'}
    with tf.Session(config=fast_session_config()) as sess:
        sess.run(tf.global_variables_initializer())
        rows, _ = np.meshgrid(np.arange(16), np.arange(16), indexing='ij')
        # the affine net starts at the identity transformation
        np.testing.assert_allclose(sess.run(affine_field)[1, ..., 0], rows,
                                   atol=1e-3)
    loss = _warp_loss(moving, dense_field, fixed) + \
        _warp_loss(moving, affine_field, fixed)
    first, last = train_a_few_steps(loss, steps=4, learning_rate=0.01)
    assert last < first
    with pytest.raises(UserInputError, match='multiple of 16'):
        hybrid.local_net(tf.zeros([1, 12, 16, 1]), tf.zeros([1, 12, 16, 1]))


def test_dense_field_smoothing_keeps_constant_fields(graph):
    field = tf.ones([1, 9, 9, 2])
    smoothed = _smooth(field, 1.0, 2)
    with tf.Session() as sess:
        value = sess.run(smoothed)
    np.testing.assert_allclose(value[0, 2:-2, 2:-2], 1.0, rtol=1e-5)
    assert value[0, 0, 0, 0] < 1.0  # zero padding at the border
