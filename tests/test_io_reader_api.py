"""ImageReader's NiftyNet API: layer_op output, properties, preprocessing layers, errors."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from niftydrive.contrib.demo_data import write_nifti
from niftydrive.io.image_reader import ImageReader
from niftydrive.layer.discrete_label_normalisation import DiscreteLabelNormalisationLayer
from niftydrive.layer.pad import PadLayer
from niftydrive.utilities.errors import UserInputError
from niftydrive.utilities.util_common import ParserNamespace

RAS = np.eye(4)


@pytest.fixture
def subjects(tmp_path):
    """Three subjects: T1, T2 (5x6x7) and a label with values 0, 4, 9."""
    rng = np.random.RandomState(0)
    rows = []
    for index in range(3):
        row = {'subject_id': 'sub{}'.format(index)}
        for section in ('T1', 'T2'):
            row[section] = write_nifti(str(tmp_path / 'sub{}_{}.nii.gz'.format(index, section)),
                                       rng.rand(5, 6, 7).astype(np.float32) + index, RAS)
        label = rng.choice([0, 4, 9], size=(5, 6, 7)).astype(np.uint8)
        row['parc'] = write_nifti(str(tmp_path / 'sub{}_parc.nii.gz'.format(index)), label, RAS)
        rows.append(row)
    data_param = {'T1': ParserNamespace(interp_order=3, pixdim=None, axcodes=None),
                  'T2': ParserNamespace(interp_order=3, pixdim=None, axcodes=None),
                  'parc': ParserNamespace(interp_order=0, pixdim=None, axcodes=None)}
    task = ParserNamespace(image=('T1', 'T2'), label=('parc',))
    return data_param, task, rows


def test_properties_as_niftynet(subjects):
    data_param, task, rows = subjects
    reader = ImageReader(['image', 'label', 'weight']).initialise(data_param, task, rows)
    assert reader.names == ('image', 'label')     # 'weight' is not in the task: left out
    assert reader.input_sources == {'image': ('T1', 'T2'), 'label': ('parc',)}
    assert reader.shapes == {'image': (5, 6, 7, 1, 2), 'label': (5, 6, 7, 1, 1)}
    assert reader.tf_dtypes == {'image': tf.float32, 'label': tf.float32}
    assert reader.spatial_ranks == {'image': 3, 'label': 3}
    assert len(reader.output_list) == 3
    assert reader.get_subject_id(2) == 'sub2' and reader.get_image_index('sub1') == 1
    assert reader.output_list[0]['image'].file_path == (rows[0]['T1'], rows[0]['T2'])


def test_layer_op_returns_index_5d_data_and_interp_orders(subjects):
    data_param, task, rows = subjects
    reader = ImageReader(['image', 'label']).initialise(data_param, task, rows)
    idx, data, interp = reader(idx=1)
    assert idx == 1 and set(data) == {'image', 'label'}
    assert data['image'].shape == (5, 6, 7, 1, 2) and data['image'].dtype == np.float32
    assert interp == {'image': (3, 3), 'label': (0,)}
    assert set(np.unique(data['label'])) <= {0, 4, 9}
    assert reader(idx=100) == (-1, None, None)
    seen = [reader(shuffle=False)[0] for _ in range(4)]
    assert seen == [0, 1, 2, -1]
    assert 0 <= reader(shuffle=True)[0] < 3


def test_preprocessing_layers_pad_and_normalise_labels(subjects, tmp_path):
    data_param, task, rows = subjects
    model_file = str(tmp_path / 'model' / 'histogram_ref_file.txt')
    normaliser = DiscreteLabelNormalisationLayer('label', ('parc',), model_file)
    reader = ImageReader(['image', 'label'])
    with pytest.raises(AssertionError, match='initialise the reader first'):
        reader.add_preprocessing_layers(normaliser)
    reader.initialise(data_param, task, rows)
    reader.add_preprocessing_layers(normaliser)
    reader.add_preprocessing_layers([PadLayer(image_name=('image', 'label'), border=(2, 1, 0))])
    _, data, _ = reader(idx=0)
    assert data['image'].shape == (9, 8, 7, 1, 2) and data['label'].shape == (9, 8, 7, 1, 1)
    assert set(np.unique(data['label'])) == {0, 1, 2}
    with open(model_file) as handle:
        assert handle.read().split() == ['label_parc', '0.0', '4.0', '9.0']
    assert reader.spatial_shape(0) == (9, 8, 7)
    restored = reader.to_original(0, reader.get_subject(0)['label'])
    assert restored.shape == (5, 6, 7, 1)


def test_a_dataframe_file_list_works_as_in_niftynet(subjects):
    pandas = pytest.importorskip('pandas')
    data_param, task, rows = subjects
    reader = ImageReader(['image']).initialise(data_param, task, pandas.DataFrame(rows))
    assert reader.get_subject_id(0) == 'sub0' and reader.shapes['image'] == (5, 6, 7, 1, 2)


def test_subjects_missing_a_file_are_skipped_and_none_left_is_an_error(subjects, caplog):
    data_param, task, rows = subjects
    rows[1]['T2'] = ''
    reader = ImageReader(['image']).initialise(data_param, task, rows)
    assert [reader.get_subject_id(i) for i in range(reader.num_subjects)] == ['sub0', 'sub2']
    assert 'sub1' in caplog.text
    for row in rows:
        row.pop('T1')
    with pytest.raises(UserInputError, match='No subject has files for all of: T1, T2'):
        ImageReader(['image']).initialise(data_param, task, rows)


def test_config_mistakes_are_named(subjects):
    data_param, task, rows = subjects
    with pytest.raises(UserInputError, match='weight = <input section'):
        ImageReader(['weight']).initialise(data_param, task, rows)
    with pytest.raises(UserInputError, match=r'no input section \[FLAIR\]'):
        ImageReader(['image']).initialise(data_param, ParserNamespace(image=('FLAIR',)), rows)
    with pytest.raises(RuntimeError, match='initialise the reader first'):
        ImageReader(['image']).shapes
