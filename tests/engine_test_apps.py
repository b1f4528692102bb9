"""Small applications used by the engine tests (importable by dotted path)."""
import os
import threading

import numpy as np
import tensorflow.compat.v1 as tf

from niftydrive.application.base_application import BaseApplication
from niftydrive.engine.application_optimiser import create_optimiser
from niftydrive.engine.application_variables import CONSOLE, NETWORK_OUTPUT, \
    TF_SUMMARIES
from niftydrive.engine.image_window import ImageWindow
from niftydrive.engine.image_window_buffer import InputBatchQueueRunner
from niftydrive.layer.base_layer import Layer, TrainableLayer
from niftydrive.utilities.util_common import ParserNamespace


class CountingSampler(Layer, InputBatchQueueRunner):
    """Windows [k, k] for k = 1, 2, 3, ... (each exactly once, in order).

    After ``limit`` windows come the stopping-signal windows (all -1) when
    ``stopping_signal`` is true; either way the queue then closes.  After
    ``stall_after`` windows the generator blocks for ``stall_seconds``
    (None: for ever), as a sampler stuck on a file system would.
    """

    generator_shared = True

    def __init__(self, batch_size, limit=None, fail_at=None, stopping_signal=True,
                 stall_after=None, stall_seconds=None):
        Layer.__init__(self, name='counting_sampler')
        self.stall_after, self.stall_seconds = stall_after, stall_seconds
        InputBatchQueueRunner.__init__(self, capacity=8, shuffle=False)
        self.limit = limit
        self.fail_at = fail_at
        self.push_stopping_signal = stopping_signal
        self.window = ImageWindow(['x'], {'x': (2,)}, {'x': tf.float32})
        self._create_queue_and_ops(self.window, enqueue_size=1, dequeue_size=batch_size)

    def layer_op(self):
        k = 0
        while self.limit is None or k < self.limit:
            k += 1
            if self.fail_at is not None and k == self.fail_at:
                raise IOError('cannot read window {} (broken test file)'.format(k))
            if self.stall_after is not None and k == self.stall_after + 1:
                threading.Event().wait(self.stall_seconds)
            yield {'x': np.array([k, k], dtype=np.float32),
                   'x_location': np.array([k, 0, 0, 0, 1, 1, 1], dtype=np.int32)}


class ScaleNet(TrainableLayer):
    """y = w * x with one scalar weight, initialised to 1."""

    def __init__(self, name='scale_net'):
        super(ScaleNet, self).__init__(name=name)

    def layer_op(self, x):
        w = tf.get_variable('w', shape=[], initializer=tf.ones_initializer())
        return w * x


class LinearApplication(BaseApplication):
    """loss = mean(w * x): the gradient with respect to w is mean(x).

    Every tower's batch goes to NETWORK_OUTPUT as ``batch`` (``batch_1``, ...),
    the loss to the console and TensorBoard; with gradient descent at
    learning rate ``lr`` each step lowers w by lr * (mean over towers of
    mean(x)).
    """

    REQUIRED_CONFIG_SECTION = 'CUSTOM'
    seen_outputs = []

    def __init__(self, net_param, action_param, action):
        super(LinearApplication, self).__init__(net_param, action_param, action)
        self.custom = None

    def initialise_dataset_loader(self, data_param=None, task_param=None,
                                  data_partitioner=None):
        self.custom = task_param

    def initialise_sampler(self):
        limit = getattr(self.custom, 'limit', None)
        fail_at = getattr(self.custom, 'fail_at', None)
        # a finite training sampler ends training by closing its queue
        samplers = [CountingSampler(
            self.net_param.batch_size, limit, fail_at, stopping_signal=False,
            stall_after=getattr(self.custom, 'stall_after', None),
            stall_seconds=getattr(self.custom, 'stall_seconds', None))]
        if self.is_training and self.action_param.validation_every_n > 0:
            valid = CountingSampler(self.net_param.batch_size, limit, stopping_signal=False)
            samplers.append(valid)
        self.sampler = [samplers]

    def initialise_network(self):
        self.net = ScaleNet()

    def connect_data_and_network(self, outputs_collector=None,
                                 gradients_collector=None):
        samplers = self.get_sampler()[0]
        if len(samplers) > 1:
            x = tf.cond(self.is_validation,
                        lambda: samplers[1].pop_batch_op()['x'],
                        lambda: samplers[0].pop_batch_op()['x'])
        else:
            x = samplers[0].pop_batch_op()['x']
        y = self.net(x)
        loss = tf.reduce_mean(y)
        nan_above = getattr(self.custom, 'nan_above', None)
        if nan_above is not None:
            # NaN once a batch holds a value above nan_above (w unaffected)
            loss += 0.0 * tf.log(nan_above - tf.reduce_max(x))
        outputs_collector.add_to_collection(var=x, name='batch',
                                            collection=NETWORK_OUTPUT)
        outputs_collector.add_to_collection(var=loss, name='loss',
                                            average_over_devices=True)
        outputs_collector.add_to_collection(var=loss, name='loss',
                                            average_over_devices=True,
                                            collection=TF_SUMMARIES)
        if self.is_training:
            if self.optimiser is None:
                self.optimiser = create_optimiser(self.action_param)
            gradients_collector.add_to_collection(
                self.optimiser.compute_gradients(loss))

    def interpret_output(self, batch_output):
        LinearApplication.seen_outputs.append(batch_output)
        return True


def make_params(model_dir, action='train', app='engine_test_apps.LinearApplication',
                num_gpus=1, **overrides):
    """Workflow parameters for the driver, with ``overrides`` per key."""
    system = ParserNamespace(action=action, model_dir=str(model_dir), num_threads=1,
                             num_gpus=num_gpus, cuda_devices='',
                             dataset_split_file=os.path.join(str(model_dir),
                                                             'split.csv'))
    network = ParserNamespace(batch_size=2, queue_length=8, name='scale_net')
    training = ParserNamespace(
        starting_iter=0, max_iter=4, save_every_n=2, tensorboard_every_n=1,
        max_checkpoints=10, validation_every_n=-1, validation_max_iter=1,
        exclude_fraction_for_validation=0.0, exclude_fraction_for_inference=0.0,
        optimiser='gradientdescent', lr=0.1, overwrite_checkpoints=False)
    inference = ParserNamespace(inference_iter=-1,
                                save_seg_dir=os.path.join(str(model_dir), 'out'))
    custom = ParserNamespace(name=app, limit=None, fail_at=None, nan_above=None,
                             stall_after=None, stall_seconds=None)
    params = {'SYSTEM': system, 'NETWORK': network, 'TRAINING': training,
              'INFERENCE': inference, 'CUSTOM': custom}
    for key, value in overrides.items():
        for section in params.values():
            if key in vars(section):
                setattr(section, key, value)
                break
        else:
            raise KeyError(key)
    return params


def read_variable(model_dir, name='scale_net/w', iteration=None):
    """A variable's value in the latest (or the given) checkpoint."""
    models = os.path.join(str(model_dir), 'models')
    path = tf.train.latest_checkpoint(models) if iteration is None else \
        os.path.join(models, 'model.ckpt-{}'.format(iteration))
    return tf.train.load_checkpoint(path).get_tensor(name)


