"""``net_run train -c x.ini --local_workers N``: a whole cluster on one
machine (1 parameter server + N workers as subprocesses on loopback ports).

SIGTERM or Ctrl-C to the launcher is forwarded to every worker (the chief
saves its checkpoint; the parameter server stops when every worker has
ended, or is stopped by the launcher); the launcher exits with the signal's code (143 for
SIGTERM).  The children die with the launcher even on ``kill -9``.
"""
import json
import logging
import signal
import subprocess
import sys
import time

from niftydrive.engine.cluster import PS, WORKER, free_ports
from niftydrive.engine.sampler_processes import die_with_parent

LOGGER = logging.getLogger(__name__)

#: Seconds the ps gets to stop by itself after the last worker ended.
PS_GRACE_SECONDS = 5


def local_cluster(n_workers, host='127.0.0.1'):
    """A cluster dict of 1 ps and ``n_workers`` workers on free ports."""
    ports = free_ports(n_workers + 1, host)
    return {PS: ['{}:{}'.format(host, ports[0])],
            WORKER: ['{}:{}'.format(host, port) for port in ports[1:]]}


def task_command(argv, cluster, job_name, task_index):
    """The ``net_run`` command line of one task (``argv`` is the
    launcher's, whose ``--local_workers`` is overridden by 0)."""
    return [sys.executable, '-m', 'niftydrive.net_run'] + list(argv) + [
        '--local_workers', '0', '--cluster_spec', json.dumps(cluster),
        '--job_name', job_name, '--task_index', str(task_index)]


def launch_local_workers(argv, n_workers):
    """Run the cluster to its end; the exit code (0 when every worker
    succeeded, the signal's code after SIGTERM/SIGINT, else the first
    failing worker's code)."""
    cluster = local_cluster(n_workers)
    LOGGER.info('local cluster: ps %s, workers %s', cluster[PS][0],
                ', '.join(cluster[WORKER]))
    processes = []
    received = []

    def forward(signum, _frame):
        # to the workers only: the chief saves the variables held by the
        # ps, which stops once every worker has reported its end
        received.append(signum)
        for process in processes[1:]:
            if process.poll() is None:
                process.send_signal(signum)

    previous = {signum: signal.signal(signum, forward)
                for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        for job_name, count in ((PS, 1), (WORKER, n_workers)):
            for index in range(count):
                processes.append(subprocess.Popen(
                    task_command(argv, cluster, job_name, index),
                    start_new_session=True, preexec_fn=die_with_parent))
        ps_process, workers = processes[0], processes[1:]
        codes = [process.wait() for process in workers]
        deadline = time.time() + PS_GRACE_SECONDS
        while ps_process.poll() is None and time.time() < deadline:
            time.sleep(0.1)
        if ps_process.poll() is None:
            ps_process.terminate()
            ps_process.wait()
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    for index, code in enumerate(codes):
        if code:
            LOGGER.warning('worker %d exited with code %d', index,
                           code if code > 0 else 128 - code)
    if received:
        return 128 + received[0]
    failed = [code for code in codes if code]
    if not failed:
        return 0
    return failed[0] if failed[0] > 0 else 128 - failed[0]
