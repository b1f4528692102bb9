"""ApplicationDriver end to end on a tiny linear application."""
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from engine_test_apps import LinearApplication, make_params, read_variable
from niftydrive.engine.application_driver import ApplicationDriver
from niftydrive.engine.application_iteration import TRAIN, VALID


def run_driver(params, data_param=None):
    LinearApplication.seen_outputs = []
    driver = ApplicationDriver()
    driver.initialise_application(params, data_param or {})
    driver.run_application()
    return driver


def record_phases():
    seen = []

    def on_iter(msg):
        seen.append((msg.phase, msg.current_iter))
    return seen, on_iter


def test_training_and_validation_order(tmp_path):
    params = make_params(tmp_path, max_iter=3, validation_every_n=2)
    seen, handler = record_phases()
    ApplicationDriver.post_train_iter.connect(handler)
    ApplicationDriver.post_validation_iter.connect(handler)
    try:
        run_driver(params)
    finally:
        ApplicationDriver.post_train_iter.disconnect(handler)
        ApplicationDriver.post_validation_iter.disconnect(handler)
    assert seen == [(TRAIN, 1), (TRAIN, 2), (VALID, 2), (TRAIN, 3)]


def test_gradient_step_is_mean_over_towers_and_each_tower_has_its_own_batch(tmp_path):
    params = make_params(tmp_path, num_gpus=4, max_iter=1, lr=1.0,
                         save_every_n=0)
    driver = run_driver(params)
    outputs = LinearApplication.seen_outputs[0]
    batches = [outputs[name] for name in ('batch', 'batch_1', 'batch_2', 'batch_3')]
    values = sorted(np.concatenate([batch[:, 0] for batch in batches]).tolist())
    assert values == list(range(1, 9))  # 4 towers x 2 windows, none shared
    expected_step = np.mean([batch.mean() for batch in batches])
    assert read_variable(tmp_path) == pytest.approx(1.0 - expected_step)
    names = [var.op.name for var in driver.graph.get_collection(
        tf.GraphKeys.GLOBAL_VARIABLES)]
    assert 'scale_net/w' in names
    assert not [name for name in names if 'worker' in name]


def test_towers_are_placed_on_separate_devices(tmp_path):
    params = make_params(tmp_path, num_gpus=2, max_iter=1)
    driver = run_driver(params)
    devices = {op.device for op in driver.graph.get_operations()
               if op.name.startswith('worker_1/') and op.device}
    assert devices and all('CPU:1' in device.upper() for device in devices)


def test_validation_feeds_flag_and_never_changes_weights(tmp_path):
    params = make_params(tmp_path, max_iter=2, validation_every_n=1,
                         validation_max_iter=3, save_every_n=1, lr=0.5)
    flags = []
    driver_holder = {}

    def on_valid(msg):
        flags.append(msg.data_feed_dict[driver_holder['app'].is_validation])

    def on_train(msg):
        flags.append(msg.data_feed_dict[driver_holder['app'].is_validation])

    ApplicationDriver.pre_validation_iter.connect(on_valid)
    ApplicationDriver.pre_train_iter.connect(on_train)
    try:
        LinearApplication.seen_outputs = []
        driver = ApplicationDriver()
        driver.initialise_application(params, {})
        driver_holder['app'] = driver.app
        driver.run_application()
    finally:
        ApplicationDriver.pre_validation_iter.disconnect(on_valid)
        ApplicationDriver.pre_train_iter.disconnect(on_train)
    assert flags == [False, True, True, True, False, True, True, True]
    w1, w2 = read_variable(tmp_path, iteration=1), read_variable(tmp_path, iteration=2)
    # training batches are [1,1],[2,2] then [3,3],[4,4]: w drops by lr*mean(x)
    assert w1 == pytest.approx(1.0 - 0.5 * 1.5)
    assert w2 == pytest.approx(w1 - 0.5 * 3.5)


