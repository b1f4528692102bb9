"""``net_run evaluation`` end to end: the metrics CSV after train and inference,
evaluation of outputs named by an input section, and bad input (an unknown
metric, a label of another grid, a 4-D label, a missing output), each one
clear line and exit code 1."""
import csv

import nibabel as nib
import numpy as np
import pytest

from niftydrive.contrib.demo_data import make_dataset
from niftydrive.net_run import main
from test_seg_application import write_config

EVAL_CONFIG = """
[T1]
path_to_search = {data}
filename_contains = _seg

[Label]
path_to_search = {data}
filename_contains = _ref

[Seg]
path_to_search = {data}
filename_contains = _seg

[SYSTEM]
model_dir = {model}

[EVALUATION]
evaluations = dice,jaccard,vol_diff,hausdorff_distance,average_distance

[SEGMENTATION]
image = T1
label = Label
inferred = Seg
"""


def read_rows(path):
    with open(str(path), newline='') as handle:
        return list(csv.DictReader(handle))


def test_train_infer_evaluate_writes_five_metrics(tmp_path, capsys):
    data = tmp_path / 'data'
    make_dataset(str(data), subjects=4, shape=(16, 16, 16), seed=5)
    config = write_config(tmp_path, data)
    assert main(['train', '-c', config, '--max_iter', '2', '--validation_every_n', '-1',
                 '--exclude_fraction_for_validation', '0',
                 '--exclude_fraction_for_inference', '0.5']) == 0
    assert main(['inference', '-c', config]) == 0
    assert main(['evaluation', '-c', config, '--evaluation_units', 'label,cc',
                 '--evaluations',
                 'Dice,jaccard,sensitivity,hausdorff95_distance,connected_elements']) == 0
    output = tmp_path / 'model' / 'evaluation' / 'evaluation.csv'
    with open(str(output)) as handle:
        header = handle.readline().strip().split(',')
    assert header == ['subject_id', 'label', 'cc_id', 'dice', 'jaccard', 'sensitivity',
                      'hausdorff95_distance', 'TPc', 'FPc', 'FNc']
    rows = read_rows(output)
    inferred = dict(row.split(',') for row in
                    (tmp_path / 'model' / 'inference' / 'inferred.csv').read_text().split())
    assert {r['subject_id'] for r in rows} == set(inferred) and len(inferred) == 2
    assert 'nan' not in output.read_text().lower()
    for row in rows:
        assert 0.0 <= float(row['dice']) <= 1.0 and 0.0 <= float(row['jaccard']) <= 1.0
        assert float(row['hausdorff95_distance']) >= 0.0
    # the Dice of one subject and label, recomputed from the files
    subject = sorted(inferred)[0]
    segmentation = np.asarray(nib.load(inferred[subject]).dataobj).squeeze()
    label = np.asarray(nib.load(str(data / '{}_Label.nii.gz'.format(subject))).dataobj)
    expected = 2.0 * np.sum((segmentation == 1) & (label == 1)) / (
        np.sum(segmentation == 1) + np.sum(label == 1))
    row = [r for r in rows if r['subject_id'] == subject and r['label'] == '1'][0]
    assert float(row['dice']) == pytest.approx(expected, abs=1e-6)
    assert row['cc_id'] == 'all'
    assert {r['label'] for r in rows} >= {'0', '1', '2', 'foreground'}


def save(path, data, affine=None):
    affine = np.diag([1.0, 2.0, 1.0, 1.0]) if affine is None else affine
    nib.save(nib.Nifti1Image(np.asarray(data, np.int16), affine, dtype=np.int16), str(path))


@pytest.fixture
def eval_data(tmp_path):
    """Subjects a and b: segmentation and reference label maps, 2 mm along y."""
    data = tmp_path / 'data'
    data.mkdir()
    ref = np.zeros((6, 6, 6), np.int16)
    ref[1:3, 1:3, 1:3] = 1
    seg = np.zeros_like(ref)
    seg[1:3, 2:4, 1:3] = 1     # shifted one voxel (2 mm) along y
    for subject in ('a', 'b'):
        save(data / '{}_seg.nii.gz'.format(subject), seg)
        save(data / '{}_ref.nii.gz'.format(subject), ref)
    return data


