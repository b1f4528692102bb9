"""``IterationMessage``: what one iteration runs, feeds, returns and signals."""
import itertools
import time

import numpy as np
from blinker import signal

import niftydrive.engine.signal  # noqa: F401  (creates the ordered signals)
from niftydrive.engine.application_variables import CONSOLE, TF_SUMMARIES

TRAIN = 'Training'
VALID = 'Validation'
INFER = 'Inference'
PHASES = frozenset((TRAIN, VALID, INFER))
CONSOLE_FORMAT = '{} iter {}, {} ({:.3f}s)'

# Signal names shared with ApplicationDriver's class attributes (blinker
# returns the same object for the same name).
_SIGNALS = {
    TRAIN: ('pre_train_iter', 'post_train_iter'),
    VALID: ('pre_validation_iter', 'post_validation_iter'),
    INFER: ('pre_infer_iter', 'post_infer_iter'),
}


def _format_value(value):
    if isinstance(value, (float, np.floating)) or (
            isinstance(value, np.ndarray) and value.ndim == 0
            and np.issubdtype(value.dtype, np.floating)):
        return '{:.4g}'.format(float(value))
    return str(value)


#: Values the engine adds to an application's: shown after them.
ENGINE_CONSOLE_VALUES = ('input_wait',)


def format_console_values(values):
    """``{'loss': 0.5, 'acc': 1}`` -> ``'acc=1, loss=0.5'`` (sorted by name,
    the engine's own values last; floats to four significant digits)."""
    return ', '.join('{}={}'.format(name, _format_value(values[name]))
                     for name in sorted(values, key=lambda name: (
                         name in ENGINE_CONSOLE_VALUES, name)))


class IterationMessage(object):
    """One iteration of a loop, passed to every observer.

    Observers add tensors to ``ops_to_run`` and values to ``data_feed_dict``
    before the iteration (``pre_iter``) and read ``current_iter_output`` after
    it (``post_iter``); setting ``should_stop`` ends the loop. Setting
    ``current_iter`` starts the clock (``_current_iter_tic``) and clears the
    output; setting ``current_iter_output`` stops it (``_current_iter_toc``).

    Unlike NiftyNet's, this is not a singleton: each iteration has its own
    message, so a message kept by an observer is not changed by the next
    iteration.
    """

    def __init__(self):
        self._current_iter = 0
        self._phase = TRAIN
        self._current_iter_tic = time.time()
        self._current_iter_toc = self._current_iter_tic
        self._current_iter_output = None
        self.ops_to_run = {}
        self.data_feed_dict = {}
        self.should_stop = False
        self.status = None

    @property
    def current_iter(self):
        """The iteration number (validation iterations repeat the training one)."""
        return self._current_iter

    @current_iter.setter
    def current_iter(self, value):
        if isinstance(value, bool) or not isinstance(value, int):
            try:
                if int(value) != value or isinstance(value, bool):
                    raise TypeError
                value = int(value)
            except (TypeError, ValueError):
                raise ValueError(
                    'iteration number must be an integer, got {!r}'.format(value))
        self._current_iter = value
        self._current_iter_tic = time.time()
        self._current_iter_output = None

    @property
    def phase(self):
        """``TRAIN``, ``VALID`` or ``INFER``."""
        return self._phase

    @phase.setter
    def phase(self, value):
        if value not in PHASES:
            raise ValueError('unknown phase {!r}: expected one of {}'.format(
                value, sorted(PHASES)))
        self._phase = value

    @property
    def is_training(self):
        """True for a training iteration."""
        return self._phase == TRAIN

    @property
    def is_validation(self):
        """True for a validation iteration."""
        return self._phase == VALID

    @property
    def is_inference(self):
        """True for an inference iteration."""
        return self._phase == INFER

    @property
    def current_iter_output(self):
        """What ``session.run`` returned for ``ops_to_run``."""
        return self._current_iter_output

    @current_iter_output.setter
    def current_iter_output(self, value):
        self._current_iter_output = value
        self._current_iter_toc = time.time()

    @property
    def iter_duration(self):
        """Seconds from setting ``current_iter`` to setting ``current_iter_output``."""
        return max(self._current_iter_toc, self._current_iter_tic) - self._current_iter_tic

    @iter_duration.setter
    def iter_duration(self, seconds):
        self._current_iter_toc = self._current_iter_tic + float(seconds)

    @property
    def pre_iter(self):
        """The signal sent before this iteration runs."""
        return signal(_SIGNALS[self._phase][0])

    @property
    def post_iter(self):
        """The signal sent after this iteration ran."""
        return signal(_SIGNALS[self._phase][1])

    def to_console_string(self):
        """E.g. ``Training iter 12, loss=0.3 (0.041s)``; validation indented.

        The values are ``current_iter_output[CONSOLE]``; any other output (a
        set, a string, ``None`` ...) is shown as it is, as NiftyNet did.
        """
        output = self._current_iter_output
        if isinstance(output, dict):
            values = output.get(CONSOLE, {}) or {}
        else:
            values = output if output is not None else {}
        text = format_console_values(values) if isinstance(values, dict) else str(values)
        line = CONSOLE_FORMAT.format(self._phase, self._current_iter, text,
                                     self.iter_duration)
        if not text:
            line = line.replace(',  (', ' (', 1)
        return '    ' + line if self.is_validation else line

    def to_tf_summary(self, writer=None):
        """Write ``current_iter_output[TF_SUMMARIES]`` to ``writer`` at ``current_iter``.

        Nothing happens without a writer or a summary.
        """
        if writer is None:
            return
        output = self._current_iter_output
        summary = output.get(TF_SUMMARIES) if isinstance(output, dict) else None
        if summary is None or (not isinstance(summary, bytes) and not summary):
            return
        writer.add_summary(summary, self._current_iter)

    def __repr__(self):
        return 'IterationMessage({} iter {})'.format(self._phase, self._current_iter)


