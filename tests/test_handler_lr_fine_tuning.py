"""Learning-rate schedules, gradient clipping and fine-tuning (restoring
and freezing variables), through the driver and through net_run."""
import glob
import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from engine_test_apps import make_params, read_variable
from niftydrive.engine.application_driver import ApplicationDriver
from niftydrive.engine.application_optimiser import learning_rate
from niftydrive.net_run import main
from niftydrive.utilities.errors import UserInputError
from niftydrive.utilities.util_common import ParserNamespace
from test_handler_validation_summaries import scalar_points


def run(params):
    driver = ApplicationDriver()
    driver.initialise_application(params, {})
    driver.run_application()
    return driver


def rates(iterations, **keys):
    """The scheduled learning rate at each training iteration."""
    settings = dict(lr=0.1, max_iter=10)
    settings.update(keys)
    with tf.Graph().as_default():
        iteration = tf.placeholder(tf.int64, [])
        rate = learning_rate(ParserNamespace(**settings), iteration)
        with tf.Session() as session:
            return [float(session.run(rate, {iteration: i})) for i in iterations]


def test_schedules():
    assert rates([1, 5, 10]) == pytest.approx([0.1, 0.1, 0.1])
    assert rates([1, 2, 3, 4, 5], lr_schedule='step', lr_decay_steps=2,
                 lr_decay_rate=0.5) == pytest.approx(
                     [0.1, 0.1, 0.05, 0.05, 0.025])
    assert rates([1, 2, 3], lr_schedule='exponential', lr_decay_steps=2,
                 lr_decay_rate=0.25) == pytest.approx([0.1, 0.05, 0.025])
    # cosine over max_iter (10 updates): half way at the 6th iteration
    assert rates([1, 6, 11], lr_schedule='cosine') == pytest.approx(
        [0.1, 0.05, 0.0], abs=1e-7)
    assert rates([1, 2, 4, 9], lr_schedule='warmup', lr_warmup_steps=4) == \
        pytest.approx([0.025, 0.05, 0.1, 0.1])
    with pytest.raises(UserInputError, match='lr_schedule = step needs '
                                             'lr_decay_steps > 0'):
        rates([1], lr_schedule='step')
    with pytest.raises(UserInputError, match='lr_schedule = warmup needs'):
        rates([1], lr_schedule='warmup')


def test_step_schedule_drives_updates_console_and_tensorboard(tmp_path, caplog):
    caplog.set_level('INFO', logger='niftydrive')
    params = make_params(tmp_path, max_iter=4, lr=0.1)
    params['TRAINING'].lr_schedule = 'step'
    params['TRAINING'].lr_decay_steps = 2
    params['TRAINING'].lr_decay_rate = 0.5
    run(params)
    # batches [1,2], [3,4], [5,6], [7,8]: w -= lr * mean(batch)
    assert read_variable(tmp_path) == pytest.approx(
        1 - (0.1 * 1.5 + 0.1 * 3.5 + 0.05 * 5.5 + 0.05 * 7.5))
    lines = [rec.getMessage() for rec in caplog.records
             if rec.getMessage().startswith('Training iter')]
    assert 'lr=0.1' in lines[1] and 'lr=0.05' in lines[2]
    logs = glob.glob(os.path.join(str(tmp_path), 'logs', '*', 'Training'))[0]
    assert scalar_points(logs, 'lr') == [
        (1, pytest.approx(0.1)), (2, pytest.approx(0.1)),
        (3, pytest.approx(0.05)), (4, pytest.approx(0.05))]


def test_gradient_clipping_by_global_norm(tmp_path):
    params = make_params(tmp_path, max_iter=4, lr=0.1)
    params['TRAINING'].gradient_clipping = 0.5
    run(params)
    # every gradient (mean of the batch, >= 1.5) is clipped to norm 0.5
    assert read_variable(tmp_path) == pytest.approx(1 - 4 * 0.1 * 0.5)


def two_stage(model_dir, head, **training):
    os.makedirs(str(model_dir), exist_ok=True)
    params = make_params(model_dir, app='handler_test_apps.TwoStageApplication',
                         max_iter=3, lr=0.01, save_every_n=0)
    params['CUSTOM'].head = head
    for key, value in training.items():
        setattr(params['TRAINING'], key, value)
    return params


def test_restore_encoder_of_another_network_freeze_it_train_the_rest(
        tmp_path, caplog):
    caplog.set_level('INFO', logger='niftydrive')
    run(two_stage(tmp_path / 'pretrained', head='classifier'))
    encoder = read_variable(tmp_path / 'pretrained', 'encoder/w')
    assert encoder != 1.0  # trained
    run(two_stage(tmp_path / 'tuned', head='decoder',
                  restore_from=str(tmp_path / 'pretrained'),
                  vars_to_restore='^encoder/', vars_to_freeze='^encoder/'))
    tuned = tmp_path / 'tuned'
    assert read_variable(tuned, 'encoder/w').tobytes() == encoder.tobytes()
    decoder = read_variable(tuned, 'decoder/w')
    assert decoder != 1.0 and np.isfinite(decoder)
    messages = [rec.getMessage() for rec in caplog.records]
    assert any(m.startswith('restoring 1 of ') and 'vars_to_restore = ^encoder/'
               in m for m in messages)
    assert any('vars_to_freeze = ^encoder/: 1 of 2 trained variables frozen'
               in m for m in messages)


