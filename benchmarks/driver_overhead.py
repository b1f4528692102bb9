"""Per-iteration cost of the driver's loop against a bare ``sess.run`` loop
and a ``tf.train.MonitoredTrainingSession`` loop.

All loops train the same graph (built once by the driver: ``--towers``
towers on virtual CPU devices, gradients averaged) for the same number of
iterations in this process; the driver's loop includes its observers
(console values fetched, logging at WARNING so nothing prints), the
iteration messages and the signals.  Printed: milliseconds per iteration
for each loop and the ratios driver / bare (target <= 1.10) and driver /
MonitoredTrainingSession (target <= 1.0).

    python benchmarks/driver_overhead.py [--iterations 2000] [--repeats 3] [--towers 4]
"""
import argparse
import logging
import os
import sys
import tempfile
import time

import numpy as np

import niftydrive  # noqa: F401  (TF 1.x behaviour)
import tensorflow.compat.v1 as tf
from niftydrive.application.base_application import BaseApplication
from niftydrive.engine.application_driver import ApplicationDriver
from niftydrive.engine.application_variables import CONSOLE
from niftydrive.layer.fully_connected import FullyConnectedLayer
from niftydrive.network.base_net import BaseNet
from niftydrive.utilities.util_common import ParserNamespace


#: Hidden units and batch size: a step of about 2 ms with 4 towers on 2 cores.
WIDTH, BATCH = 128, 128


class SmallMLP(BaseNet):
    """Two hidden layers of ``WIDTH`` units."""

    def layer_op(self, features):
        flow = FullyConnectedLayer(WIDTH, with_bn=False, acti_func='relu',
                                   name='fc1')(features)
        flow = FullyConnectedLayer(WIDTH, with_bn=False, acti_func='relu',
                                   name='fc2')(flow)
        return FullyConnectedLayer(1, with_bn=False, name='out')(flow)


class BenchmarkApplication(BaseApplication):
    """Regresses a fixed random batch: no sampler, so only the loop is timed."""

    REQUIRED_CONFIG_SECTION = 'CUSTOM'

    def initialise_dataset_loader(self, data_param=None, task_param=None,
                                  data_partitioner=None):
        rng = np.random.default_rng(0)
        self.features = rng.normal(size=(BATCH, 64)).astype(np.float32)
        self.targets = rng.normal(size=(BATCH, 1)).astype(np.float32)

    def initialise_sampler(self):
        self.sampler = None

    def initialise_network(self):
        self.net = SmallMLP(name='mlp')

    def connect_data_and_network(self, outputs_collector=None,
                                 gradients_collector=None):
        prediction = self.net(tf.constant(self.features))
        loss = tf.reduce_mean(tf.square(prediction - self.targets))
        self.optimiser = tf.train.GradientDescentOptimizer(0.01)
        gradients_collector.add_to_collection(self.optimiser.compute_gradients(loss))
        outputs_collector.add_to_collection(var=loss, name='loss', collection=CONSOLE,
                                            average_over_devices=True)

    def interpret_output(self, batch_output):
        return True


def params(model_dir, iterations, towers):
    """Workflow parameters: no checkpoints or summaries inside the timed loop."""
    return {
        'SYSTEM': ParserNamespace(action='train', model_dir=model_dir, num_threads=1,
                                  num_gpus=towers, cuda_devices='',
                                  dataset_split_file=''),
        'NETWORK': ParserNamespace(batch_size=BATCH),
        'TRAINING': ParserNamespace(
            starting_iter=0, max_iter=iterations, save_every_n=0,
            tensorboard_every_n=-1, max_checkpoints=2, validation_every_n=-1,
            validation_max_iter=1, exclude_fraction_for_validation=0.0,
            exclude_fraction_for_inference=0.0),
        'CUSTOM': ParserNamespace(name=__name__ + '.BenchmarkApplication'),
    }


def time_driver(iterations, warmup, towers):
    """Seconds per iteration of the driver's loop, after ``warmup`` iterations."""
    stamps = {}

    def stamp(msg):
        if msg.current_iter in (warmup, iterations):
            stamps[msg.current_iter] = time.perf_counter()

    with tempfile.TemporaryDirectory() as model_dir:
        driver = ApplicationDriver()
        driver.initialise_application(params(model_dir, iterations, towers), {})
        ApplicationDriver.post_train_iter.connect(stamp)
        try:
            driver.run_application()
        finally:
            ApplicationDriver.post_train_iter.disconnect(stamp)
    return (stamps[iterations] - stamps[warmup]) / (iterations - warmup), driver


