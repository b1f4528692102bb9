"""``BestModelSaver``: keeps the checkpoint that validated best."""
import json
import logging
import os

import tensorflow.compat.v1 as tf

from niftydrive.engine.checkpoint_io import BEST_DIR, FILE_PREFIX
from niftydrive.engine.handler_base import EventHandler
from niftydrive.engine.handler_performance import ValidationMetric, \
    ValidationRound
from niftydrive.engine.signal import GRAPH_CREATED, ITER_FINISHED
from niftydrive.io.misc_io import touch_folder

LOGGER = logging.getLogger(__name__)
RECORD_FILE = 'best_model.json'


class BestModelSaver(EventHandler):
    """After each validation round, compares the round's mean validation
    metric (``[TRAINING] validation_metric``, default the loss) with the
    best so far and, when it is better, saves the model to
    ``<model_dir>/models/best/model.ckpt-<iter>`` (replacing the previous
    best; the regular checkpoints' rotation never touches that folder).
    ``best_model.json`` beside it records the iteration and value, so a
    resumed run keeps comparing with the right best.  Inference restores it
    with ``inference_iter = best``."""

    def __init__(self, model_dir=None, is_training=True, validation_every_n=0,
                 validation_max_iter=1, initial_iter=0, workflow_param=None,
                 **kwargs):
        super(BestModelSaver, self).__init__(**kwargs)
        self.best_dir = os.path.join(model_dir, BEST_DIR) if model_dir else None
        self.metric = ValidationMetric.from_params(workflow_param)
        self.round = ValidationRound(validation_max_iter)
        self.best_value = None
        self.saver = None
        if not is_training or validation_every_n <= 0 or not model_dir:
            return
        if initial_iter > 0:
            self.best_value = self._read_record()
        self.listen(GRAPH_CREATED, self.make_saver)
        self.listen(ITER_FINISHED, self.check_round)

    def _read_record(self):
        try:
            with open(os.path.join(self.best_dir, RECORD_FILE)) as record:
                saved = json.load(record)
        except (OSError, ValueError):
            return None
        return saved.get('value') if saved.get('metric') == \
            self.metric.describe() else None

    def make_saver(self, _sender, **_unused):
        """A saver of its own (one checkpoint kept) before finalisation."""
        self.saver = tf.train.Saver(max_to_keep=1, save_relative_paths=True)

    def check_round(self, _sender, iter_msg=None, **_unused):
        """At the end of a validation round, save if it is the best."""
        means = self.round.add(iter_msg)
        if means is None:
            return
        value = self.metric.value(means, required=False)
        if value is None:
            LOGGER.warning('no best model kept: the console values (%s) have '
                           'no loss; name one with [TRAINING] '
                           'validation_metric', ', '.join(sorted(means)))
            self.disconnect()
            return
        if not self.metric.is_better(value, self.best_value):
            return
        touch_folder(self.best_dir)
        saved = self.saver.save(tf.get_default_session(),
                                os.path.join(self.best_dir, FILE_PREFIX),
                                global_step=iter_msg.current_iter)
        self.best_value = value
        with open(os.path.join(self.best_dir, RECORD_FILE), 'w') as record:
            json.dump({'iteration': iter_msg.current_iter,
                       'metric': self.metric.describe(), 'value': value},
                      record)
        LOGGER.info('best model so far (%s = %.6g at iter %d) saved: %s',
                    self.metric.describe(), value, iter_msg.current_iter, saved)
