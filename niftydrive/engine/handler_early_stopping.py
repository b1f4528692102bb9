"""``EarlyStopper``: ends training when validation stops improving.

The criteria are NiftyNet 0.6's (``[TRAINING] early_stopping_mode``), applied
to the last ``patience`` validation rounds' values of the validation metric
(one value per round: the mean over its ``validation_max_iter`` iterations;
a metric whose goal is ``max`` is negated, so lower is always better):

* ``mean``: the last value is above the mean of the ones before it;
* ``robust_mean``: the same, with the mean of the earlier values strictly
  between their 5th and 95th percentiles;
* ``median``: the last value is above the median of the ones before it;
* ``generalisation_loss``: ``(last - min) / (max - min)`` over the history
  (``last`` itself when ``min`` is 0) exceeds 0.2;
* ``median_smoothing``: after a median filter (size 5) of the earlier
  values, fewer than half of its successive differences are below 0.03;
* ``validation_up``: the history (its first ``len % 5`` values dropped) is
  cut into 5 strips and the generalisation loss of every strip is at least
  0.03: the metric went up within each of them.
"""
import logging
from collections import deque

import numpy as np
from scipy.ndimage import median_filter

from niftydrive.engine.handler_base import EventHandler
from niftydrive.engine.handler_performance import ValidationMetric, \
    ValidationRound, section_value
from niftydrive.engine.signal import ITER_FINISHED
from niftydrive.utilities.errors import UserInputError

LOGGER = logging.getLogger(__name__)

EARLY_STOPPING_MODES = ('mean', 'robust_mean', 'median', 'generalisation_loss',
                        'median_smoothing', 'validation_up')
#: the fewest rounds each mode can judge
MIN_PATIENCE = {'validation_up': 10}


def compute_generalisation_loss(validation_his):
    """``(last - min) / (max - min)`` of a history (``last`` when ``min`` is
    0, 0 when every value is the same)."""
    values = np.asarray(validation_his, dtype=float)
    low, high, last = values.min(), values.max(), values[-1]
    if low == 0:
        return last
    if high == low:
        return 0.0
    return (last - low) / (high - low)


def _mean_rule(history, _min_delta, _kernel_size, _k_splits):
    earlier = np.mean(history[:-1])
    return history[-1] > earlier, 'last {:.6g} > mean of the {} before it ' \
        '{:.6g}'.format(history[-1], len(history) - 1, earlier)


def _robust_mean_rule(history, _min_delta, _kernel_size, _k_splits):
    earlier = np.asarray(history[:-1])
    low, high = np.percentile(earlier, q=[5, 95])
    inner = earlier[(earlier > low) & (earlier < high)]
    if inner.size == 0:
        return False, 'no value strictly between the 5th and 95th percentiles'
    threshold = np.mean(inner)
    return history[-1] > threshold, 'last {:.6g} > robust mean (5th-95th ' \
        'percentile) of the values before it {:.6g}'.format(history[-1],
                                                            threshold)


def _median_rule(history, _min_delta, _kernel_size, _k_splits):
    earlier = np.median(history[:-1])
    return history[-1] > earlier, 'last {:.6g} > median of the {} before it ' \
        '{:.6g}'.format(history[-1], len(history) - 1, earlier)


def _generalisation_loss_rule(history, _min_delta, _kernel_size, _k_splits):
    value = compute_generalisation_loss(history)
    return value > 0.2, 'generalisation loss {:.3g} > 0.2'.format(value)


def _median_smoothing_rule(history, min_delta, kernel_size, _k_splits):
    smoothed = median_filter(np.asarray(history[:-1], dtype=float),
                             size=kernel_size)
    steps = np.gradient(smoothed)
    flat_or_down = float(np.mean(steps < min_delta))
    return flat_or_down < 0.5, 'only {:.0%} of the median-smoothed steps are ' \
        'below {} (fewer than half)'.format(flat_or_down, min_delta)


def _validation_up_rule(history, min_delta, _kernel_size, k_splits):
    values = np.asarray(history, dtype=float)
    strips = np.split(values[len(values) % k_splits:], k_splits)
    rising = [compute_generalisation_loss(strip) >= min_delta
              for strip in strips]
    return all(rising), 'the metric rose in all {} strips of the last {} ' \
        'rounds'.format(k_splits, len(values))


_RULES = {
    'mean': _mean_rule,
    'robust_mean': _robust_mean_rule,
    'median': _median_rule,
    'generalisation_loss': _generalisation_loss_rule,
    'median_smoothing': _median_smoothing_rule,
    'validation_up': _validation_up_rule,
}


def explain_should_stop(performance_history, mode='mean', min_delta=0.03,
                        kernel_size=5, k_splits=5):
    """``(should_stop, reason)`` for a history (lower is better)."""
    if mode not in _RULES:
        raise UserInputError(
            '[TRAINING] early_stopping_mode = {}: expected one of {}'.format(
                mode, ', '.join(EARLY_STOPPING_MODES)))
    stop, reason = _RULES[mode](list(performance_history), min_delta,
                                kernel_size, k_splits)
    return bool(stop), reason


def check_should_stop(performance_history, mode='mean', min_delta=0.03,
                      kernel_size=5, k_splits=5):
    """True when the history (lower is better) says training should stop
    (NiftyNet 0.6's function)."""
    return explain_should_stop(performance_history, mode, min_delta,
                               kernel_size, k_splits)[0]


class EarlyStopper(EventHandler):
    """Stops training (``iter_msg.should_stop``; the final checkpoint is
    saved and the run ends normally) when ``[TRAINING] early_stopping_mode``
    judges the last ``patience`` validation rounds (``patience <= 0``: never
    stops)."""

    def __init__(self, is_training=True, validation_every_n=0,
                 validation_max_iter=1, workflow_param=None, **kwargs):
        super(EarlyStopper, self).__init__(**kwargs)
        self.patience = section_value(workflow_param, 'TRAINING', 'patience', 0)
        self.mode = section_value(workflow_param, 'TRAINING',
                                  'early_stopping_mode', 'mean')
        self.metric = ValidationMetric.from_params(workflow_param)
        self.round = ValidationRound(validation_max_iter)
        self.performance_history = deque(maxlen=max(self.patience, 1))
        if not is_training or self.patience <= 0:
            return
        if self.mode not in EARLY_STOPPING_MODES:
            explain_should_stop([], self.mode)  # raises the message
        if validation_every_n <= 0:
            raise UserInputError(
                '[TRAINING] patience = {}: early stopping judges validation '
                'rounds; set validation_every_n > 0, or patience = 0'.format(
                    self.patience))
        minimum = MIN_PATIENCE.get(self.mode, 2)
        if self.patience < minimum:
            raise UserInputError(
                '[TRAINING] patience = {}: early_stopping_mode {} needs at '
                'least {} validation rounds'.format(self.patience, self.mode,
                                                    minimum))
        self.listen(ITER_FINISHED, self.check_criteria)

    def check_criteria(self, _sender, iter_msg=None, **_unused):
        """After a validation round: record it, then judge the history."""
        means = self.round.add(iter_msg)
        if means is None:
            return
        value = self.metric.value(means)
        self.performance_history.append(
            value if self.metric.goal == 'min' else -value)
        if len(self.performance_history) < self.patience:
            return
        stop, reason = explain_should_stop(self.performance_history, self.mode)
        if stop:
            LOGGER.info('early stopping at iter %d (early_stopping_mode = %s, '
                        'patience = %d rounds, %s): %s', iter_msg.current_iter,
                        self.mode, self.patience, self.metric.describe(),
                        reason)
            iter_msg.should_stop = True
