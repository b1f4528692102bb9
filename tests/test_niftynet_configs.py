"""NiftyNet's example configs run until they look for their data: the only
refusal left is "data not found".  And the segmentation configs whose label
window is the network's output size (DeepMedic's 9^3 for 57^3 images,
U-Net's 8^3 for 96^3) train and infer, here on small synthetic data."""
import configparser
import os
import re

import nibabel as nib
import numpy as np
import pytest

from niftydrive.contrib.demo_data import make_dataset
from niftydrive.engine.application_factory import SUPPORTED_APP
from niftydrive.net_run import main
from niftydrive.utilities.user_parameters_custom import app_of_section
from shared_data import NIFTYNET_CONFIGS, SKIP_REASON

SYSTEM_SECTIONS = {'SYSTEM', 'NETWORK', 'TRAINING', 'INFERENCE', 'EVALUATION'}

# NiftyNet 0.2's net_evaluate settings file: no application, not a net_run
# config, refused as such with one line.
NOT_A_NET_RUN_CONFIG = {'default_eval_config.ini': 'this is a NiftyNet 0.2 net_evaluate '
                                                   'settings file'}


def _config_names():
    if not os.path.isdir(NIFTYNET_CONFIGS):
        return []
    return sorted(name for name in os.listdir(NIFTYNET_CONFIGS) if name.endswith('.ini'))


def _read(path):
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path)
    return parser


def _application(parser):
    """The application the config's section selects (or None)."""
    for section in parser.sections():
        app = app_of_section(section.upper())
        if app:
            return app
    return None


@pytest.mark.skipif(not os.path.isdir(NIFTYNET_CONFIGS), reason=SKIP_REASON)
@pytest.mark.parametrize('name', _config_names())
def test_config_reaches_its_data_lookup(tmp_path, capsys, name):
    path = os.path.join(NIFTYNET_CONFIGS, name)
    parser = _read(path)
    app = _application(parser)
    if app is not None and app not in SUPPORTED_APP:
        pytest.skip('{} is not registered in the application factory yet: expected to '
                    'reach its data lookup once it lands'.format(app))
    code = main(['train', '-c', path, '--model_dir', str(tmp_path / 'model'),
                 '--max_iter', '1'])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith('net_run: error:')]
    assert code == 1 and len(lines) == 1, err
    assert 'Traceback' not in err
    if name in NOT_A_NET_RUN_CONFIG:
        assert NOT_A_NET_RUN_CONFIG[name] in lines[0]
        return
    found = re.match(r'net_run: error: Input section \[(.+?)\]: .*(does not exist|not found)',
                     lines[0])
    assert found, lines[0]
    inputs = [s for s in parser.sections()
              if s.upper() not in SYSTEM_SECTIONS and not app_of_section(s.upper())]
    assert found.group(1) in inputs


SEGMENTATION = """
[T1]
path_to_search = {data}
filename_contains = T1
spatial_window_size = ({window}, {window}, {window})

[parcellation]
path_to_search = {data}
filename_contains = Label
spatial_window_size = {label_window}
interp_order = 0

[SYSTEM]
num_threads = 1
model_dir = {model}

[NETWORK]
name = {network}
batch_size = 1
queue_length = 2

[TRAINING]
lr = 0.01
loss_type = Dice
max_iter = 2
save_every_n = 2

[INFERENCE]
border = ({border}, {border}, {border})
spatial_window_size = ({infer_window}, {infer_window}, {infer_window})

[SEGMENTATION]
image = T1
label = parcellation
num_classes = 3
"""


@pytest.fixture(scope='module')
def small_subjects(tmp_path_factory):
    """Two 12^3 subjects (T1 and three-class label)."""
    folder = tmp_path_factory.mktemp('seg_small')
    make_dataset(str(folder), subjects=2, shape=(12, 12, 12), seed=4)
    return folder


@pytest.mark.parametrize('network, window, label_window, infer_window, border', [
    # DeepMedic: 51^3 images give 3^3 outputs (valid convolutions); as in
    # NiftyNet's deepmedic_config.ini, the label window is that output size
    ('deepmedic', 51, '(3, 3, 3)', 63, 24),
    # the label window left empty (the image's): the label is cropped to
    # the network's output
    ('deepmedic', 51, '', 63, 24),
    # U-Net (here 'SAME': output = input) with unet_config.ini's smaller
    # label window: the output is cropped to the label window
    ('unet', 16, '(8, 8, 8)', 16, 0),
])
def test_label_window_of_the_network_output_size(tmp_path, small_subjects, caplog, network,
                                                 window, label_window, infer_window, border):
    config = tmp_path / 'seg.ini'
    config.write_text(SEGMENTATION.format(
        data=small_subjects, model=tmp_path / 'model', network=network, window=window,
        label_window=label_window, infer_window=infer_window, border=border))
    assert main(['train', '-c', str(config)]) == 0
    assert 'Training iter 2,' in caplog.text
    assert (tmp_path / 'model' / 'models' / 'model.ckpt-2.index').exists()
    assert main(['inference', '-c', str(config)]) == 0
    outputs = sorted((tmp_path / 'model' / 'inference').glob('*_niftynet_out.nii.gz'))
    assert len(outputs) == 2
    for output in outputs:
        labels = np.asarray(nib.load(str(output)).dataobj)
        assert labels.shape == (12, 12, 12)
        assert set(np.unique(labels)) <= {0, 1, 2}


def test_images_of_different_windows_are_refused(tmp_path, small_subjects, capsys):
    config = tmp_path / 'seg.ini'
    config.write_text(SEGMENTATION.format(
        data=small_subjects, model=tmp_path / 'model', network='toynet', window=8,
        label_window='', infer_window=8, border=0).replace(
            'image = T1', 'image = T1,parcellation').replace(
            'spatial_window_size = \n', 'spatial_window_size = (6, 6, 6)\n'))
    assert main(['train', '-c', str(config)]) == 1
    err = capsys.readouterr().err
    assert '[parcellation] spatial_window_size = (6, 6, 6) differs from the image' in err
