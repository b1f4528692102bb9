"""A denoising convolutional variational autoencoder (Kingma and Welling,
"Auto-encoding variational Bayes", ICLR 2014)."""
import numpy as np
import tensorflow.compat.v1 as tf

from niftydrive.layer.base_layer import TrainableLayer
from niftydrive.layer.convolution import ConvolutionalLayer
from niftydrive.layer.deconvolution import DeconvolutionalLayer
from niftydrive.layer.fully_connected import FullyConnectedLayer
from niftydrive.layer.reshape import ReshapeLayer
from niftydrive.layer.upsample import UpSampleLayer
from niftydrive.utilities.errors import UserInputError


class VAE(TrainableLayer):
    """``vae(images, is_training)`` returns NiftyNet's list of outputs::

        [posterior_means, posterior_logvars, data_means, data_logvars,
         images, data_variances, posterior_variances, sample]

    The encoder (``ConvEncoder``): per entry of ``conv_output_channels`` a
    convolution and a strided convolution down-sampling by
    ``conv_pooling_factors``, then fully-connected layers
    (``layer_sizes_encoder``); Gaussian noise of variance
    ``denoising_variance`` is added to the input in training.  A
    ``GaussianSampler`` predicts the posterior's means and log variances
    (``number_of_latent_variables``) and draws a sample.  The optional shared
    decoder layers (``shared_decoder``, ``layer_sizes_decoder_shared``) and
    two ``ConvDecoder``s (``decoder_means`` after the shared layers, a
    log-variance decoder directly from the sample) mirror the encoder.  The
    model is set by the attributes below (as in NiftyNet); every spatial
    size must be a multiple of the product of the pooling factors.
    """

    def __init__(self, w_initializer=None, w_regularizer=None,
                 b_initializer=None, b_regularizer=None, name='VAE'):
        super(VAE, self).__init__(name=name)
        self.denoising_variance = 0.001
        self.conv_output_channels = [32, 64, 96]
        self.conv_kernel_sizes = [3, 3, 3]
        self.conv_pooling_factors = [2, 2, 2]
        self.acti_func_conv = ['selu', 'selu', 'selu']
        self.layer_sizes_encoder = [256, 128]
        self.acti_func_encoder = ['selu', 'selu']
        self.number_of_latent_variables = 64
        self.number_of_samples_from_posterior = 100
        self.layer_sizes_decoder_shared = [128]
        self.acti_func_decoder_shared = ['selu']
        self.layer_sizes_decoder = self.layer_sizes_encoder[::-1]
        self.acti_func_decoder = self.acti_func_encoder[::-1] + ['selu']
        self.trans_conv_output_channels_means = \
            self.conv_output_channels[-2::-1]
        self.trans_conv_kernel_sizes_means = self.conv_kernel_sizes[::-1]
        self.trans_conv_unpooling_factors_means = \
            self.conv_pooling_factors[::-1]
        self.acti_func_trans_conv_means = \
            self.acti_func_conv[-2::-1] + ['sigmoid']
        self.upsampling_mode_means = 'DECONV'
        self.trans_conv_output_channels_logvars = \
            self.trans_conv_output_channels_means
        self.trans_conv_kernel_sizes_logvars = \
            self.trans_conv_kernel_sizes_means
        self.trans_conv_unpooling_factors_logvars = \
            self.trans_conv_unpooling_factors_means
        self.acti_func_trans_conv_logvars = \
            self.acti_func_conv[-2::-1] + [None]
        self.upsampling_mode_logvars = self.upsampling_mode_means
        self.logvars_upper_bound = 50
        self.logvars_lower_bound = -self.logvars_upper_bound
        self.shared_decoder = None
        self.decoder_means = None
        self.initializers = {'w': w_initializer, 'b': b_initializer}
        self.regularizers = {'w': w_regularizer, 'b': b_regularizer}

    def _downsampled_shape(self, images):
        factor = int(np.prod(self.conv_pooling_factors))
        spatial = images.shape.as_list()[1:-1]
        if any(size is None or size % factor for size in spatial):
            raise UserInputError(
                'VAE: every spatial size of the window {} must be a multiple '
                'of {} (the product of conv_pooling_factors)'.format(
                    spatial, factor))
        return [size // factor for size in spatial] + \
            [self.conv_output_channels[-1]]

    def _decoder(self, prefix, n_input_chns, downsampled_shape, name):
        return ConvDecoder(
            self.layer_sizes_decoder + [int(np.prod(downsampled_shape))],
            self.acti_func_decoder,
            getattr(self, 'trans_conv_output_channels_' + prefix) +
            [n_input_chns],
            getattr(self, 'trans_conv_kernel_sizes_' + prefix),
            getattr(self, 'trans_conv_unpooling_factors_' + prefix),
            getattr(self, 'acti_func_trans_conv_' + prefix),
            getattr(self, 'upsampling_mode_' + prefix), downsampled_shape,
            w_initializer=self.initializers['w'],
            w_regularizer=self.regularizers['w'], name=name)

    def layer_op(self, images, is_training=True, **unused_kwargs):
        """See the class docstring."""
        downsampled_shape = self._downsampled_shape(images)
        n_input_chns = images.shape.as_list()[-1]
        encoder = ConvEncoder(
            self.denoising_variance, self.conv_output_channels,
            self.conv_kernel_sizes, self.conv_pooling_factors,
            self.acti_func_conv, self.layer_sizes_encoder,
            self.acti_func_encoder, int(np.prod(downsampled_shape)),
            w_initializer=self.initializers['w'],
            w_regularizer=self.regularizers['w'])
        sampler = GaussianSampler(
            self.number_of_latent_variables,
            self.number_of_samples_from_posterior,
            self.logvars_upper_bound, self.logvars_lower_bound,
            w_initializer=self.initializers['w'],
            w_regularizer=self.regularizers['w'])
        if self.layer_sizes_decoder_shared:
            self.shared_decoder = FCDecoder(
                self.layer_sizes_decoder_shared,
                self.acti_func_decoder_shared,
                w_initializer=self.initializers['w'],
                w_regularizer=self.regularizers['w'], name='FCDecoder')
        self.decoder_means = self._decoder(
            'means', n_input_chns, downsampled_shape, 'ConvDecoder_means')
        decoder_logvars = self._decoder(
            'logvars', n_input_chns, downsampled_shape,
            'ConvDecoder_logvars')

        sample, posterior_means, posterior_logvars = sampler(
            encoder(images, is_training), is_training)
        decoded = sample
        if self.shared_decoder is not None:
            decoded = self.shared_decoder(sample, is_training)
        data_means = self.decoder_means(decoded, is_training)
        data_logvars = tf.clip_by_value(
            decoder_logvars(sample, is_training), self.logvars_lower_bound,
            self.logvars_upper_bound)
        return [posterior_means, posterior_logvars, data_means,
                data_logvars, images, tf.exp(data_logvars),
                tf.exp(posterior_logvars), sample]


class ConvEncoder(TrainableLayer):
    """Convolution + strided-convolution blocks (batch norm, activations
    ``acti_func_conv``), flattening to ``serialised_shape`` features, then
    fully-connected layers ``layer_sizes_encoder`` (batch norm,
    ``acti_func_encoder``).  Gaussian noise with variance
    ``denoising_variance`` is added to the input when training."""

    def __init__(self, denoising_variance, conv_output_channels,
                 conv_kernel_sizes, conv_pooling_factors, acti_func_conv,
                 layer_sizes_encoder, acti_func_encoder, serialised_shape,
                 w_initializer=None, w_regularizer=None, b_initializer=None,
                 b_regularizer=None, name='ConvEncoder'):
        super(ConvEncoder, self).__init__(name=name)
        self.denoising_variance = denoising_variance
        self.conv_output_channels = conv_output_channels
        self.conv_kernel_sizes = conv_kernel_sizes
        self.conv_pooling_factors = conv_pooling_factors
        self.acti_func_conv = acti_func_conv
        self.layer_sizes_encoder = layer_sizes_encoder
        self.acti_func_encoder = acti_func_encoder
        self.serialised_shape = serialised_shape
        self.initializers = {'w': w_initializer, 'b': b_initializer}
        self.regularizers = {'w': w_regularizer, 'b': b_regularizer}

    def layer_op(self, images, is_training):
        """Codes ``[batch, layer_sizes_encoder[-1]]``."""
        flow = images
        if self.denoising_variance > 0 and is_training is True:
            flow = images + tf.random_normal(
                tf.shape(images), 0.0, self.denoising_variance)
        for n_chns, kernel, pooling, acti in zip(
                self.conv_output_channels, self.conv_kernel_sizes,
                self.conv_pooling_factors, self.acti_func_conv):
            flow = ConvolutionalLayer(
                n_chns, kernel_size=kernel, with_bias=True,
                acti_func=acti, w_initializer=self.initializers['w'],
                name='encoder_conv_{}_{}'.format(kernel, n_chns))(
                    flow, is_training)
            flow = ConvolutionalLayer(
                n_chns, kernel_size=pooling, stride=pooling, acti_func=acti,
                w_initializer=self.initializers['w'],
                name='encoder_downsampler_{}_{}'.format(pooling, pooling))(
                    flow, is_training)
        flow = ReshapeLayer([-1, self.serialised_shape])(flow)
        for size, acti in zip(self.layer_sizes_encoder,
                              self.acti_func_encoder):
            flow = FullyConnectedLayer(
                size, acti_func=acti, w_initializer=self.initializers['w'],
                w_regularizer=self.regularizers['w'],
                name='encoder_fc_{}'.format(size))(flow, is_training)
        return flow


class GaussianSampler(TrainableLayer):
    """Predicts the posterior's means and (clipped) log variances from the
    codes and draws ``mean + exp(logvar / 2) * noise``, where the noise is
    the mean of ``number_of_samples_from_posterior`` standard normal draws
    (as NiftyNet).  Returns ``[sample, means, logvars]``."""

    def __init__(self, number_of_latent_variables,
                 number_of_samples_from_posterior, logvars_upper_bound,
                 logvars_lower_bound, w_initializer=None, w_regularizer=None,
                 b_initializer=None, b_regularizer=None,
                 name='gaussian_sampler'):
        super(GaussianSampler, self).__init__(name=name)
        self.number_of_latent_variables = number_of_latent_variables
        self.number_of_samples = number_of_samples_from_posterior
        self.logvars_upper_bound = logvars_upper_bound
        self.logvars_lower_bound = logvars_lower_bound
        self.initializers = {'w': w_initializer, 'b': b_initializer}
        self.regularizers = {'w': w_regularizer, 'b': b_regularizer}

    def layer_op(self, codes, is_training):
        """See the class docstring."""
        n_latent = self.number_of_latent_variables

        def _linear(kind):
            return FullyConnectedLayer(
                n_latent, with_bn=False, acti_func=None,
                w_initializer=self.initializers['w'],
                w_regularizer=self.regularizers['w'],
                name='encoder_fc_{}_{}'.format(kind, n_latent))(
                    codes, is_training)

        means = _linear('means')
        logvars = tf.clip_by_value(_linear('logvars'),
                                   self.logvars_lower_bound,
                                   self.logvars_upper_bound)
        noise_shape = tf.concat([[max(1, self.number_of_samples)],
                                 tf.shape(means)], axis=0)
        noise = tf.reduce_mean(tf.random_normal(noise_shape), axis=0)
        return [means + tf.exp(0.5 * logvars) * noise, means, logvars]


class ConvDecoder(TrainableLayer):
    """Fully-connected layers ``layer_sizes_decoder`` (the last one the
    size of the encoder's feature maps), reshaping to ``downsampled_shape``,
    then per entry of ``trans_conv_output_channels`` an up-sampling
    (``upsampling_mode`` 'DECONV', 'CHANNELWISE_DECONV' or 'REPLICATE') and
    a transposed convolution (batch norm, ``acti_func_trans_conv``)."""

    def __init__(self, layer_sizes_decoder, acti_func_decoder,
                 trans_conv_output_channels, trans_conv_kernel_sizes,
                 trans_conv_unpooling_factors, acti_func_trans_conv,
                 upsampling_mode, downsampled_shape, w_initializer=None,
                 w_regularizer=None, b_initializer=None, b_regularizer=None,
                 name='ConvDecoder'):
        super(ConvDecoder, self).__init__(name=name)
        self.layer_sizes_decoder = layer_sizes_decoder
        self.acti_func_decoder = acti_func_decoder
        self.trans_conv_output_channels = trans_conv_output_channels
        self.trans_conv_kernel_sizes = trans_conv_kernel_sizes
        self.trans_conv_unpooling_factors = trans_conv_unpooling_factors
        self.acti_func_trans_conv = acti_func_trans_conv
        self.upsampling_mode = upsampling_mode
        self.downsampled_shape = list(downsampled_shape)
        self.initializers = {'w': w_initializer, 'b': b_initializer}
        self.regularizers = {'w': w_regularizer, 'b': b_regularizer}

    def layer_op(self, codes, is_training):
        """Decoded images."""
        flow = FCDecoder(self.layer_sizes_decoder, self.acti_func_decoder,
                         w_initializer=self.initializers['w'],
                         w_regularizer=self.regularizers['w'],
                         name='decoder_fc')(codes, is_training)
        flow = ReshapeLayer([-1] + self.downsampled_shape)(flow)
        for n_chns, kernel, factor, acti in zip(
                self.trans_conv_output_channels,
                self.trans_conv_kernel_sizes,
                self.trans_conv_unpooling_factors,
                self.acti_func_trans_conv):
            if self.upsampling_mode == 'DECONV':
                flow = DeconvolutionalLayer(
                    n_chns, kernel_size=factor, stride=factor,
                    with_bias=True, w_initializer=self.initializers['w'],
                    name='decoder_upsampler_{}_{}'.format(factor, factor))(
                        flow, is_training)
            else:
                flow = UpSampleLayer(self.upsampling_mode,
                                     kernel_size=factor, stride=factor)(flow)
            flow = DeconvolutionalLayer(
                n_chns, kernel_size=kernel, stride=1, with_bias=True,
                acti_func=acti, w_initializer=self.initializers['w'],
                name='decoder_trans_conv_{}_{}'.format(kernel, n_chns))(
                    flow, is_training)
        return flow


class FCDecoder(TrainableLayer):
    """Fully-connected layers of sizes ``layer_sizes_decoder`` (batch norm,
    activations ``acti_func_decoder``)."""

    def __init__(self, layer_sizes_decoder, acti_func_decoder,
                 w_initializer=None, w_regularizer=None, b_initializer=None,
                 b_regularizer=None, name='FCDecoder'):
        super(FCDecoder, self).__init__(name=name)
        self.layer_sizes_decoder = layer_sizes_decoder
        self.acti_func_decoder = acti_func_decoder
        self.initializers = {'w': w_initializer, 'b': b_initializer}
        self.regularizers = {'w': w_regularizer, 'b': b_regularizer}

    def layer_op(self, codes, is_training):
        """Decoded features."""
        flow = codes
        for size, acti in zip(self.layer_sizes_decoder,
                              self.acti_func_decoder):
            flow = FullyConnectedLayer(
                size, acti_func=acti, w_initializer=self.initializers['w'],
                w_regularizer=self.regularizers['w'],
                name='FCDecoder_fc_{}'.format(size))(flow, is_training)
        return flow
