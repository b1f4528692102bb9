"""The regression application end to end through net_run: train -> infer ->
evaluate on synthetic images whose target is a known voxel-wise map."""
import csv
import os

import nibabel as nib
import numpy as np
import pytest

from niftydrive.net_run import main, net_regress

CONFIG = """
[T1]
path_to_search = {data}
filename_contains = T1
spatial_window_size = (8, 8, 8)

[Target]
path_to_search = {data}
filename_contains = Target
spatial_window_size = (8, 8, 8)

[SYSTEM]
num_threads = 1
model_dir = {model}

[NETWORK]
name = toynet
batch_size = 2
queue_length = 8

[TRAINING]
lr = 0.01
loss_type = {loss}
sample_per_volume = 2
max_iter = 30
save_every_n = 30
exclude_fraction_for_inference = 0.4

[INFERENCE]
border = (2, 2, 2)

[REGRESSION]
image = T1
output = Target
loss_border = {loss_border}
error_map = {error_map}
"""


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    """Five 12^3 subjects: T1 smooth random, Target = 2 * T1 + 1."""
    folder = tmp_path_factory.mktemp('regression_data')
    rng = np.random.RandomState(5)
    for index in range(5):
        image = rng.uniform(0.0, 1.0, (12, 12, 12)).astype(np.float32)
        affine = np.diag([1.5, 1.0, 2.0, 1.0])
        for name, data in (('T1', image), ('Target', 2.0 * image + 1.0)):
            nib.save(nib.Nifti1Image(data, affine),
                     str(folder / 'subj{}_{}.nii.gz'.format(index, name)))
    return folder


def write_config(tmp_path, data, loss='L2Loss', loss_border=0, error_map=False):
    path = tmp_path / 'regress.ini'
    path.write_text(CONFIG.format(data=data, model=tmp_path / 'model', loss=loss,
                                  loss_border=loss_border, error_map=error_map))
    return str(path)


def read_csv(path):
    with open(path) as handle:
        return list(csv.DictReader(handle))


def test_train_infer_evaluate(tmp_path, dataset, caplog):
    caplog.set_level('INFO', logger='niftydrive')
    config = write_config(tmp_path, dataset, loss='L1Loss', loss_border=1)
    assert main(['train', '-c', config, '-a', 'net_regress']) == 0
    losses = [float(rec.getMessage().split('loss=')[1].split(',')[0])
              for rec in caplog.records if 'Training iter' in rec.getMessage()]
    assert len(losses) == 30
    assert np.mean(losses[-5:]) < np.mean(losses[:5])  # it learns the map
    assert main(['inference', '-c', config]) == 0     # [REGRESSION] selects it
    out_dir = tmp_path / 'model' / 'inference'
    outputs = sorted(name for name in os.listdir(out_dir) if name.endswith('.nii.gz'))
    assert len(outputs) == 2  # the inference split: 40% of 5 subjects
    first = nib.load(str(out_dir / outputs[0]))
    assert first.shape[:3] == (12, 12, 12)
    assert np.allclose(first.affine, np.diag([1.5, 1.0, 2.0, 1.0]))
    assert first.get_fdata().dtype.kind == 'f' and np.isfinite(first.get_fdata()).all()
    rows = read_csv(out_dir / 'evaluation.csv')
    assert [sorted(row) for row in rows][0] == ['mae', 'mse', 'rmse', 'subject_id']
    for row in rows:   # finite errors, and rmse is the root of mse
        assert float(row['rmse']) == pytest.approx(np.sqrt(float(row['mse'])), rel=1e-3)

    assert main(['evaluation', '-c', config, '--evaluations', 'mae']) == 0
    rows = read_csv(tmp_path / 'model' / 'evaluation' / 'evaluation.csv')
    assert len(rows) == 2 and sorted(rows[0]) == ['mae', 'subject_id']


def test_net_regress_script_trains_infers_and_evaluates(tmp_path, dataset):
    config = write_config(tmp_path, dataset)
    assert net_regress(['train', '-c', config, '--max_iter', '2']) == 0
    assert net_regress(['inference', '-c', config]) == 0
    assert net_regress(['evaluation', '-c', config, '--evaluations', 'rmse']) == 0
    rows = read_csv(tmp_path / 'model' / 'evaluation' / 'evaluation.csv')
    assert len(rows) == 2 and sorted(rows[0]) == ['rmse', 'subject_id']


def test_error_map_writes_the_squared_error(tmp_path, dataset):
    config = write_config(tmp_path, dataset)
    assert main(['train', '-c', config, '-a', 'net_regress', '--max_iter', '2']) == 0
    out_dir = str(tmp_path / 'errors')
    assert main(['inference', '-c', config, '--error_map', 'True',
                 '--save_seg_dir', out_dir]) == 0
    maps = [name for name in os.listdir(out_dir) if name.endswith('.nii.gz')]
    assert len(maps) == 2
    values = nib.load(os.path.join(out_dir, maps[0])).get_fdata()
    assert values.min() >= 0.0 and values.max() > 0.0


def test_training_without_a_target_is_a_clear_error(tmp_path, dataset, capsys):
    config = write_config(tmp_path, dataset)
    text = open(config).read().replace('output = Target\n', '')
    open(config, 'w').write(text)
    assert main(['train', '-c', config]) == 1
    assert 'Training needs [REGRESSION] output = <input section>' in \
        capsys.readouterr().err


def test_unknown_loss_is_named(tmp_path, dataset, capsys):
    config = write_config(tmp_path, dataset, loss='L3Loss')
    assert main(['train', '-c', config]) == 1
    assert 'L3Loss' in capsys.readouterr().err


def test_a_sampler_not_available_is_refused(tmp_path, dataset, capsys):
    config = write_config(tmp_path, dataset)
    assert main(['train', '-c', config, '--window_sampling', 'nonsense_sampler']) == 1
    assert 'window_sampling' in capsys.readouterr().err


def test_default_loss_and_weighted_sampling(tmp_path, dataset, caplog):
    caplog.set_level('INFO', logger='niftydrive')
    config = write_config(tmp_path, dataset)
    text = open(config).read().replace('loss_type = L2Loss\n', '').replace(
        'error_map = False\n', 'error_map = False\nsampler = Target\n')
    open(config, 'w').write(text)
    assert main(['train', '-c', config, '--max_iter', '3',
                 '--window_sampling', 'weighted']) == 0
    messages = [rec.getMessage() for rec in caplog.records]
    assert any('regression uses L2Loss' in m for m in messages)
    assert any('Training iter 3' in m for m in messages)
