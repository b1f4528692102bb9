"""The segmentation application end to end through net_run: train -> infer -> evaluate,
and the bad-input cases users meet (each a clear message and exit code 1, no hang)."""
import csv
import os
import time

import nibabel as nib
import numpy as np
import pytest

from niftydrive.contrib.demo_data import make_dataset
from niftydrive.net_run import main, net_segment

CONFIG = """
[T1]
path_to_search = {data}
filename_contains = T1
spatial_window_size = ({w}, {w}, {w})
axcodes = (R, A, S)

[Label]
path_to_search = {data}
filename_contains = Label
spatial_window_size = ({w}, {w}, {w})
interp_order = 0
axcodes = (R, A, S)

[SYSTEM]
num_threads = 1
model_dir = {model}

[NETWORK]
name = toynet
batch_size = 2
whitening = True
queue_length = 8

[TRAINING]
lr = 0.01
loss_type = DicePlusXEnt
sample_per_volume = 2
max_iter = 4
save_every_n = 2
exclude_fraction_for_validation = 0.2
exclude_fraction_for_inference = 0.4
validation_every_n = 2

[INFERENCE]
border = (2, 2, 2)

[EVALUATION]
evaluations = dice,jaccard,n_pos_ref

[SEGMENTATION]
image = T1
label = Label
num_classes = {classes}
label_normalisation = {normalise}
"""


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp('seg_data')
    make_dataset(str(folder), subjects=5, shape=(16, 16, 16), seed=3)
    return folder


def write_config(tmp_path, data, window=8, classes=3, normalise=True):
    path = tmp_path / 'seg.ini'
    path.write_text(CONFIG.format(data=data, model=tmp_path / 'model', w=window,
                                  classes=classes, normalise=normalise))
    return str(path)


ALL_TRAINING = ('--validation_every_n', '-1', '--exclude_fraction_for_validation', '0',
                '--exclude_fraction_for_inference', '0')


def run(*argv):
    start = time.time()
    code = main(list(argv))
    return code, time.time() - start


def test_train_infer_evaluate(tmp_path, dataset, capsys):
    config = write_config(tmp_path, dataset)
    assert run('train', '-c', config)[0] == 0
    model = tmp_path / 'model'
    assert (model / 'models' / 'model.ckpt-4.index').exists()
    assert (model / 'histogram_ref_file.txt').read_text().split() == ['label_Label', '0.0', '1.0', '2.0']
    split = dict(line.split(',') for line in (model / 'dataset_split.csv').read_text().split())
    inferred_ids = sorted(k for k, v in split.items() if v == 'Inference')
    assert len(inferred_ids) == 2

    assert run('inference', '-c', config)[0] == 0
    with open(str(model / 'inference' / 'inferred.csv')) as handle:
        rows = list(csv.reader(handle))
    assert sorted(r[0] for r in rows) == inferred_ids
    for subject_id, path in rows:
        source = nib.load(str(dataset / '{}_T1.nii.gz'.format(subject_id)))
        output = nib.load(path)
        assert output.shape == source.shape
        assert np.allclose(output.affine, source.affine)
        assert set(np.unique(output.get_fdata())) <= {0, 1, 2}
    at_inference = (model / 'inference' / 'evaluation.csv').read_text()

    assert run('evaluation', '-c', config)[0] == 0
    with open(str(model / 'evaluation' / 'evaluation.csv')) as handle:
        table = list(csv.DictReader(handle))
    assert (model / 'evaluation' / 'evaluation.csv').read_text() == at_inference
    assert sorted({r['subject_id'] for r in table}) == inferred_ids
    assert {r['label'] for r in table} <= {'1', '2'}
    assert all(0.0 <= float(r['dice']) <= 1.0 for r in table)
    # the [EVALUATION] metrics, at inference as well as by `net_run evaluation`
    assert [c for c in table[0] if c in ('dice', 'jaccard', 'n_pos_ref', 'sensitivity')] == \
        ['dice', 'jaccard', 'n_pos_ref']


def test_a_smaller_label_window_trains_on_the_window_centre(tmp_path, dataset, capsys):
    # DeepMedic-style configs give the label the network's (smaller) output size:
    # the loss compares the centre of toynet's 8^3 output with the 4^3 label window
    config = write_config(tmp_path, dataset)
    assert main(['train', '-c', config, '--Label.spatial_window_size', '4,4,4',
                 '--max_iter', '2'] + list(ALL_TRAINING)) == 0
    err = capsys.readouterr().err
    assert 'network output [8, 8, 8] and label window [4, 4, 4] differ' in err, err
    assert (tmp_path / 'model' / 'models' / 'model.ckpt-2.index').exists()


def test_net_segment_script_trains_infers_and_evaluates(tmp_path, dataset):
    config = write_config(tmp_path, dataset)
    assert net_segment(['train', '-c', config, '--max_iter', '2']) == 0
    assert net_segment(['inference', '-c', config]) == 0
    assert net_segment(['evaluation', '-c', config, '--evaluations', 'dice']) == 0
    with open(str(tmp_path / 'model' / 'evaluation' / 'evaluation.csv')) as handle:
        rows = list(csv.DictReader(handle))
    assert len({row['subject_id'] for row in rows}) == 2 and 'dice' in rows[0]


def test_corrupt_image_is_named_and_fails_fast(tmp_path, dataset, capsys):
    data = tmp_path / 'data'
    data.mkdir()
    for name in os.listdir(str(dataset)):
        (data / name).write_bytes((dataset / name).read_bytes())
    raw = (data / 'subj02_T1.nii.gz').read_bytes()
    (data / 'subj02_T1.nii.gz').write_bytes(raw[:len(raw) // 3])
    code, seconds = run('train', '-c', write_config(tmp_path, data), *ALL_TRAINING)
    err = capsys.readouterr().err
    assert code == 1 and seconds < 60
    assert 'subj02_T1.nii.gz (subject subj02)' in err


def test_empty_image_is_named(tmp_path, dataset, capsys):
    data = tmp_path / 'data'
    data.mkdir()
    for name in os.listdir(str(dataset)):
        (data / name).write_bytes((dataset / name).read_bytes())
    (data / 'subj03_Label.nii.gz').write_bytes(b'')
    assert run('train', '-c', write_config(tmp_path, data), *ALL_TRAINING)[0] == 1
    assert 'subj03_Label.nii.gz (subject subj03) is empty' in capsys.readouterr().err


def test_no_matching_files_names_section_and_pattern(tmp_path, capsys):
    (tmp_path / 'empty').mkdir()
    assert run('train', '-c', write_config(tmp_path, tmp_path / 'empty'))[0] == 1
    err = capsys.readouterr().err
    assert '[T1]' in err and 'filename_contains=T1' in err


def test_num_classes_smaller_than_the_labels_is_named(tmp_path, dataset, capsys):
    config = write_config(tmp_path, dataset, classes=2)
    assert run('train', '-c', config)[0] == 1
    assert 'num_classes = 2' in capsys.readouterr().err


def test_window_larger_than_the_image_is_padded(tmp_path, dataset):
    config = write_config(tmp_path, dataset, window=20)
    assert run('train', '-c', config, '--max_iter', '1', '--validation_every_n', '-1')[0] == 0
    assert run('inference', '-c', config)[0] == 0
    rows = (tmp_path / 'model' / 'inference' / 'inferred.csv').read_text().split()
    assert len(rows) == 2
    assert nib.load(rows[0].split(',')[1]).shape == (16, 16, 16)