class IterationMessageGenerator(object):
    """The driver's default iteration generator (``[SYSTEM]
    iteration_generator = iteration_generator``).

    Constructed with the driver's settings as keyword arguments; calling it
    yields training iterations ``initial_iter + 1 ... final_iter``, each
    multiple of ``validation_every_n`` followed by ``validation_max_iter``
    validation iterations of the same number; for inference, an endless
    sequence of inference iterations (the application ends it).
    """

    def __init__(self, initial_iter=0, final_iter=0, validation_every_n=0,
                 validation_max_iter=1, is_training=True, **_unused):
        self.initial_iter = initial_iter
        self.final_iter = final_iter
        self.validation_every_n = validation_every_n
        self.validation_max_iter = validation_max_iter
        self.is_training = is_training

    def __call__(self):
        if not self.is_training:
            for iter_i in itertools.count():
                yield _message(iter_i, INFER)
            return
        for iter_i in range(self.initial_iter + 1, self.final_iter + 1):
            yield _message(iter_i, TRAIN)
            if self.validation_every_n > 0 and \
                    iter_i % self.validation_every_n == 0:
                for _ in range(self.validation_max_iter):
                    yield _message(iter_i, VALID)


def _message(iter_i, phase):
    message = IterationMessage()
    message.current_iter, message.phase = iter_i, phase
    return message


def iter_generator(count_generator, phase):
    """Yield an ``IterationMessage`` of ``phase`` for each number generated."""
    for iter_i in count_generator:
        yield _message(iter_i, phase)


class InputExhausted(Exception):
    """A dequeue found its closed queue empty: a finite sampler ran out
    (raised by the driver's ``loop_step``; ends the loop normally)."""

    def __init__(self, iter_msg):
        super(InputExhausted, self).__init__(
            'the input ran out at {}'.format(iter_msg))
        self.phase = iter_msg.phase