def test_checkpoints_every_n_and_at_the_end(tmp_path):
    run_driver(make_params(tmp_path, max_iter=5, save_every_n=2))
    saved = sorted(name for name in os.listdir(tmp_path / 'models')
                   if name.endswith('.index'))
    assert saved == ['model.ckpt-2.index', 'model.ckpt-4.index',
                     'model.ckpt-5.index']


def test_restore_from_iteration_latest_and_missing(tmp_path):
    run_driver(make_params(tmp_path, max_iter=4, save_every_n=2, lr=0.1))
    w2 = read_variable(tmp_path, iteration=2)

    driver = ApplicationDriver()
    driver.initialise_application(make_params(
        tmp_path, starting_iter=2, max_iter=3, save_every_n=0), {})
    seen, handler = record_phases()
    ApplicationDriver.post_train_iter.connect(handler)
    try:
        driver.run_application()
    finally:
        ApplicationDriver.post_train_iter.disconnect(handler)
    assert seen == [(TRAIN, 3)]
    # resumed from w2 and took one step (batch [1,1],[2,2] of a new sampler)
    assert read_variable(tmp_path, iteration=3) == pytest.approx(w2 - 0.1 * 1.5)

    driver = ApplicationDriver()
    driver.initialise_application(make_params(
        tmp_path, starting_iter=-1, max_iter=5, save_every_n=0), {})
    driver.run_application()
    assert driver.initial_iter == 3  # the most recent save was model.ckpt-3
    assert os.path.exists(tmp_path / 'models' / 'model.ckpt-5.index')

    driver = ApplicationDriver()
    driver.initialise_application(make_params(
        tmp_path, starting_iter=7, max_iter=9), {})
    with pytest.raises(tf.errors.NotFoundError, match='model.ckpt-7'):
        driver.run_application()


def test_observers_belong_to_one_run(tmp_path, caplog):
    caplog.set_level('INFO', logger='niftydrive')
    (tmp_path / 'a').mkdir()
    (tmp_path / 'b').mkdir()
    first = run_driver(make_params(tmp_path / 'a', max_iter=2, save_every_n=1))
    run_driver(make_params(tmp_path / 'b', max_iter=3, save_every_n=0))
    lines = [rec.getMessage() for rec in caplog.records
             if rec.getMessage().startswith('Training iter')]
    assert [line.split(',')[0] for line in lines] == [
        'Training iter 1', 'Training iter 2',
        'Training iter 1', 'Training iter 2', 'Training iter 3']
    # the first driver saved nothing during the second run
    assert sorted(os.listdir(tmp_path / 'a' / 'models')) == sorted(
        ['checkpoint'] + ['model.ckpt-{}.{}'.format(i, ext) for i in (1, 2)
                          for ext in ('index', 'meta', 'data-00000-of-00001')])
    assert not os.path.exists(tmp_path / 'b' / 'models' / 'model.ckpt-1.index')
    for name in ('pre_train_iter', 'post_train_iter', 'post_training'):
        assert not getattr(first, name).receivers


def test_console_line_format(tmp_path, caplog):
    caplog.set_level('INFO', logger='niftydrive')
    run_driver(make_params(tmp_path, max_iter=2, validation_every_n=2))
    lines = [rec.getMessage() for rec in caplog.records
             if 'Training iter' in rec.getMessage()
             or 'Validation iter' in rec.getMessage()]
    assert lines[0].startswith('Training iter 1, loss=')
    assert lines[-1].startswith('    Validation iter 2, loss=')
    assert lines[-1].endswith('s)')


def test_tensorboard_event_files(tmp_path):
    run_driver(make_params(tmp_path, max_iter=2, validation_every_n=1,
                           tensorboard_every_n=1))
    log_dir = tmp_path / 'logs' / '0'
    tags = {}
    for phase in ('Training', 'Validation'):
        files = os.listdir(log_dir / phase)
        assert files, phase
        for event_file in files:
            for event in tf.train.summary_iterator(str(log_dir / phase / event_file)):
                for value in event.summary.value:
                    tags.setdefault(phase, set()).add((value.tag, event.step))
    assert ('loss', 1) in tags['Training'] and ('loss', 2) in tags['Training']
    assert ('loss', 1) in tags['Validation']


