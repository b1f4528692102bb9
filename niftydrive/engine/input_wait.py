"""How long each iteration waited for its input batch.

``timed_dequeue`` wraps a sampler's dequeue: two ``tf.timestamp`` ops
around it measure the time the step spent waiting for the batch, and a
``py_func`` in the batch's dependencies hands that duration to
``INPUT_WAIT`` (so it is recorded only when the batch is really dequeued,
e.g. in the branch of a ``tf.cond`` that runs).  ``SamplerThreading`` turns
it into ``input_wait``, the fraction of the iteration's wall time spent
waiting: on the console line and in TensorBoard.  Near 0: the network is
the bottleneck; near 1: the input pipeline is.
"""
import threading

import numpy as np
import tensorflow.compat.v1 as tf

from niftydrive.engine.application_variables import CONSOLE, TF_SUMMARIES

#: The name of the value on the console and in TensorBoard.
INPUT_WAIT = 'input_wait'


class InputWaitClock(object):
    """The longest batch wait recorded since the last ``take`` (several
    towers dequeue in parallel: the step waited for the slowest)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._seconds = None

    def record(self, seconds):
        """Called by the graph (``py_func``) when a batch arrived."""
        with self._lock:
            self._seconds = max(self._seconds or 0.0, float(seconds))
        return np.float64(seconds)

    def take(self):
        """Seconds waited since the last call (None: no batch dequeued)."""
        with self._lock:
            seconds, self._seconds = self._seconds, None
        return seconds


CLOCK = InputWaitClock()


def timed_dequeue(dequeue):
    """``dequeue()`` (a dict of batch tensors), its wait recorded."""
    started = tf.timestamp(name='wait_started')
    with tf.control_dependencies([started]):
        data = dict(dequeue())
    with tf.control_dependencies(list(data.values())):
        waited = tf.timestamp(name='batch_arrived') - started
    recorded = tf.py_func(CLOCK.record, [waited], tf.float64, stateful=True,
                          name='record_input_wait')
    with tf.control_dependencies([recorded]):
        return {name: tf.identity(tensor) for name, tensor in data.items()}


def add_input_wait(iter_msg):
    """Put this iteration's ``input_wait`` among its console values and
    into its fetched TensorBoard summary (if any)."""
    seconds = CLOCK.take()
    output = iter_msg.current_iter_output
    if seconds is None or not isinstance(output, dict):
        return None
    fraction = min(seconds / max(iter_msg.iter_duration, 1e-6), 1.0)
    console = output.get(CONSOLE)
    if isinstance(console, dict):
        console[INPUT_WAIT] = fraction
    elif console is None:
        output[CONSOLE] = {INPUT_WAIT: fraction}
    summary = output.get(TF_SUMMARIES)
    if isinstance(summary, bytes):
        parsed = tf.Summary.FromString(summary)
        parsed.value.add(tag=INPUT_WAIT, simple_value=fraction)
        output[TF_SUMMARIES] = parsed.SerializeToString()
    return fraction
