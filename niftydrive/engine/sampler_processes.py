"""Sampler windows produced in worker processes instead of threads.

Window extraction, augmentation and normalisation are numpy code that holds
the GIL, so several sampler *threads* share one core.  ``ProcessWindows``
runs copies of a sampler's ``layer_op`` generator in forked worker
processes (each seeded differently) and hands their windows to the
sampler's ordinary feeding thread, so the TensorFlow queue, the stopping
signal and the error handling stay those of ``InputBatchQueueRunner``.

- An exception in a worker reaches the feeding thread (and through the
  coordinator the user) as ``SamplerProcessError`` carrying the worker's
  own traceback.
- Workers die with their parent (Linux ``PR_SET_PDEATHSIG``) and are
  terminated by ``close``, so no process outlives a run.
- The processes are forked: they inherit the sampler (readers, layers)
  without pickling, and use no TensorFlow.  Windows travel through a
  ``multiprocessing`` queue (pickled numpy arrays).
"""
import ctypes
import logging
import multiprocessing
import os
import queue
import random
import signal
import traceback

import numpy as np

LOGGER = logging.getLogger(__name__)

_WINDOW, _DONE, _ERROR = 'window', 'done', 'error'
_PR_SET_PDEATHSIG = 1


class SamplerProcessError(RuntimeError):
    """A sampler worker process failed; the message holds its traceback."""


def die_with_parent():
    """Ask Linux to kill this process when its parent dies (no orphans)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: close() still terminates
        pass


def _worker(generator_factory, to_names, reseed, index, seed, windows):
    """Run one copy of the generator, sending its windows to ``windows``."""
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    try:
        np.random.seed(seed)
        random.seed(seed)
        if reseed is not None:  # random streams of their own (augmentation)
            reseed(seed, index)
        for output in generator_factory():
            windows.put((_WINDOW, to_names(output)))
        windows.put((_DONE, index))
    except BaseException as error:  # pylint: disable=broad-except
        windows.put((_ERROR, '{}: {}'.format(type(error).__name__, error),
                     traceback.format_exc()))


class ProcessWindows(object):
    """An iterator over the windows of ``num_processes`` worker processes.

    :param generator_factory: called in each worker, returns the sampler's
        window generator (``sampler.layer_op``)
    :param to_names: maps one generator item to a picklable dict
    :param num_processes: how many workers
    :param seed: worker ``i`` seeds numpy and ``random`` with ``seed + i``
        (None: a random base)
    :param reseed: called in each worker with its seed, after numpy's, for
        random streams of the generator's own (forked workers would
        otherwise all continue the parent's)
    :param queue_length: windows buffered between workers and the feeder
    """

    def __init__(self, generator_factory, to_names, num_processes, seed=None,
                 queue_length=16, name='sampler', reseed=None):
        context = multiprocessing.get_context('fork')
        self._windows = context.Queue(maxsize=max(int(queue_length), 1))
        base = int.from_bytes(os.urandom(4), 'little') if seed is None else int(seed)
        self._processes = [
            context.Process(target=_worker, name='{}-process-{}'.format(name, index),
                            args=(generator_factory, to_names, reseed, index,
                                  (base + index) % 2 ** 32, self._windows),
                            daemon=True)
            for index in range(max(int(num_processes), 1))]
        for process in self._processes:
            process.start()
        self._running = len(self._processes)

    def __iter__(self):
        return self

    def __next__(self):
        while self._running:
            try:
                kind, *payload = self._windows.get(timeout=0.5)
            except queue.Empty:
                self._check_alive()
                continue
            if kind == _WINDOW:
                return payload[0]
            if kind == _DONE:
                self._running -= 1
                continue
            message, worker_traceback = payload
            raise SamplerProcessError('{}\n(in a sampler worker process)\n{}'.format(
                message, worker_traceback))
        raise StopIteration

    def _check_alive(self):
        dead = [process for process in self._processes
                if not process.is_alive() and process.exitcode not in (0, None)]
        if dead:
            raise SamplerProcessError('sampler worker process {} died (exit code {})'.format(
                dead[0].name, dead[0].exitcode))

    @property
    def pids(self):
        """The worker processes' ids."""
        return [process.pid for process in self._processes]

    def close(self):
        """Terminate and join every worker."""
        for process in self._processes:
            if process.is_alive():
                process.terminate()
        for process in self._processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)
        self._windows.cancel_join_thread()
        self._windows.close()
