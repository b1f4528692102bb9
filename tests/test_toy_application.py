"""The toy GAN application through the driver, as scripts and net_run use it."""
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from engine_test_apps import make_params
from niftydrive.engine.application_driver import ApplicationDriver

TOY = 'toy'


def toy_params(model_dir, **overrides):
    params = make_params(model_dir, app=TOY, **overrides)
    params['NETWORK'].batch_size = 4
    params['TRAINING'].optimiser = 'adam'
    params['TRAINING'].lr = 0.01
    params['CUSTOM'].update(vector_size=16, inference_batches=3, n_interpolations=4)
    return params


def run(params):
    driver = ApplicationDriver()
    driver.initialise_application(params, {})
    driver.run_application()
    return driver


def test_multi_tower_training_shares_and_changes_weights(tmp_path):
    driver = run(toy_params(tmp_path, num_gpus=2, max_iter=3, save_every_n=1,
                            validation_every_n=2))
    names = [var.op.name for var in driver.graph.get_collection(
        tf.GraphKeys.TRAINABLE_VARIABLES)]
    assert 'G/conv_bn_selu/conv_/w' in names
    assert not [name for name in names if 'worker' in name]
    assert {op.name.split('/')[0] for op in driver.graph.get_operations()
            if op.name.startswith('worker_')} == {'worker_0', 'worker_1'}
    first = tf.train.load_checkpoint(str(tmp_path / 'models' / 'model.ckpt-1'))
    last = tf.train.load_checkpoint(str(tmp_path / 'models' / 'model.ckpt-3'))
    for name in ('G/conv_bn_selu/conv_/w', 'D/fc/fc_/w'):
        assert not np.allclose(first.get_tensor(name), last.get_tensor(name))


def test_inference_writes_generated_vectors(tmp_path):
    run(toy_params(tmp_path, max_iter=2))
    driver = run(toy_params(tmp_path, action='inference'))
    assert driver.initial_iter == 2
    out_dir = tmp_path / 'out'
    files = sorted(os.listdir(out_dir))
    assert files == ['generated_0000.csv', 'generated_0001.csv', 'generated_0002.csv']
    vectors = np.loadtxt(out_dir / files[0], delimiter=',')
    assert vectors.shape == (4, 16)
    assert np.all(np.isfinite(vectors))


def test_inference_without_checkpoint_is_a_clear_error(tmp_path):
    driver = ApplicationDriver()
    driver.initialise_application(toy_params(tmp_path, action='inference'), {})
    with pytest.raises(tf.errors.NotFoundError, match='no checkpoint in .*train first'):
        driver.run_application()


@pytest.mark.parametrize('stop_signal', [signal.SIGINT, signal.SIGTERM])
def test_interrupt_leaves_a_restorable_checkpoint(tmp_path, stop_signal):
    config = tmp_path / 'toy.ini'
    config.write_text(
        '[SYSTEM]\nmodel_dir = ./model\nnum_threads = 2\nconsole_every_n = 1\n'
        '[NETWORK]\nbatch_size = 4\n'
        '[TRAINING]\nmax_iter = 1000000\nsave_every_n = 0\nlr = 0.001\n'
        'tensorboard_every_n = -1\n'
        '[CUSTOM]\nname = toy\nvector_size = 8\n')
    process = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), 'net_run'), 'train',
         '-c', str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, cwd=str(tmp_path))
    output = []
    for line in process.stdout:
        output.append(line)
        if 'Training iter 20,' in line:
            process.send_signal(stop_signal)
            break
    rest, _ = process.communicate(timeout=60)
    output.append(rest)
    assert process.returncode == (130 if stop_signal == signal.SIGINT else 143)
    text = ''.join(output)
    assert 'Traceback' not in text
    models = tmp_path / 'model' / 'models'
    latest = tf.train.latest_checkpoint(str(models))
    assert latest is not None
    saved_iter = int(latest.rsplit('-', 1)[1])
    assert saved_iter >= 20
    assert not any(t.endswith('.tmp') for t in os.listdir(models))
    # and training resumes from it
    resumed = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), 'net_run'), 'train',
         '-c', str(config), '--starting_iter', '-1',
         '--max_iter', str(saved_iter + 2)],
        capture_output=True, text=True, timeout=120, cwd=str(tmp_path))
    assert resumed.returncode == 0, resumed.stderr
    assert 'Training iter {},'.format(saved_iter + 1) in resumed.stdout + resumed.stderr
