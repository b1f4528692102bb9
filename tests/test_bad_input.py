"""Bad data and impossible sizes through ``net_run``: each gives one line
naming the subject and the file (or the keys), exit code 1, no traceback,
no hang."""
import os
import shutil
import subprocess
import sys

import nibabel as nib
import numpy as np
import pytest

from niftydrive.contrib.demo_data import make_dataset
from niftydrive.engine.window_memory import check_window_memory, window_bytes
from niftydrive.net_run import main
from niftydrive.utilities.errors import UserInputError
from test_seg_application import ALL_TRAINING, write_config as seg_config

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp('bad_input_data')
    make_dataset(str(folder), subjects=3, shape=(12, 12, 12), seed=5)
    return folder


def copy_data(dataset, tmp_path):
    data = tmp_path / 'data'
    shutil.copytree(str(dataset), str(data))
    return data


def write_config(tmp_path, data):
    """test_seg_application's config, training on every subject."""
    return seg_config(tmp_path, data, window=8, classes=3, normalise=True)


def run_main(argv, capsys):
    code = main(argv)
    err = capsys.readouterr().err
    return code, err


def one_error_line(err):
    lines = [line for line in err.splitlines() if line.startswith('net_run: error:')]
    assert len(lines) == 1 and 'Traceback' not in err, err
    return lines[0]


def _resave(path, transform):
    image = nib.load(str(path))
    nib.save(nib.Nifti1Image(transform(image.get_fdata()).astype(np.float32),
                             image.affine), str(path))


def garbage(data):
    (data / 'subj02_T1.nii.gz').write_bytes(os.urandom(3000))
    return 'subj02_T1.nii.gz (subject subj02)'


def header_without_data(data):
    image = nib.load(str(data / 'subj02_T1.nii.gz'))
    voxels = image.get_fdata().astype(np.float32)
    os.remove(str(data / 'subj02_T1.nii.gz'))
    nib.save(nib.Nifti1Image(voxels, image.affine), str(data / 'subj02_T1.nii'))
    raw = (data / 'subj02_T1.nii').read_bytes()
    (data / 'subj02_T1.nii').write_bytes(raw[:352])
    return 'subj02_T1.nii (subject subj02)'


def broken_symlink(data):
    os.remove(str(data / 'subj02_T1.nii.gz'))
    os.symlink(str(data / 'gone.nii.gz'), str(data / 'subj02_T1.nii.gz'))
    return 'subj02_T1.nii.gz (subject subj02) is a broken symbolic link'


def folder_named_like_an_image(data):
    os.remove(str(data / 'subj03_T1.nii.gz'))
    os.mkdir(str(data / 'subj03_T1.nii.gz'))
    return 'subj03_T1.nii.gz (subject subj03) is a folder, not a file'


def four_d_image_among_3d(data):
    _resave(data / 'subj02_T1.nii.gz', lambda a: np.stack([a, a], -1))
    return 'Subject subj02: image {} has shape (12, 12, 12, 2, 1) but'.format(
        data / 'subj02_T1.nii.gz')


def four_d_labels(data):
    for name in ('subj01', 'subj02', 'subj03'):
        _resave(data / '{}_Label.nii.gz'.format(name), lambda a: np.stack([a, a], -1))
    return 'Subject subj01: label {} has shape (12, 12, 12, 2, 1): a label map'.format(
        data / 'subj01_Label.nii.gz')


def label_of_another_shape(data):
    _resave(data / 'subj03_Label.nii.gz', lambda a: a[:10])
    return 'subj03_Label.nii.gz has shape ('


def label_values_beyond_num_classes(data):
    def add_class(array):
        array[0, 0, 0] = 7
        return array
    _resave(data / 'subj02_Label.nii.gz', add_class)
    return 'value 7 only in {} (subject subj02)'.format(data / 'subj02_Label.nii.gz')


@pytest.mark.parametrize('damage', [
    garbage, header_without_data, broken_symlink, folder_named_like_an_image,
    four_d_image_among_3d, four_d_labels, label_of_another_shape,
    label_values_beyond_num_classes], ids=lambda f: f.__name__)
def test_bad_training_data_names_subject_and_file(tmp_path, dataset, capsys, damage):
    data = copy_data(dataset, tmp_path)
    expected = damage(data)
    code, err = run_main(['train', '-c', write_config(tmp_path, data)] +
                         list(ALL_TRAINING), capsys)
    assert code == 1
    assert expected in one_error_line(err)


def test_fifo_named_like_an_image_is_reported_not_opened(tmp_path, dataset):
    data = copy_data(dataset, tmp_path)
    os.remove(str(data / 'subj02_T1.nii.gz'))
    os.mkfifo(str(data / 'subj02_T1.nii.gz'))
    # a subprocess: a regression would block on the FIFO forever
    result = subprocess.run(
        [sys.executable, '-m', 'niftydrive.net_run', 'train', '-c',
         write_config(tmp_path, data)] + list(ALL_TRAINING), capture_output=True, text=True, timeout=120,
        env=dict(os.environ, PYTHONPATH=REPO))
    assert result.returncode == 1
    assert 'subj02_T1.nii.gz (subject subj02) is not a regular file' in \
        one_error_line(result.stderr)


