"""Refuse window queues that cannot fit in memory, before allocating them.

A queue of windows holds ``capacity`` windows, and each batch taken from it
is copied a few times on its way into the network; with an absurd
``batch_size``, ``queue_length`` or window size the process would be killed
by the kernel (or crash inside TensorFlow) long after starting, saying
nothing.  :func:`check_window_memory` estimates the bytes first and raises a
``UserInputError`` naming the keys to change.
"""
import os
import resource

import numpy as np

from niftydrive.utilities.errors import UserInputError

#: Refuse a queue whose windows would take more than this share of the
#: memory the process may use (the network needs the rest).
MAX_SHARE_OF_MEMORY = 0.5
#: Copies of a batch alive at once besides the queue: the dequeued batch,
#: the network input and its first activations.
BATCH_COPIES = 2

_CGROUP_LIMIT_FILES = ('/sys/fs/cgroup/memory.max',
                       '/sys/fs/cgroup/memory/memory.limit_in_bytes')


def _cgroup_limit():
    for path in _CGROUP_LIMIT_FILES:
        try:
            with open(path) as limit_file:
                text = limit_file.read().strip()
        except OSError:
            continue
        if text.isdigit():
            return int(text)
    return None


def _address_space_left():
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    try:
        with open('/proc/self/statm') as statm:
            used = int(statm.read().split()[0]) * os.sysconf('SC_PAGE_SIZE')
    except (OSError, ValueError, IndexError):
        used = 0
    return max(soft - used, 0)


def memory_limit_bytes():
    """The memory this process may use: the machine's RAM, lowered by a
    cgroup limit or by what ``ulimit -v`` leaves of the address space."""
    limits = [os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES')]
    limits.extend(limit for limit in (_cgroup_limit(), _address_space_left())
                  if limit is not None)
    return min(limits)


def window_bytes(shapes, dtypes):
    """Bytes of one window: ``shapes``/``dtypes`` are dicts name -> shape
    (``None`` axes count as 1) / TF or numpy dtype."""
    total = 0
    for name, shape in shapes.items():
        voxels = 1
        for length in shape or ():
            voxels *= int(length) if length else 1
        dtype = dtypes[name]
        total += voxels * np.dtype(getattr(dtype, 'as_numpy_dtype', dtype)).itemsize
    return total


def _gigabytes(count):
    return '{:.1f} GB'.format(count / 1e9)


def check_window_memory(owner, shapes, dtypes, capacity, batch_size):
    """Raise ``UserInputError`` if a queue of ``capacity`` windows plus the
    copies of a ``batch_size`` batch would not fit in memory.

    :param owner: the sampler's name, for the message
    """
    one = window_bytes(shapes, dtypes)
    needed = one * (int(capacity) + BATCH_COPIES * int(batch_size))
    limit = memory_limit_bytes()
    if needed <= MAX_SHARE_OF_MEMORY * limit:
        return
    windows = ', '.join('{} {}'.format(name, tuple(shape))
                        for name, shape in sorted(shapes.items()))
    raise UserInputError(
        '{}: batches of {} windows ({}; {} each) in a queue of {} windows need '
        'about {}, more than this process can use ({} available): reduce '
        '[NETWORK] batch_size, [NETWORK] queue_length or the window size '
        '(spatial_window_size of the input sections; vector_size of the toy '
        'application).'.format(owner, batch_size, windows, _gigabytes(one)
                               if one >= 1e8 else '{} bytes'.format(one),
                               capacity, _gigabytes(needed), _gigabytes(limit)))
