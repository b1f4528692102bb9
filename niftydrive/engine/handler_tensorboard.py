"""``TensorBoardLogger``: merged summaries to TensorBoard event files."""
import os

import numpy as np
import tensorflow.compat.v1 as tf

from niftydrive.engine.application_iteration import TRAIN, VALID
from niftydrive.engine.application_variables import TF_SUMMARIES
from niftydrive.engine.checkpoint_io import OutputWriteError, \
    describe_write_error
from niftydrive.engine.handler_base import EventHandler
from niftydrive.engine.signal import ITER_FINISHED, ITER_STARTED, \
    SESS_FINISHED, SESS_STARTED


class TensorBoardLogger(EventHandler):
    """Every ``tensorboard_every_n`` training iterations, fetches the merged
    summary and writes it to ``summary_dir/Training``; every validation
    round's summaries are averaged (scalars: the mean over the round's
    iterations; other summaries: the round's last) into one point in
    ``summary_dir/Validation`` (training runs only)."""

    def __init__(self, outputs_collector=None, summary_dir=None,
                 tensorboard_every_n=20, is_training=True,
                 validation_max_iter=1, **kwargs):
        super(TensorBoardLogger, self).__init__(**kwargs)
        self.outputs_collector = outputs_collector
        self.summary_dir = summary_dir
        self.tensorboard_every_n = tensorboard_every_n
        self.validation_round = SummaryRound(validation_max_iter)
        self.writers = {}
        if not is_training or tensorboard_every_n <= 0 or not summary_dir:
            return
        self.listen(SESS_STARTED, self.open_writers)
        self.listen(ITER_STARTED, self.read_tensorboard_op)
        self.listen(ITER_FINISHED, self.write_tensorboard)
        self.listen(SESS_FINISHED, self.close_writers)

    def open_writers(self, _sender, **_unused):
        """One event file writer per phase (the graph goes with Training)."""
        self.writers = {
            TRAIN: tf.summary.FileWriter(os.path.join(self.summary_dir, TRAIN),
                                         tf.get_default_graph()),
            VALID: tf.summary.FileWriter(os.path.join(self.summary_dir, VALID)),
        }

    def read_tensorboard_op(self, _sender, iter_msg=None, **_unused):
        """Fetch the merged summary on due training iterations and on every
        validation iteration."""
        if iter_msg.is_inference or (
                iter_msg.is_training and
                iter_msg.current_iter % self.tensorboard_every_n != 0):
            return
        summary_op = self.outputs_collector.variables(TF_SUMMARIES)
        if summary_op is not None and summary_op != {}:
            iter_msg.ops_to_run[TF_SUMMARIES] = summary_op

    def write_tensorboard(self, _sender, iter_msg=None, **_unused):
        """Write the fetched summary to the phase's writer."""
        summary = (iter_msg.current_iter_output or {}).get(TF_SUMMARIES)
        if summary is not None and iter_msg.is_validation:
            summary = self.validation_round.add(iter_msg.current_iter, summary)
        if summary is not None and iter_msg.phase in self.writers:
            writer = self.writers[iter_msg.phase]
            try:
                writer.add_summary(summary, iter_msg.current_iter)
            except (RuntimeError, OSError, tf.errors.OpError) as failure:
                # e.g. a full disk: stop, with one line naming the folder
                raise OutputWriteError('{} while writing TensorBoard events '
                                       'to {}'.format(
                                           describe_write_error(failure),
                                           writer.get_logdir())) from None

    def close_writers(self, _sender, error=None, **_unused):
        """Flush and close the event files (a failure is raised unless the
        run is already ending with one)."""
        writers, self.writers = self.writers, {}
        for writer in writers.values():
            try:
                writer.close()
            except (RuntimeError, OSError, tf.errors.OpError) as failure:
                if error is None:
                    raise OutputWriteError('{} while writing TensorBoard '
                                           'events to {}'.format(
                                               describe_write_error(failure),
                                               writer.get_logdir())) from None


class SummaryRound(object):
    """Averages the serialised summaries of a validation round."""

    def __init__(self, validation_max_iter=1):
        self.validation_max_iter = max(int(validation_max_iter), 1)
        self._iter = None
        self._summaries = []

    def add(self, iteration, serialised):
        """Record one iteration's summary; the round's averaged ``Summary``
        after its last iteration, else None."""
        if iteration != self._iter:
            self._iter, self._summaries = iteration, []
        self._summaries.append(tf.Summary.FromString(serialised))
        if len(self._summaries) < self.validation_max_iter:
            return None
        summaries, self._summaries = self._summaries, []
        scalars = {}
        for summary in summaries:
            for value in summary.value:
                if value.WhichOneof('value') == 'simple_value':
                    scalars.setdefault(value.tag, []).append(value.simple_value)
        merged = tf.Summary()
        merged.CopyFrom(summaries[-1])
        for value in merged.value:
            if value.tag in scalars:
                value.simple_value = float(np.mean(scalars[value.tag]))
        return merged