def test_vars_to_restore_from_starting_iter_keeps_niftynet_semantics(tmp_path):
    run(two_stage(tmp_path, head='decoder'))
    encoder = read_variable(tmp_path, 'encoder/w')
    params = two_stage(tmp_path, head='decoder', starting_iter=3,
                       vars_to_restore='^encoder/')
    params['TRAINING'].max_iter = 4
    run(params)
    # the decoder restarted from its initial value 1 at iteration 3, so
    # after one update (batch [1, 2]): 1 - lr * encoder * mean(batch)
    assert read_variable(tmp_path, 'decoder/w', iteration=4) == \
        pytest.approx(1 - 0.01 * encoder * 1.5)


@pytest.mark.parametrize('keys, message', [
    (dict(vars_to_restore='^encoder/'), 'nothing to restore from at '
                                        'starting_iter = 0'),
    (dict(vars_to_freeze='^nothing/'), 'vars_to_freeze = \\^nothing/: '
                                       'matches no variable'),
    (dict(vars_to_freeze='(('), 'not a regular expression'),
    (dict(restore_from='missing_folder'), 'restore_from = missing_folder: no '
                                          'checkpoint there'),
])
def test_fine_tuning_mistakes_are_named(tmp_path, keys, message):
    with pytest.raises(UserInputError, match=message):
        run(two_stage(tmp_path, head='decoder', **keys))


def test_restoring_a_variable_the_checkpoint_lacks_is_named(tmp_path):
    run(two_stage(tmp_path / 'a', head='classifier'))
    with pytest.raises(UserInputError, match='cannot restore decoder/w'):
        run(two_stage(tmp_path / 'b', head='decoder',
                      restore_from=str(tmp_path / 'a'),
                      vars_to_restore='decoder'))


TOY = """
[SYSTEM]
num_threads = 1
model_dir = ./toy_model
[NETWORK]
batch_size = 4
queue_length = 8
[TRAINING]
max_iter = 3
save_every_n = 0
tensorboard_every_n = 1
lr = 0.001
lr_schedule = exponential
lr_decay_steps = 1
lr_decay_rate = 0.5
gradient_clipping = 1.0
[INFERENCE]
[CUSTOM]
name = toy
vector_size = 8
"""


def test_net_run_schedule_per_optimiser(tmp_path, capsys):
    config = tmp_path / 'toy.ini'
    config.write_text(TOY)
    assert main(['train', '-c', str(config)]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines()
             if 'Training iter 3' in line]
    assert 'd_lr=0.00025' in lines[0] and 'g_lr=0.00025' in lines[0]


def test_net_run_fine_tuning(tmp_path, capsys):
    base = """
[SYSTEM]
num_threads = 1
model_dir = ./{dir}
[NETWORK]
batch_size = 2
queue_length = 8
[TRAINING]
max_iter = 2
save_every_n = 0
optimiser = gradientdescent
lr = 0.01
{extra}
[INFERENCE]
[CUSTOM]
name = handler_test_apps.TwoStageApplication
head = {head}
"""
    first = tmp_path / 'first.ini'
    first.write_text(base.format(dir='pre', head='classifier', extra=''))
    assert main(['train', '-c', str(first)]) == 0
    second = tmp_path / 'second.ini'
    second.write_text(base.format(
        dir='tuned', head='decoder', extra='restore_from = ./pre\n'
        'vars_to_restore = ^encoder/\nvars_to_freeze = ^encoder/'))
    assert main(['train', '-c', str(second)]) == 0
    assert read_variable(tmp_path / 'tuned', 'encoder/w') == \
        read_variable(tmp_path / 'pre', 'encoder/w')
    assert 'restoring 1 of' in capsys.readouterr().err


def test_no_optimiser_updates_before_every_gradient_is_computed(graph):
    """A GAN's generator gradient runs through the discriminator: the
    discriminator's update must not land while that gradient still reads
    its weights (the losses would depend on thread scheduling)."""
    import time
    from niftydrive.application.base_application import BaseApplication

    class TwoOptimisers(BaseApplication):
        """Optimiser A moves ``a``; B's gradient reads ``a`` after a delay."""

    shared = tf.get_variable('a', initializer=1.0, use_resource=False)
    other = tf.get_variable('b', initializer=0.0, use_resource=False)

    def pause(value):
        time.sleep(0.3)
        return value
    delay = tf.py_func(pause, [tf.constant(0.0)], tf.float32)
    with tf.control_dependencies([delay]):
        seen_by_b = tf.identity(shared)   # read after the pause
    TwoOptimisers.clear()
    app = TwoOptimisers(action_param=ParserNamespace())
    app.optimiser = [tf.train.GradientDescentOptimizer(1.0),
                     tf.train.GradientDescentOptimizer(1.0)]
    app.set_network_gradient_op([[(tf.constant(1.0), shared)],
                                 [(seen_by_b, other)]])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(app.gradient_op)
        # b's gradient saw a = 1.0 (before A's step), then a stepped to 0.0
        assert sess.run([shared, other]) == [0.0, -1.0]
    TwoOptimisers.clear()
