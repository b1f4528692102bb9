"""Fault injection: stop signals, kill -9, NaN and bad configurations.

    python benchmarks/fault_injection.py [--runs 20] [--seed 0]

Trains the toy GAN (``net_run train``, no data needed) and, for each
figure, prints "N of M":

* SIGTERM at ``--runs`` random moments (from start-up to well into
  training): the run exits 143 and its model folder is restorable (the
  latest checkpoint reads completely) or clean (no checkpoint, no leftover
  temporary file);
* kill -9 at ``--runs`` moments, half of them while a checkpoint is being
  written (the kill comes as soon as a temporary save file appears): the
  next ``--starting_iter -1`` run resumes (and removes the leftovers), or
  there was no checkpoint yet;
* NaN: training that turns non-finite (lr = 1e30 from scratch, or after
  good checkpoints) must exit non-zero, keep only finite checkpoints, keep
  the last finite one and resume from it;
* the 200 mutated configurations of ``benchmarks/fault_configs.py`` (if
  present).

Needs nothing but niftydrive; takes a few minutes on 2 cores.
"""
import argparse
import functools
import glob
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

print = functools.partial(print, flush=True)  # pylint: disable=redefined-builtin

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TOY_CONFIG = '''
[SYSTEM]
num_threads = 2
model_dir = {model_dir}

[NETWORK]
batch_size = 16

[TRAINING]
optimiser = adam
lr = 0.001
max_iter = {max_iter}
save_every_n = {save_every_n}
max_checkpoints = {max_checkpoints}
tensorboard_every_n = 10

[CUSTOM]
name = toy
vector_size = {vector_size}
'''


def write_config(folder, max_iter=1000000, save_every_n=20,
                 max_checkpoints=3, vector_size=64):
    """A toy configuration training into ``folder/model``."""
    path = os.path.join(folder, 'toy.ini')
    with open(path, 'w') as config:
        config.write(TOY_CONFIG.format(
            model_dir=os.path.join(folder, 'model'), max_iter=max_iter,
            save_every_n=save_every_n, max_checkpoints=max_checkpoints,
            vector_size=vector_size))
    return path


