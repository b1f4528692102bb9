"""The NaN guard: a non-finite loss or weight stops training with one clear
error, and no checkpoint with non-finite weights is ever written."""
import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from engine_test_apps import LinearApplication, make_params, read_variable
from niftydrive.engine.application_driver import ApplicationDriver
from niftydrive.engine.application_factory import DEFAULT_EVENT_HANDLERS
from niftydrive.engine.handler_nan_guard import NonFiniteValueError

# LinearApplication's loss is NaN once a batch holds a value above
# nan_above: with batches [1,1],[2,2], then [3,3],[4,4], ... from iteration 5.
NAN_FROM_5 = 9.0


def run_driver(params):
    LinearApplication.seen_outputs = []
    driver = ApplicationDriver()
    driver.initialise_application(params, {})
    driver.run_application()
    return driver


def saved(model_dir):
    return sorted(int(name.split('-')[1].split('.')[0])
                  for name in os.listdir(os.path.join(str(model_dir), 'models'))
                  if name.endswith('.index'))


def test_non_finite_loss_stops_training_and_keeps_the_finite_checkpoints(
        tmp_path, caplog):
    caplog.set_level('INFO', logger='niftydrive')
    params = make_params(tmp_path, max_iter=30, save_every_n=1,
                         max_checkpoints=2, nan_above=NAN_FROM_5)
    with pytest.raises(NonFiniteValueError) as raised:
        run_driver(params)
    message = str(raised.value)
    assert 'training stopped at iteration 5: loss = nan' in message
    assert 'model.ckpt-4' in message and '--starting_iter -1' in message
    assert '\n' not in message
    # 3 and 4 survive the rotation; neither 5 nor the final save happened
    assert saved(tmp_path) == [3, 4]
    assert tf.train.latest_checkpoint(str(tmp_path / 'models')).endswith('-4')
    for iteration in (3, 4):
        assert np.isfinite(read_variable(tmp_path, iteration=iteration))
    # the iteration was not logged as a normal one
    assert not [rec for rec in caplog.records
                if rec.getMessage().startswith('Training iter 5,')]

    # resuming starts from the last finite checkpoint
    driver = run_driver(make_params(tmp_path, starting_iter=-1, max_iter=6,
                                    lr=0.0, save_every_n=0))
    assert driver.initial_iter == 4
    assert saved(tmp_path) == [3, 4, 6]
    assert read_variable(tmp_path, iteration=6) == read_variable(
        tmp_path, iteration=4)


def without_console_check(params):
    """The default handlers but the guard: only the saver checks."""
    params['SYSTEM'].event_handler = [
        name for name in DEFAULT_EVENT_HANDLERS if name != 'nan_guard']
    return params


def test_non_finite_weights_are_never_saved_even_unseen_by_the_loss(tmp_path):
    # lr = inf: the weights are -inf after iteration 1
    params = without_console_check(make_params(
        tmp_path, max_iter=3, save_every_n=1, lr=float('inf')))
    with pytest.raises(NonFiniteValueError,
                       match='iteration 1: the weights are NaN or infinite.*'
                             'no checkpoint was saved'):
        run_driver(params)
    assert saved(tmp_path) == []


def test_final_save_refuses_non_finite_weights(tmp_path):
    params = without_console_check(make_params(
        tmp_path, max_iter=1, save_every_n=0, lr=float('inf')))
    with pytest.raises(NonFiniteValueError, match='iteration 1: the weights'):
        run_driver(params)
    assert saved(tmp_path) == []


def test_nan_guard_false_trains_on(tmp_path):
    params = make_params(tmp_path, max_iter=3, save_every_n=0,
                         lr=float('inf'))
    params['TRAINING'].nan_guard = False
    run_driver(params)
    assert saved(tmp_path) == [3]
    assert not np.isfinite(read_variable(tmp_path, iteration=3))


def test_flagged_tensor_is_checked(tmp_path):
    params = make_params(tmp_path, max_iter=3, save_every_n=1, lr=0.0,
                         app='test_engine_nan_guard.FlaggingApplication')
    with pytest.raises(NonFiniteValueError,
                       match=r'iteration 2: \S*flagged_log\S* = -inf'):
        run_driver(params)
    assert saved(tmp_path) == [1]


class FlaggingApplication(LinearApplication):
    """Flags log(x - 3) for the guard: -inf when a batch holds a 3."""

    def connect_data_and_network(self, outputs_collector=None,
                                 gradients_collector=None):
        super(FlaggingApplication, self).connect_data_and_network(
            outputs_collector, gradients_collector)
        from niftydrive.engine.handler_nan_guard import NAN_CHECKED
        batch = outputs_collector.variables(collection='niftynetout')['batch']
        tf.add_to_collection(NAN_CHECKED, tf.reduce_min(
            tf.log(tf.abs(batch - 3.0)), name='flagged_log'))
