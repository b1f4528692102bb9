"""net_run facing faults: a damaged checkpoint, a full disk, a read-only
model_dir: one clear line, the good checkpoints untouched, inference still
possible from a read-only model."""
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
        if isinstance(target, tuple):  # a folder made read-only
            for folder in (target[1], target[1] / 'models'):
                os.chmod(folder, 0o755)
            continue
        subprocess.run(['umount', '-l', str(target)], capture_output=True)


def small_tmpfs(mounts, target, size):
    target.mkdir()
    _mount(['-t', 'tmpfs', '-o', 'size={}'.format(size), 'tmpfs'], target)
    mounts.append(target)
    return target


def read_only_view(mounts, source, target):
    """``source`` read-only: as root a read-only bind mount ``target``
    (root ignores permission bits), otherwise ``source`` without write
    permission."""
    if os.geteuid() != 0:
        for folder in (source, source / 'models'):
            os.chmod(folder, 0o555)
        mounts.append(('chmod', source))
        return source
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


def test_damaged_checkpoint_is_one_line_for_training_and_inference(
        tmp_path, capfd):
    model_dir = tmp_path / 'model'
    config = write_config(tmp_path, model_dir, max_iter=2,
                          out_dir=str(tmp_path / 'out'))
    assert net_run.main(['train', '-c', config]) == 0
    data = model_dir / 'models' / 'model.ckpt-2.data-00000-of-00001'
    with open(data, 'r+b') as handle:
        handle.truncate(os.path.getsize(data) // 2)
    capfd.readouterr()
    for argv, key in ((['train', '-c', config, '--starting_iter', '-1',
                        '--max_iter', '4'], 'starting_iter'),
                      (['inference', '-c', config], 'inference_iter')):
        assert net_run.main(argv) == 1
        err = capfd.readouterr().err
        lines = [line for line in err.splitlines()
                 if line.startswith('net_run:')]
        assert lines == ['net_run: error: cannot restore checkpoint {}: {} is '
                         'truncated ({} bytes); restore another checkpoint '
                         'with --{} N (available: 1)'.format(
                             str(data)[:-len('.data-00000-of-00001')], data,
                             os.path.getsize(data), key)], err
        assert 'Traceback' not in err
    assert not os.path.exists(tmp_path / 'out')
