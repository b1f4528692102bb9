"""Convolutions on 1-D, 2-D and 3-D inputs shaped
``[batch, spatial..., channels]`` (the spatial rank comes from the input)."""
import tensorflow.compat.v1 as tf

from niftydrive.layer import layer_util
from niftydrive.layer.activation import ActiLayer
from niftydrive.layer.base_layer import TrainableLayer
from niftydrive.layer.bn import BNLayer


def set_weight_and_bias_init(layer, w_initializer, w_regularizer,
                             b_initializer, b_regularizer):
    """Store the initialisers/regularisers of ``w`` and ``b`` on ``layer``
    (defaults: He initialisation for ``w``, zeros for ``b``)."""
    layer.initializers = {
        'w': w_initializer or layer_util.default_w_initializer(),
        'b': b_initializer or layer_util.default_b_initializer()}
    layer.regularizers = {'w': w_regularizer, 'b': b_regularizer}


def add_bias(layer, output_tensor, n_output_chns):
    """Add a trainable bias ``b`` (one per output channel)."""
    bias = tf.get_variable(
        'b', shape=[n_output_chns], initializer=layer.initializers['b'],
        regularizer=layer.regularizers['b'])
    return tf.nn.bias_add(output_tensor, bias)


class ConvLayer(TrainableLayer):
    """A plain convolution with weights ``w`` (and bias ``b`` when
    ``with_bias``); ``kernel_size``, ``stride`` and ``dilation`` are ints or
    one int per spatial dimension.  ``stride`` and ``dilation`` cannot both
    be larger than 1."""

    def __init__(self, n_output_chns, kernel_size=3, stride=1, dilation=1,
                 padding='SAME', with_bias=False, w_initializer=None,
                 w_regularizer=None, b_initializer=None, b_regularizer=None,
                 name='conv'):
        super(ConvLayer, self).__init__(name=name)
        self.n_output_chns = int(n_output_chns)
        self.kernel_size = kernel_size
        self.stride = stride
        self.dilation = dilation
        self.padding = layer_util.check_padding(padding)
        self.with_bias = with_bias
        set_weight_and_bias_init(self, w_initializer, w_regularizer,
                                 b_initializer, b_regularizer)

    def spatial_params(self, input_tensor):
        """``(rank, kernel, strides, dilations)`` as lists of ints, one per
        spatial dimension of ``input_tensor``."""
        rank = layer_util.infer_spatial_rank(input_tensor)
        kernel = layer_util.expand_spatial_params(self.kernel_size, rank)
        strides = layer_util.expand_spatial_params(self.stride, rank,
                                                   'stride')
        dilations = layer_util.expand_spatial_params(self.dilation, rank,
                                                     'dilation')
        if max(strides) > 1 and max(dilations) > 1:
            raise ValueError(
                '{} "{}": stride {} and dilation {} cannot both be larger '
                'than 1'.format(type(self).__name__, self.name, self.stride,
                                self.dilation))
        if tf.compat.dimension_value(input_tensor.shape[-1]) is None:
            raise ValueError(
                '{} "{}" needs the number of input channels to be known, '
                'got shape {}'.format(type(self).__name__, self.name,
                                      input_tensor.shape))
        return rank, kernel, strides, dilations

    def get_weights(self, shape):
        """Create (first call) or reuse the weights ``w``."""
        return tf.get_variable('w', shape=shape,
                               initializer=self.initializers['w'],
                               regularizer=self.regularizers['w'])

    def layer_op(self, input_tensor):
        """Convolve ``input_tensor``."""
        _, kernel, strides, dilations = self.spatial_params(input_tensor)
        weights = self.get_weights(
            kernel + [input_tensor.shape[-1], self.n_output_chns])
        output_tensor = tf.nn.convolution(
            input_tensor, weights, padding=self.padding, strides=strides,
            dilation_rate=dilations, name='conv')
        if self.with_bias:
            output_tensor = add_bias(self, output_tensor, self.n_output_chns)
        return output_tensor


def composite_layer_name(name, with_bn, acti_func):
    """NiftyNet's naming of conv/fc blocks: ``conv`` + ``_bn`` + ``_selu``."""
    layer_name = '{}'.format(name)
    if with_bn:
        layer_name += '_bn'
    if acti_func is not None:
        layer_name += '_{}'.format(acti_func)
    return layer_name


