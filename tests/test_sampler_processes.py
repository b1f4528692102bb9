"""Samplers in worker processes ([SYSTEM] sampler_processes): the same
windows as threads, worker errors reach the caller, no process outlives a
run (not even a kill -9 of the parent)."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from engine_test_apps import LinearApplication, make_params
from niftydrive.engine.application_driver import ApplicationDriver
from niftydrive.engine.sampler_processes import ProcessWindows, \
    SamplerProcessError


def children_of(pid):
    """Live (non-zombie) child process ids of ``pid``, from /proc."""
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/{}/stat'.format(entry)) as stat:
                fields = stat.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != 'Z':
            found.append(int(entry))
    return found


def is_alive(pid):
    """True while ``pid`` exists and is not a zombie."""
    try:
        with open('/proc/{}/stat'.format(pid)) as stat:
            return stat.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


def _run(params):
    LinearApplication.seen_outputs = []
    driver = ApplicationDriver()
    driver.initialise_application(params, {})
    driver.run_application()


def test_finite_sampler_in_processes_gives_each_window_once(tmp_path):
    params = make_params(tmp_path, max_iter=100, save_every_n=0)
    params['CUSTOM'].limit = 6
    params['SYSTEM'].sampler_processes = 2
    _run(params)
    windows = sorted(float(row[0]) for output in LinearApplication.seen_outputs
                     for row in output['batch'])
    assert windows == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert children_of(os.getpid()) == []


def test_worker_failure_reaches_the_caller_with_its_traceback(tmp_path):
    params = make_params(tmp_path, max_iter=1000, save_every_n=0)
    params['CUSTOM'].fail_at = 4
    params['SYSTEM'].sampler_processes = 1
    start = time.time()
    with pytest.raises(SamplerProcessError) as raised:
        _run(params)
    assert time.time() - start < 10
    message = str(raised.value)
    assert 'OSError: cannot read window 4 (broken test file)' in message
    assert 'in layer_op' in message  # the worker's own frame
    assert children_of(os.getpid()) == []


def _random_windows():
    for _ in range(10):
        yield {'x': np.random.uniform(size=2)}


def test_workers_are_seeded_differently_and_reproducibly():
    def draw(seed):
        workers = ProcessWindows(_random_windows, dict, 2, seed=seed)
        try:
            return sorted(tuple(item['x']) for item in workers)
        finally:
            workers.close()
    first, again = draw(7), draw(7)
    assert len(first) == 20 and len(set(first)) == 20  # no two workers alike
    assert first == again                                # same seed, same set
    assert draw(8) != first


def test_kill_9_of_the_parent_leaves_no_worker(tmp_path):
    script = textwrap.dedent('''
        import sys, time
        sys.path.insert(0, {tests!r})
        import numpy as np
        from niftydrive.engine.sampler_processes import ProcessWindows

        def endless():
            while True:
                time.sleep(0.01)
                yield {{'x': np.zeros(2)}}

        workers = ProcessWindows(endless, dict, 2)
        next(workers)
        print('ready', flush=True)
        time.sleep(60)
    ''').format(tests=os.path.dirname(__file__))
    parent = subprocess.Popen([sys.executable, '-c', script], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert parent.stdout.readline().strip() == 'ready'
        workers = children_of(parent.pid)
        assert len(workers) >= 2
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.time() + 10
        while time.time() < deadline and any(is_alive(pid) for pid in workers):
            time.sleep(0.1)
        assert [pid for pid in workers if is_alive(pid)] == []
    finally:
        if parent.poll() is None:
            parent.kill()


def _seeded_vectors(use_process, batches=4):
    """Batches of a RandomVectorSampler filled by one thread or one worker
    process, the run seeded with 11."""
    import tensorflow.compat.v1 as tf
    from niftydrive.engine.sampler_random_vector import RandomVectorSampler
    from niftydrive.utilities import random_seed
    with tf.Graph().as_default() as graph:
        random_seed.set_random_seed(11, graph)
        sampler = RandomVectorSampler(vector_size=(3,), batch_size=2,
                                      n_interpolations=2, queue_length=4)
        batch = sampler.pop_batch_op()['vectors']
        coord = tf.train.Coordinator()
        with tf.Session() as session:
            if use_process:
                sampler.run_processes(session, coord, 1, seed=11)
            else:
                sampler.run_threads(session, coord, 1)
            values = [session.run(batch) for _ in range(batches)]
            coord.request_stop()
            sampler.close_all()
    random_seed.set_random_seed(None)
    return np.concatenate(values)


def test_one_worker_process_gives_the_windows_of_one_thread_same_seed():
    in_thread = _seeded_vectors(False)
    assert np.array_equal(_seeded_vectors(True), in_thread)
    assert not np.array_equal(in_thread[:2], in_thread[2:4])  # random windows
    assert children_of(os.getpid()) == []
