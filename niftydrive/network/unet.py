"""3-D U-Net (Cicek et al. 2016) with 'SAME' padding.

NiftyNet's UNet3D uses 'VALID' convolutions, so its output is smaller than
its input.  This one pads, so the output has the input's spatial shape; the
three 2x2x2 poolings need every spatial size to be divisible by 8.
"""
from niftydrive.layer.base_layer import TrainableLayer
from niftydrive.layer.convolution import ConvolutionalLayer
from niftydrive.layer.deconvolution import DeconvolutionalLayer
from niftydrive.layer.downsample import DownSampleLayer
from niftydrive.layer.elementwise import ElementwiseLayer
from niftydrive.network.base_net import BaseNet
from niftydrive.utilities.errors import UserInputError

SUPPORTED_OP = ('DOWNSAMPLE', 'UPSAMPLE', 'NONE')


class UNetBlock(TrainableLayer):
    """Convolutions (one per entry of ``n_chns`` / ``kernels``, each with
    batch norm and activation), then 2x max pooling ('DOWNSAMPLE'), a 2x
    transposed convolution ('UPSAMPLE') or nothing ('NONE').

    Returns ``(output, branch)`` where ``branch`` is the tensor before the
    resampling when ``with_downsample_branch`` (the skip connection), else
    None.
    """

    def __init__(self, func, n_chns, kernels, w_initializer=None,
                 w_regularizer=None, with_downsample_branch=False,
                 acti_func='relu', name='UNet_block'):
        super(UNetBlock, self).__init__(name=name)
        if func not in SUPPORTED_OP:
            raise ValueError('UNetBlock func must be one of {}, got '
                             '{!r}'.format(SUPPORTED_OP, func))
        if len(n_chns) != len(kernels):
            raise ValueError('UNetBlock needs one kernel size per layer: '
                             'n_chns={!r}, kernels={!r}'.format(n_chns,
                                                                 kernels))
        self.func = func
        self.n_chns = n_chns
        self.kernels = kernels
        self.acti_func = acti_func
        self.with_downsample_branch = with_downsample_branch
        self.initializers = {'w': w_initializer}
        self.regularizers = {'w': w_regularizer}

    def layer_op(self, input_tensor, is_training):
        """Apply the block; see the class docstring."""
        output_tensor = input_tensor
        for kernel_size, n_features in zip(self.kernels, self.n_chns):
            conv_op = ConvolutionalLayer(
                n_output_chns=n_features, kernel_size=kernel_size,
                w_initializer=self.initializers['w'],
                w_regularizer=self.regularizers['w'],
                acti_func=self.acti_func, name='{}'.format(n_features))
            output_tensor = conv_op(output_tensor, is_training)
        branch_output = (output_tensor if self.with_downsample_branch
                         else None)
        if self.func == 'DOWNSAMPLE':
            downsample_op = DownSampleLayer('MAX', kernel_size=2, stride=2,
                                            name='down_2x2')
            output_tensor = downsample_op(output_tensor)
        elif self.func == 'UPSAMPLE':
            upsample_op = DeconvolutionalLayer(
                n_output_chns=self.n_chns[-1], kernel_size=2, stride=2,
                w_initializer=self.initializers['w'],
                w_regularizer=self.regularizers['w'],
                acti_func=self.acti_func, name='up_2x2')
            output_tensor = upsample_op(output_tensor, is_training)
        return output_tensor, branch_output


class UNet3D(BaseNet):
    """3-D U-Net, 'SAME'-padded: ``net(images, is_training=True)`` ->
    logits ``[batch, x, y, z, num_classes]`` with the input's spatial shape.

    Channels per level are ``n_features * (1, 2, 4, 8, 16)`` (NiftyNet:
    32 ... 512).  Every spatial size of ``images`` must be divisible by 8,
    else a ``UserInputError`` names the window size.
    """

    def __init__(self, num_classes, w_initializer=None, w_regularizer=None,
                 b_initializer=None, b_regularizer=None, acti_func='prelu',
                 name='UNet', n_features=32):
        super(UNet3D, self).__init__(
            num_classes=num_classes, w_initializer=w_initializer,
            w_regularizer=w_regularizer, b_initializer=b_initializer,
            b_regularizer=b_regularizer, acti_func=acti_func, name=name)
        self.n_features = [int(n_features) * 2 ** i for i in range(5)]

    @staticmethod
    def check_window_size(images):
        """Raise ``UserInputError`` unless every spatial size of ``images``
        is known and divisible by 8."""
        spatial = images.shape.as_list()[1:-1]
        if any(size is None or size % 8 for size in spatial):
            raise UserInputError(
                'UNet3D needs every spatial size of its input window to be '
                'divisible by 8 (three 2x poolings), but the window size is '
                '{}; change spatial_window_size (e.g. to {})'.format(
                    spatial, [max(8, ((size or 8) + 7) // 8 * 8)
                              for size in spatial]))

    def layer_op(self, images, is_training=True, layer_id=-1,
                 **unused_kwargs):
        """Logits for ``images`` (``layer_id`` is accepted for NiftyNet
        compatibility; only the final output is available)."""
        self.check_window_size(images)
        n_feat = self.n_features
        kwargs = self.weight_kwargs()
        acti = self.acti_func

        def block(func, n_chns, kernels, branch, name):
            return UNetBlock(func, n_chns, kernels,
                             with_downsample_branch=branch, acti_func=acti,
                             name=name, **kwargs)

        pool_1, conv_1 = block('DOWNSAMPLE', (n_feat[0], n_feat[1]), (3, 3),
                               True, 'L1')(images, is_training)
        pool_2, conv_2 = block('DOWNSAMPLE', (n_feat[1], n_feat[2]), (3, 3),
                               True, 'L2')(pool_1, is_training)
        pool_3, conv_3 = block('DOWNSAMPLE', (n_feat[2], n_feat[3]), (3, 3),
                               True, 'L3')(pool_2, is_training)
        up_3, _ = block('UPSAMPLE', (n_feat[3], n_feat[4]), (3, 3),
                        False, 'L4')(pool_3, is_training)
        concat_3 = ElementwiseLayer('CONCAT')(conv_3, up_3)
        up_2, _ = block('UPSAMPLE', (n_feat[3], n_feat[3]), (3, 3),
                        False, 'R3')(concat_3, is_training)
        concat_2 = ElementwiseLayer('CONCAT')(conv_2, up_2)
        up_1, _ = block('UPSAMPLE', (n_feat[2], n_feat[2]), (3, 3),
                        False, 'R2')(concat_2, is_training)
        concat_1 = ElementwiseLayer('CONCAT')(conv_1, up_1)
        flow, _ = block('NONE', (n_feat[1], n_feat[1]), (3, 3),
                        False, 'R1')(concat_1, is_training)
        # logits: no batch norm, no activation
        out_layer = ConvolutionalLayer(
            self.num_classes, kernel_size=1, with_bias=True, with_bn=False,
            acti_func=None, name='conv_output',
            **self.weight_kwargs(with_bias=True))
        return out_layer(flow, is_training)
