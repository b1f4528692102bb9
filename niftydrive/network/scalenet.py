"""ScaleNet (Fidon et al., "Scalable multimodal convolutional networks
for brain tumour segmentation", MICCAI 2017)."""
import tensorflow.compat.v1 as tf

from niftydrive.layer.base_layer import TrainableLayer
from niftydrive.layer.convolution import ConvolutionalLayer
from niftydrive.network.base_net import BaseNet
from niftydrive.network.highres3dnet import HighRes3DNet, HighResBlock
from niftydrive.utilities.errors import UserInputError
from niftydrive.utilities.util_common import look_up_operations

SUPPORTED_OP = {'MAX': 'MAX', 'AVERAGE': 'AVERAGE'}


class ScaleBlock(TrainableLayer):
    """Input ``[batch, spatial..., features, modalities]``: for each of
    ``n_layers``, a ``HighResBlock`` (kernels 3 and 1) across modalities
    for each feature (``M_F_<layer>_<feature>``), then one across features
    for each modality (``F_M_<layer>_<modality>``); finally the modalities
    are merged by their maximum ('MAX') or mean ('AVERAGE'), which makes the
    network independent of the number of modalities."""

    def __init__(self, func, n_layers=1, w_initializer=None,
                 w_regularizer=None, acti_func='relu', name='scaleblock'):
        self.func = look_up_operations(str(func).upper(), SUPPORTED_OP,
                                       'ScaleBlock func')
        super(ScaleBlock, self).__init__(name=name)
        self.n_layers = int(n_layers)
        self.acti_func = acti_func
        self.initializers = {'w': w_initializer}
        self.regularizers = {'w': w_regularizer}

    def _per_slice_blocks(self, tensor, prefix, layer, is_training):
        """A HighResBlock over the second-to-last axis for each entry of the
        last axis; the two last axes come back swapped."""
        rank = tensor.shape.ndims
        perm = list(range(rank - 2)) + [rank - 1, rank - 2]
        slices = tf.unstack(tf.transpose(tensor, perm), axis=-1)
        n_chns = tensor.shape.as_list()[-1]
        outputs = [HighResBlock(
            n_chns, kernels=(3, 1), with_res=True, acti_func=self.acti_func,
            w_initializer=self.initializers['w'],
            w_regularizer=self.regularizers['w'],
            name='{}_{}_{}'.format(prefix, layer, index))(piece, is_training)
                   for index, piece in enumerate(slices)]
        return tf.stack(outputs, axis=-1)

    def layer_op(self, input_tensor, is_training):
        """Merged features ``[batch, spatial..., features]``."""
        flow = input_tensor
        for layer in range(self.n_layers):
            # modalities become the channels of blocks, one per feature
            flow = self._per_slice_blocks(flow, 'M_F', layer, is_training)
            # and back: features as channels, one block per modality
            flow = self._per_slice_blocks(flow, 'F_M', layer, is_training)
        if self.func == 'MAX':
            return tf.reduce_max(flow, axis=-1)
        return tf.reduce_mean(flow, axis=-1)


class ScaleNet(BaseNet):
    """ScaleNet: each modality (input channel) through its own convolution
    (``n_features`` channels), a ``ScaleBlock`` merging the modalities, then
    a ``HighRes3DNet`` front end (built with the keyword arguments in
    ``front_end_params``, default none).  Needs at least two modalities."""

    def __init__(self, num_classes, w_initializer=None, w_regularizer=None,
                 b_initializer=None, b_regularizer=None, acti_func='prelu',
                 name='ScaleNet'):
        super(ScaleNet, self).__init__(
            num_classes=num_classes, w_initializer=w_initializer,
            w_regularizer=w_regularizer, b_initializer=b_initializer,
            b_regularizer=b_regularizer, acti_func=acti_func, name=name)
        self.n_features = 16
        self.front_end_params = {}

    def layer_op(self, images, is_training=True, layer_id=-1,
                 **unused_kwargs):
        """Logits with the spatial shape of ``images``."""
        n_modality = images.shape.as_list()[-1]
        if n_modality is None or n_modality < 2:
            raise UserInputError(
                'ScaleNet merges several image modalities: it needs at least '
                '2 input channels, got {}'.format(n_modality))
        roots = tf.split(images, n_modality, axis=-1)
        roots = [ConvolutionalLayer(
            self.n_features, kernel_size=3, acti_func=self.acti_func,
            name='conv_{}'.format(idx), **self.weight_kwargs())(
                root, is_training) for idx, root in enumerate(roots)]
        merged = ScaleBlock('AVERAGE', n_layers=1)(
            tf.stack(roots, axis=-1), is_training)
        front_end = HighRes3DNet(self.num_classes, **self.front_end_params)
        return front_end(merged, is_training)
