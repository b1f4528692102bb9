"""Where checkpoints are, which iterations they hold, and reading them safely.

Checkpoints are ``<model_dir>/models/model.ckpt-<iteration>`` (an
``.index``, a ``.meta`` and ``.data-*`` files) plus TensorFlow's
``checkpoint`` state file naming the latest one.  Every problem found here
(a missing, empty, truncated or overwritten file) is a ``UserInputError``
naming the file and saying which iterations can be restored instead.
"""
import glob
import logging
import os
import shutil

import tensorflow.compat.v1 as tf
from google.protobuf import text_format

from niftydrive.utilities.errors import UserInputError

LOGGER = logging.getLogger(__name__)

FILE_PREFIX = 'model.ckpt'
STATE_FILE = 'checkpoint'
# what a save interrupted by kill -9 leaves behind
_TEMP_MARKERS = ('.tempstate', '.tmp', '_temp')


class MissingCheckpointError(tf.errors.NotFoundError, UserInputError):
    """The checkpoint to restore does not exist (a ``NotFoundError`` that
    ``net_run`` reports as a user mistake)."""

    def __init__(self, message):
        tf.errors.NotFoundError.__init__(self, None, None, message)

    def __str__(self):
        return self.message


class DamagedCheckpointError(UserInputError):
    """A checkpoint file (state file, index or data) cannot be read."""


class OutputWriteError(UserInputError):
    """A file of the run (checkpoint, event file) could not be written:
    disk full, read-only folder."""


class CheckpointWriteError(OutputWriteError):
    """A checkpoint could not be written (disk full, read-only folder)."""


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


def _data_files(prefix):
    return sorted(glob.glob(glob.escape(prefix) + '.data-?????-of-?????'))


def restorable_iterations(checkpoint_dir, exclude=None):
    """Saved iterations whose index and data files are all present and not
    empty (``exclude``: one to leave out, e.g. a damaged one)."""
    usable = []
    for iteration in saved_iterations(checkpoint_dir):
        prefix = checkpoint_prefix(checkpoint_dir, iteration)
        data = _data_files(prefix)
        if iteration != exclude and data and os.path.getsize(prefix + '.index') \
                and all(os.path.getsize(name) for name in data):
            usable.append(iteration)
    return usable


def what_to_do(checkpoint_dir, key='starting_iter', exclude=None):
    """The advice ending a checkpoint error message: which iterations can
    be restored with ``--<key> N`` (or that there is none)."""
    available = restorable_iterations(checkpoint_dir, exclude)
    if available:
        return 'restore another checkpoint with --{} N (available: {})'.format(
            key, ', '.join(str(i) for i in available))
    if key == 'starting_iter':
        return 'no other checkpoint is available: train from scratch with ' \
               '--starting_iter 0 --overwrite_checkpoints True'
    return 'no other checkpoint is available: train first'


def infer_latest_model_file(checkpoint_dir, key='starting_iter'):
    """The iteration of the latest checkpoint in ``checkpoint_dir`` (the one
    TensorFlow's ``checkpoint`` file names); ``MissingCheckpointError`` if
    there is none, ``DamagedCheckpointError`` if that file is unreadable."""
    state_file = os.path.join(checkpoint_dir, STATE_FILE)
    try:
        state = tf.train.get_checkpoint_state(checkpoint_dir)
    except (ValueError, text_format.ParseError, tf.errors.OpError) as error:
        reason = 'empty' if os.path.isfile(state_file) and \
            os.path.getsize(state_file) == 0 else 'unreadable ({})'.format(
                type(error).__name__)
        raise DamagedCheckpointError(
            'checkpoint state file {} is {}; {}'.format(
                state_file, reason, what_to_do(checkpoint_dir, key))) from None
    if state is None or not state.model_checkpoint_path:
        if saved_iterations(checkpoint_dir):
            raise DamagedCheckpointError(
                'checkpoint state file {} is missing or names no checkpoint; '
                '{}'.format(state_file, what_to_do(checkpoint_dir, key)))
        raise MissingCheckpointError(
            'no checkpoint in {}: train first (starting_iter = 0 trains from '
            'scratch), or point model_dir at a trained model, or set '
            'inference_iter/starting_iter to a saved iteration'.format(
                checkpoint_dir))
    latest = state.model_checkpoint_path
    try:
        return int(latest.rsplit('-', 1)[-1])
    except ValueError:
        raise UserInputError(
            'cannot read an iteration number from checkpoint {} (named in '
            '{}): {}'.format(latest, state_file,
                             what_to_do(checkpoint_dir, key))) from None


