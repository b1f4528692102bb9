"""``ConsoleLogger``: progress lines (and a progress bar on a terminal)."""
import datetime
import logging
import shutil
import sys
import time

from niftydrive.engine.application_iteration import format_console_values
from niftydrive.engine.application_variables import CONSOLE
from niftydrive.engine.handler_base import EventHandler
from niftydrive.engine.handler_performance import ValidationRound, \
    section_value
from niftydrive.engine.signal import ITER_FINISHED, ITER_STARTED, \
    SESS_FINISHED, SESS_STARTED

LOGGER = logging.getLogger('niftydrive.engine.application_driver')
#: with ``console_every_n = 0``, a training run prints about this many lines
AUTO_LINES = 200


def auto_every_n(initial_iter, final_iter):
    """The ``console_every_n`` of ``0``: at most ``AUTO_LINES`` training
    lines for the run."""
    return max(1, -(-(final_iter - initial_iter) // AUTO_LINES))


def _clock(seconds):
    return str(datetime.timedelta(seconds=int(round(max(seconds, 0)))))


class ConsoleLogger(EventHandler):
    """Fetches the ``CONSOLE`` tensors and logs a line every
    ``[SYSTEM] console_every_n`` training iterations (0: a value giving a
    few hundred lines; also the run's first and last iterations), e.g.::

        Training iter 120, loss=0.31, lr=0.01 (0.041s) [120/1000, 8.1 steps/s,
        16.2 samples/s, elapsed 0:00:15, ETA 0:01:49]

    and a line per validation round (its mean values; every validation
    iteration when ``console_every_n`` is 1).  On a terminal a live progress
    bar (tqdm) stays under the log lines."""

    def __init__(self, outputs_collector=None, is_training=True, initial_iter=0,
                 final_iter=0, validation_max_iter=1, num_gpus=1,
                 workflow_param=None, **kwargs):
        super(ConsoleLogger, self).__init__(**kwargs)
        self.outputs_collector = outputs_collector
        self.initial_iter, self.final_iter = initial_iter, final_iter
        every_n = section_value(workflow_param, 'SYSTEM', 'console_every_n', 0)
        self.every_n = every_n if every_n > 0 else (
            auto_every_n(initial_iter, final_iter) if is_training else 1)
        self.samples_per_iter = max(num_gpus, 1) * section_value(
            workflow_param, 'NETWORK', 'batch_size', 1)
        self.round = ValidationRound(validation_max_iter)
        self.validation_max_iter = validation_max_iter
        self.start_time = None
        self.bar = None
        self._redirect = None
        self.listen(ITER_STARTED, self.read_console_vars)
        self.listen(ITER_FINISHED, self.print_console_vars)
        if is_training:
            self.listen(SESS_STARTED, self.start_progress)
            self.listen(SESS_FINISHED, self.end_progress)

    def read_console_vars(self, _sender, iter_msg=None, **_unused):
        """Add the console tensors to the iteration's fetches."""
        iter_msg.ops_to_run[CONSOLE] = self.outputs_collector.variables(CONSOLE)

    def start_progress(self, _sender, **_unused):
        """Start the clock (and the bar on a terminal)."""
        self.start_time = time.time()
        if not sys.stderr.isatty():
            return
        from tqdm import tqdm
        from tqdm.contrib.logging import logging_redirect_tqdm
        # (a terminal that reports no width gets 80 columns)
        self.bar = tqdm(total=self.final_iter - self.initial_iter,
                        unit='iter', leave=False,
                        ncols=shutil.get_terminal_size().columns or 80)
        # log lines are written above the bar instead of through it
        self._redirect = logging_redirect_tqdm(
            loggers=[logging.getLogger('niftydrive'), logging.getLogger()])
        self._redirect.__enter__()

    def end_progress(self, _sender, **_unused):
        """Close the bar."""
        if self._redirect is not None:
            self._redirect.__exit__(None, None, None)
            self._redirect = None
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def progress(self, current_iter):
        """``[done/total, steps/s, samples/s, elapsed, ETA]`` of training."""
        elapsed = time.time() - (self.start_time or time.time())
        done = current_iter - self.initial_iter
        rate = done / elapsed if elapsed > 0 else 0.0
        remaining = (self.final_iter - current_iter) / rate if rate > 0 else 0.0
        return '[{}/{}, {:.3g} steps/s, {:.3g} samples/s, elapsed {}, ' \
               'ETA {}]'.format(current_iter, self.final_iter, rate,
                                rate * self.samples_per_iter, _clock(elapsed),
                                _clock(remaining))

    def print_console_vars(self, _sender, iter_msg=None, **_unused):
        """Log the iteration's line when it is due."""
        if iter_msg.is_training and self.bar is not None:
            self.bar.update(1)
        if not LOGGER.isEnabledFor(logging.INFO):
            return
        if iter_msg.is_validation:
            self._print_validation(iter_msg)
        elif iter_msg.is_training:
            number = iter_msg.current_iter
            if number % self.every_n == 0 or number == self.final_iter or \
                    number == self.initial_iter + 1:
                LOGGER.info('%s %s', iter_msg.to_console_string(),
                            self.progress(number))
        elif iter_msg.current_iter % self.every_n == 0:
            LOGGER.info(iter_msg.to_console_string())

    def _print_validation(self, iter_msg):
        if self.every_n == 1 or self.validation_max_iter == 1:
            LOGGER.info(iter_msg.to_console_string())
        means = self.round.add(iter_msg)
        if means is not None and self.validation_max_iter > 1:
            LOGGER.info('    Validation iter %d, mean of %d iterations: %s',
                        iter_msg.current_iter, self.validation_max_iter,
                        format_console_values(means))
