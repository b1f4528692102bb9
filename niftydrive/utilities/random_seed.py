"""``[SYSTEM] random_seed``: reproducible runs.

``set_random_seed(seed, graph)`` seeds Python's ``random``, numpy's global
generator and the graph's TensorFlow seed (every random op and initialiser
created in it afterwards).  Each sampler thread is seeded too, from the seed,
the sampler's creation order and the thread's index (``seed_thread`` at the
start of the thread; ``thread_rng`` gives a sampler a generator of its own).
With a seed the sampler queues keep their windows in order (a shuffling
queue's order would depend on thread timing), so two runs with the same seed
and ``num_threads = 1`` compute the same thing.
"""
import itertools
import random
import threading
import zlib

import numpy as np

_STATE = {'seed': None, 'samplers': itertools.count()}
_THREAD = threading.local()


def set_random_seed(seed, graph=None):
    """Seed everything for a run (``seed`` None or < 0: leave unseeded)."""
    if seed is None or seed < 0:
        _STATE['seed'] = None
        return
    _STATE['seed'] = int(seed)
    _STATE['samplers'] = itertools.count()
    random.seed(seed)
    np.random.seed(seed)
    if graph is not None:
        graph.seed = int(seed)


def is_seeded():
    """True when a run's random seed is set."""
    return _STATE['seed'] is not None


def next_sampler_index():
    """A number for each sampler created (its place in the seed)."""
    return next(_STATE['samplers'])


def seed_thread(sampler_index, thread_index):
    """Seed the calling sampler thread (and numpy's global generator) from
    the run's seed; nothing when the run is not seeded."""
    if _STATE['seed'] is None:
        _THREAD.seed = None
        return
    key = '{}:{}:{}'.format(_STATE['seed'], sampler_index, thread_index)
    _THREAD.seed = zlib.crc32(key.encode())
    random.seed(_THREAD.seed)
    np.random.seed(_THREAD.seed)


def thread_rng():
    """A numpy ``RandomState`` for the calling sampler thread: seeded when
    the run is, otherwise from the system's entropy."""
    return np.random.RandomState(getattr(_THREAD, 'seed', None))
