"""Augmentation and window sampling in the segmentation application: the
training reader only, NiftyNet's layer order, fresh draws on every read, bad
ranges named; weighted, balanced and resize sampling chosen by window_sampling."""
import csv

import nibabel as nib
import numpy as np
import pytest

from niftydrive.contrib.demo_data import make_dataset, write_nifti
from niftydrive.engine.application_driver import ApplicationDriver
from niftydrive.engine.sampler_balanced import BalancedSampler
from niftydrive.engine.sampler_resize import ResizeSampler
from niftydrive.engine.sampler_uniform import UniformSampler
from niftydrive.engine.sampler_weighted import WeightedSampler
from niftydrive.io.image_reader import ImageReader
from niftydrive.layer.base_layer import DataDependentLayer, RandomisedLayer
from niftydrive.layer.rand_bias_field import RandomBiasFieldLayer
from niftydrive.layer.rand_elastic_deform import RandomElasticDeformationLayer
from niftydrive.layer.rand_flip import RandomFlipLayer
from niftydrive.layer.rand_rotation import RandomRotationLayer
from niftydrive.layer.rand_spatial_scaling import RandomSpatialScalingLayer
from niftydrive.net_run import main
from niftydrive.utilities import user_parameters_parser
from niftydrive.utilities.util_common import ParserNamespace

CONFIG = """
[T1]
path_to_search = {data}
filename_contains = T1
spatial_window_size = (8, 8, 8)
interp_order = 3

[Label]
path_to_search = {data}
filename_contains = Label
spatial_window_size = (8, 8, 8)
interp_order = 3

[SYSTEM]
num_threads = 1
model_dir = {model}

[NETWORK]
name = toynet
batch_size = 2

[TRAINING]
max_iter = 2
validation_every_n = 1
exclude_fraction_for_validation = 0.3
exclude_fraction_for_inference = 0.3
random_flipping_axes = (0, 1)
scaling_percentage = (-10.0, 10.0)
rotation_angle = (-10.0, 10.0)
do_elastic_deformation = True
bias_field_range = (-0.2, 0.2)

[SEGMENTATION]
image = T1
label = Label
num_classes = 3
label_normalisation = True
"""

AUGMENTATION_ORDER = [RandomFlipLayer, RandomSpatialScalingLayer, RandomRotationLayer,
                      RandomElasticDeformationLayer, RandomBiasFieldLayer]


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp('aug_data')
    make_dataset(str(folder), subjects=6, shape=(12, 12, 12), seed=1)
    return folder


def config_file(tmp_path, data):
    path = tmp_path / 'aug.ini'
    (tmp_path / 'model').mkdir(exist_ok=True)
    path.write_text(CONFIG.format(data=data, model=tmp_path / 'model'))
    return str(path)


def application(*argv):
    system_param, data_param = user_parameters_parser.parse(list(argv))
    driver = ApplicationDriver()
    driver.initialise_application(system_param, data_param)
    return driver.app


def test_only_the_training_reader_augments_in_niftynet_order(tmp_path, dataset):
    config = config_file(tmp_path, dataset)
    app = application('train', '-c', config)
    train_reader, valid_reader = app.readers
    randomised = [type(layer) for layer in train_reader.preprocessors
                  if isinstance(layer, RandomisedLayer)]
    assert randomised == AUGMENTATION_ORDER
    # ... after the normalisation, as in NiftyNet
    assert isinstance(train_reader.preprocessors[-len(randomised) - 1], DataDependentLayer)
    assert not any(isinstance(layer, RandomisedLayer) for layer in valid_reader.preprocessors)
    # labels are resampled with nearest neighbours whatever interp_order their section says
    assert train_reader.interp_orders(0) == {'image': (3,), 'label': (0,)}
    app.stop()
    inference_app = application('inference', '-c', config)
    assert not any(isinstance(layer, RandomisedLayer)
                   for layer in inference_app.readers[0].preprocessors)
    inference_app.stop()


def test_training_reads_are_augmented_afresh_and_labels_keep_their_values(tmp_path, dataset):
    app = application('train', '-c', config_file(tmp_path, dataset),
                      '--proportion_to_deform', '1')
    reader = app.readers[0]
    shapes, images = set(), []
    for _ in range(4):
        data = reader.get_subject(0)
        assert data['image'].shape[:3] == data['label'].shape[:3]
        assert set(np.unique(data['label'])) <= {0.0, 1.0, 2.0}
        shapes.add(data['image'].shape)
        images.append(data['image'])
    assert len(shapes) > 1   # scaling changes the volume's size from read to read
    assert not np.array_equal(images[0], images[1])
    app.stop()


def test_reader_applies_a_layer_to_every_field_once_per_read(tmp_path):
    image = np.arange(4 * 5 * 6, dtype=np.float32).reshape(4, 5, 6)
    rows = [{'subject_id': 's0',
             'img': write_nifti(str(tmp_path / 'img.nii.gz'), image, np.eye(4)),
             'lab': write_nifti(str(tmp_path / 'lab.nii.gz'), (image > 60) * 1.0, np.eye(4))}]
    data_param = {'img': ParserNamespace(interp_order=1), 'lab': ParserNamespace(interp_order=1)}
    reader = ImageReader(['image', 'label']).initialise(
        data_param, ParserNamespace(image=('img',), label=('lab',)), rows)
    reader.label_fields = ('label',)
    assert reader.interp_orders(0) == {'image': (1,), 'label': (0,)}
    reader.add_preprocessing_layers([RandomFlipLayer(flip_axes=(2,), flip_probability=1.0)])
    for _ in range(2):   # flipped once per read, never twice
        data = reader.get_subject(0)
        assert np.array_equal(data['image'][..., 0], image[:, :, ::-1])
        assert np.array_equal(data['label'][..., 0], (image[:, :, ::-1] > 60) * 1.0)


