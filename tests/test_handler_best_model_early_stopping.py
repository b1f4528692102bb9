"""The best model (kept in models/best, used by inference_iter = best) and
early stopping, through the driver and through net_run."""
import json
import os

import numpy as np
import pytest

from engine_test_apps import LinearApplication, make_params, read_variable
from niftydrive.engine.application_driver import ApplicationDriver
from niftydrive.engine.handler_early_stopping import check_should_stop, \
    explain_should_stop
from niftydrive.engine.signal import ENGINE_SIGNALS
from niftydrive.net_run import main
from niftydrive.utilities.errors import UserInputError

APP = 'handler_test_apps.ScriptedValidationApplication'


def scripted_params(tmp_path, valid_losses, **overrides):
    """Training with validation after every iteration; the k-th validation
    iteration's loss is ``valid_losses[k]``."""
    settings = dict(max_iter=len(valid_losses), validation_every_n=1,
                    save_every_n=0, lr=0.1)
    settings.update(overrides)
    os.makedirs(str(tmp_path), exist_ok=True)
    params = make_params(tmp_path, app=APP, **settings)
    params['CUSTOM'].valid_losses = valid_losses
    params['TRAINING'].exclude_fraction_for_validation = 0.5
    return params


def run(params):
    LinearApplication.seen_outputs = []
    driver = ApplicationDriver()
    driver.initialise_application(params, {})
    driver.run_application()
    return driver


def best_files(model_dir):
    return sorted(os.listdir(os.path.join(str(model_dir), 'models', 'best')))


def test_best_model_is_the_lowest_round_mean_and_inference_uses_it(
        tmp_path, caplog):
    caplog.set_level('INFO', logger='niftydrive')
    run(scripted_params(tmp_path, [5, 3, 4, 2, 6]))
    assert [name for name in best_files(tmp_path) if '.index' in name] == \
        ['model.ckpt-4.index']
    # w = 1 - 0.1 * iteration: the best folder holds iteration 4's weights
    best = os.path.join(str(tmp_path), 'models', 'best', 'model.ckpt-4')
    import tensorflow.compat.v1 as tf
    assert tf.train.load_checkpoint(best).get_tensor('scale_net/w') == \
        pytest.approx(0.6)
    assert read_variable(tmp_path) == pytest.approx(0.5)  # the latest
    with open(os.path.join(str(tmp_path), 'models', 'best',
                           'best_model.json')) as record:
        assert json.load(record)['iteration'] == 4
    assert any('best model so far' in rec.getMessage() and 'iter 4' in
               rec.getMessage() for rec in caplog.records)

    params = scripted_params(tmp_path, [1], action='inference')
    params['INFERENCE'].inference_iter = -2
    params['CUSTOM'].limit = 2
    driver = run(params)
    assert driver.initial_iter == 4
    assert LinearApplication.seen_outputs[0]['w'] == pytest.approx(0.6)


def test_round_mean_decides_and_goal_max_prefers_high_values(tmp_path):
    # two iterations per round: the means are 3, 2, 4
    run(scripted_params(tmp_path / 'low', [1, 5, 2, 2, 0, 8], max_iter=3,
                        validation_max_iter=2))
    assert 'model.ckpt-2.index' in best_files(tmp_path / 'low')
    params = scripted_params(tmp_path / 'high', [1, 5, 2, 2, 0, 8], max_iter=3,
                             validation_max_iter=2)
    params['TRAINING'].validation_metric_goal = 'max'
    params['TRAINING'].validation_metric = 'loss'
    run(params)
    assert 'model.ckpt-3.index' in best_files(tmp_path / 'high')


def test_resumed_run_compares_with_the_saved_best(tmp_path):
    run(scripted_params(tmp_path, [5, 1, 4]))
    params = scripted_params(tmp_path, [3, 2], max_iter=5, starting_iter=3)
    run(params)
    assert 'model.ckpt-2.index' in best_files(tmp_path)


def test_unknown_validation_metric_names_the_console_values(tmp_path):
    params = scripted_params(tmp_path, [5, 3])
    params['TRAINING'].validation_metric = 'dice'
    with pytest.raises(UserInputError, match='validation_metric = dice.*'
                                             'console values: input_wait, loss'):
        run(params)
    # the run still saved its final checkpoint
    assert os.path.exists(tmp_path / 'models' / 'model.ckpt-1.index')


def test_inference_best_without_a_best_model_is_a_clear_error(tmp_path):
    run(make_params(tmp_path, max_iter=2))
    params = make_params(tmp_path, action='inference', limit=2)
    params['INFERENCE'].inference_iter = -2
    driver = ApplicationDriver()
    driver.initialise_application(params, {})
    with pytest.raises(UserInputError, match='no best model in .*best.*'
                                             'validation_every_n > 0'):
        driver.run_application()


