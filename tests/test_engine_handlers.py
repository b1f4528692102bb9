"""Event handlers: named in [SYSTEM] event_handler, connected for one run,
called in the configured order; custom iteration generators."""
import os

import blinker
import pytest
import tensorflow.compat.v1 as tf

from engine_test_apps import LinearApplication, make_params
from niftydrive.engine.application_driver import ApplicationDriver
from niftydrive.engine.application_factory import DEFAULT_EVENT_HANDLERS
from niftydrive.engine.application_iteration import TRAIN, VALID, \
    IterationMessage
from niftydrive.engine.signal import ENGINE_SIGNALS, GRAPH_CREATED, \
    ITER_FINISHED, ITER_STARTED, SESS_FINISHED, SESS_STARTED
from niftydrive.utilities.errors import UserInputError

EVENTS = []


class RecordingHandler(object):
    """A NiftyNet 0.6 style user handler: connects bound methods (weakly)
    and takes the driver's settings as keyword arguments."""

    label = 'recorder'

    def __init__(self, final_iter=None, **_unused):
        self.final_iter = final_iter
        self.extra_op = None
        GRAPH_CREATED.connect(self.on_graph)
        SESS_STARTED.connect(self.on_session)
        ITER_STARTED.connect(self.on_iter_started)
        ITER_FINISHED.connect(self.on_iter_finished)
        SESS_FINISHED.connect(self.on_session_finished)

    def on_graph(self, sender, **msg):
        # the graph is not finalised yet: a handler may add its own ops
        self.extra_op = tf.constant(42.0, name='recorder_constant')
        EVENTS.append((self.label, 'graph', type(sender).__name__,
                       msg['graph'].finalized))

    def on_session(self, _sender, **_msg):
        EVENTS.append((self.label, 'session', self.final_iter))

    def on_iter_started(self, _sender, iter_msg=None, **_unused):
        iter_msg.ops_to_run['recorder'] = self.extra_op
        EVENTS.append((self.label, 'start', iter_msg.phase, iter_msg.current_iter))

    def on_iter_finished(self, _sender, iter_msg=None, **_unused):
        EVENTS.append((self.label, 'finish', iter_msg.phase, iter_msg.current_iter,
                       float(iter_msg.current_iter_output['recorder'])))

    def on_session_finished(self, _sender, iter_msg=None, **_unused):
        EVENTS.append((self.label, 'end', iter_msg.current_iter))


class SecondRecordingHandler(RecordingHandler):
    """The same, under another label (to observe the calling order)."""

    label = 'second'


class TwoIterations(object):
    """A user iteration generator: iterations 1 and 2, validating after 2."""

    def __init__(self, **_unused):
        pass

    def __call__(self):
        for number, phase in ((1, TRAIN), (2, TRAIN), (2, VALID)):
            msg = IterationMessage()
            msg.current_iter, msg.phase = number, phase
            yield msg


def _run(params):
    LinearApplication.seen_outputs = []
    driver = ApplicationDriver()
    driver.initialise_application(params, {})
    driver.run_application()
    return driver


@pytest.fixture(autouse=True)
def _clear_events():
    del EVENTS[:]
    yield
    del EVENTS[:]


def test_user_handler_named_in_config_receives_every_signal_then_is_disconnected(
        tmp_path):
    params = make_params(tmp_path, max_iter=2, save_every_n=0)
    params['SYSTEM'].event_handler = list(DEFAULT_EVENT_HANDLERS) + [
        'test_engine_handlers.RecordingHandler']
    _run(params)
    assert EVENTS == [
        ('recorder', 'graph', 'LinearApplication', False),
        ('recorder', 'session', 2),
        ('recorder', 'start', TRAIN, 1), ('recorder', 'finish', TRAIN, 1, 42.0),
        ('recorder', 'start', TRAIN, 2), ('recorder', 'finish', TRAIN, 2, 42.0),
        ('recorder', 'end', 2)]
    # the default handlers ran too: the final checkpoint exists
    assert os.path.exists(tmp_path / 'models' / 'model.ckpt-2.index')
    # nothing of the run stays connected
    for sig in ENGINE_SIGNALS:
        assert not sig.receivers, sig.name


def test_handlers_receive_each_signal_in_the_configured_order(tmp_path):
    params = make_params(tmp_path, max_iter=1, save_every_n=0)
    params['SYSTEM'].event_handler = [
        'model_restorer', 'sampler_threading', 'apply_gradients',
        'test_engine_handlers.SecondRecordingHandler',
        'test_engine_handlers.RecordingHandler']
    _run(params)
    finishes = [event[0] for event in EVENTS if event[1] == 'finish']
    assert finishes == ['second', 'recorder']

    del EVENTS[:]
    params['SYSTEM'].event_handler = params['SYSTEM'].event_handler[:3] + [
        'test_engine_handlers.RecordingHandler',
        'test_engine_handlers.SecondRecordingHandler']
    params['TRAINING'].starting_iter = 0
    params['TRAINING'].overwrite_checkpoints = True
    _run(params)
    finishes = [event[0] for event in EVENTS if event[1] == 'finish']
    assert finishes == ['recorder', 'second']


def test_leaving_out_a_handler_leaves_out_its_work(tmp_path, caplog):
    caplog.set_level('INFO', logger='niftydrive')
    params = make_params(tmp_path, max_iter=3, save_every_n=1)
    params['SYSTEM'].event_handler = ['model_restorer', 'sampler_threading',
                                      'apply_gradients', 'output_interpreter']
    _run(params)
    assert not [name for name in os.listdir(tmp_path / 'models')
                if name.startswith('model.ckpt')]
    assert not [rec for rec in caplog.records
                if rec.getMessage().startswith('Training iter')]
    assert len(LinearApplication.seen_outputs) == 3


def test_unknown_handler_name_is_a_clear_error_before_any_work(tmp_path):
    params = make_params(tmp_path)
    params['SYSTEM'].event_handler = ['model_saver', 'console_loger']
    with pytest.raises(UserInputError, match='event handler "console_loger".*'
                                             'did you mean "console_logger"'):
        ApplicationDriver().initialise_application(params, {})


def test_custom_iteration_generator(tmp_path):
    params = make_params(tmp_path, max_iter=50, validation_every_n=2,
                         save_every_n=0)
    params['SYSTEM'].iteration_generator = 'test_engine_handlers.TwoIterations'
    params['SYSTEM'].event_handler = list(DEFAULT_EVENT_HANDLERS) + [
        'test_engine_handlers.RecordingHandler']
    params['TRAINING'].exclude_fraction_for_validation = 0.5
    _run(params)
    assert [event[2:4] for event in EVENTS if event[1] == 'finish'] == [
        (TRAIN, 1), (TRAIN, 2), (VALID, 2)]
    assert os.path.exists(tmp_path / 'models' / 'model.ckpt-2.index')


def test_seed_signals_are_blinkers_named_signals_and_coordinator_exists():
    assert blinker.signal('pre_train_iter') is ApplicationDriver.pre_train_iter
    assert blinker.signal('post_training') is ApplicationDriver.post_training
    driver = ApplicationDriver()
    assert isinstance(driver._coord, tf.train.Coordinator)  # pylint: disable=protected-access
