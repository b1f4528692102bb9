"""Issue 11's keys through net_run (their driver-level tests are in
test_engine_handlers, test_handler_*): a user's handler and iteration
generator written beside the config and named in it, console_every_n, and
one TensorBoard point per validation round."""
import importlib
import os
import sys
import textwrap

import pytest

from niftydrive.net_run import main

from test_handler_validation_summaries import scalar_points

TOY = """
[SYSTEM]
num_threads = 1
model_dir = ./model
{system}
[NETWORK]
batch_size = 4
queue_length = 8
[TRAINING]
max_iter = {max_iter}
save_every_n = 0
tensorboard_every_n = 1
lr = 0.001
{training}
[INFERENCE]
[CUSTOM]
name = toy
vector_size = 8
"""

USER_MODULE = '''
"""A user's handler and iteration generator, NiftyNet 0.6 style."""
from niftydrive.engine.application_iteration import IterationMessage
from niftydrive.engine.signal import GRAPH_CREATED, ITER_FINISHED, \\
    ITER_STARTED, SESS_FINISHED, SESS_STARTED

EVENTS = []


class Recorder(object):
    def __init__(self, **_unused):
        GRAPH_CREATED.connect(self.graph)
        SESS_STARTED.connect(self.session)
        ITER_STARTED.connect(self.started)
        ITER_FINISHED.connect(self.finished)
        SESS_FINISHED.connect(self.ended)

    def graph(self, sender, graph=None, **_unused):
        EVENTS.append(('graph', type(sender).__name__, graph.finalized))

    def session(self, _sender, **_unused):
        EVENTS.append(('session',))

    def started(self, _sender, iter_msg=None, **_unused):
        EVENTS.append(('started', iter_msg.phase, iter_msg.current_iter))

    def finished(self, _sender, iter_msg=None, **_unused):
        EVENTS.append(('finished', iter_msg.phase, iter_msg.current_iter,
                       sorted(iter_msg.current_iter_output['niftynetconsole'])))

    def ended(self, _sender, iter_msg=None, **_unused):
        EVENTS.append(('ended', iter_msg.current_iter))


class OddIterations(object):
    def __init__(self, final_iter=0, **_unused):
        self.final_iter = final_iter

    def __call__(self):
        for number in range(1, self.final_iter + 1, 2):
            message = IterationMessage()
            message.current_iter, message.phase = number, 'Training'
            yield message
'''


def write(tmp_path, module, max_iter=2, system='', training=''):
    (tmp_path / '{}.py'.format(module)).write_text(USER_MODULE)
    config = tmp_path / 'toy.ini'
    config.write_text(TOY.format(max_iter=max_iter, system=system,
                                 training=training))
    return str(config)


@pytest.fixture
def user_module(request):
    name = 'user_handlers_{}'.format(request.node.name[-20:].strip('_[]'))
    yield name.replace('-', '_')
    sys.modules.pop(name.replace('-', '_'), None)


def test_user_handler_beside_the_config_receives_every_signal(
        tmp_path, user_module, monkeypatch):
    monkeypatch.chdir(tmp_path.parent)  # imported from the config's folder
    config = write(tmp_path, user_module, max_iter=2, system=(
        'event_handler = model_restorer, sampler_threading, apply_gradients, '
        'output_interpreter, console_logger, model_saver, '
        '{}.Recorder'.format(user_module)), training=(
            'validation_every_n = 2\nvalidation_max_iter = 2'))
    assert main(['train', '-c', config]) == 0
    events = importlib.import_module(user_module).EVENTS
    values = ['d_loss', 'fake_mean', 'fake_std', 'g_loss', 'input_wait']
    # (training iterations also show the learning rates)
    train = sorted(values + ['d_lr', 'g_lr'])
    assert events == [
        ('graph', 'ToyApplication', False), ('session',),
        ('started', 'Training', 1), ('finished', 'Training', 1, train),
        ('started', 'Training', 2), ('finished', 'Training', 2, train),
        ('started', 'Validation', 2), ('finished', 'Validation', 2, values),
        ('started', 'Validation', 2), ('finished', 'Validation', 2, values),
        ('ended', 2)]
    # the handlers left out did nothing: no TensorBoard events
    assert not (tmp_path / 'model' / 'logs').exists() or not any(
        files for _, _, files in os.walk(str(tmp_path / 'model' / 'logs')))


def test_user_iteration_generator_and_console_every_n(tmp_path, user_module,
                                                     capsys):
    config = write(tmp_path, user_module, max_iter=9, system=(
        'iteration_generator = {}.OddIterations\nconsole_every_n = 3'.format(
            user_module)))
    assert main(['train', '-c', config]) == 0
    lines = [line.split('Training iter ')[1].split(',')[0]
             for line in capsys.readouterr().err.splitlines()
             if 'Training iter' in line]
    # the generator's iterations 1, 3, 5, 7, 9; a line for the first, every
    # multiple of 3 and the last
    assert lines == ['1', '3', '9']
    assert main(['train', '-c', config, '--console_every_n', '1',
                 '--iteration_generator', 'iteration_generator',
                 '--max_iter', '12', '--starting_iter', '-1']) == 0
    lines = [line for line in capsys.readouterr().err.splitlines()
             if 'Training iter' in line]
    assert len(lines) == 3 and 'Training iter 10,' in lines[0]
    assert '[10/12, ' in lines[0]


def test_one_tensorboard_point_per_validation_round(tmp_path, user_module):
    config = write(tmp_path, user_module, max_iter=4, training=(
        'validation_every_n = 2\nvalidation_max_iter = 3'))
    assert main(['train', '-c', config]) == 0
    logs = tmp_path / 'model' / 'logs'
    run = str(logs / os.listdir(str(logs))[0])
    assert [step for step, _ in scalar_points(
        os.path.join(run, 'Validation'), 'g_loss')] == [2, 4]
    assert [step for step, _ in scalar_points(
        os.path.join(run, 'Training'), 'g_loss')] == [1, 2, 3, 4]


def test_gradient_clipping_bounds_each_update(tmp_path, user_module):
    import numpy as np
    import tensorflow.compat.v1 as tf
    config = write(tmp_path, user_module, max_iter=1, training=(
        'optimiser = gradientdescent\ngradient_clipping = 0.0001'))
    assert main(['train', '-c', config, '--lr', '1.0']) == 0
    assert main(['train', '-c', config, '--lr', '1.0', '--starting_iter', '-1',
                 '--max_iter', '2']) == 0
    models = tmp_path / 'model' / 'models'
    before, after = (tf.train.load_checkpoint(str(models / name))
                     for name in ('model.ckpt-1', 'model.ckpt-2'))
    changes = [after.get_tensor(name) - before.get_tensor(name)
               for name, dtype in after.get_variable_to_dtype_map().items()
               if dtype.is_floating and 'moving_' not in name]  # (batch-norm
    # moving averages follow the data, not the gradients)
    norm = np.sqrt(sum(float(np.sum(np.square(change))) for change in changes))
    # each of the two optimisers (generator, discriminator) moved its
    # variables by lr * at most the clipping norm
    assert 0 < norm <= np.sqrt(2) * 1e-4 * 1.001
