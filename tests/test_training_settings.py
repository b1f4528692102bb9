"""The model folder describes itself: every run writes its resolved
parameters to <model_dir>/settings_<action>.txt, and inference takes the
preprocessing keys its configuration leaves out from the training run's."""
import configparser

import nibabel as nib
import numpy as np

from niftydrive.contrib.demo_data import make_dataset
from niftydrive.net_run import main

from test_seg_application import write_config

# the keys a user forgets at inference, as they appear in test_seg_application
FORGOTTEN = ('spatial_window_size = (8, 8, 8)\naxcodes = (R, A, S)\n\n[Label]',
             'whitening = True\n', 'label_normalisation = True\n')


def inference_config(train_config, tmp_path):
    text = open(train_config).read()
    for line in FORGOTTEN:
        assert line in text
        text = text.replace(line, '\n[Label]' if '[Label]' in line else '')
    path = tmp_path / 'infer.ini'
    path.write_text(text)
    return str(path)


def outputs(folder):
    return {path.name: nib.load(str(path)).get_fdata()
            for path in sorted(folder.glob('*_niftynet_out.nii.gz'))}


def test_inference_takes_forgotten_preprocessing_keys_from_training(
        tmp_path, capsys):
    data = tmp_path / 'data'
    make_dataset(str(data), subjects=5, shape=(16, 16, 16), seed=3)
    config = write_config(tmp_path, data)
    assert main(['train', '-c', config, '--max_iter', '2']) == 0
    saved = configparser.ConfigParser(interpolation=None)
    saved.read(str(tmp_path / 'model' / 'settings_train.txt'))
    assert saved['NETWORK']['whitening'] == 'True'
    assert saved['T1']['spatial_window_size'] == '(8, 8, 8)'
    assert saved['CUSTOM']['label_normalisation'] == 'True'
    capsys.readouterr()

    assert main(['inference', '-c', config, '--save_seg_dir',
                 str(tmp_path / 'full')]) == 0
    capsys.readouterr()
    short = inference_config(config, tmp_path)
    assert main(['inference', '-c', short, '--save_seg_dir',
                 str(tmp_path / 'short')]) == 0
    err = capsys.readouterr().err
    line = [text for text in err.splitlines()
            if 'taken from the training run' in text]
    assert len(line) == 1, err
    for key in ('[NETWORK] whitening = True',
                '[T1] spatial_window_size = (8, 8, 8)',
                '[T1] axcodes = (R, A, S)',
                '[SEGMENTATION] label_normalisation = True'):
        assert key in line[0]
    assert 'settings_train.txt' in line[0]
    # the same outputs as with the training configuration
    full, inherited = outputs(tmp_path / 'full'), outputs(tmp_path / 'short')
    assert len(full) == 2 and full.keys() == inherited.keys()
    for name in full:
        assert np.array_equal(full[name], inherited[name])
    # the inference run's own resolved settings say what was used
    used = configparser.ConfigParser(interpolation=None)
    used.read(str(tmp_path / 'model' / 'settings_inference.txt'))
    assert used['NETWORK']['whitening'] == 'True'


def test_a_key_set_at_inference_is_kept(tmp_path, capsys):
    data = tmp_path / 'data'
    make_dataset(str(data), subjects=5, shape=(16, 16, 16), seed=3)
    config = write_config(tmp_path, data)
    assert main(['train', '-c', config, '--max_iter', '1']) == 0
    capsys.readouterr()
    assert main(['inference', '-c', inference_config(config, tmp_path),
                 '--whitening', 'False']) == 0
    line = [text for text in capsys.readouterr().err.splitlines()
            if 'taken from the training run' in text][0]
    assert 'whitening' not in line and '[T1] axcodes' in line
