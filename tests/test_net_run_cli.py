"""The net_run command: exit codes, messages, help, files it writes."""
import os
import subprocess
import sys
import textwrap

import pytest

from niftydrive.net_run import main

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
from shared_data import niftynet_config

TOY = """
    [SYSTEM]
    num_threads = 1
    model_dir = ./toy_model
    [NETWORK]
    batch_size = 4
    queue_length = 8
    [TRAINING]
    max_iter = 2
    save_every_n = 1
    tensorboard_every_n = 1
    [INFERENCE]
    [CUSTOM]
    name = toy
    vector_size = 8
"""


def write_config(folder, text=TOY, name='toy.ini'):
    """Write a dedented config into ``folder``; its path."""
    path = os.path.join(str(folder), name)
    with open(path, 'w') as config_file:
        config_file.write(textwrap.dedent(text))
    return path


def run_main(argv, capsys):
    """``main(argv)`` -> (exit code, stdout, stderr)."""
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_help_lists_parameters_by_section(capsys):
    for argv in (['--help'], ['train', '--help'], ['-h']):
        code, out, err = run_main(argv, capsys)
        assert code == 0 and err == ''
        for text in ('usage: net_run ACTION -c CONFIG', '[SYSTEM]', '[NETWORK]',
                     '[TRAINING]', '[INFERENCE]', '[EVALUATION]',
                     '[SEGMENTATION]', '[CUSTOM]', '--max_iter INT',
                     '--model_dir STR', 'spatial_window_size INT_TUPLE',
                     '(default: 10000)'):
            assert text in out, text
    code, out, _ = run_main(['--version'], capsys)
    assert code == 0 and out.startswith('niftydrive ')


@pytest.mark.parametrize('argv_tail, code, message', [
    (['trian'], 2, 'did you mean "train"?'),
    (['train', '--max_itr', '3'], 2, 'did you mean --max_iter?'),
    (['train', '--max_iter', 'ten'], 1, 'bad value for `max_iter` in [TRAINING]'),
    (['train', '-a', 'tyo'], 1, 'did you mean "toy"?'),
    (['train', '-a', 'net_gan'], 1, 'needs a [GAN] section'),
    (['train', '--validation_every_n', '2', '--max_iter', '1', '-a', 'toy',
      '--TRAINING.exclude_fraction_for_inference', '2'], 1, 'must be in [0, 1)'),
])
def test_bad_input_gives_one_message_and_non_zero_exit(
        tmp_path, capsys, argv_tail, code, message):
    path = write_config(tmp_path)
    argv = argv_tail[:1] + ['-c', path] + argv_tail[1:]
    exit_code, _, err = run_main(argv, capsys)
    assert exit_code == code
    assert message in err
    assert err.startswith('net_run: error: ')
    assert 'Traceback' not in err


def test_missing_config_file(tmp_path, capsys):
    code, _, err = run_main(['train', '-c', str(tmp_path / 'nope.ini')], capsys)
    assert code == 1 and 'configuration file not found' in err
    code, _, err = run_main(['train'], capsys)
    assert code == 2 and 'no configuration file given' in err


def test_misspelt_key_in_file(tmp_path, capsys):
    path = write_config(tmp_path, TOY.replace('max_iter', 'max_itr'))
    code, _, err = run_main(['train', '-c', path], capsys)
    assert code == 1 and 'did you mean `max_iter`?' in err
    assert 'Traceback' not in err


def test_niftynet_autoencoder_config_reaches_its_data_lookup(tmp_path, capsys):
    code, _, err = run_main(['train', '-c', niftynet_config('vae_config.ini'),
                             '--model_dir', str(tmp_path / 'm')], capsys)
    assert code == 1
    assert 'application "net_autoencoder"' in err
    assert 'autoencoder_test_data does not exist' in err
    assert 'Traceback' not in err


def test_unknown_network_name(tmp_path, capsys):
    pytest.importorskip('niftydrive.application.segmentation_application')
    config = niftynet_config('vnet_config.ini')
    code, _, err = run_main(['train', '-c', config, '--model_dir',
                             str(tmp_path / 'm'), '--name', 'se_resnet'],
                            capsys)
    assert code == 1 and 'se_resnet' in err and \
        'not available in niftydrive yet' in err
    code, _, err = run_main(['train', '-c', config, '--model_dir',
                             str(tmp_path / 'm'), '--name', 'unett'], capsys)
    assert code == 1 and 'did you mean "unet"?' in err
    assert 'Traceback' not in err


