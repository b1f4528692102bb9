"""``ConsoleLogger``: one log line per iteration."""
import logging

from niftydrive.engine.application_variables import CONSOLE
from niftydrive.engine.handler_base import EventHandler
from niftydrive.engine.signal import ITER_FINISHED, ITER_STARTED

LOGGER = logging.getLogger('niftydrive.engine.application_driver')


class ConsoleLogger(EventHandler):
    """Fetches the ``CONSOLE`` tensors and logs ``msg.to_console_string()``
    (e.g. ``Training iter 12, loss=0.3 (0.041s)``; validation indented)."""

    def __init__(self, outputs_collector=None, **kwargs):
        super(ConsoleLogger, self).__init__(**kwargs)
        self.outputs_collector = outputs_collector
        self.listen(ITER_STARTED, self.read_console_vars)
        self.listen(ITER_FINISHED, self.print_console_vars)

    def read_console_vars(self, _sender, iter_msg=None, **_unused):
        """Add the console tensors to the iteration's fetches."""
        iter_msg.ops_to_run[CONSOLE] = self.outputs_collector.variables(CONSOLE)

    @staticmethod
    def print_console_vars(_sender, iter_msg=None, **_unused):
        """Log the iteration's console line."""
        if LOGGER.isEnabledFor(logging.INFO):
            LOGGER.info(iter_msg.to_console_string())