def test_new_log_folder_only_when_training_from_scratch(tmp_path):
    run_driver(make_params(tmp_path, max_iter=2, save_every_n=2))
    run_driver(make_params(tmp_path, starting_iter=-1, max_iter=3))
    run_driver(make_params(tmp_path, max_iter=1, overwrite_checkpoints=True))
    assert sorted(os.listdir(tmp_path / 'logs')) == ['0', '1']


def test_finite_sampler_ends_training_normally(tmp_path):
    params = make_params(tmp_path, max_iter=100, save_every_n=0)
    params['CUSTOM'].limit = 6  # three batches of two
    run_driver(params)
    assert len(LinearApplication.seen_outputs) == 3
    assert os.path.exists(tmp_path / 'models' / 'model.ckpt-3.index')


def test_sampler_failure_reaches_the_caller_quickly(tmp_path):
    params = make_params(tmp_path, max_iter=1000, save_every_n=0)
    params['CUSTOM'].fail_at = 5
    driver = ApplicationDriver()
    driver.initialise_application(params, {})
    start = time.time()
    with pytest.raises(IOError, match='broken test file'):
        driver.run_application()
    assert time.time() - start < 5
    assert not [t for t in __import__('threading').enumerate()
                if t.name.startswith('CountingSampler')]


def test_sampler_failure_exits_non_zero_with_traceback(tmp_path):
    script = textwrap.dedent('''
        import sys
        sys.path.insert(0, {tests!r})
        from engine_test_apps import make_params
        from niftydrive.engine.application_driver import ApplicationDriver
        params = make_params({model!r}, max_iter=1000, save_every_n=0)
        params['CUSTOM'].fail_at = 3
        driver = ApplicationDriver()
        driver.initialise_application(params, {{}})
        driver.run_application()
    ''').format(tests=os.path.dirname(__file__), model=str(tmp_path))
    result = subprocess.run([sys.executable, '-c', script], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0
    assert 'Traceback' in result.stderr
    assert 'OSError: cannot read window 3 (broken test file)' in result.stderr
    assert 'layer_op' in result.stderr  # the sampler's own frame is shown


def test_model_dir_is_created_or_named_when_it_cannot_be(tmp_path):
    driver = ApplicationDriver()
    driver.initialise_application(make_params(tmp_path / 'new' / 'model'), {})
    assert os.path.isdir(tmp_path / 'new' / 'model' / 'models')
    (tmp_path / 'a_file').write_text('not a folder')
    with pytest.raises(ValueError, match='model_dir.*a_file'):
        ApplicationDriver().initialise_application(
            make_params(tmp_path / 'a_file' / 'model'), {})


def test_parameters_must_be_dictionaries():
    with pytest.raises(AttributeError):
        ApplicationDriver().initialise_application(['SYSTEM'], {})


def test_unknown_application_suggests_a_name(tmp_path):
    params = make_params(tmp_path, app='net_segmnt')
    with pytest.raises(ValueError, match='Could not import.*net_segment'):
        ApplicationDriver().initialise_application(params, {})


def test_averaged_gradients_have_niftynets_op_names(tmp_path):
    driver = run_driver(make_params(tmp_path, num_gpus=2, max_iter=1, lr=1.0,
                                    save_every_n=0))
    averaged = driver.graph.get_tensor_by_name('ApplyGradients/AveOverDevices:0')
    assert averaged.shape.as_list() == []  # the gradient of the scalar weight
    outputs = LinearApplication.seen_outputs[0]
    tower_means = [outputs[name].mean() for name in ('batch', 'batch_1')]
    # one step of lr 1.0 moved w by exactly the averaged gradient
    assert read_variable(tmp_path) == pytest.approx(1.0 - np.mean(tower_means))