def test_model_dir_that_cannot_be_created(tmp_path, capsys):
    blocker = tmp_path / 'a_file'
    blocker.write_text('not a folder')
    path = write_config(tmp_path)
    code, _, err = run_main(['train', '-c', path, '--model_dir',
                             str(blocker / 'model')], capsys)
    assert code == 1
    assert 'model_dir' in err and str(blocker / 'model') in err
    assert 'Traceback' not in err


def test_train_writes_settings_and_log_then_resumes(tmp_path, capsys,
                                                    monkeypatch):
    pytest.importorskip('niftydrive.engine.application_driver')
    path = write_config(tmp_path)
    monkeypatch.chdir('/')
    code, _, err = run_main(['train', '-c', path], capsys)
    assert code == 0, err
    model_dir = tmp_path / 'toy_model'
    settings = (model_dir / 'settings_train.txt').read_text()
    assert '[TRAINING]' in settings and 'max_iter = 2' in settings
    assert 'name = toy' in settings
    assert 'model_dir = {}'.format(model_dir) in settings
    log = (model_dir / 'train_niftydrive_log').read_text()
    assert 'Training iter 2' in log
    code, _, err = run_main(['train', '-c', path, '--starting_iter', '-1',
                             '--max_iter', '3'], capsys)
    assert code == 0, err
    assert 'Training iter 3' in err and 'Training iter 2,' not in err
    assert 'Training iter 3' in (model_dir / 'train_niftydrive_log').read_text()


def test_real_command_exit_code_and_no_traceback(tmp_path):
    net_run = os.path.join(os.path.dirname(sys.executable), 'net_run')
    if not os.path.exists(net_run):
        pytest.skip('net_run is not installed in this environment')
    path = write_config(tmp_path, TOY.replace('max_iter = 2', 'max_iter = ten'))
    result = subprocess.run([net_run, 'train', '-c', path], cwd=str(tmp_path),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    assert 'net_run: error:' in result.stderr and '`max_iter`' in result.stderr
    assert 'ten' in result.stderr


USER_APP = '''
from niftydrive.application.base_application import BaseApplication


class BrokenApplication(BaseApplication):
    """A user application with a bug: its data loader raises."""

    REQUIRED_CONFIG_SECTION = 'BROKEN'

    def initialise_dataset_loader(self, data_param=None, task_param=None,
                                  data_partitioner=None):
        raise RuntimeError('bug in user code: {}'.format(task_param.marker))
'''


def test_unexpected_failure_shows_traceback_and_summary(tmp_path, capsys,
                                                        monkeypatch):
    pytest.importorskip('niftydrive.engine.application_driver')
    (tmp_path / 'broken_app_module.py').write_text(USER_APP)
    monkeypatch.syspath_prepend(str(tmp_path))
    path = write_config(tmp_path, TOY.replace(
        '[CUSTOM]\n    name = toy\n    vector_size = 8',
        '[BROKEN]\n    marker = 42'))
    code, _, err = run_main(['train', '-c', path, '-a',
                             'broken_app_module.BrokenApplication'], capsys)
    assert code == 1
    assert 'Traceback' in err and 'initialise_dataset_loader' in err
    assert err.strip().splitlines()[-1] == (
        'net_run: error: RuntimeError: bug in user code: 42 (traceback above)')


def test_a_run_shows_no_tensorflow_chatter(tmp_path):
    """Saving, rotating and restoring checkpoints print our lines only: no
    TensorFlow deprecation notices or warnings, nothing printed twice."""
    path = write_config(tmp_path, TOY.replace('max_iter = 2', 'max_iter = 4'))
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
    outputs = []
    for argv in (['train', '-c', path, '--max_checkpoints', '2'],
                 ['inference', '-c', path]):
        result = subprocess.run([sys.executable, '-m', 'niftydrive.net_run'] + argv,
                                cwd=str(tmp_path), env=env, capture_output=True, text=True,
                                timeout=180)
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout + result.stderr)
    text = '\n'.join(outputs)
    assert 'iter 4 saved' in text
    for noise in ('WARNING:tensorflow', 'tensorflow/python', 'deprecated',
                  'Instructions for updating', 'CollectionDef'):
        assert noise not in text