def time_bare(driver, iterations, warmup, fetch_loss):
    """Seconds per iteration of ``sess.run(train_op)`` on the driver's graph."""
    train_op = driver.app.gradient_op
    fetches = [train_op, driver.outputs_collector.variables(CONSOLE)['loss']] \
        if fetch_loss else train_op
    with tf.Session(graph=driver.graph, config=driver._tf_config()) as sess:
        # the initialisation op the model_restorer handler added
        sess.run(driver.graph.get_operation_by_name(
            'Initialization/init_or_restore'))
        return _seconds_per_run(sess, fetches, iterations, warmup)


def _seconds_per_run(sess, fetches, iterations, warmup):
    """``sess.run(fetches)`` ``iterations`` times; seconds per run after
    the first ``warmup``."""
    for _ in range(warmup):
        sess.run(fetches)
    start = time.perf_counter()
    for _ in range(iterations - warmup):
        sess.run(fetches)
    return (time.perf_counter() - start) / (iterations - warmup)


def time_monitored(driver, iterations, warmup):
    """Seconds per iteration of a ``MonitoredTrainingSession`` loop running
    the driver's update and loss (no hooks: no checkpoints, summaries or
    step counter), initialised by the driver's initialisation op."""
    graph = driver.graph
    graph._unsafe_unfinalize()  # pylint: disable=protected-access
    fetches = [driver.app.gradient_op,
               driver.outputs_collector.variables(CONSOLE)['loss']]
    with graph.as_default():
        scaffold = tf.train.Scaffold(init_op=graph.get_operation_by_name(
            'Initialization/init_or_restore'))
        with tf.train.MonitoredTrainingSession(
                scaffold=scaffold, config=driver._tf_config(),
                save_checkpoint_secs=None, save_checkpoint_steps=None,
                save_summaries_steps=None, save_summaries_secs=None,
                log_step_count_steps=None) as sess:
            return _seconds_per_run(sess, fetches, iterations, warmup)


def main(argv=None):
    """Run both loops ``--repeats`` times and print the best of each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--iterations', type=int, default=2000)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--towers', type=int, default=4,
                        help='towers on virtual CPU devices')
    args = parser.parse_args(argv)
    logging.getLogger('niftydrive').setLevel(logging.WARNING)
    logging.getLogger('tensorflow').setLevel(logging.ERROR)
    warmup = min(100, args.iterations // 5)
    driver_times, bare_times, bare_loss_times, monitored_times = [], [], [], []
    for _ in range(args.repeats):
        seconds, driver = time_driver(args.iterations, warmup, args.towers)
        driver_times.append(seconds)
        bare_times.append(time_bare(driver, args.iterations, warmup, False))
        bare_loss_times.append(time_bare(driver, args.iterations, warmup, True))
        monitored_times.append(time_monitored(driver, args.iterations, warmup))
    best_driver, best_bare = min(driver_times), min(bare_times)
    best_bare_loss, best_monitored = min(bare_loss_times), min(monitored_times)
    print('towers                    : {} (virtual CPU devices)'.format(args.towers))
    print('iterations per loop       : {} (best of {})'.format(
        args.iterations - warmup, args.repeats))
    print('MonitoredTrainingSession  : {:.3f} ms/iter'.format(best_monitored * 1e3))
    print('bare sess.run(train_op)   : {:.3f} ms/iter'.format(best_bare * 1e3))
    print('bare run(train_op, loss)  : {:.3f} ms/iter'.format(best_bare_loss * 1e3))
    print('driver loop               : {:.3f} ms/iter'.format(best_driver * 1e3))
    print('ratio driver/bare         : {:.3f}  (target <= 1.10)'.format(
        best_driver / best_bare))
    print('ratio driver/bare+loss    : {:.3f}'.format(best_driver / best_bare_loss))
    print('ratio driver/Monitored    : {:.3f}  (target <= 1.0)'.format(
        best_driver / best_monitored))
    return 0


if __name__ == '__main__':
    sys.exit(main())
