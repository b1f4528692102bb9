"""Validation rounds: the mean of each ``CONSOLE`` value over a round.

Validation runs ``validation_max_iter`` iterations after every
``validation_every_n`` training iterations (a *round*, all with the same
iteration number).  Handlers that judge the model by validation (the best
model, early stopping, TensorBoard) need one value per round, the mean over
its iterations; ``ValidationRound`` computes it, and ``validation_metric``
says which console value is "the" validation metric of a run.
"""
import logging

import numpy as np

from niftydrive.engine.application_variables import CONSOLE
from niftydrive.utilities.errors import UserInputError

LOGGER = logging.getLogger(__name__)

#: the console names used as the validation metric when none is configured
DEFAULT_METRICS = ('total_loss', 'loss')
GOALS = ('min', 'max')


def section_value(workflow_param, section, key, default):
    """``workflow_param[section].key``, or ``default`` when the section or
    the key is absent (a script may build its parameters by hand)."""
    namespace = (workflow_param or {}).get(section)
    value = getattr(namespace, key, None) if namespace is not None else None
    return default if value is None else value


class ValidationRound(object):
    """Collects the ``CONSOLE`` values of a validation round's iterations and
    returns their means when the round is complete."""

    def __init__(self, validation_max_iter=1):
        self.validation_max_iter = max(int(validation_max_iter), 1)
        self._iter = None
        self._values = []

    def add(self, iter_msg):
        """Record a finished validation iteration; the round's means
        (``{name: float}``) when it was the round's last iteration, else
        None."""
        if not iter_msg.is_validation:
            return None
        if iter_msg.current_iter != self._iter:
            self._iter, self._values = iter_msg.current_iter, []
        console = (iter_msg.current_iter_output or {}).get(CONSOLE) or {}
        self._values.append(console)
        if len(self._values) < self.validation_max_iter:
            return None
        values, self._values = self._values, []
        names = set().union(*values)
        return {name: float(np.mean([np.mean(v[name]) for v in values
                                     if name in v])) for name in sorted(names)}


class ValidationMetric(object):
    """The console value that judges a model (``[TRAINING]
    validation_metric``; empty: ``total_loss`` or ``loss``) and whether lower
    or higher is better (``validation_metric_goal``)."""

    def __init__(self, name='', goal='min'):
        self.name = name or ''
        if goal not in GOALS:
            raise UserInputError(
                '[TRAINING] validation_metric_goal = {}: expected min or '
                'max'.format(goal))
        self.goal = goal

    @classmethod
    def from_params(cls, workflow_param):
        """The metric configured in ``workflow_param``."""
        return cls(section_value(workflow_param, 'TRAINING',
                                 'validation_metric', ''),
                   section_value(workflow_param, 'TRAINING',
                                 'validation_metric_goal', 'min'))

    def value(self, round_means, required=True):
        """The metric's value in a round's means.  When it is not one of
        them: a ``UserInputError`` naming the console values if the metric
        was configured or ``required``, else None."""
        if self.name:
            if self.name in round_means:
                return round_means[self.name]
        else:
            for name in DEFAULT_METRICS:
                if name in round_means:
                    return round_means[name]
            if not required:
                return None
        raise UserInputError(
            '[TRAINING] validation_metric = {}: not a console value of this '
            'application (its console values: {})'.format(
                self.name or '(empty: total_loss or loss)',
                ', '.join(sorted(round_means)) or 'none'))

    def describe(self):
        """E.g. ``mean validation loss (lower is better)``."""
        return 'mean validation {} ({} is better)'.format(
            self.name or 'loss', 'lower' if self.goal == 'min' else 'higher')

    def is_better(self, value, best):
        """True when ``value`` beats ``best`` (None: nothing yet)."""
        if best is None:
            return True
        return value < best if self.goal == 'min' else value > best