# ------------------------------------------------------------ early stopping
@pytest.mark.parametrize('mode, history, expected', [
    ('mean', [5, 4, 3, 4.1], True),
    ('mean', [5, 4, 3, 3.9], False),
    ('median', [5, 1, 1, 2], True),
    ('median', [5, 4, 3, 2], False),
    # the outlier 50 leaves the robust mean at 1.75 (the plain mean is 8.4)
    ('robust_mean', [1, 2, 1.5, 2, 1, 1.5, 50, 2.0], True),
    ('mean', [1, 2, 1.5, 2, 1, 1.5, 50, 2.0], False),
    ('robust_mean', [1, 2, 1.5, 2, 1, 1.5, 50, 1.6], False),
    ('generalisation_loss', [1.0, 2.0, 1.3], True),
    ('generalisation_loss', [1.0, 2.0, 1.1], False),
    ('median_smoothing', list(np.linspace(1, 3, 12)), True),
    ('median_smoothing', list(np.linspace(3, 1, 12)), False),
    ('validation_up', list(np.tile([1.0, 2.0], 5)), True),
    ('validation_up', list(np.linspace(3, 1, 10)), False),
])
def test_early_stopping_modes_follow_niftynet(mode, history, expected):
    assert check_should_stop(history, mode) is expected
    assert explain_should_stop(history, mode)[1]


def test_early_stopping_ends_the_run_saves_and_says_why(tmp_path, caplog):
    caplog.set_level('INFO', logger='niftydrive')
    params = scripted_params(tmp_path, [5, 4, 3, 3.5, 4, 1, 1, 1, 1, 1])
    params['TRAINING'].patience = 3
    params['TRAINING'].early_stopping_mode = 'mean'
    run(params)
    messages = [rec.getMessage() for rec in caplog.records]
    stop = [m for m in messages if m.startswith('early stopping at iter 5')]
    assert stop and 'early_stopping_mode = mean' in stop[0] and \
        'last 4 > mean of the 2 before it 3.25' in stop[0]
    saved = sorted(name for name in os.listdir(tmp_path / 'models')
                   if name.endswith('.index'))
    assert saved == ['model.ckpt-5.index']
    assert not [m for m in messages if m.startswith('Training iter 6')]


def test_patience_without_validation_is_refused(tmp_path):
    params = make_params(tmp_path, max_iter=2)
    params['TRAINING'].patience = 5
    with pytest.raises(UserInputError, match='patience = 5.*validation_every_n'):
        run(params)
    # the handlers made before the refusal do not stay connected
    for sig in ENGINE_SIGNALS:
        assert not sig.receivers, sig.name


CONFIG = """
[SYSTEM]
num_threads = 1
model_dir = ./model
[NETWORK]
batch_size = 2
queue_length = 8
[TRAINING]
max_iter = 10
save_every_n = 0
tensorboard_every_n = 1
validation_every_n = 1
lr = 0.1
optimiser = gradientdescent
patience = 3
early_stopping_mode = mean
[INFERENCE]
[CUSTOM]
name = handler_test_apps.ScriptedValidationApplication
valid_losses = 5, 4, 3, 3.5, 4, 1, 1, 1, 1, 1
limit = 2
"""


def test_net_run_best_model_early_stopping_and_inference_best(tmp_path, capsys):
    config = tmp_path / 'scripted.ini'
    config.write_text(CONFIG)
    assert main(['train', '-c', str(config)]) == 0
    err = capsys.readouterr().err
    assert "early stopping at iter 5" in err, err
    models = tmp_path / 'model' / 'models'
    assert os.path.exists(models / 'model.ckpt-5.index')
    assert os.path.exists(models / 'best' / 'model.ckpt-3.index')
    LinearApplication.seen_outputs = []
    assert main(['inference', '-c', str(config), '--inference_iter',
                 'best']) == 0
    assert 'inference with the best model' in capsys.readouterr().err
    assert LinearApplication.seen_outputs[0]['w'] == pytest.approx(0.7)


def test_without_a_loss_the_best_model_is_skipped_with_a_warning(tmp_path,
                                                                 caplog):
    caplog.set_level('WARNING', logger='niftydrive')
    params = scripted_params(tmp_path, [5, 3])
    params['CUSTOM'].console_name = 'error'
    run(params)
    assert not os.path.exists(tmp_path / 'models' / 'best')
    assert [rec for rec in caplog.records
            if 'no best model kept: the console values (error, input_wait)' in rec.getMessage()]