def require_checkpoint(checkpoint_dir, iteration):
    """The prefix of checkpoint ``iteration``; ``MissingCheckpointError``
    (NiftyNet's "Failed to find" wording) listing the saved iterations when
    it does not exist."""
    prefix = checkpoint_prefix(checkpoint_dir, iteration)
    if not os.path.isfile(prefix + '.index'):
        raise MissingCheckpointError(
            'Failed to find checkpoint {}; iterations saved in {}: {}'.format(
                prefix, checkpoint_dir,
                ', '.join(str(i) for i in saved_iterations(checkpoint_dir))
                or 'none'))
    return prefix


def _damaged_file(prefix, error):
    """(file, what is wrong with it) for a failed restore of ``prefix``."""
    index = prefix + '.index'
    if not os.path.isfile(index):
        return index, 'missing'
    try:
        tf.train.load_checkpoint(prefix)
    except (tf.errors.OpError, ValueError):
        return index, 'damaged (empty or truncated)' \
            if os.path.getsize(index) < 64 else 'damaged'
    data = _data_files(prefix)
    if not data:
        return prefix + '.data-00000-of-00001', 'missing'
    if isinstance(error, tf.errors.NotFoundError):
        return data[0], 'missing'
    if isinstance(error, tf.errors.OutOfRangeError):
        state = 'truncated ({} bytes)'.format(os.path.getsize(data[0]))
    elif isinstance(error, tf.errors.DataLossError):
        state = 'damaged (checksum mismatch: overwritten or zeroed)'
    else:
        state = 'unreadable ({})'.format(type(error).__name__)
    return ', '.join(data), state


def restore_checkpoint(saver, session, prefix, key='starting_iter'):
    """``saver.restore(session, prefix)``; a damaged or missing file raises
    ``DamagedCheckpointError`` naming it and the alternatives."""
    try:
        saver.restore(session, prefix)
    except tf.errors.OpError as error:
        damaged, state = _damaged_file(prefix, error)
        checkpoint_dir, name = os.path.split(prefix)
        try:
            iteration = int(name.rsplit('-', 1)[-1])
        except ValueError:
            iteration = None
        raise DamagedCheckpointError(
            'cannot restore checkpoint {}: {} is {}; {}'.format(
                prefix, damaged, state,
                what_to_do(checkpoint_dir, key, exclude=iteration))) from None


