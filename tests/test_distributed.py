"""Multi-worker training on TensorFlow's runtime: 1 ps + 2 workers as
subprocesses on loopback ports (random free ports), the toy application."""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from test_sampler_processes import children_of, is_alive

from niftydrive.contrib.demo_data import write_nifti
from niftydrive.engine.cluster import free_ports
from niftydrive.engine.distributed_training import ShardedPartitioner
from niftydrive.io.image_sets_partitioner import TRAIN, ImageSetsPartitioner
from niftydrive.net_run import main as net_run_main
from niftydrive.utilities.errors import UserInputError
from niftydrive.utilities.util_common import ParserNamespace

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TOY_CONFIG = os.path.join(REPO_ROOT, 'configs', 'toy.ini')


@pytest.fixture(autouse=True)
def _no_run_outlives_its_test(tmp_path):
    """Runs of a failed test are killed (their tasks die with them); the
    workers' private folders go to ``tmp_path``."""
    Run.tmp_dir = str(tmp_path)
    yield
    while Run.started:
        process = Run.started.pop().process
        if process.poll() is None:
            process.kill()
            process.wait()


class Run(object):
    """A ``net_run`` subprocess whose output lines are collected."""

    started = []
    tmp_dir = None

    def __init__(self, args):
        env = dict(os.environ, PYTHONPATH=REPO_ROOT, TF_CPP_MIN_LOG_LEVEL='3')
        env.pop('TF_CONFIG', None)
        if Run.tmp_dir:
            env['TMPDIR'] = Run.tmp_dir
        self.started = time.time()
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'niftydrive.net_run'] + list(args),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
            universal_newlines=True)
        Run.started.append(self)
        self.lines = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line)

    def wait_for(self, text, timeout=60):
        """Wait until a line contains ``text``; the line."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            for line in list(self.lines):
                if text in line:
                    return line
            if self.process.poll() is not None and not any(
                    text in line for line in self.lines):
                time.sleep(0.2)  # the reader may be behind
                if not any(text in line for line in self.lines):
                    break
            time.sleep(0.1)
        raise AssertionError('no line with {!r}:\n{}'.format(
            text, ''.join(self.lines[-40:])))

    def wait(self, timeout=60):
        """The exit code."""
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError('still running after {} s:\n{}'.format(
                timeout, ''.join(self.lines[-40:])))

    @property
    def output(self):
        return ''.join(self.lines)


def toy_args(folder, max_iter):
    """``train`` on configs/toy.ini, small and fast, into ``folder/model``."""
    return ['train', '-c', TOY_CONFIG, '--model_dir', str(folder / 'model'),
            '--max_iter', str(max_iter), '--num_threads', '1',
            '--batch_size', '4', '--queue_length', '8', '--vector_size', '8',
            '--save_every_n', '10', '--tensorboard_every_n', '5',
            '--validation_every_n', '-1', '--console_every_n', '1']


def task_pid(launcher_pid, job_name, task_index):
    """The pid of one task started by the launcher."""
    for pid in children_of(launcher_pid):
        with open('/proc/{}/cmdline'.format(pid)) as cmdline:
            args = cmdline.read().split('\0')
        if '--job_name' in args and \
                args[args.index('--job_name') + 1] == job_name and \
                args[args.index('--task_index') + 1] == str(task_index):
            return pid
    raise AssertionError('no {} {} process'.format(job_name, task_index))


def variable_names(checkpoint):
    return sorted(name for name, _ in tf.train.list_variables(checkpoint))


def one_process_variables(tmp_path):
    """The checkpoint variables of a one-process run of the same config."""
    folder = tmp_path / 'single'
    folder.mkdir()
    assert net_run_main(toy_args(folder, 1)) == 0
    return variable_names(str(folder / 'model' / 'models' / 'model.ckpt-1'))


def test_async_only_chief_writes_and_restart_resumes(tmp_path):
    ports = free_ports(3)
    cluster = json.dumps({'ps': ['127.0.0.1:{}'.format(ports[0])],
                          'worker': ['127.0.0.1:{}'.format(p) for p in ports[1:]]})
    common = toy_args(tmp_path, 20) + ['--cluster_spec', cluster]
    other_dir = tmp_path / 'worker1_model'
    runs = [Run(common + ['--job_name', 'ps', '--task_index', '0']),
            Run(common + ['--job_name', 'worker', '--task_index', '0']),
            Run(common + ['--job_name', 'worker', '--task_index', '1',
                          '--model_dir', str(other_dir)])]
    assert [run.wait() for run in runs] == [0, 0, 0], runs[1].output
    models = tmp_path / 'model' / 'models'
    assert (models / 'model.ckpt-20.index').is_file()
    assert (models / 'model.ckpt-10.index').is_file()
    assert not other_dir.exists()  # worker 1 wrote nothing
    assert len(os.listdir(str(tmp_path / 'model' / 'logs'))) == 1
    # the non-chief shows no per-iteration progress
    assert 'Training iter' not in runs[2].output
    assert 'Training iter 20' in runs[1].output
    # the same checkpoint as a one-process run
    assert variable_names(str(models / 'model.ckpt-20')) == \
        one_process_variables(tmp_path)

    # the whole cluster restarted: resumes from the latest checkpoint
    resumed = Run(toy_args(tmp_path, 30) + ['--local_workers', '2',
                                           '--starting_iter', '-1'])
    assert resumed.wait() == 0, resumed.output
    assert resumed.output.count('training from iteration 20') == 2
    assert (models / 'model.ckpt-30.index').is_file()


def test_sync_trains_and_every_process_exits_promptly(tmp_path):
    run = Run(toy_args(tmp_path, 20) + ['--local_workers', '2',
                                        '--distributed_mode', 'sync'])
    run.wait_for('iter 20 saved')
    saved_at = time.time()
    assert run.wait() == 0, run.output
    assert time.time() - saved_at < 10
    assert 'every worker has finished: parameter server' in run.output
    checkpoint = str(tmp_path / 'model' / 'models' / 'model.ckpt-20')
    names = variable_names(checkpoint)
    assert not [name for name in names if 'sync' in name or 'distributed' in name]
    assert names == one_process_variables(tmp_path)


def test_sigterm_to_launcher_stops_all_chief_saves(tmp_path):
    run = Run(toy_args(tmp_path, 100000) + ['--local_workers', '2'])
    run.wait_for('worker 1 of 2')
    run.wait_for('Training iter 5,')
    tasks = children_of(run.process.pid)
    assert len(tasks) == 3
    run.process.send_signal(signal.SIGTERM)
    signalled = time.time()
    assert run.wait(30) == 143, run.output
    assert time.time() - signalled < 10
    time.sleep(0.5)
    assert not [pid for pid in tasks if is_alive(pid)]
    assert 'saved' in run.wait_for('saved: ')


def test_killed_worker_async_others_continue_then_killed_ps(tmp_path):
    run = Run(toy_args(tmp_path, 100000) + ['--local_workers', '2'])
    run.wait_for('Training iter 5,')
    os.kill(task_pid(run.process.pid, 'worker', 1), signal.SIGKILL)
    run.wait_for('worker 1 at 127.0.0.1')  # the chief logs it
    line = run.wait_for('the other workers train on')
    assert 'gone before the end of training' in line
    count = len(run.lines)
    time.sleep(1.5)
    assert any('Training iter' in line for line in run.lines[count:])
    os.kill(task_pid(run.process.pid, 'ps', 0), signal.SIGKILL)
    killed = time.time()
    assert run.wait(40) != 0
    assert time.time() - killed < 30
    run.wait_for('lost the connection to a task of the cluster')


def test_killed_worker_sync_chief_waits_sigterm_stops(tmp_path):
    run = Run(toy_args(tmp_path, 100000) + ['--local_workers', '2',
                                            '--distributed_mode', 'sync'])
    run.wait_for('Training iter 5,')
    os.kill(task_pid(run.process.pid, 'worker', 1), signal.SIGKILL)
    run.wait_for('sync training waits for its gradients')
    run.process.send_signal(signal.SIGTERM)
    signalled = time.time()
    assert run.wait(30) == 143, run.output
    assert time.time() - signalled < 10


def test_cluster_mistakes_are_one_line(tmp_path, capsys):
    args = toy_args(tmp_path, 5)
    assert net_run_main(args + ['--cluster_spec', '{"ps": ["h:1"]',
                                '--job_name', 'worker']) == 1
    assert 'cluster_spec is not valid JSON' in capsys.readouterr().err
    assert net_run_main(args + ['--cluster_spec', '{"ps": ["h:1"], "worker": ["h:2"]}',
                                '--job_name', 'worker', '--task_index', '3']) == 1
    assert 'task_index 3 is out of range' in capsys.readouterr().err
    assert net_run_main(['inference'] + args[1:] + ['--local_workers', '2']) == 1
    assert 'local cluster is for training only' in capsys.readouterr().err
    assert not (tmp_path / 'model' / 'models').exists()


def test_workers_train_on_disjoint_shards_of_the_subjects(tmp_path):
    volume = np.zeros((2, 2, 2), np.float32)
    for index in range(5):
        write_nifti(str(tmp_path / 'subj{}_T1.nii.gz'.format(index)), volume, np.eye(4))
    data = {'T1': ParserNamespace(path_to_search=str(tmp_path), filename_contains=('T1',),
                                  filename_not_contains=(), csv_file='')}
    partitioner = ImageSetsPartitioner().initialise(data)
    shards = [ShardedPartitioner(partitioner, index, 2).get_file_list(TRAIN, 'T1')
              for index in range(2)]
    ids = [[row['subject_id'] for row in shard] for shard in shards]
    assert sorted(ids[0] + ids[1]) == sorted(
        row['subject_id'] for row in partitioner.get_file_list(TRAIN))
    assert not set(ids[0]) & set(ids[1]) and len(ids[0]) == 3
    with pytest.raises(UserInputError, match='worker 5 has none'):
        ShardedPartitioner(partitioner, 5, 6).get_file_list(TRAIN, 'T1')
