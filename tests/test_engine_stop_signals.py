"""SIGTERM/Ctrl-C stop a run whatever the sampler threads are doing, and a
stalled input pipeline is reported while it stalls."""
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest
import tensorflow.compat.v1 as tf

from engine_test_apps import LinearApplication, make_params
from niftydrive.engine.application_driver import ApplicationDriver

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(TESTS_DIR)

CONFIG = '''
[SYSTEM]
model_dir = ./model
num_threads = 2
stall_warning_seconds = 1
console_every_n = 1

[NETWORK]
batch_size = 2

[TRAINING]
max_iter = 100000
save_every_n = 0
tensorboard_every_n = -1
optimiser = gradientdescent
lr = 0.01

[CUSTOM]
name = engine_test_apps.LinearApplication
stall_after = 10
'''


def _read_lines(process, output):
    for line in process.stdout:
        output.append(line)


def _wait_for(output, marker, timeout):
    deadline = time.monotonic() + timeout
    while not any(marker in line for line in list(output)):
        assert time.monotonic() < deadline, \
            'no "{}" within {} s:\n{}'.format(marker, timeout, ''.join(output))
        time.sleep(0.1)


@pytest.mark.parametrize('stop_signal,exit_code', [(signal.SIGTERM, 143),
                                                   (signal.SIGINT, 130)])
def test_stop_signal_ends_a_run_whose_sampler_thread_is_blocked(
        tmp_path, stop_signal, exit_code):
    (tmp_path / 'linear.ini').write_text(CONFIG)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([REPO_ROOT, TESTS_DIR]),
               TF_CPP_MIN_LOG_LEVEL='3')
    process = subprocess.Popen(
        [sys.executable, '-m', 'niftydrive.net_run', 'train', '-c',
         'linear.ini'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, cwd=str(tmp_path), env=env)
    output = []
    reader = threading.Thread(target=_read_lines, args=(process, output),
                              daemon=True)
    reader.start()
    try:
        # five batches of two windows, then the sampler blocks for ever
        _wait_for(output, 'input pipeline stalled', timeout=90)
        sent = time.monotonic()
        process.send_signal(stop_signal)
        process.wait(timeout=30)
        took = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
        reader.join(timeout=10)
    text = ''.join(output)
    assert process.returncode == exit_code, text
    assert took < 10, text
    assert 'Training iter 5,' in text and 'Training iter 6,' not in text
    stalled = [line for line in text.splitlines()
               if 'input pipeline stalled' in line][0]
    assert 'Training iter 6 has waited' in stalled
    assert 'CountingSampler: 0 windows queued' in stalled
    assert 'Traceback' not in text
    # the last completed iteration was saved and restores
    latest = tf.train.latest_checkpoint(str(tmp_path / 'model' / 'models'))
    assert latest is not None and latest.endswith('model.ckpt-5')
    tf.train.load_checkpoint(latest).get_tensor('scale_net/w')


def test_stall_is_reported_until_the_pipeline_recovers(tmp_path, caplog):
    caplog.set_level('INFO', logger='niftydrive')
    params = make_params(tmp_path, max_iter=5, save_every_n=0,
                         stall_after=6, stall_seconds=2.6)
    params['SYSTEM'].stall_warning_seconds = 1
    LinearApplication.seen_outputs = []
    driver = ApplicationDriver()
    driver.initialise_application(params, {})
    driver.run_application()
    lines = [rec.getMessage() for rec in caplog.records]
    stalled = [line for line in lines if 'input pipeline stalled' in line]
    assert len(stalled) == 2, lines
    assert stalled[0].startswith('input pipeline stalled: Training iter 4 '
                                 'has waited 1 s')
    assert stalled[1].startswith('input pipeline stalled: Training iter 4 '
                                 'has waited 2 s')
    recovered = [line for line in lines if 'recovered' in line]
    assert len(recovered) == 1
    assert re.match(r'input pipeline recovered: Training iter 4 got its '
                    r'batch after [23] s$', recovered[0]), recovered
    assert len(LinearApplication.seen_outputs) == 5
