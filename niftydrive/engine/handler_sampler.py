"""``SamplerThreading``: starts the application's sampler threads and
watches for an input pipeline that stalls."""
import logging
import threading
import time

import tensorflow.compat.v1 as tf

from niftydrive.engine.handler_base import EventHandler
from niftydrive.engine.input_wait import CLOCK, add_input_wait
from niftydrive.engine.signal import ITER_FINISHED, ITER_STARTED, \
    SESS_FINISHED, SESS_STARTED
from niftydrive.utilities.util_common import traverse_nested

LOGGER = logging.getLogger(__name__)


class SamplerThreading(EventHandler):
    """When the session starts, every sampler of the application starts
    ``num_threads`` threads filling its queue, or, with ``sampler_processes
    > 0``, that many worker processes (seeded from ``random_seed`` when it is
    set) and one feeding thread.  (The driver stops them when the run ends,
    whatever handlers are in use.)

    Each iteration's ``input_wait`` (the fraction of its wall time spent
    waiting for its batch) joins its console values and TensorBoard summary.

    With ``stall_warning_seconds > 0`` a ``StallMonitor`` warns when an
    iteration has waited that long for its batch, and again every as many
    seconds until the batch arrives."""

    def __init__(self, num_threads=1, coordinator=None, sampler_processes=0,
                 random_seed=None, stall_warning_seconds=0, **kwargs):
        super(SamplerThreading, self).__init__(**kwargs)
        self.num_threads = num_threads
        self.coordinator = coordinator
        self.sampler_processes = sampler_processes or 0
        self.random_seed = random_seed
        self.stall_warning_seconds = stall_warning_seconds
        self.monitor = None
        self.listen(SESS_STARTED, self.start_sampler_threads)
        self.listen(ITER_STARTED, self.reset_input_wait)
        self.listen(ITER_FINISHED, self.report_input_wait)

    @staticmethod
    def reset_input_wait(_sender, **_unused):
        """Forget batch waits recorded outside an iteration."""
        CLOCK.take()

    @staticmethod
    def report_input_wait(_sender, iter_msg=None, **_unused):
        """``input_wait``: the fraction of the iteration's wall time spent
        waiting for its batch, on the console line and in TensorBoard."""
        add_input_wait(iter_msg)

    def start_sampler_threads(self, sender, session=None, **_unused):
        """Start each sampler's threads (an application may have none)."""
        if self.num_threads <= 0 or self.coordinator is None:
            return
        samplers = [sampler for sampler in
                    traverse_nested(sender.get_sampler() or [])
                    if sampler is not None]
        for index, sampler in enumerate(samplers):
            if self.sampler_processes > 0 and hasattr(sampler, 'run_processes'):
                seed = None if self.random_seed is None or self.random_seed < 0 \
                    else self.random_seed + 1000 * index
                sampler.run_processes(session, self.coordinator,
                                      self.sampler_processes, seed=seed)
            else:
                sampler.run_threads(session, self.coordinator, self.num_threads)
        if samplers:
            LOGGER.info('filling queues (this can take a few minutes)')
        if samplers and self.stall_warning_seconds and \
                self.stall_warning_seconds > 0:
            self.monitor = StallMonitor(self.stall_warning_seconds, samplers,
                                        session)
            self.listen(ITER_STARTED, self.monitor.iteration_started)
            self.listen(ITER_FINISHED, self.monitor.iteration_finished)
            self.listen(SESS_FINISHED, self.stop_monitor)
            self.monitor.start()

    def stop_monitor(self, _sender, **_unused):
        """Stop watching (the session is about to close)."""
        if self.monitor is not None:
            self.monitor.stop()
            self.monitor = None


def _queue_state(sampler, session):
    """``'<Sampler>: <n> windows queued, <k> threads running'`` (as much as
    the sampler tells)."""
    # NiftyNet's InputBatchQueueRunner keeps these under these names
    size_op = getattr(sampler, '_query_queue_size_op', None)
    live = getattr(sampler, '_live_threads', None)
    parts = []
    if size_op is not None:
        try:
            parts.append('{} windows queued'.format(session.run(size_op)))
        except (RuntimeError, tf.errors.OpError):
            pass
    if live is not None:
        parts.append('{} threads running'.format(live))
    return '{}: {}'.format(type(sampler).__name__,
                           ', '.join(parts) or 'state unknown')


class StallMonitor(object):
    """A thread that warns while an iteration waits for its batch.

    The driver's loop tells it when each iteration starts and finishes
    (``iteration_started`` / ``iteration_finished``); after ``seconds``
    without the iteration finishing it logs a warning naming the samplers
    and their queues, repeats it every ``seconds`` and logs when the
    iteration finally finishes.
    """

    def __init__(self, seconds, samplers, session):
        self.seconds = float(seconds)
        self.samplers = samplers
        self.session = session
        self._waiting = None  # (iteration message, monotonic start)
        self._warned = 0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True,
                                        name='input-stall-monitor')

    def start(self):
        """Start watching."""
        self._thread.start()

    def stop(self):
        """Stop watching and wait for the thread."""
        self._stopped.set()
        self._thread.join(timeout=5)

    def iteration_started(self, _sender, iter_msg=None, **_unused):
        """An iteration waits for its batch from now on."""
        self._warned = 0
        self._waiting = (iter_msg, time.monotonic())

    def iteration_finished(self, _sender, iter_msg=None, **_unused):
        """The batch came (log the recovery after a warning)."""
        waiting, self._waiting = self._waiting, None
        if self._warned and waiting is not None:
            self._warned = 0
            LOGGER.warning('input pipeline recovered: %s iter %d got its '
                           'batch after %.0f s', iter_msg.phase,
                           iter_msg.current_iter,
                           time.monotonic() - waiting[1])

    def _watch(self):
        poll = min(1.0, self.seconds / 4.0)
        while not self._stopped.wait(poll):
            waiting = self._waiting
            if waiting is None:
                continue
            iter_msg, since = waiting
            waited = time.monotonic() - since
            if waited < self.seconds * (self._warned + 1) or \
                    self._waiting is not waiting:
                continue
            self._warned += 1
            LOGGER.warning(
                'input pipeline stalled: %s iter %d has waited %.0f s for a '
                'batch (%s); still waiting (stop with Ctrl-C or SIGTERM: the '
                'last completed iteration is saved)', iter_msg.phase,
                iter_msg.current_iter, waited,
                '; '.join(_queue_state(sampler, self.session)
                          for sampler in self.samplers))