def test_label_window_other_than_the_image_window_is_refused_with_resize_sampling(
        tmp_path, dataset, capsys):
    # resize sampling resizes every input of a window to one shape, so a label
    # window of its own cannot be honoured (uniform sampling allows it: DeepMedic)
    config = write_config(tmp_path, copy_data(dataset, tmp_path))
    code, err = run_main(['train', '-c', config, '--Label.spatial_window_size', '4,4,4',
                          '--window_sampling', 'resize'] + list(ALL_TRAINING), capsys)
    assert code == 1
    assert '[Label] spatial_window_size = (4, 4, 4) differs from the ' \
           'image\'s (8, 8, 8)' in one_error_line(err)


def test_bad_inference_data_names_subject_and_file(tmp_path, dataset, capsys):
    data = copy_data(dataset, tmp_path)
    config = write_config(tmp_path, data)
    assert main(['train', '-c', config, '--max_iter', '1'] + list(ALL_TRAINING)) == 0
    os.remove(str(data / 'subj01_T1.nii.gz'))
    os.mkdir(str(data / 'subj01_T1.nii.gz'))
    code, err = run_main(['inference', '-c', config], capsys)
    assert code == 1
    assert 'subj01_T1.nii.gz (subject subj01) is a folder' in one_error_line(err)
    os.rmdir(str(data / 'subj01_T1.nii.gz'))
    shutil.copy(str(dataset / 'subj01_T1.nii.gz'), str(data / 'subj01_T1.nii.gz'))
    _resave(data / 'subj03_T1.nii.gz', lambda a: np.stack([a, a], -1))
    code, err = run_main(['inference', '-c', config], capsys)
    assert code == 1
    assert 'Subject subj03: image {}'.format(data / 'subj03_T1.nii.gz') in \
        one_error_line(err)


# ------------------------------------------------------------------ memory
def test_window_queue_memory_estimate():
    shapes = {'image': (2000, 2000, 2000, 1, 1), 'image_location': (7,)}
    dtypes = {'image': np.float32, 'image_location': np.int32}
    assert window_bytes(shapes, dtypes) == 2000 ** 3 * 4 + 28
    with pytest.raises(UserInputError, match=r'\[NETWORK\] batch_size'):
        check_window_memory('UniformSampler', shapes, dtypes, capacity=5, batch_size=2)
    check_window_memory('UniformSampler', {'image': (32, 32, 32, 1, 1)},
                        {'image': np.float32}, capacity=100, batch_size=40)


def test_absurd_batch_size_is_refused_before_allocating(tmp_path, capsys):
    code, err = run_main(['train', '-c', os.path.join(REPO, 'configs', 'toy.ini'),
                          '--model_dir', str(tmp_path / 'model'),
                          '--batch_size', '10000000'], capsys)
    assert code == 1
    line = one_error_line(err)
    assert 'batches of 10000000 windows' in line and '[NETWORK] batch_size' in line


HUNGRY_APP = '''
import numpy as np
import tensorflow.compat.v1 as tf

from niftydrive.application.base_application import BaseApplication


class HungryApplication(BaseApplication):
    """Its data loader asks for more memory than any machine has."""

    REQUIRED_CONFIG_SECTION = 'HUNGRY'

    def initialise_dataset_loader(self, data_param=None, task_param=None,
                                  data_partitioner=None):
        if task_param.where == 'numpy':
            np.ones((2 ** 25, 2 ** 20))
        size = tf.placeholder(tf.int32, [2])
        with tf.Session() as session:
            session.run(tf.reduce_sum(tf.zeros(size)), {size: [2 ** 19, 2 ** 19]})
'''


@pytest.mark.parametrize('where, detail', [
    ('numpy', 'a memory allocation failed'),
    ('tensorflow', 'TensorFlow ran out of resources')])
def test_out_of_memory_is_one_line(tmp_path, capsys, monkeypatch, where, detail):
    (tmp_path / 'hungry_app_module.py').write_text(HUNGRY_APP)
    monkeypatch.syspath_prepend(str(tmp_path))
    config = tmp_path / 'hungry.ini'
    config.write_text('[SYSTEM]\nmodel_dir = {}\n[HUNGRY]\nwhere = {}\n'.format(
        tmp_path / 'model', where))
    code, err = run_main(['train', '-c', str(config), '-a',
                          'hungry_app_module.HungryApplication'], capsys)
    assert code == 1
    line = one_error_line(err)
    assert 'out of memory: {}'.format(detail) in line and 'batch_size' in line
