"""SIGTERM and Ctrl-C while a run is active: stop, save, clean up.

A Python signal handler only runs in the main thread between bytecodes, so
a main thread blocked inside TensorFlow (a dequeue from a queue no sampler
thread fills) would never see the signal.  ``StopSignals`` therefore also
registers a wake-up file descriptor (``signal.set_wakeup_fd``): the C-level
handler writes the signal number to it at once, and a watcher thread calls
``on_signal`` (the driver closes the input queues there, which makes the
blocked dequeue return).
"""
import contextlib
import logging
import signal as os_signal
import socket
import threading

LOGGER = logging.getLogger(__name__)

_HANDLED = (os_signal.SIGTERM, os_signal.SIGINT)


class TerminationRequested(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: stop, save, clean up (exit code 143)."""

    exit_code = 128 + os_signal.SIGTERM


def stop_exception(signum):
    """The exception a stop signal raises in the main thread."""
    if signum == os_signal.SIGINT:
        return KeyboardInterrupt('interrupted (Ctrl-C)')
    return TerminationRequested('terminated by signal {}'.format(signum))


class StopSignals(object):
    """Context manager: while active (main thread only), SIGTERM and SIGINT
    stop the run.

    Outside ``deferred()`` a signal raises at once (``TerminationRequested``
    for SIGTERM, ``KeyboardInterrupt`` for SIGINT).  Inside it (the driver's
    loop) the first signal is recorded and raised by ``raise_if_requested``
    at the next safe point, so the checkpoint saved on the way out is that
    of the last completed iteration; a second signal raises at once.  Either
    way ``on_signal(signum)`` is called from a watcher thread as soon as the
    signal arrives.  The previous handlers are restored on exit.
    """

    def __init__(self, on_signal=None):
        self.on_signal = on_signal
        self.received = None
        self._deferring = False
        self._count = 0
        self._previous = {}
        self._previous_fd = None
        self._writer = None

    # ------------------------------------------------------------ context
    def __enter__(self):
        self.received, self._count = None, 0
        if threading.current_thread() is not threading.main_thread():
            return self
        reader, self._writer = socket.socketpair()
        self._writer.setblocking(False)
        try:
            self._previous_fd = os_signal.set_wakeup_fd(
                self._writer.fileno(), warn_on_full_buffer=False)
        except ValueError:  # not the main interpreter
            self._writer.close()
            reader.close()
            self._writer = None
            return self
        for signum in _HANDLED:
            self._previous[signum] = os_signal.signal(signum, self._handle)
        threading.Thread(target=self._watch, args=(reader,), daemon=True,
                         name='stop-signal-watcher').start()
        return self

    def __exit__(self, *exc_info):
        for signum, previous in self._previous.items():
            os_signal.signal(signum, previous)
        self._previous = {}
        if self._writer is not None:
            os_signal.set_wakeup_fd(self._previous_fd if self._previous_fd
                                    is not None else -1)
            self._writer.close()  # the watcher sees the end and stops
            self._writer = None
        return False

    # ------------------------------------------------------------ signals
    def _handle(self, signum, _frame):
        """The Python-level handler (main thread, between bytecodes)."""
        self._count += 1
        if self.received is None:
            self.received = signum
        if self._deferring and self._count == 1:
            return  # raised at the next safe point
        raise stop_exception(signum)

    def _watch(self, reader):
        """Wake-up bytes -> ``on_signal`` (runs while the main thread is
        blocked in C code)."""
        notified = False
        try:
            while True:
                data = reader.recv(64)
                if not data:
                    return
                for signum in data:
                    if signum in _HANDLED and not notified and self.on_signal:
                        notified = True
                        try:
                            self.on_signal(signum)
                        except Exception as error:  # pylint: disable=broad-except
                            LOGGER.warning('stopping after signal %d: %s',
                                           signum, error)
        except OSError:
            return
        finally:
            reader.close()

    @contextlib.contextmanager
    def deferred(self):
        """Within: the first signal waits for ``raise_if_requested``."""
        self._deferring = True
        try:
            yield self
        finally:
            self._deferring = False

    def raise_if_requested(self):
        """Raise the stop exception if a signal arrived."""
        if self.received is not None:
            raise stop_exception(self.received)


#: Seconds the exit after SIGTERM/Ctrl-C waits for sampler threads.
SIGNAL_EXIT_WAIT = 3


def stop_samplers(app, after_signal):
    """``app.stop()`` (closes the queues, joins the sampler threads); after
    a stop signal, wait at most ``SIGNAL_EXIT_WAIT`` seconds for it: a
    sampler thread blocked in its own code must not delay the exit."""
    LOGGER.info('stopping sampling threads')
    if not after_signal:
        app.stop()
        return
    stopper = threading.Thread(target=app.stop, daemon=True)
    stopper.start()
    stopper.join(SIGNAL_EXIT_WAIT)
    if stopper.is_alive():
        LOGGER.warning('sampler threads still busy after %d s: leaving them',
                       SIGNAL_EXIT_WAIT)
