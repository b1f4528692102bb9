"""NiftyNet's entry points: niftydrive.main() raises on bad input; the net_* console
scripts select their application and print one line on bad input."""
import os
import subprocess
import sys
import textwrap

import pytest

import niftydrive
from niftydrive.contrib.demo_data import make_dataset
from niftydrive.net_run import net_autoencoder, net_classify, net_gan, net_regress, net_segment
from niftydrive.utilities.errors import UserInputError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SEGMENTATION = """
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
name = toynet
batch_size = 1

[TRAINING]
max_iter = 1
save_every_n = 1

[SEGMENTATION]
image = T1
label = Label
num_classes = 3
"""


@pytest.fixture(scope='module')
def seg_config(tmp_path_factory):
    folder = tmp_path_factory.mktemp('entry')
    make_dataset(str(folder / 'data'), subjects=2, shape=(12, 12, 12), seed=4)
    path = folder / 'seg.ini'
    path.write_text(SEGMENTATION.format(data=folder / 'data', model=folder / 'model'))
    return path


def test_net_segment_trains_with_no_application_option(seg_config):
    assert net_segment(['train', '-c', str(seg_config)]) == 0
    assert (seg_config.parent / 'model' / 'models' / 'model.ckpt-1.index').exists()


@pytest.mark.parametrize('script, section', [
    (net_regress, 'REGRESSION'), (net_classify, 'CLASSIFICATION'), (net_gan, 'GAN'),
    (net_autoencoder, 'AUTOENCODER')])
def test_each_script_selects_its_application(seg_config, capsys, script, section):
    assert script(['train', '-c', str(seg_config)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ['{}: error: {}: application "{}" needs a [{}] section in the '
                   'configuration file'.format(script.__name__, seg_config, script.__name__,
                                               section)]


def test_an_explicit_application_option_wins(seg_config, tmp_path):
    assert net_gan(['train', '-c', str(seg_config), '-a', 'net_segment',
                    '--model_dir', str(tmp_path / 'model')]) == 0
    assert (tmp_path / 'model' / 'models' / 'model.ckpt-1.index').exists()


def test_niftydrive_main_raises_on_bad_input(tmp_path, monkeypatch):
    with pytest.raises(UserInputError, match='configuration file not found') as error:
        niftydrive.main(['train', '-c', str(tmp_path / 'missing.ini')])
    assert isinstance(error.value, ValueError)
    monkeypatch.setattr(sys, 'argv', ['net_regress', 'train', '-c', str(tmp_path / 'x.ini')])
    (tmp_path / 'x.ini').write_text('[SYSTEM]\nmodel_dir = {}\n'.format(tmp_path))
    with pytest.raises(UserInputError, match=r'needs a \[REGRESSION\] section'):
        niftydrive.main()        # the application comes from the program name


def test_console_script_prints_one_line_and_exits_non_zero(tmp_path):
    script = textwrap.dedent("""
        import sys
        from niftydrive.net_run import net_segment
        sys.argv[0] = 'net_segment'
        sys.exit(net_segment())
    """)
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
    result = subprocess.run([sys.executable, '-c', script, 'train', '-c', 'nowhere.ini'],
                            cwd=str(tmp_path), env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        'net_segment: error: configuration file not found: nowhere.ini']


def test_setup_declares_the_console_scripts():
    with open(os.path.join(REPO, 'setup.py')) as handle:
        text = handle.read()
    for name in niftydrive.APPLICATION_SCRIPTS:
        assert "'{0}=niftydrive.net_run:{0}'".format(name) in text


def test_each_script_names_itself_in_its_help(capsys):
    assert net_segment(['--help']) == 0
    assert capsys.readouterr().out.startswith('usage: net_segment ACTION -c CONFIG')
    assert niftydrive.net_run.main(['--help']) == 0
    assert capsys.readouterr().out.startswith('usage: net_run ACTION -c CONFIG')