class LinearNormActiLayer(TrainableLayer):
    """Base of the composite layers: a linear layer (convolution,
    transposed convolution or fully-connected, made by ``linear_layer()``),
    then optional batch norm, activation and dropout.

    The scope is ``name`` + ``_bn`` (with batch norm) + ``_<acti_func>``;
    the inner layers are named ``linear_name`` (``conv_``, ``deconv_`` or
    ``fc_``, whatever ``name`` is), ``bn_``, ``<acti_func>_acti_`` and
    ``dropout_dropout_``, as in NiftyNet.
    """

    linear_name = 'linear_'

    def __init__(self, n_output_chns, with_bias, with_bn, acti_func,
                 w_initializer, w_regularizer, b_initializer, b_regularizer,
                 moving_decay, eps, name):
        self.acti_func = acti_func
        self.with_bn = with_bn
        self.layer_name = composite_layer_name(name, with_bn, acti_func)
        super(LinearNormActiLayer, self).__init__(name=self.layer_name)
        self.n_output_chns = int(n_output_chns)
        self.with_bias = with_bias
        self.moving_decay = moving_decay
        self.eps = eps
        set_weight_and_bias_init(self, w_initializer, w_regularizer,
                                 b_initializer, b_regularizer)

    def linear_kwargs(self):
        """Constructor arguments shared by every inner linear layer."""
        return dict(n_output_chns=self.n_output_chns,
                    with_bias=self.with_bias,
                    w_initializer=self.initializers['w'],
                    w_regularizer=self.regularizers['w'],
                    b_initializer=self.initializers['b'],
                    b_regularizer=self.regularizers['b'],
                    name=self.linear_name)

    def linear_layer(self):
        """The inner linear layer; subclasses implement it."""
        raise NotImplementedError

    preactivation = False

    def layer_op(self, input_tensor, is_training=None, keep_prob=None):
        """Apply the linear layer, batch norm, activation and dropout (with
        ``preactivation``: batch norm, activation, dropout, then the linear
        layer)."""
        if self.preactivation:
            flow = self._norm_acti_dropout(input_tensor, is_training,
                                           keep_prob)
            return self.linear_layer()(flow)
        return self._norm_acti_dropout(self.linear_layer()(input_tensor),
                                       is_training, keep_prob)

    def _norm_acti_dropout(self, flow, is_training, keep_prob):
        if self.with_bn:
            if is_training is None:
                raise ValueError(
                    '"{}" uses batch normalisation: call it with is_training '
                    '(a bool or a boolean tensor)'.format(self.layer_name))
            bn_layer = BNLayer(regularizer=self.regularizers['w'],
                               moving_decay=self.moving_decay, eps=self.eps,
                               name='bn_')
            flow = bn_layer(flow, is_training)
        if self.acti_func is not None:
            acti_layer = ActiLayer(func=self.acti_func,
                                   regularizer=self.regularizers['w'],
                                   name='acti_')
            flow = acti_layer(flow)
        if keep_prob is not None:
            dropout_layer = ActiLayer(func='dropout', name='dropout_')
            flow = dropout_layer(flow, keep_prob=keep_prob)
        return flow


class ConvolutionalLayer(LinearNormActiLayer):
    """Convolution, then optional batch norm, activation and dropout.

    Called as ``layer(input, is_training=None, keep_prob=None)``.  Its scope
    is ``name`` + ``_bn`` (with batch norm) + ``_<acti_func>``, and the inner
    convolution is named ``conv_``, e.g. variables ``conv_bn_selu/conv_/w``,
    ``conv_bn_selu/bn_/gamma``.  With ``preactivation=True`` the batch norm,
    activation and dropout come before the convolution (He et al. 2016).
    """

    linear_name = 'conv_'

    def __init__(self, n_output_chns, kernel_size=3, stride=1, dilation=1,
                 padding='SAME', with_bias=False, with_bn=True,
                 acti_func=None, w_initializer=None, w_regularizer=None,
                 b_initializer=None, b_regularizer=None, moving_decay=0.9,
                 eps=1e-5, preactivation=False, name='conv'):
        self.preactivation = bool(preactivation)
        super(ConvolutionalLayer, self).__init__(
            n_output_chns, with_bias, with_bn, acti_func, w_initializer,
            w_regularizer, b_initializer, b_regularizer, moving_decay, eps,
            name)
        self.kernel_size = kernel_size
        self.stride = stride
        self.dilation = dilation
        self.padding = layer_util.check_padding(padding)

    def linear_layer(self):
        """The inner ``ConvLayer``."""
        return ConvLayer(kernel_size=self.kernel_size, stride=self.stride,
                         dilation=self.dilation, padding=self.padding,
                         **self.linear_kwargs())