def test_seeded_layers_in_a_reader_draw_new_parameters_on_each_read(tmp_path, dataset):
    app = application('train', '-c', config_file(tmp_path, dataset))
    reader = app.readers[0]
    rotation = [layer for layer in reader.preprocessors
                if isinstance(layer, RandomRotationLayer)][0]
    rotation.set_seed(0)
    angles = set()
    for _ in range(3):
        reader.get_subject(0)
        angles.add(rotation.angles)
    assert len(angles) == 3
    app.stop()


@pytest.mark.parametrize('option, value, message', [
    ('--rotation_angle', '(10, -10)', 'rotation_angle'),
    ('--rotation_angle_y', '(5)', 'rotation_angle_y'),
    ('--scaling_percentage', '(-100, 10)', 'scaling_percentage'),
    ('--random_flipping_axes', '(0, 3)', 'random_flipping_axes'),
    ('--proportion_to_deform', '1.5', 'proportion_to_deform'),
    ('--bias_field_range', '(0.5, -0.5)', 'bias_field_range'),
])
def test_bad_augmentation_values_are_named(tmp_path, dataset, capsys, option, value, message):
    args = ['train', '-c', config_file(tmp_path, dataset), option, value]
    if option == '--rotation_angle_y':
        args += ['--rotation_angle', '()']
    assert main(args) == 1
    err = capsys.readouterr().err
    assert message in err and 'TRAINING' in err
    assert 'Traceback' not in err


def test_augmented_balanced_training_with_histogram_normalisation_end_to_end(tmp_path,
                                                                            dataset):
    """Every augmentation, balanced sampling, histogram normalisation over an
    otsu_plus mask, then inference and five metrics."""
    config = config_file(tmp_path, dataset)
    options = ['--window_sampling', 'balanced', '--normalisation', 'True',
               '--foreground_type', 'otsu_plus', '--normalise_foreground_only', 'True',
               '--whitening', 'True']
    assert main(['train', '-c', config, '--max_iter', '6', '--validation_every_n', '3']
                + options) == 0
    model = tmp_path / 'model'
    assert (model / 'models' / 'model.ckpt-6.index').exists()
    assert 'T1' in (model / 'histogram_ref_file.txt').read_text()   # trained landmarks
    assert main(['inference', '-c', config] + options) == 0
    metrics = 'dice,jaccard,sensitivity,hausdorff_distance,vol_diff'
    assert main(['evaluation', '-c', config, '--evaluations', metrics] + options) == 0
    with open(str(model / 'evaluation' / 'evaluation.csv')) as handle:
        table = list(csv.DictReader(handle))
    assert table and set(metrics.split(',')) <= set(table[0])
    assert all(0.0 <= float(row['dice']) <= 1.0 for row in table)


@pytest.mark.parametrize('sampling, sampler_class', [
    ('uniform', UniformSampler), ('weighted', WeightedSampler),
    ('balanced', BalancedSampler), ('resize', ResizeSampler)])
def test_window_sampling_chooses_the_training_sampler(tmp_path, dataset, sampling,
                                                      sampler_class):
    app = application('train', '-c', config_file(tmp_path, dataset), '--window_sampling',
                      sampling, '--sampler', 'Label')
    try:
        assert [type(s) for s in app.get_sampler()[0]] == [sampler_class] * 2
        if sampling in ('weighted', 'balanced'):
            assert 'sampler' in app.readers[0].names
    finally:
        app.stop()


def test_balanced_sampling_defaults_to_the_labels_and_weighted_needs_a_sampler(
        tmp_path, dataset, capsys):
    app = application('train', '-c', config_file(tmp_path, dataset), '--window_sampling',
                      'balanced')
    assert app.readers[0].input_sources['sampler'] == ('Label',)
    app.stop()
    assert main(['train', '-c', config_file(tmp_path, dataset),
                 '--window_sampling', 'weighted']) == 1
    assert 'sampler = <input section>' in capsys.readouterr().err


def test_resize_sampling_trains_and_infers_whole_images(tmp_path, dataset):
    config = config_file(tmp_path, dataset)
    options = ['--window_sampling', 'resize', '--validation_every_n', '-1']
    assert main(['train', '-c', config, '--max_iter', '2'] + options) == 0
    assert main(['inference', '-c', config] + options) == 0
    rows = (tmp_path / 'model' / 'inference' / 'inferred.csv').read_text().split()
    assert len(rows) == 2
    for row in rows:
        subject, path = row.split(',')
        output = nib.load(path)
        source = nib.load(str(dataset / '{}_T1.nii.gz'.format(subject)))
        assert output.shape == source.shape
        assert np.allclose(output.affine, source.affine)
        assert set(np.unique(output.get_fdata())) <= {0, 1, 2}