def remove_temporary_files(checkpoint_dir):
    """Delete what a save interrupted by kill -9 left (``*.tempstate*`` and
    ``checkpoint.tmp*`` files, ``model.ckpt-N_temp*`` folders); the names
    removed."""
    removed = []
    if not os.path.isdir(checkpoint_dir):
        return removed
    for name in sorted(os.listdir(checkpoint_dir)):
        if not name.startswith((FILE_PREFIX, STATE_FILE)) or \
                not any(marker in name for marker in _TEMP_MARKERS):
            continue
        path = os.path.join(checkpoint_dir, name)
        try:
            if os.path.isdir(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
        except OSError as error:
            LOGGER.warning('cannot remove the unfinished save %s: %s', path,
                           error.strerror or error)
            continue
        removed.append(name)
    if removed:
        LOGGER.info('removed %d file(s) of an interrupted save in %s: %s',
                    len(removed), checkpoint_dir, ', '.join(removed))
    return removed


def remove_checkpoints(checkpoint_dir):
    """Delete every ``model.ckpt-*`` file and the ``checkpoint`` state file
    (training from scratch with ``overwrite_checkpoints``)."""
    for name in os.listdir(checkpoint_dir):
        if name == STATE_FILE or name.startswith(FILE_PREFIX + '-'):
            path = os.path.join(checkpoint_dir, name)
            if os.path.isdir(path):
                shutil.rmtree(path)
            else:
                os.remove(path)


def prepare_checkpoint_dir(checkpoint_dir, is_training, initial_iter,
                           overwrite=False):
    """Before a run: remove what an interrupted save left; refuse to train
    from scratch over existing checkpoints unless ``overwrite`` (then they
    are deleted)."""
    remove_temporary_files(checkpoint_dir)
    if not is_training or initial_iter != 0:
        return
    existing = saved_iterations(checkpoint_dir)
    if not existing and not os.path.exists(
            os.path.join(checkpoint_dir, STATE_FILE)):
        return
    if not overwrite:
        raise UserInputError(
            'training from scratch (starting_iter = 0) would overwrite the '
            'checkpoints in {} (iterations {}): resume with --starting_iter '
            '-1, choose another model_dir, or set overwrite_checkpoints = '
            'True [TRAINING] to delete them'.format(
                checkpoint_dir, ', '.join(str(i) for i in existing) or 'none'))
    LOGGER.warning('overwrite_checkpoints: deleting the checkpoints in %s '
                   '(iterations %s)', checkpoint_dir,
                   ', '.join(str(i) for i in existing) or 'none')
    remove_checkpoints(checkpoint_dir)


def remove_unfinished_save(checkpoint_dir, iteration):
    """Clean up after a save of ``iteration`` that failed; True if its
    weights were written completely (TensorFlow names a checkpoint in the
    state file only once its index and data are written: then only the
    graph's ``.meta`` file was cut short), else every file of it is
    deleted so no half-written checkpoint is listed."""
    prefix = checkpoint_prefix(checkpoint_dir, iteration)
    try:
        state = tf.train.get_checkpoint_state(checkpoint_dir)
        latest = state.model_checkpoint_path if state else None
    except (ValueError, text_format.ParseError, tf.errors.OpError):
        latest = None
    complete = latest is not None and os.path.join(
        checkpoint_dir, os.path.basename(latest)) == prefix
    for path in glob.glob(glob.escape(prefix) + '.*'):
        if complete and not path.endswith('.meta'):
            continue
        try:
            os.remove(path)
        except OSError:
            pass
    remove_temporary_files(checkpoint_dir)
    return complete


# what the file system said, as TensorFlow or Python reports it
_WRITE_FAILURES = (
    ('no space left', 'no space left on device'),
    ('file too large', 'file size limit exceeded'),
    ('read-only file system', 'read-only file system'),
    ('permission denied', 'permission denied'),
)


def describe_write_error(error):
    """A short phrase for a failed write: ``no space left on device``,
    ``read-only file system``, ..."""
    text = (getattr(error, 'message', None) or str(error)).lower()
    if isinstance(error, OSError) and error.strerror:
        text = error.strerror.lower()
    for marker, phrase in _WRITE_FAILURES:
        if marker in text:
            return phrase
    if isinstance(error, tf.errors.ResourceExhaustedError):
        return 'no space left on device'
    if isinstance(error, tf.errors.PermissionDeniedError):
        return 'permission denied'
    first_line = text.strip().splitlines()[0] if text.strip() else ''
    return 'cannot write ({}: {})'.format(type(error).__name__, first_line)


#: ``inference_iter = best`` (or -2): the best model saved by validation
BEST_ITER = -2
BEST_DIR = 'best'


def best_checkpoint(checkpoint_dir):
    """``(folder, iteration)`` of the best model, kept in
    ``<checkpoint_dir>/best`` by the ``best_model_saver`` handler;
    ``MissingCheckpointError`` when training saved none."""
    best_dir = os.path.join(checkpoint_dir, BEST_DIR)
    state = tf.train.get_checkpoint_state(best_dir) \
        if os.path.isdir(best_dir) else None
    if state is None or not state.model_checkpoint_path:
        raise MissingCheckpointError(
            'no best model in {}: it is saved when training validates '
            '(validation_every_n > 0); train with validation first, or set '
            'inference_iter to -1 (the latest checkpoint) or a checkpoint '
            'number'.format(best_dir))
    return best_dir, int(state.model_checkpoint_path.rsplit('-', 1)[-1])