class Training(object):
    """``net_run train -c config`` in a subprocess, its log collected."""

    def __init__(self, config):
        env = dict(os.environ, PYTHONPATH=REPO_ROOT + os.pathsep +
                   os.environ.get('PYTHONPATH', ''))
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'niftydrive.net_run', 'train', '-c',
             config], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True, env=env)
        self.lines = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.process.stderr:
            self.lines.append(line)

    def wait_for(self, text, timeout=120):
        """Block until a log line contains ``text`` (or the run ended)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            if any(text in line for line in list(self.lines)):
                return True
            time.sleep(0.05)
        return False

    def finish(self, timeout=60):
        """Wait for the exit (kill after ``timeout``); the exit code."""
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=10)
        return self.process.returncode

    def log_tail(self):
        """The end of the log (for a failure report)."""
        return ''.join(self.lines).strip()[-300:]


def random_moment(run, rng, training):
    """Even runs: a moment during start-up; odd runs: during training."""
    if run % 2 == 0:
        time.sleep(rng.uniform(0.5, 6.0))
    else:
        training.wait_for('Training iter')
        time.sleep(rng.uniform(0.0, 4.0))


def models_dir(folder):
    """The checkpoint folder of a run in ``folder``."""
    return os.path.join(folder, 'model', 'models')


def leftovers(folder):
    """Temporary files of interrupted saves."""
    return [name for name in os.listdir(models_dir(folder))
            if '.tempstate' in name or '.tmp' in name or '_temp' in name] \
        if os.path.isdir(models_dir(folder)) else []


def latest_checkpoint_values(folder):
    """Every tensor of the latest checkpoint (None without one); raises if
    it cannot be read completely."""
    import tensorflow.compat.v1 as tf
    if not os.path.isdir(models_dir(folder)):
        return None
    latest = tf.train.latest_checkpoint(models_dir(folder))
    if latest is None:
        return None
    reader = tf.train.load_checkpoint(latest)
    return {name: reader.get_tensor(name)
            for name in reader.get_variable_to_shape_map()}


def net_run_in_process(argv):
    """``net_run.main(argv)`` here (no start-up cost), quietly; exit code
    and what it printed on stderr."""
    import io
    import logging
    from contextlib import redirect_stderr
    from niftydrive import net_run
    captured = io.StringIO()
    with redirect_stderr(captured):
        code = net_run.main(argv)
    logging.getLogger('niftydrive').handlers[:] = []
    return code, captured.getvalue()


# ---------------------------------------------------------------- SIGTERM
def sigterm_sweep(runs, rng, work):
    """SIGTERM at random moments: exit 143 and restorable-or-clean."""
    good = exit_143 = restorable = 0
    for run in range(runs):
        folder = tempfile.mkdtemp(dir=work)
        config = write_config(folder, save_every_n=rng.choice([0, 5, 25]))
        training = Training(config)
        random_moment(run, rng, training)
        training.process.send_signal(signal.SIGTERM)
        code = training.finish()
        # before the run installs its handler, SIGTERM's default action
        # ends the process (-15 here, 143 in a shell): nothing was written
        ok_exit = code in (143, -signal.SIGTERM)
        try:
            values = latest_checkpoint_values(folder)
            state = 'restorable' if values is not None else (
                'clean' if not leftovers(folder) else 'leftovers')
        except Exception as error:  # pylint: disable=broad-except
            state = 'unreadable ({})'.format(type(error).__name__)
        exit_143 += ok_exit
        restorable += state == 'restorable'
        good += state in ('restorable', 'clean')
        if state not in ('restorable', 'clean') or not ok_exit:
            print('  SIGTERM run {}: exit {}, {}: {}'.format(
                run, code, state, training.log_tail()))
        shutil.rmtree(folder, ignore_errors=True)
    print('SIGTERM: {} of {} restorable or clean ({} restorable, {} before '
          'the first checkpoint); exit code 143 (or killed by the signal '
          'before training started): {} of {}'.format(
              good, runs, restorable, good - restorable, exit_143, runs))
    return good == runs and exit_143 == runs


# ---------------------------------------------------------------- kill -9
def _kill_during_save(process, folder, deadline):
    """SIGKILL as soon as a temporary file of a save (not the first: there
    is a checkpoint to resume from) appears; True if so."""
    state_file = os.path.join(models_dir(folder), 'checkpoint')
    while time.monotonic() < deadline and process.poll() is None:
        if os.path.exists(state_file) and leftovers(folder):
            process.kill()
            return True
        time.sleep(0.001)
    process.kill()
    return False


def kill9_sweep(runs, rng, work):
    """kill -9 at random moments, half during saves: resumable after."""
    resumable = no_checkpoint = during_save = leftover_runs = 0
    for run in range(runs):
        folder = tempfile.mkdtemp(dir=work)
        in_save = run % 2 == 1
        # a larger model during saves: writing takes long enough to hit
        config = write_config(folder, save_every_n=rng.choice([2, 5]),
                              max_checkpoints=3,
                              vector_size=4096 if in_save else 64)
        training = Training(config)
        if in_save:
            hit = _kill_during_save(training.process, folder,
                                    time.monotonic() + 60)
        else:
            random_moment(run // 2, rng, training)
            training.process.kill()
            hit = False
        training.finish()
        had_leftovers = bool(leftovers(folder))
        during_save += hit
        leftover_runs += had_leftovers
        state_file = os.path.join(models_dir(folder), 'checkpoint')
        if not os.path.exists(state_file):
            no_checkpoint += 1
            shutil.rmtree(folder, ignore_errors=True)
            continue
        latest = latest_checkpoint_values(folder)
        import tensorflow.compat.v1 as tf
        latest_iter = int(tf.train.latest_checkpoint(
            models_dir(folder)).rsplit('-', 1)[1])
        code, err = net_run_in_process(
            ['train', '-c', config, '--starting_iter', '-1',
             '--max_iter', str(latest_iter + 2)])
        resumed = code == 0 and latest is not None and not leftovers(folder)
        resumable += resumed
        if not resumed:
            print('  kill -9 run {}: resume exit {}: {}'.format(
                run, code, err.strip()[-300:]))
        shutil.rmtree(folder, ignore_errors=True)
    print('kill -9: {} of {} resumable or "no checkpoint yet" ({} resumed, '
          '{} before the first checkpoint); killed during a save: {} of {} '
          '(temporary files left by {} runs, removed by the resume)'.format(
              resumable + no_checkpoint, runs, resumable, no_checkpoint,
              during_save, runs // 2, leftover_runs))
    return resumable + no_checkpoint == runs


# -------------------------------------------------------------------- NaN
def _all_checkpoints_finite(folder):
    import tensorflow.compat.v1 as tf
    for index in glob.glob(os.path.join(models_dir(folder), '*.index')):
        reader = tf.train.load_checkpoint(index[:-len('.index')])
        for name in reader.get_variable_to_shape_map():
            value = reader.get_tensor(name)
            if value.dtype.kind == 'f' and not np.all(np.isfinite(value)):
                return False
    return True


def _saved(folder):
    return sorted(int(name.split('-')[1].split('.')[0])
                  for name in os.listdir(models_dir(folder))
                  if name.endswith('.index'))


def nan_cases(work):
    """Training turning non-finite must keep the finite checkpoints."""
    cases = [
        ('lr 1e30 from scratch, save every 10', 0, 30, 10, 3),
        ('lr 1e30 after good saves at 10..60 (3 kept)', 60, 90, 10, 3),
        ('lr 1e30 after good saves, save every iteration (2 kept)', 20, 60,
         1, 2),
    ]
    kept = 0
    for name, good_iters, max_iter, save_every_n, max_checkpoints in cases:
        folder = tempfile.mkdtemp(dir=work)
        config = write_config(folder, max_iter=good_iters or max_iter,
                              save_every_n=save_every_n,
                              max_checkpoints=max_checkpoints)
        before = []
        if good_iters:
            code, err = net_run_in_process(['train', '-c', config])
            before = _saved(folder)
            argv = ['train', '-c', config, '--starting_iter', '-1',
                    '--max_iter', str(max_iter), '--lr', '1e30']
        else:
            argv = ['train', '-c', config, '--lr', '1e30']
        code, err = net_run_in_process(argv)
        finite = _all_checkpoints_finite(folder)
        last_good = before[-1] if before else None
        after = _saved(folder)
        keeps_last = last_good is None or last_good in after
        resumed = True
        if after:
            # restored if it trains, or stops again on a non-finite value
            # (weights a huge step made are finite, yet may overflow again)
            resume, resume_err = net_run_in_process(
                ['train', '-c', config, '--starting_iter', '-1', '--max_iter',
                 str(after[-1] + 1), '--lr', '0.0001'])
            resumed = resume == 0 or 'training stopped at iteration {}:'.format(
                after[-1] + 1) in resume_err
        line = [l for l in err.splitlines() if l.startswith('net_run:')]
        ok = code != 0 and finite and keeps_last and resumed
        kept += ok
        print('  NaN case "{}": exit {}, checkpoints {} -> {}, all finite: {}, '
              'resumes: {}; {}'.format(name, code, before or 'none',
                                       after or 'none', finite, resumed,
                                       line[0] if line else 'no error line'))
        shutil.rmtree(folder, ignore_errors=True)
    print('NaN: last finite checkpoint kept (non-zero exit, no non-finite '
          'checkpoint, resumable) in {} of {} cases'.format(kept, len(cases)))
    return kept == len(cases)


# ---------------------------------------------------------------- configs
def config_sweep():
    """The mutated-config sweep of ``benchmarks/fault_configs.py``."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    try:
        import fault_configs  # pylint: disable=import-outside-toplevel
    except ImportError:
        print('configs: benchmarks/fault_configs.py is not present: the '
              'mutated-config sweep was not run')
        return True
    for name in ('run_sweep', 'main'):
        function = getattr(fault_configs, name, None)
        if function is not None:
            try:
                result = function([])
            except TypeError:
                result = function()
            return result in (None, 0, True)
    print('configs: benchmarks/fault_configs.py has no run_sweep() or main()')
    return False


def main(argv=None):
    """Run every sweep; exit 0 if every figure meets its target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--runs', type=int, default=20,
                        help='runs of the SIGTERM and kill -9 sweeps')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--only', choices=('sigterm', 'kill', 'nan',
                                           'configs'), default=None)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    import niftydrive  # noqa: F401  (TF 1.x behaviour for the checks)
    results = []
    start = time.time()
    with tempfile.TemporaryDirectory() as work:
        if args.only in (None, 'sigterm'):
            results.append(sigterm_sweep(args.runs, rng, work))
        if args.only in (None, 'kill'):
            results.append(kill9_sweep(args.runs, rng, work))
        if args.only in (None, 'nan'):
            results.append(nan_cases(work))
    if args.only in (None, 'configs'):
        results.append(config_sweep())
    print('fault injection: {} of {} targets met ({:.0f} s)'.format(
        sum(results), len(results), time.time() - start))
    return 0 if all(results) else 1


if __name__ == '__main__':
    sys.exit(main())