def write_eval_config(tmp_path, data):
    config = tmp_path / 'eval.ini'
    config.write_text(EVAL_CONFIG.format(data=data, model=tmp_path / 'model'))
    return str(config)


def test_evaluation_of_outputs_named_by_an_input_section(tmp_path, eval_data):
    assert main(['evaluation', '-c', write_eval_config(tmp_path, eval_data)]) == 0
    rows = read_rows(tmp_path / 'model' / 'evaluation' / 'evaluation.csv')
    assert [(r['subject_id'], r['label']) for r in rows] == [('a', '1'), ('b', '1')]
    # 8 voxels each, 4 shared: Dice 0.5, Jaccard 1/3, equal volumes; every
    # border voxel (all 8 of each cube) is 0 or 2 mm from the other border: 8 of 16 at 2 mm
    assert float(rows[0]['dice']) == 0.5
    assert float(rows[0]['jaccard']) == pytest.approx(1 / 3, abs=1e-6)
    assert float(rows[0]['vol_diff']) == 0.0
    assert float(rows[0]['hausdorff_distance']) == 2.0
    assert float(rows[0]['average_distance']) == pytest.approx(16 / 16)


def test_unknown_metric_is_refused_before_any_work(tmp_path, eval_data, capsys):
    code = main(['evaluation', '-c', write_eval_config(tmp_path, eval_data),
                 '--evaluations', 'dice,hausdorf_distance'])
    err = capsys.readouterr().err
    assert code == 1
    assert 'evaluations: unknown metric "hausdorf_distance"; did you mean ' \
           '"hausdorff_distance"?' in err
    assert 'Traceback' not in err
    assert not (tmp_path / 'model' / 'evaluation' / 'evaluation.csv').exists()


def test_label_of_another_grid_is_named(tmp_path, eval_data, capsys):
    save(eval_data / 'b_ref.nii.gz', np.zeros((8, 6, 6)))
    assert main(['evaluation', '-c', write_eval_config(tmp_path, eval_data)]) == 1
    err = capsys.readouterr().err
    assert 'Subject b:' in err and 'b_ref.nii.gz' in err and 'b_seg.nii.gz' in err
    assert 'not on the same voxel grid' in err and 'Traceback' not in err


def test_4d_label_is_named(tmp_path, eval_data, capsys):
    nib.save(nib.Nifti1Image(np.zeros((6, 6, 6, 2), np.int64), np.diag([1.0, 2.0, 1.0, 1.0]),
                             dtype=np.int64), str(eval_data / 'a_ref.nii.gz'))
    assert main(['evaluation', '-c', write_eval_config(tmp_path, eval_data)]) == 1
    err = capsys.readouterr().err
    assert 'a_ref.nii.gz has shape (6, 6, 6, 2)' in err and 'Image data has type' not in err
    assert 'Traceback' not in err


def test_missing_inference_output_is_named(tmp_path, eval_data, capsys):
    config = write_eval_config(tmp_path, eval_data)
    text = open(config).read().replace('inferred = Seg\n', '')
    open(config, 'w').write(text)
    inference = tmp_path / 'model' / 'inference'
    inference.mkdir(parents=True)
    (inference / 'inferred.csv').write_text('a,{}\n'.format(inference / 'a_out.nii.gz'))
    assert main(['evaluation', '-c', config]) == 1
    err = capsys.readouterr().err
    assert 'a_out.nii.gz (subject a) does not exist' in err and 'Traceback' not in err


def test_help_names_every_metric_and_unit(capsys):
    from niftydrive.engine.application_factory import SUPPORTED_EVALUATIONS
    assert main(['--help']) == 0
    text = ' '.join(capsys.readouterr().out.split())
    for name in SUPPORTED_EVALUATIONS:
        assert name.lower() in text.lower(), name
    assert 'evaluate inference outputs against references' in text
    assert 'foreground (each non-zero label), label (each label, background included), ' \
           'cc' in text
