"""A full disk and a read-only model_dir: one clear line, the good
checkpoints untouched, inference still possible from a read-only model."""
import os
import subprocess

import pytest
import tensorflow.compat.v1 as tf

from niftydrive import net_run

TOY_CONFIG = '''
[SYSTEM]
num_threads = 1
model_dir = {model_dir}

[NETWORK]
batch_size = 4

[TRAINING]
max_iter = {max_iter}
save_every_n = 1
max_checkpoints = 1000
tensorboard_every_n = 1
lr = 0.001

[INFERENCE]
save_seg_dir = {out_dir}

[CUSTOM]
name = toy
vector_size = 8
inference_batches = 2
'''


def write_config(folder, model_dir, max_iter=3, out_dir='out'):
    config = folder / 'toy.ini'
    config.write_text(TOY_CONFIG.format(model_dir=model_dir, max_iter=max_iter,
                                        out_dir=out_dir))
    return str(config)


def _mount(args, target):
    if os.geteuid() != 0:
        pytest.skip('needs root to mount a file system for the test')
    result = subprocess.run(['mount'] + args + [str(target)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip('cannot mount ({})'.format(result.stderr.strip()))


@pytest.fixture
def mounts():
    """Mount points to unmount after the test."""
    mounted = []
    yield mounted
    for target in reversed(mounted):
        subprocess.run(['umount', '-l', str(target)], capture_output=True)


def small_tmpfs(mounts, target, size):
    target.mkdir()
    _mount(['-t', 'tmpfs', '-o', 'size={}'.format(size), 'tmpfs'], target)
    mounts.append(target)
    return target


def read_only_view(mounts, source, target):
    """``target``: ``source`` mounted read-only."""
    target.mkdir()
    _mount(['--bind', str(source)], target)
    mounts.append(target)
    result = subprocess.run(['mount', '-o', 'remount,ro,bind', str(target)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip('cannot remount read-only ({})'.format(result.stderr))
    return target


def test_disk_full_while_saving_is_one_clear_line(tmp_path, mounts, capfd):
    disk = small_tmpfs(mounts, tmp_path / 'disk', '2m')
    config = write_config(tmp_path, disk / 'model', max_iter=100000)
    assert net_run.main(['train', '-c', config]) == 1
    err = capfd.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith('net_run:')]
    assert len(lines) == 1, err
    assert 'no space left on device while ' in lines[0]
    assert '--- Logging error ---' not in err and 'Traceback' not in err
    # the latest checkpoint the state file names is complete and restores
    models = str(disk / 'model' / 'models')
    latest = tf.train.latest_checkpoint(models)
    assert latest is not None, err
    reader = tf.train.load_checkpoint(latest)
    for name in reader.get_variable_to_shape_map():
        reader.get_tensor(name)
    assert not [name for name in os.listdir(models) if 'tempstate' in name]


def test_read_only_model_dir_inference_works_training_refuses(
        tmp_path, mounts, capfd):
    model_dir = tmp_path / 'model'
    config = write_config(tmp_path, model_dir, max_iter=2,
                          out_dir=str(tmp_path / 'out'))
    assert net_run.main(['train', '-c', config]) == 0
    view = read_only_view(mounts, model_dir, tmp_path / 'ro_model')
    capfd.readouterr()
    config = write_config(tmp_path, view, max_iter=4,
                          out_dir=str(tmp_path / 'out'))
    assert net_run.main(['inference', '-c', config]) == 0
    assert sorted(os.listdir(tmp_path / 'out')) == [
        'generated_0000.csv', 'generated_0001.csv']
    assert 'Traceback' not in capfd.readouterr().err

    assert net_run.main(['train', '-c', config, '--starting_iter', '-1']) == 1
    err = capfd.readouterr().err
    assert 'net_run: error: [SYSTEM] model_dir {} is not writable: ' \
           'training saves checkpoints'.format(view) in err
    assert 'Traceback' not in err
