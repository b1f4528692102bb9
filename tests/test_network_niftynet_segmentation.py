"""NiftyNet's other segmentation networks, built by their factory names on
tiny inputs: output shapes, variable layout, a few training steps."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from niftydrive.engine.application_factory import ApplicationNetFactory
from niftydrive.layer.loss_segmentation import LossFunction
from niftydrive.utilities.errors import UserInputError
from network_training import train_a_few_steps

TINY_DENSE_VNET = dict(n_dense_channels=(2, 2, 2), n_seg_channels=(2, 2, 2),
                       n_input_channels=(2, 2, 2), prior_size=4,
                       dilation_rates=([1] * 2, [1] * 2, [1] * 2))


def _make(name, **kwargs):
    """The network called ``name`` with tiny channel counts."""
    net = ApplicationNetFactory.create(name)(num_classes=2, **kwargs)
    if name == 'vnet':
        net.n_features = [2, 2, 4, 4, 4]
    elif name == 'deepmedic':
        net.conv_features = [2] * 8
        net.fc_features = [4, 4, 2]
    elif name == 'unet_2d':
        net.n_fea = [2, 2, 2, 2, 2]
    elif name == 'holisticnet':
        net.num_res_blocks = [1] * 4
        net.num_features = [4] * 4
        net.num_fea_score_layers = [[4, 4]] * 4
    elif name == 'scalenet':
        net.n_features = 2
        net.front_end_params = dict(n_features=(2, 2, 2), repeat=1,
                                    n_fc_features=4)
    return net


# name, constructor arguments, input shape, output spatial shape
CASES = [
    ('vnet', {}, (2, 16, 16, 1), (16, 16)),
    ('dense_vnet', dict(hyperparameters=TINY_DENSE_VNET,
                        architecture_parameters={'use_prior': True}),
     (2, 16, 16, 1), (16, 16)),
    ('deepmedic', {}, (2, 51, 51, 1), (3, 3)),
    ('unet_2d', {}, (1, 188, 188, 1), (4, 4)),
    ('highres3dnet_small', dict(n_features=(2, 2, 2), n_fc_features=4),
     (2, 8, 8, 1), (8, 8)),
    ('highres3dnet_large', dict(n_features=(2, 2, 2), repeat=1,
                                n_fc_features=4), (2, 8, 8, 1), (8, 8)),
    ('holisticnet', {}, (2, 8, 8, 1), (8, 8)),
    ('scalenet', {}, (2, 8, 8, 2), (8, 8)),
]


# a few variables (2-D shapes) showing each network's layout
EXPECTED_VARIABLES = {
    'vnet': {'VNet/L1/conv_0/w': [5, 5, 1, 2],
             'VNet/L3/downsample/w': [2, 2, 4, 4],
             'VNet/R4/upsample/w': [2, 2, 4, 4],
             'VNet/R1/conv_1x1x1/w': [1, 1, 2, 2]},
    'scalenet': {'ScaleNet/conv_1_bn_prelu/conv_/w': [3, 3, 1, 2],
                 'ScaleNet/scaleblock/M_F_0_1/conv_0/w': [3, 3, 2, 2],
                 'ScaleNet/scaleblock/F_M_0_1/conv_1/w': [1, 1, 2, 2]},
    'deepmedic': {'DeepMedic/normal_conv_bn_prelu/conv_/w': [3, 3, 1, 2],
                  'DeepMedic/conv_1x1x1_2_bn_prelu/conv_/w': [1, 1, 4, 2]},
    'holisticnet': {'HolisticNet/MergeLayer/conv_1/w': [1, 1, 4, 1]},
}


def _centre(array, spatial):
    slices = [slice(None)]
    for size, out in zip(array.shape[1:], spatial):
        start = (size - out) // 2
        slices.append(slice(start, start + out))
    return array[tuple(slices)]


@pytest.mark.parametrize('name, kwargs, in_shape, out_spatial', CASES,
                         ids=[case[0] for case in CASES])
def test_network_builds_and_trains(graph, name, kwargs, in_shape,
                                   out_spatial):
    tf.set_random_seed(1)
    rng = np.random.RandomState(0)
    images = rng.randn(*in_shape).astype(np.float32)
    labels = _centre((images[..., 0] > 0.3).astype(np.int32), out_spatial)
    net = _make(name, **kwargs)
    outputs = net(tf.constant(images), is_training=True)
    for output in (outputs if isinstance(outputs, list) else [outputs]):
        assert output.shape.as_list() == [in_shape[0]] + \
            list(out_spatial) + [2]
    assert not [v for v in tf.global_variables()
                if not v.op.name.startswith(net.layer_scope().name + '/')]
    shapes = {v.op.name: v.shape.as_list() for v in tf.global_variables()}
    for var_name, shape in EXPECTED_VARIABLES.get(name, {}).items():
        assert shapes[var_name] == shape, var_name
    loss = LossFunction(2, loss_type='CrossEntropy')(outputs,
                                                     tf.constant(labels))
    first, last = train_a_few_steps(loss)
    assert np.isfinite(last) and last < 0.95 * first, (first, last)


def test_niftynet_dotted_names_find_our_networks():
    from niftydrive.network.vnet import VNet
    assert ApplicationNetFactory.create('niftynet.network.vnet.VNet') is VNet
    assert ApplicationNetFactory.create('DeepMedic'.lower()).__name__ == \
        'DeepMedic'


def test_holisticnet_inference_gives_the_fused_scores(graph):
    holistic = _make('holisticnet')
    fused = holistic(tf.zeros([1, 8, 8, 1]), is_training=False)
    assert fused.shape.as_list() == [1, 8, 8, 2]


def test_dense_vnet_channel_sparse_and_3d_augmentation(graph):
    net = _make('dense_vnet', hyperparameters=dict(TINY_DENSE_VNET),
                architecture_parameters={'use_bdo': True})
    logits = net(tf.constant(np.random.RandomState(1).randn(
        1, 8, 8, 8, 1).astype(np.float32)), is_training=True)
    assert logits.shape.as_list() == [1, 8, 8, 8, 2]
    grads = tf.gradients(tf.reduce_sum(logits), net.trainable_variables())
    assert all(grad is not None for grad in grads)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert np.all(np.isfinite(sess.run(logits)))
    with pytest.raises(UserInputError, match='dilated'):
        _make('dense_vnet', hyperparameters={'dilation_rates': ([2],)})


@pytest.mark.parametrize('name, shape, message', [
    ('vnet', [1, 12, 16, 1], r'multiple of 16.*\[12, 16\]'),
    ('dense_vnet', [1, 12, 16, 1], 'multiple of 8'),
    ('deepmedic', [1, 50, 51, 1], r'odd.*\[50, 51\]'),
    ('holisticnet', [1, 6, 8, 1], 'multiple of 4'),
    ('scalenet', [1, 8, 8, 1], 'at least 2 input channels'),
])
def test_bad_window_sizes_are_named(graph, name, shape, message):
    with pytest.raises(UserInputError, match=message):
        _make(name)(tf.zeros(shape), is_training=False)


def test_multi_scale_network_through_the_segmentation_application(
        tmp_path, capsys):
    # HolisticNet returns a list of scores in training: the application
    # averages the loss over them and reports the fused output's Dice
    from niftydrive.contrib.demo_data import make_dataset
    from niftydrive.net_run import main
    data = tmp_path / 'data'
    data.mkdir()
    make_dataset(str(data), subjects=2, shape=(8, 8, 8), seed=1)
    config = tmp_path / 'holistic.ini'
    config.write_text(SEGMENTATION_CONFIG.format(data=data,
                                                 model=tmp_path / 'model'))
    assert main(['train', '-c', str(config)]) == 0
    assert (tmp_path / 'model' / 'models' / 'model.ckpt-2.index').exists()
    assert 'dice=' in capsys.readouterr().err
    assert main(['inference', '-c', str(config)]) == 0
    assert len(list((tmp_path / 'model' / 'inference').glob('*.nii.gz'))) \
        == 2


SEGMENTATION_CONFIG = """
[T1]
path_to_search = {data}
filename_contains = T1
spatial_window_size = (8, 8, 8)

[Label]
path_to_search = {data}
filename_contains = Label
spatial_window_size = (8, 8, 8)
interp_order = 0

[SYSTEM]
num_threads = 1
model_dir = {model}

[NETWORK]
name = network_training.TinyHolisticNet
batch_size = 1
queue_length = 2

[TRAINING]
loss_type = Dice
max_iter = 2
save_every_n = 2

[INFERENCE]
border = (0, 0, 0)

[SEGMENTATION]
image = T1
label = Label
num_classes = 3
label_normalisation = True
"""
