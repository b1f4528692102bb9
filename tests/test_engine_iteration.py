"""IterationMessage: validation of fields, signals and console lines."""
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
