"""Fine-tuning: restoring only some variables, and freezing some.

* ``[TRAINING] vars_to_restore`` (a regular expression searched in each
  variable's name): only matching variables are read from the checkpoint,
  every other one is initialised afresh.  The checkpoint is
  ``model.ckpt-<starting_iter>`` (NiftyNet's way), or ``[TRAINING]
  restore_from`` when training starts from iteration 0 (a checkpoint of
  another run or network).
* ``[TRAINING] vars_to_freeze``: matching variables get no gradient update
  (their gradients are dropped before the optimiser applies them).
"""
import logging
import os
import re

import tensorflow.compat.v1 as tf

from niftydrive.utilities.errors import UserInputError

LOGGER = logging.getLogger(__name__)


def compile_pattern(pattern, key):
    """``re.compile(pattern)``; a ``UserInputError`` naming ``key`` when it
    is not a regular expression."""
    try:
        return re.compile(pattern)
    except re.error as error:
        raise UserInputError('[TRAINING] {} = {}: not a regular expression '
                             '({})'.format(key, pattern, error)) from None


def matching_variables(pattern, variables, key):
    """The variables whose name ``pattern`` matches (searched anywhere in
    the name); a ``UserInputError`` when none does."""
    regex = compile_pattern(pattern, key)
    matched = [var for var in variables if regex.search(var.op.name)]
    if not matched:
        raise UserInputError(
            '[TRAINING] {} = {}: matches no variable of the network (some '
            'names: {})'.format(key, pattern, ', '.join(
                var.op.name for var in list(variables)[:5]) or 'none'))
    return matched


def resolve_restore_from(path):
    """The checkpoint prefix ``restore_from`` names: a prefix
    (``.../model.ckpt-1000``), a ``models`` folder or a model_dir (their
    latest checkpoint)."""
    for folder in (path, os.path.join(path, 'models')):
        if os.path.isdir(folder):
            latest = tf.train.latest_checkpoint(folder)
            if latest:
                return latest
    if tf.train.checkpoint_exists(path):
        return path
    raise UserInputError(
        '[TRAINING] restore_from = {}: no checkpoint there (expected a '
        'checkpoint prefix such as .../models/model.ckpt-1000, or a model '
        'folder)'.format(path))


def restoring_saver(checkpoint, pattern):
    """A saver of the variables ``pattern`` matches (empty: every variable
    the checkpoint holds), built before the graph is finalised; a matched
    variable the checkpoint lacks, or holds with another shape, is a
    ``UserInputError``."""
    saved = tf.train.load_checkpoint(checkpoint).get_variable_to_shape_map()
    variables = tf.global_variables()
    if pattern:
        chosen = matching_variables(pattern, variables, 'vars_to_restore')
    else:
        chosen = [var for var in variables if var.op.name in saved]
    wrong = [var.op.name for var in chosen if var.op.name not in saved or
             list(saved[var.op.name]) != var.shape.as_list()]
    if wrong:
        raise UserInputError(
            'cannot restore {} from {}: missing there or of another shape '
            '(vars_to_restore = {})'.format(', '.join(wrong[:5]), checkpoint,
                                            pattern or '(empty: all)'))
    LOGGER.info('restoring %d of %d variables from %s (vars_to_restore = %s); '
                'the others are initialised afresh', len(chosen),
                len(variables), checkpoint, pattern or '(empty: all it holds)')
    return tf.train.Saver(var_list=chosen) if chosen else None


def drop_frozen(gradient_lists, pattern):
    """Each list of ``(grad, var)`` pairs (one per optimiser) without the
    pairs of variables ``pattern`` matches (``vars_to_freeze``); a
    ``UserInputError`` when it matches none of them."""
    if not pattern:
        return gradient_lists
    every_pair = [pair for pairs in gradient_lists for pair in pairs]
    frozen = set(matching_variables(
        pattern, [var for _, var in every_pair], 'vars_to_freeze'))
    LOGGER.info('vars_to_freeze = %s: %d of %d trained variables frozen',
                pattern, len(frozen), len(every_pair))
    return [[(grad, var) for grad, var in pairs if var not in frozen]
            for pairs in gradient_lists]


class FineTuningSource(object):
    """Where a fine-tuning run's variables come from: ``restore_from``
    (training from iteration 0) or ``model.ckpt-<starting_iter>`` restricted
    by ``vars_to_restore``."""

    def __init__(self, checkpoint, pattern):
        self.checkpoint = checkpoint
        self.pattern = pattern
        self.saver = None

    @classmethod
    def from_params(cls, workflow_param, model_dir, initial_iter):
        """The source the ``[TRAINING]`` keys describe; None when the run
        restores (or initialises) every variable as usual."""
        training = (workflow_param or {}).get('TRAINING')
        pattern = getattr(training, 'vars_to_restore', '') or ''
        restore_from = getattr(training, 'restore_from', '') or ''
        if pattern:
            compile_pattern(pattern, 'vars_to_restore')
        if restore_from:
            if initial_iter != 0:
                raise UserInputError(
                    '[TRAINING] restore_from = {} is read when training '
                    'starts afresh (starting_iter = 0), not when resuming '
                    'from iteration {}'.format(restore_from, initial_iter))
            return cls(resolve_restore_from(restore_from), pattern)
        if not pattern:
            return None
        if initial_iter == 0:
            raise UserInputError(
                '[TRAINING] vars_to_restore = {}: nothing to restore from at '
                'starting_iter = 0; set restore_from (a checkpoint) or '
                'starting_iter'.format(pattern))
        from niftydrive.engine.checkpoint_io import require_checkpoint
        return cls(require_checkpoint(model_dir, initial_iter), pattern)

    def make_saver(self):
        """Build the restoring saver (before the graph is finalised)."""
        self.saver = restoring_saver(self.checkpoint, self.pattern)

    def restore(self, session, init_op):
        """Initialise every variable, then restore the chosen ones."""
        session.run(init_op)
        if self.saver is not None:
            self.saver.restore(session, self.checkpoint)
