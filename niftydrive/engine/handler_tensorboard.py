"""``TensorBoardLogger``: merged summaries to TensorBoard event files."""
import os

import tensorflow.compat.v1 as tf

from niftydrive.engine.application_iteration import TRAIN, VALID
from niftydrive.engine.application_variables import TF_SUMMARIES
from niftydrive.engine.handler_base import EventHandler
from niftydrive.engine.signal import ITER_FINISHED, ITER_STARTED, \
    SESS_FINISHED, SESS_STARTED


class TensorBoardLogger(EventHandler):
    """Every ``tensorboard_every_n`` iterations, fetches the merged summary
    and writes it to ``summary_dir/Training`` or ``summary_dir/Validation``
    (training runs only)."""

    def __init__(self, outputs_collector=None, summary_dir=None,
                 tensorboard_every_n=20, is_training=True, **kwargs):
        super(TensorBoardLogger, self).__init__(**kwargs)
        self.outputs_collector = outputs_collector
        self.summary_dir = summary_dir
        self.tensorboard_every_n = tensorboard_every_n
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
        """Fetch the merged summary on due training/validation iterations."""
        if iter_msg.is_inference or \
                iter_msg.current_iter % self.tensorboard_every_n != 0:
            return
        summary_op = self.outputs_collector.variables(TF_SUMMARIES)
        if summary_op is not None and summary_op != {}:
            iter_msg.ops_to_run[TF_SUMMARIES] = summary_op

    def write_tensorboard(self, _sender, iter_msg=None, **_unused):
        """Write the fetched summary to the phase's writer."""
        summary = (iter_msg.current_iter_output or {}).get(TF_SUMMARIES)
        if summary is not None and iter_msg.phase in self.writers:
            self.writers[iter_msg.phase].add_summary(summary,
                                                     iter_msg.current_iter)

    def close_writers(self, _sender, **_unused):
        """Flush and close the event files."""
        for writer in self.writers.values():
            writer.close()
        self.writers = {}
