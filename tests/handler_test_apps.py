"""An application whose validation loss follows a script (for the tests of
the best model, early stopping and validation summaries)."""
import itertools

import numpy as np
import tensorflow.compat.v1 as tf

from engine_test_apps import CountingSampler, LinearApplication
from niftydrive.engine.application_optimiser import create_optimiser
from niftydrive.engine.application_variables import CONSOLE, NETWORK_OUTPUT, \
    TF_SUMMARIES
from niftydrive.layer.base_layer import TrainableLayer


def as_floats(value):
    """``'5, 3, 4'`` or a sequence -> a list of floats."""
    if isinstance(value, str):
        return [float(item) for item in value.replace(',', ' ').split()]
    return [float(item) for item in value]


class ScriptedSampler(CountingSampler):
    """Batches whose windows all hold ``values[0]``, then ``values[1]``, ...
    (the last value forever)."""

    def __init__(self, values, batch_size):
        super(ScriptedSampler, self).__init__(batch_size)
        self.values = values
        self.batch_size = batch_size

    def layer_op(self):
        for value in itertools.chain(self.values,
                                     itertools.repeat(self.values[-1])):
            for _ in range(self.batch_size):
                yield {'x': np.full((2,), value, dtype=np.float32),
                       'x_location': np.zeros((7,), dtype=np.int32)}


class ScriptedValidationApplication(LinearApplication):
    """Training windows are ones, so w = 1 - lr * iteration (plain gradient
    descent); the console ``loss`` of the k-th validation iteration is
    ``CUSTOM.valid_losses[k]`` whatever w (``CUSTOM.console_name``: another
    name than ``loss``).  ``w`` is a network output."""

    def initialise_sampler(self):
        if not self.is_training:
            super(ScriptedValidationApplication, self).initialise_sampler()
            return
        batch = self.net_param.batch_size
        losses = as_floats(getattr(self.custom, 'valid_losses', None) or [1.0])
        self.sampler = [[ScriptedSampler([1.0], batch),
                         ScriptedSampler(losses, batch)]]

    def connect_data_and_network(self, outputs_collector=None,
                                 gradients_collector=None):
        samplers = self.get_sampler()[0]
        if not self.is_training:
            x = samplers[0].pop_batch_op()['x']
        else:
            x = tf.cond(self.is_validation,
                        lambda: samplers[1].pop_batch_op()['x'],
                        lambda: samplers[0].pop_batch_op()['x'])
        y = self.net(x)
        weight = [v for v in tf.global_variables() if v.name == 'scale_net/w:0'][0]
        outputs_collector.add_to_collection(var=weight, name='w',
                                            collection=NETWORK_OUTPUT)
        outputs_collector.add_to_collection(var=x, name='batch',
                                            collection=NETWORK_OUTPUT)
        if not self.is_training:
            return
        loss = tf.cond(self.is_validation, lambda: tf.reduce_mean(x),
                       lambda: tf.reduce_mean(y))
        for collection in (CONSOLE, TF_SUMMARIES):
            outputs_collector.add_to_collection(
                var=loss, name=getattr(self.custom, 'console_name', None) or 'loss',
                average_over_devices=True,
                collection=collection)
        self.optimiser = tf.train.GradientDescentOptimizer(self.action_param.lr)
        gradients_collector.add_to_collection(
            self.optimiser.compute_gradients(tf.reduce_mean(y)))




class Stage(TrainableLayer):
    """y = w * x, one scalar weight initialised to 1, in scope ``name``."""

    def layer_op(self, x):
        return tf.get_variable('w', shape=[], initializer=tf.ones_initializer()) * x


class TwoStageApplication(LinearApplication):
    """loss = mean(head(encoder(x))): an ``encoder`` stage and a head whose
    scope is ``CUSTOM.head`` (two "networks" sharing an encoder)."""

    def initialise_network(self):
        self.net = Stage(name='encoder')
        self.head = Stage(name=getattr(self.custom, 'head', None) or 'decoder')

    def connect_data_and_network(self, outputs_collector=None,
                                 gradients_collector=None):
        x = self.get_sampler()[0][0].pop_batch_op()['x']
        loss = tf.reduce_mean(self.head(self.net(x)))
        outputs_collector.add_to_collection(var=loss, name='loss',
                                            average_over_devices=True)
        outputs_collector.add_to_collection(var=x, name='batch',
                                            collection=NETWORK_OUTPUT)
        if self.is_training:
            if self.optimiser is None:
                self.optimiser = create_optimiser(self.action_param)
            gradients_collector.add_to_collection(
                self.optimiser.compute_gradients(loss))
