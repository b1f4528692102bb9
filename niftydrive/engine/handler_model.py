"""Checkpoint handlers: ``ModelRestorer`` and ``ModelSaver``."""
import logging
import os

import tensorflow.compat.v1 as tf

from niftydrive.engine.application_variables import global_vars_init_or_restore
from niftydrive.engine.checkpoint_io import FILE_PREFIX, \
    CheckpointWriteError, describe_write_error, remove_unfinished_save, \
    require_checkpoint, restore_checkpoint
from niftydrive.engine.fine_tuning import FineTuningSource
from niftydrive.engine.handler_nan_guard import NonFiniteValueError, \
    non_finite_error, weights_finite_op
from niftydrive.engine.handler_base import EventHandler
from niftydrive.engine.signal import GRAPH_CREATED, ITER_FINISHED, \
    SESS_FINISHED, SESS_STARTED
from niftydrive.utilities.errors import UserInputError

LOGGER = logging.getLogger(__name__)


class ModelRestorer(EventHandler):
    """Gives every variable its first value when the session starts.

    Training from iteration 0: random initialisation.  Otherwise (the driver
    has resolved ``-1`` to the latest iteration) the variables are restored
    from ``model.ckpt-<initial_iter>`` in ``model_dir``.
    """

    def __init__(self, model_dir=None, initial_iter=0, is_training=True,
                 workflow_param=None, **kwargs):
        super(ModelRestorer, self).__init__(**kwargs)
        self.model_dir = model_dir
        self.initial_iter = initial_iter
        self.is_training = is_training
        self.fine_tuning = FineTuningSource.from_params(
            workflow_param, model_dir, initial_iter) if is_training else None
        self.init_op = None
        self.saver = None
        self.listen(GRAPH_CREATED, self.make_ops)
        self.listen(SESS_STARTED, self.restore_or_initialise)

    def make_ops(self, _sender, **_unused):
        """Add the initialisation op and a restoring saver to the graph."""
        with tf.name_scope('Initialization'):
            self.init_op = global_vars_init_or_restore()
        self.saver = tf.train.Saver(save_relative_paths=True)
        if self.fine_tuning is not None:
            self.fine_tuning.make_saver()

    def restore_or_initialise(self, sender, **msg):
        """Random initialisation from iteration 0, else restore (only the
        ``vars_to_restore`` variables when fine-tuning)."""
        if self.fine_tuning is not None:
            self.fine_tuning.restore(tf.get_default_session(), self.init_op)
        elif self.is_training and self.initial_iter == 0:
            self.rand_init_model(sender, **msg)
        else:
            self.restore_model(sender, **msg)

    def rand_init_model(self, _sender, **_unused):
        """Randomly initialise every global variable."""
        tf.get_default_session().run(self.init_op)
        LOGGER.info('parameters from random initialisations ...')

    def restore_model(self, _sender, **_unused):
        """Restore ``model.ckpt-<initial_iter>``; a missing one raises
        ``NotFoundError`` naming it and the iterations available, a damaged
        one ``DamagedCheckpointError`` naming the file."""
        checkpoint = require_checkpoint(self.model_dir, self.initial_iter)
        LOGGER.info('accessing %s ...', checkpoint)
        restore_checkpoint(
            self.saver, tf.get_default_session(), checkpoint,
            'starting_iter' if self.is_training else 'inference_iter')


class ModelSaver(EventHandler):
    """Saves ``model.ckpt-<iter>`` every ``save_every_n`` training
    iterations and once more when the session finishes.

    With ``nan_guard`` (``[TRAINING]``, on by default) weights that are not
    all finite are never saved: a periodic save raises
    ``NonFiniteValueError``; the final save is skipped (and raises if the run
    was otherwise successful).  A save the disk refuses (full, read-only)
    raises ``CheckpointWriteError`` naming the checkpoint; the earlier ones
    are untouched.
    """

    def __init__(self, model_dir=None, save_every_n=0, max_checkpoints=2,
                 is_training=True, initial_iter=0, nan_guard=True, **kwargs):
        super(ModelSaver, self).__init__(**kwargs)
        self.model_dir = model_dir
        # the iteration the variables came from: nothing new to save there
        self.last_saved_iter = initial_iter
        self.save_every_n = save_every_n
        self.max_checkpoints = max_checkpoints
        self.check_finite = nan_guard
        self.saver = None
        self.weights_finite = None
        if not is_training:
            return
        self.listen(GRAPH_CREATED, self.make_saver)
        if save_every_n > 0:
            self.listen(ITER_FINISHED, self.save_model_interval)
        self.listen(SESS_FINISHED, self.save_model)

    def make_saver(self, _sender, **_unused):
        """Add the saver (and the finiteness check) to the graph, before it
        is finalised."""
        self.saver = tf.train.Saver(max_to_keep=self.max_checkpoints,
                                    save_relative_paths=True)
        if self.check_finite:
            self.weights_finite = weights_finite_op()

    def save_model_interval(self, _sender, iter_msg=None, **_unused):
        """Save after training iterations that are multiples of
        ``save_every_n``."""
        if iter_msg.is_training and iter_msg.current_iter % self.save_every_n == 0:
            self.save_model(_sender, iter_msg=iter_msg)

    def save_model(self, _sender, iter_msg=None, error=None, **_unused):
        """Save ``model.ckpt-<iter>`` once per iteration number (iter > 0),
        never the iteration the run started from, never non-finite weights.

        ``error`` (``SESS_FINISHED``) is the failure ending the run: after a
        non-finite value nothing is saved; a problem of this save is then
        logged rather than raised, so that failure is what the user sees.
        """
        iter_i = iter_msg.current_iter if iter_msg is not None else 0
        if iter_i <= 0 or iter_i == self.last_saved_iter or self.saver is None:
            return
        if isinstance(error, NonFiniteValueError):
            LOGGER.warning('iteration %d not saved: training stopped on a '
                           'non-finite value', iter_i)
            return
        session = tf.get_default_session()
        try:
            if self.weights_finite is not None and \
                    not session.run(self.weights_finite):
                raise non_finite_error(iter_i, 'the weights are NaN or '
                                       'infinite', self.model_dir)
            saved = self._write(session, iter_i)
        except UserInputError as failure:
            if error is None:
                raise
            LOGGER.error('%s', failure)
            return
        self.last_saved_iter = iter_i
        LOGGER.info('iter %d saved: %s', iter_i, saved)

    def _write(self, session, iter_i):
        """``saver.save``; a write the file system refuses becomes
        ``CheckpointWriteError`` (its partial files removed)."""
        prefix = os.path.join(self.model_dir, FILE_PREFIX)
        try:
            return self.saver.save(sess=session, save_path=prefix,
                                   global_step=iter_i)
        except (tf.errors.OpError, OSError) as failure:
            path = '{}-{}'.format(prefix, iter_i)
            if remove_unfinished_save(self.model_dir, iter_i):
                path += '.meta (the weights of this checkpoint were saved)'
            raise CheckpointWriteError('{} while saving {}'.format(
                describe_write_error(failure), path)) from None
