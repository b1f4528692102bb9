"""Multi-worker training on loopback with the toy application.

Measured side by side in one run (every cluster: 1 ps + the workers, as
``net_run train --local_workers N`` starts them):

- samples/s of one process, of 1 worker + ps, of 2 workers async and of 2
  workers sync, each with the ratio to one process;
- the per-step communication overhead: the step time of 1 worker with its
  variables on a ps minus the step time of one process (ms);
- the time from SIGTERM to the launcher until every process is gone.

Rates come from the times at which the console lines of iterations
``--from_iter`` and ``--iterations`` appear (the chief's; a non-chief worker
logs every 100 iterations), so start-up and the final save are excluded.

    python benchmarks/distributed.py [--iterations 600] [--batch_size 32]
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TOY_CONFIG = os.path.join(REPO_ROOT, 'configs', 'toy.ini')


def toy_args(folder, iterations, batch_size):
    """``train`` on configs/toy.ini, nothing saved inside the timed part."""
    return ['train', '-c', TOY_CONFIG, '--model_dir', tempfile.mkdtemp(dir=folder),
            '--max_iter', str(iterations), '--num_threads', '1',
            '--batch_size', str(batch_size), '--queue_length', str(4 * batch_size),
            '--save_every_n', '0', '--tensorboard_every_n', '-1',
            '--validation_every_n', '-1', '--console_every_n', '1']


LINE = re.compile(r'(worker (\d+): )?Training iter (\d+),')


class Run(object):
    """A ``net_run`` subprocess; the arrival time of each console line."""

    def __init__(self, args):
        env = dict(os.environ, PYTHONPATH=REPO_ROOT, TF_CPP_MIN_LOG_LEVEL='3')
        env.pop('TF_CONFIG', None)
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'niftydrive.net_run'] + args,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
            universal_newlines=True)
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append((time.perf_counter(), line))

    def wait_for(self, text, timeout=300):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if any(text in line for _, line in self.lines):
                return
            time.sleep(0.05)
        raise RuntimeError('no line with {!r}'.format(text))

    def finish(self):
        code = self.process.wait()
        self.reader.join()
        if code != 0:
            sys.stderr.write(''.join(line for _, line in self.lines[-30:]))
            raise RuntimeError('exit code {}'.format(code))

    def worker_rates(self, from_iter):
        """Steps/s of each worker, between its first console line at or
        after ``from_iter`` and its last one."""
        seen = {}
        for stamp, line in self.lines:
            match = LINE.search(line)
            if match and int(match.group(3)) >= from_iter:
                worker = int(match.group(2) or 0)
                seen.setdefault(worker, []).append((int(match.group(3)), stamp))
        rates = []
        for worker in sorted(seen):
            (first, start), (last, end) = seen[worker][0], seen[worker][-1]
            if last > first:
                rates.append((last - first) / (end - start))
        return rates


def train(folder, args, extra, n_workers=0):
    """Train and return the steps/s of each worker."""
    run = Run(toy_args(folder, args.iterations, args.batch_size) + extra)
    run.finish()
    rates = run.worker_rates(args.from_iter)
    if len(rates) != max(n_workers, 1):
        raise RuntimeError('rates of {} workers measured: {}'.format(
            len(rates), rates))
    return rates


def time_sigterm(folder, args):
    """Seconds from SIGTERM to the launcher until all its processes are gone."""
    run = Run(toy_args(folder, 10 ** 6, args.batch_size) + ['--local_workers', '2'])
    run.wait_for('Training iter 20,')
    children = subprocess.run(['pgrep', '-P', str(run.process.pid)],
                              capture_output=True, text=True).stdout.split()
    start = time.perf_counter()
    run.process.send_signal(signal.SIGTERM)
    code = run.process.wait()
    while any(os.path.exists('/proc/{}'.format(pid)) and not _zombie(pid)
              for pid in children):
        time.sleep(0.01)
    return time.perf_counter() - start, code


def _zombie(pid):
    try:
        with open('/proc/{}/stat'.format(pid)) as stat:
            return stat.read().rsplit(')', 1)[1].split()[0] == 'Z'
    except OSError:
        return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--iterations', type=int, default=600)
    parser.add_argument('--from_iter', type=int, default=100)
    parser.add_argument('--batch_size', type=int, default=32)
    args = parser.parse_args(argv)
    print('cores: {}; toy GAN, batch {}; iterations {}..{}'.format(
        os.cpu_count(), args.batch_size, args.from_iter, args.iterations))
    with tempfile.TemporaryDirectory() as folder:
        single = train(folder, args, [])[0]
        one_worker = train(folder, args, ['--local_workers', '1'], 1)[0]
        async_rates = train(folder, args, ['--local_workers', '2'], 2)
        sync_rates = train(folder, args, ['--local_workers', '2',
                                          '--distributed_mode', 'sync'], 2)
        stop_seconds, code = time_sigterm(folder, args)
    batch = args.batch_size
    rows = [('one process', single * batch),
            ('1 worker + ps', one_worker * batch),
            ('2 workers async', sum(async_rates) * batch),
            # every sync step applies the batches of both workers
            ('2 workers sync', min(sync_rates) * 2 * batch)]
    for name, samples in rows:
        print('{:<17}: {:8.0f} samples/s  ({:.2f} x one process)'.format(
            name, samples, samples / rows[0][1]))
    print('async steps/s per worker: {}'.format(
        ', '.join('{:.1f}'.format(rate) for rate in async_rates)))
    print('sync steps/s per worker : {}'.format(
        ', '.join('{:.1f}'.format(rate) for rate in sync_rates)))
    print('communication per step  : {:.2f} ms (1 worker + ps - one process)'.format(
        (1.0 / one_worker - 1.0 / single) * 1e3))
    print('SIGTERM -> all gone     : {:.2f} s (launcher exit code {})'.format(
        stop_seconds, code))
    return 0


if __name__ == '__main__':
    sys.exit(main())
