"""IterationMessage: validation of fields, signals and console lines."""
import time

import pytest

from niftydrive.engine.application_driver import ApplicationDriver, iter_generator
from niftydrive.engine.application_iteration import CONSOLE_FORMAT, INFER, \
    PHASES, TRAIN, VALID, IterationMessage
from niftydrive.engine.application_variables import CONSOLE


def test_phases_and_their_signals():
    assert PHASES == {TRAIN, VALID, INFER}
    msg = IterationMessage()
    msg.phase = VALID
    assert msg.is_validation and not msg.is_training
    assert msg.pre_iter is ApplicationDriver.pre_validation_iter
    assert msg.post_iter is ApplicationDriver.post_validation_iter
    msg.phase = INFER
    assert msg.post_iter is ApplicationDriver.post_infer_iter


@pytest.mark.parametrize('bad', [1.5, '3', None, True])
def test_non_integer_iteration_rejected(bad):
    with pytest.raises(ValueError, match='integer'):
        IterationMessage().current_iter = bad


def test_unknown_phase_rejected():
    with pytest.raises(ValueError, match='unknown phase'):
        IterationMessage().phase = 'testing'


def test_console_string():
    msg = IterationMessage()
    msg.current_iter = 12
    msg.current_iter_output = {CONSOLE: {'loss': 0.25, 'acc': 1}}
    msg.iter_duration = 0.041
    assert msg.to_console_string() == 'Training iter 12, acc=1, loss=0.25 (0.041s)'
    msg.phase = VALID
    assert msg.to_console_string().startswith('    Validation iter 12, ')
    assert CONSOLE_FORMAT.format(TRAIN, 1, 'x=1', 0.5) == 'Training iter 1, x=1 (0.500s)'


def test_iter_generator():
    messages = list(iter_generator([3, 4], VALID))
    assert [(m.phase, m.current_iter) for m in messages] == [(VALID, 3), (VALID, 4)]


def test_console_string_without_values():
    msg = IterationMessage()
    msg.phase = INFER
    msg.current_iter = 3
    msg.current_iter_output = {}
    msg.iter_duration = 0.5
    assert msg.to_console_string() == 'Inference iter 3 (0.500s)'


def test_setting_the_iteration_starts_the_clock_and_clears_the_output():
    msg = IterationMessage()
    msg.current_iter_output = {CONSOLE: {'loss': 1.0}}
    before = time.time()
    msg.current_iter = 3
    assert before <= msg._current_iter_tic <= time.time()
    assert msg.current_iter_output is None
    time.sleep(0.01)
    msg.current_iter_output = {CONSOLE: {'test': 'test'}}
    assert msg.iter_duration >= 0.01
    assert 'test=test' in msg.to_console_string()


@pytest.mark.parametrize('output,shown', [
    ({'test'}, "{'test'}"),                 # a set, as NiftyNet's own test sets
    ('plain text', 'plain text'),
    (None, ''),
    ({CONSOLE: 'a message'}, 'a message'),
])
def test_console_string_accepts_any_output(output, shown):
    msg = IterationMessage()
    msg.current_iter = 7
    msg.current_iter_output = output
    msg.iter_duration = 0.25
    line = msg.to_console_string()
    assert line.startswith('Training iter 7')
    assert line.endswith('{} (0.250s)'.format(', ' + shown if shown else ''))


def test_to_tf_summary_writes_the_iteration_summary(tmp_path, graph):
    import tensorflow.compat.v1 as tf
    from niftydrive.engine.application_variables import TF_SUMMARIES
    summary = tf.summary.scalar('loss', tf.constant(2.5))
    msg = IterationMessage()
    msg.current_iter = 11
    with tf.Session() as sess:
        msg.current_iter_output = {TF_SUMMARIES: sess.run(summary)}
    assert msg.to_tf_summary(None) is None
    writer = tf.summary.FileWriter(str(tmp_path))
    msg.to_tf_summary(writer)
    writer.close()
    events = [event for path in tmp_path.iterdir()
              for event in tf.train.summary_iterator(str(path))]
    values = [(e.step, v.tag, v.simple_value) for e in events if e.summary.value
              for v in e.summary.value]
    assert values == [(11, 'loss', 2.5)]
