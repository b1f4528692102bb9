"""2-D pictures end to end: a segmentation run on PNG data through net_run (train ->
inference), with histogram normalisation on otsu foreground masks and whitening."""
import csv

import nibabel as nib
import numpy as np
import pytest

from niftydrive.contrib.demo_data import make_png_dataset
from niftydrive.net_run import main

pytest.importorskip('PIL.Image', reason='pillow is not installed (pip install pillow)')

CONFIG = """
[T1]
path_to_search = {data}
filename_contains = T1
spatial_window_size = (16, 16)
loader = pillow

[Label]
path_to_search = {data}
filename_contains = Label
spatial_window_size = (16, 16)
interp_order = 0

[SYSTEM]
num_threads = 1
model_dir = {model}

[NETWORK]
name = toynet
batch_size = 2
normalisation = True
whitening = True
normalise_foreground_only = True
foreground_type = otsu_plus
volume_padding_size = (2, 2, 0)

[TRAINING]
max_iter = 2
save_every_n = 2

[INFERENCE]
border = (2, 2, 0)

[SEGMENTATION]
image = T1
label = Label
num_classes = 3
label_normalisation = True
"""


def test_png_segmentation_trains_and_infers_like_nifti(tmp_path):
    data = tmp_path / 'png'
    pairs = make_png_dataset(str(data), subjects=3, shape=(24, 20), seed=2)
    config = tmp_path / 'png.ini'
    config.write_text(CONFIG.format(data=data, model=tmp_path / 'model'))

    assert main(['train', '-c', str(config)]) == 0
    models = (tmp_path / 'model' / 'histogram_ref_file.txt').read_text().splitlines()
    landmarks = dict((line.split()[0], line.split()[1:]) for line in models)
    assert len(landmarks['T1']) == 13 and float(landmarks['T1'][-1]) == 100.0
    assert landmarks['label_Label'] == ['0.0', '1.0', '2.0']

    assert main(['inference', '-c', str(config)]) == 0
    with open(str(tmp_path / 'model' / 'inference' / 'inferred.csv')) as handle:
        outputs = dict(csv.reader(handle))
    assert sorted(outputs) == ['subj01', 'subj02', 'subj03']
    for subject_id, path in outputs.items():
        segmentation = np.asarray(nib.load(path).dataobj)
        assert segmentation.shape == (24, 20)
        assert set(np.unique(segmentation)) <= {0, 1, 2}
    assert (tmp_path / 'model' / 'inference' / 'evaluation.csv').exists()
    assert pairs[0][0].endswith('subj01_T1.png')


def test_inference_without_the_trained_landmarks_is_a_clear_error(tmp_path, capsys):
    make_png_dataset(str(tmp_path / 'png'), subjects=2, shape=(16, 16), seed=3)
    config = tmp_path / 'png.ini'
    config.write_text(CONFIG.format(data=tmp_path / 'png', model=tmp_path / 'model'))
    assert main(['inference', '-c', str(config)]) == 1
    errors = [line for line in capsys.readouterr().err.splitlines()
              if line.startswith('net_run: error')]
    assert len(errors) == 1 and 'histogram_ref_file' in errors[0]
    assert 'does not exist: run training first' in errors[0]
