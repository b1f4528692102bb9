"""``NaNGuard``: stops training at the first non-finite loss.

Every training iteration the guard checks the ``CONSOLE`` values (the
loss, usually) and every tensor an application put in the graph
collection ``NAN_CHECKED``; a NaN or an infinity stops the run with
``NonFiniteValueError`` naming the iteration and the value.  Listed before
the TensorBoard logger and the model saver in ``[SYSTEM] event_handler``,
it stops the run before they see the iteration, so nothing of it is
written; the saver itself refuses non-finite weights (see
``handler_model.ModelSaver``).  ``[TRAINING] nan_guard = False`` turns both
off.
"""
import logging
import math

import numpy as np
import tensorflow.compat.v1 as tf

from niftydrive.engine.application_variables import CONSOLE
from niftydrive.engine.handler_base import EventHandler
from niftydrive.engine.signal import GRAPH_CREATED, ITER_FINISHED, \
    ITER_STARTED
from niftydrive.utilities.errors import UserInputError

LOGGER = logging.getLogger(__name__)

#: Graph collection of extra tensors checked every training iteration:
#: ``tf.add_to_collection(NAN_CHECKED, tensor)``.
NAN_CHECKED = 'niftydrive_nan_checked'


class NonFiniteValueError(UserInputError):
    """Training produced a NaN or an infinity (a loss, an output, the
    weights): the run stops and nothing non-finite is saved."""


def weights_finite_op(var_list=None):
    """A boolean op: every floating-point global variable is finite."""
    var_list = tf.global_variables() if var_list is None else var_list
    checks = [tf.reduce_all(tf.is_finite(var)) for var in var_list
              if var.dtype.base_dtype.is_floating]
    with tf.name_scope('weights_finite'):
        return tf.reduce_all(tf.stack(checks)) if checks else tf.constant(True)


def non_finite_error(iteration, what, model_dir=None):
    """The error for a non-finite ``what`` at ``iteration``, saying which
    checkpoint is left and how to go on."""
    latest = tf.train.latest_checkpoint(model_dir) if model_dir else None
    kept = 'the last checkpoint, {}, is finite; resume from it with ' \
           '--starting_iter -1'.format(latest) if latest else \
        'no checkpoint was saved'
    return NonFiniteValueError(
        'training stopped at iteration {}: {} (not finite); nothing of this '
        'iteration is saved and {} (a lower lr may help), or set nan_guard = '
        'False [TRAINING] to train on'.format(iteration, what, kept))


def _is_finite(value):
    """Whether ``value`` (a number or an array) has no NaN or infinity."""
    if isinstance(value, (float, np.floating)):  # the usual case: a scalar loss
        return math.isfinite(value)
    array = np.asarray(value)
    return array.dtype.kind not in 'fc' or bool(np.all(np.isfinite(array)))


def _first_non_finite(values):
    """``(name, value)`` of the first non-finite numeric value (names in
    sorted order), or None."""
    bad = [name for name in values if not _is_finite(values[name])]
    if not bad:
        return None
    name = min(bad, key=str)
    array = np.asarray(values[name])
    shown = array if array.size == 1 else \
        array.flat[np.flatnonzero(~np.isfinite(array))[0]]
    return name, np.asarray(shown).item()


class NaNGuard(EventHandler):
    """Checks the training loss (``CONSOLE`` values) and the ``NAN_CHECKED``
    tensors every training iteration; a NaN or infinity raises
    ``NonFiniteValueError`` naming the iteration and the value."""

    def __init__(self, outputs_collector=None, is_training=True,
                 nan_guard=True, model_dir=None, **kwargs):
        super(NaNGuard, self).__init__(**kwargs)
        self.outputs_collector = outputs_collector
        self.model_dir = model_dir
        self.flagged = []
        if not is_training or not nan_guard:
            return
        self.listen(GRAPH_CREATED, self.collect_flagged)
        self.listen(ITER_STARTED, self.add_checked_values)
        self.listen(ITER_FINISHED, self.check_values)

    def collect_flagged(self, _sender, graph=None, **_unused):
        """The tensors the application flagged for checking."""
        graph = graph if graph is not None else tf.get_default_graph()
        self.flagged = graph.get_collection(NAN_CHECKED)

    def add_checked_values(self, _sender, iter_msg=None, **_unused):
        """Fetch the console values (and flagged tensors) in training."""
        if not iter_msg.is_training:
            return
        iter_msg.ops_to_run[CONSOLE] = self.outputs_collector.variables(CONSOLE)
        if self.flagged:
            iter_msg.ops_to_run[NAN_CHECKED] = self.flagged

    def check_values(self, _sender, iter_msg=None, **_unused):
        """Raise ``NonFiniteValueError`` on the first non-finite value."""
        if not iter_msg.is_training:
            return
        outputs = iter_msg.current_iter_output or {}
        values = dict(outputs.get(CONSOLE) or {})
        values.update((tensor.name, value) for tensor, value in
                      zip(self.flagged, outputs.get(NAN_CHECKED) or ()))
        found = _first_non_finite(values)
        if found is not None:
            raise non_finite_error(iter_msg.current_iter,
                                   '{} = {}'.format(*found), self.model_dir)
