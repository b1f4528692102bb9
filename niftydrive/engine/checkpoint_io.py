"""Where checkpoints are and which iterations they hold.

Checkpoints are ``<model_dir>/models/model.ckpt-<iteration>`` (an
``.index``, a ``.meta`` and ``.data-*`` files) plus TensorFlow's
``checkpoint`` state file naming the latest one.
"""
import os

import tensorflow.compat.v1 as tf

from niftydrive.utilities.errors import UserInputError

FILE_PREFIX = 'model.ckpt'


class MissingCheckpointError(tf.errors.NotFoundError, UserInputError):
    """The checkpoint to restore does not exist (a ``NotFoundError`` that
    ``net_run`` reports as a user mistake)."""

    def __init__(self, message):
        tf.errors.NotFoundError.__init__(self, None, None, message)

    def __str__(self):
        return self.message


def checkpoint_prefix(checkpoint_dir, iteration):
    """``<checkpoint_dir>/model.ckpt-<iteration>``."""
    return '{}-{}'.format(os.path.join(checkpoint_dir, FILE_PREFIX), iteration)


def saved_iterations(checkpoint_dir):
    """The sorted iteration numbers that have an ``.index`` file."""
    if not os.path.isdir(checkpoint_dir):
        return []
    start, end = len(FILE_PREFIX) + 1, -len('.index')
    return sorted(
        int(name[start:end]) for name in os.listdir(checkpoint_dir)
        if name.startswith(FILE_PREFIX + '-') and name.endswith('.index')
        and name[start:end].isdigit())


def infer_latest_model_file(checkpoint_dir):
    """The iteration of the latest checkpoint in ``checkpoint_dir`` (the one
    TensorFlow's ``checkpoint`` file names); ``MissingCheckpointError`` if
    there is none."""
    state = tf.train.get_checkpoint_state(checkpoint_dir)
    if state is None or not state.model_checkpoint_path:
        raise MissingCheckpointError(
            'no checkpoint in {}: train first, or set starting_iter = 0 to '
            'train from scratch'.format(checkpoint_dir))
    latest = state.model_checkpoint_path
    try:
        return int(latest.rsplit('-', 1)[-1])
    except ValueError:
        raise UserInputError(
            'cannot read an iteration number from checkpoint {}: set '
            'starting_iter or inference_iter to a positive number'.format(
                latest)) from None


def require_checkpoint(checkpoint_dir, iteration):
    """The prefix of checkpoint ``iteration``; ``MissingCheckpointError``
    (NiftyNet's "Failed to find" wording) listing the saved iterations when
    it does not exist."""
    prefix = checkpoint_prefix(checkpoint_dir, iteration)
    if not tf.train.checkpoint_exists(prefix):
        raise MissingCheckpointError(
            'Failed to find checkpoint {}; iterations saved in {}: {}'.format(
                prefix, checkpoint_dir,
                ', '.join(str(i) for i in saved_iterations(checkpoint_dir))
                or 'none'))
    return prefix
