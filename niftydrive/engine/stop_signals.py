"""SIGTERM handled like Ctrl-C while a run is active."""
import signal as os_signal
import threading


class TerminationRequested(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: stop, save, clean up (exit code 143)."""

    exit_code = 128 + os_signal.SIGTERM


class StopSignals(object):
    """Context manager turning SIGTERM into ``TerminationRequested`` (main
    thread only; the previous handler is restored on exit)."""

    def __enter__(self):
        self._previous = None
        if threading.current_thread() is threading.main_thread():
            self._previous = os_signal.signal(os_signal.SIGTERM, self._raise)
        return self

    @staticmethod
    def _raise(signum, _frame):
        raise TerminationRequested('terminated by signal {}'.format(signum))

    def __exit__(self, *exc_info):
        if self._previous is not None:
            os_signal.signal(os_signal.SIGTERM, self._previous)
        return False
