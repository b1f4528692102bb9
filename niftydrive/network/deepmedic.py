"""DeepMedic (Kamnitsas et al., "Efficient multi-scale 3D CNN with fully
connected CRF for accurate brain lesion segmentation", MedIA 2017)."""
from niftydrive.layer.convolution import ConvolutionalLayer
from niftydrive.layer.crop import CropLayer
from niftydrive.layer.downsample import DownSampleLayer
from niftydrive.layer.elementwise import ElementwiseLayer
from niftydrive.layer.upsample import UpSampleLayer
from niftydrive.network.base_net import BaseNet
from niftydrive.utilities.errors import UserInputError


class DeepMedic(BaseNet):
    """Two pathways of eight 'VALID' 3x3x3 convolutions (``conv_features``
    channels): the centre of the input, and the input sub-sampled by
    ``d_factor`` (3) whose output is up-sampled back by replication; their
    concatenation goes through 1x1x1 convolutions (``fc_features``, the
    last one giving the classes; as in NiftyNet each, the last included, has
    batch norm and the activation).

    Every spatial size ``s`` of the input must be odd, a multiple of
    ``d_factor`` and larger than ``16 * d_factor``; the output is
    ``(s / d_factor - 16) * d_factor`` wide (e.g. 57 -> 9 for training,
    105 -> 57 for inference).
    """

    def __init__(self, num_classes, w_initializer=None, w_regularizer=None,
                 b_initializer=None, b_regularizer=None, acti_func='prelu',
                 name='DeepMedic'):
        super(DeepMedic, self).__init__(
            num_classes=num_classes, w_initializer=w_initializer,
            w_regularizer=w_regularizer, b_initializer=b_initializer,
            b_regularizer=b_regularizer, acti_func=acti_func, name=name)
        self.d_factor = 3  # odd, so that sub-sampling stays centred
        self.crop_diff = ((self.d_factor - 1) * 16) // 2
        self.conv_features = [30, 30, 40, 40, 40, 40, 50, 50]
        self.fc_features = [150, 150, num_classes]

    def check_window_size(self, images):
        """``UserInputError`` naming the window size when it does not fit
        the two pathways."""
        spatial = images.shape.as_list()[1:-1]
        factor = self.d_factor
        if any(size is None or size % factor or size % 2 == 0 or
               size <= 16 * factor for size in spatial):
            raise UserInputError(
                'DeepMedic needs every spatial size of its input window to '
                'be odd, a multiple of {} and larger than {} (e.g. 57 or '
                '105), but the window size is {}'.format(
                    factor, 16 * factor, spatial))

    def layer_op(self, images, is_training=True, layer_id=-1,
                 **unused_kwargs):
        """Logits for the centre of ``images``; see the class docstring."""
        self.check_window_size(images)
        normal_path = CropLayer(border=self.crop_diff,
                                name='cropping_input')(images)
        downsample_path = DownSampleLayer(
            'CONSTANT', kernel_size=self.d_factor, stride=self.d_factor,
            padding='VALID', name='downsample_input')(images)
        for n_features in self.conv_features:
            for path_name in ('normal_conv', 'downsample_conv'):
                conv = ConvolutionalLayer(
                    n_features, kernel_size=3, padding='VALID',
                    acti_func=self.acti_func, name=path_name,
                    **self.weight_kwargs())
                if path_name == 'normal_conv':
                    normal_path = conv(normal_path, is_training)
                else:
                    downsample_path = conv(downsample_path, is_training)
        downsample_path = UpSampleLayer(
            'REPLICATE', kernel_size=self.d_factor,
            stride=self.d_factor)(downsample_path)
        output = ElementwiseLayer('CONCAT')(normal_path, downsample_path)
        for n_features in self.fc_features:
            output = ConvolutionalLayer(
                n_features, kernel_size=1, acti_func=self.acti_func,
                name='conv_1x1x1_{}'.format(n_features),
                **self.weight_kwargs())(output, is_training)
        return output
