"""A training process that is one worker of a TensorFlow cluster.

``DistributedTraining.from_params`` returns None for a one-process run.
For a worker it starts the ``tf.train.Server``, and adapts the run:

- only the chief (worker 0) writes: checkpoints, TensorBoard, the dataset
  split, the log and settings files, the console progress.  Other workers
  keep their files in a private temporary folder (removed at the end), log
  one line every ``WORKER_LOG_EVERY_N`` iterations, and validate never;
- the chief initialises or restores the variables (on the ps); the others
  wait for that and start from the chief's iteration;
- each worker trains on its own disjoint shard of the training subjects
  (and, with a `random_seed`, is seeded `random_seed + 7919 * task_index`);
- training ends when the chief's ends (the chief releases any worker
  waiting for a sync step); every process reports its end to the ps, which
  then stops too.

``DistributedWorker`` (a handler the driver gets automatically) does the
session-time part: initialisation, the end protocol, and a monitor thread
logging workers that vanished, sync steps waiting for replicas and a lost
parameter server.
"""
import contextlib
import logging
import os
import shutil
import tempfile
import threading
import time

import tensorflow.compat.v1 as tf

from niftydrive.application.base_application import TRAIN as TRAIN_ACTION, \
    resolve_action
from niftydrive.engine.cluster import cluster_role, done_queue, is_listening, \
    WORKER
from niftydrive.engine.distributed_graph import DistributedGraph
from niftydrive.engine.handler_base import EventHandler
from niftydrive.engine.handler_console import ConsoleLogger
from niftydrive.engine.handler_model import ModelRestorer, ModelSaver
from niftydrive.engine.handler_tensorboard import TensorBoardLogger
from niftydrive.engine.signal import GRAPH_CREATED, ITER_FINISHED, \
    ITER_STARTED, SESS_FINISHED, SESS_STARTED
from niftydrive.io.image_sets_partitioner import TRAIN
from niftydrive.utilities.errors import UserInputError

LOGGER = logging.getLogger(__name__)

#: A non-chief worker logs one console line every this many iterations.
WORKER_LOG_EVERY_N = 100
#: Seconds between the monitor thread's checks.
MONITOR_SECONDS = 1.0
#: A sync step waiting this long is logged (and again as often).
SYNC_WAIT_LOG_SECONDS = 10.0
STARTED, FINISHED = 1, 2
#: Seconds a cluster session's close may take.
CLOSE_WAIT_SECONDS = 2.0
#: The handlers that write files: the chief's only.
CHIEF_ONLY_HANDLERS = (ModelRestorer, ModelSaver, TensorBoardLogger)
class LocalTraining(object):
    """A one-process run: every hook of ``DistributedTraining`` a no-op."""

    role = None

    @staticmethod
    def handler_classes(classes):
        """The handlers, unchanged."""
        return classes

    @staticmethod
    def shard(partitioner):
        """The partitioner, unchanged."""
        return partitioner

    @staticmethod
    def device_scope():
        """No device placement."""
        return contextlib.nullcontext()

    @staticmethod
    def gradient_scope(_app):
        """The application's own update."""
        return contextlib.nullcontext()

    @staticmethod
    def session(graph, config):
        """An in-process session."""
        return tf.Session(graph=graph, config=config)

    @staticmethod
    def first_iteration(initial_iter):
        """``initial_iter`` unchanged."""
        return initial_iter


def training_process(workflow_param):
    """``DistributedTraining`` for a cluster worker, else ``LocalTraining``."""
    return DistributedTraining.from_params(workflow_param) or LocalTraining()


class DistributedTraining(object):
    """The driver's view of this worker: its role, server, graph helper."""

    def __init__(self, role, private_dir=None):
        self.role = role
        self.graph = DistributedGraph(role)
        self.private_dir = private_dir
        self.server = None
        self.start_iter = None  # the chief's first iteration (non-chief)

    @classmethod
    def from_params(cls, workflow_param):
        """None when the run is not a cluster worker; else the worker's
        ``DistributedTraining`` (server started, parameters adapted)."""
        system = workflow_param.get('SYSTEM')
        role = cluster_role(system)
        if role is None:
            return None
        is_training = resolve_action(system.action) == TRAIN_ACTION
        if role.is_ps:
            raise UserInputError('job_name = ps: a parameter server is started '
                                 'by net_run train, not by a driver')
        if not is_training:
            raise UserInputError('a cluster (TF_CONFIG / [SYSTEM] cluster_spec) '
                                 'is for training only; run inference without it')
        if role.mode not in ('async', 'sync'):
            raise UserInputError('[SYSTEM] distributed_mode must be async or sync, '
                                 'got {!r}'.format(role.mode))
        seed = getattr(system, 'random_seed', None)
        if seed is not None and seed >= 0:  # each worker its own random streams
            system.random_seed = seed + 7919 * role.task_index
        private_dir = None
        if not role.is_chief:
            private_dir = tempfile.mkdtemp(prefix='niftydrive_worker{}_'.format(
                role.task_index))
            _adapt_worker_params(workflow_param, private_dir, role)
        training = cls(role, private_dir)
        from niftydrive.engine.devices import session_config
        training.server = role.start_server(
            session_config(getattr(system, 'num_gpus', 1), True))
        LOGGER.info('%s: server started', role.describe())
        return training

    # ----------------------------------------------------------- the driver
    def handler_classes(self, classes):
        """The run's handlers: without file writers on a non-chief, whose
        console line comes every ``WORKER_LOG_EVERY_N`` iterations; plus
        ``DistributedWorker``."""
        if not self.role.is_chief:
            classes = [WorkerConsoleLogger if cls is ConsoleLogger else cls
                       for cls in classes if cls not in CHIEF_ONLY_HANDLERS]
        return list(classes) + [DistributedWorker]

    def device_scope(self):
        """Variables on the parameter servers, the rest on this worker."""
        return self.graph.device_scope()

    def gradient_scope(self, app):
        """Around the application's update (sync: aggregated)."""
        return self.graph.gradient_scope(app)

    def first_iteration(self, initial_iter):
        """A non-chief starts at the chief's iteration."""
        return initial_iter if self.start_iter is None else self.start_iter

    def session(self, graph, config):
        """A session on this worker's server seeing only the parameter
        servers and this worker."""
        config.device_filters.extend(['/job:ps', self.role.device])
        return ClusterSession(self.server.target, graph=graph, config=config)

    def shard(self, partitioner):
        """Training subjects ``task_index::num_workers`` (disjoint shards)."""
        return ShardedPartitioner(partitioner, self.role.task_index,
                                  self.role.num_workers)


class ClusterSession(tf.Session):
    """A session on a cluster whose ``close`` waits at most
    ``CLOSE_WAIT_SECONDS``: a step still running in another thread (the
    sync queue runner waiting for gradients no worker will send) would hold
    it for minutes.  The process ends with ``os._exit`` after the run."""

    _kept = []  # never garbage-collected: deleting one would block as well

    def close(self):
        """Close in a thread; go on after ``CLOSE_WAIT_SECONDS``."""
        ClusterSession._kept.append(self)
        closer = threading.Thread(target=tf.Session.close, args=(self,),
                                  daemon=True, name='session-close')
        closer.start()
        closer.join(CLOSE_WAIT_SECONDS)


def _adapt_worker_params(workflow_param, private_dir, role):
    """A non-chief worker writes nothing of the run's: its model_dir is a
    private folder; it starts from the chief's iteration, never validates,
    and reads (never writes) the chief's dataset split."""
    system = workflow_param['SYSTEM']
    train = workflow_param.get('TRAINING')
    split_file = getattr(system, 'dataset_split_file', None)
    if train is not None:
        fractions = (train.exclude_fraction_for_validation,
                     train.exclude_fraction_for_inference)
        if any(fraction > 0 for fraction in fractions) and split_file:
            _wait_for_file(split_file, role)
        train.exclude_fraction_for_validation = 0.0
        train.exclude_fraction_for_inference = 0.0
        train.starting_iter = 0
        train.validation_every_n = -1
        train.overwrite_checkpoints = False
        if role.mode == 'sync':  # a sync worker steps until the chief ends
            train.max_iter = 2 ** 31 - 1
    system.model_dir = private_dir


def _wait_for_file(path, role, timeout=300):
    """Wait for the chief's dataset split file (shared file system)."""
    deadline = time.time() + timeout
    while not os.path.isfile(path):
        if time.time() > deadline:
            raise UserInputError(
                'worker {} waited {} s for the chief\'s dataset split {}: '
                'workers need it on a shared file system (or a copy at that '
                'path)'.format(role.task_index, timeout, path))
        time.sleep(0.5)


class ShardedPartitioner(object):
    """An ``ImageSetsPartitioner`` whose training subjects are one worker's
    shard; every other query is the partitioner's."""

    def __init__(self, partitioner, index, count):
        self._partitioner = partitioner
        self._index = index
        self._count = count

    def get_file_list(self, phase=TRAIN, *sections):
        """The partitioner's rows; for training, this worker's shard."""
        rows = self._partitioner.get_file_list(phase, *sections)
        if phase != TRAIN or not rows:
            return rows
        shard = rows[self._index::self._count]
        if not shard:
            raise UserInputError(
                '{} training subject(s) for {} workers: worker {} has none; '
                'use at most {} workers'.format(len(rows), self._count,
                                                self._index, len(rows)))
        LOGGER.info('worker %d trains on %d of the %d training subjects',
                    self._index, len(shard), len(rows))
        return shard

    def __getattr__(self, name):
        return getattr(self._partitioner, name)


class WorkerConsoleLogger(ConsoleLogger):
    """A non-chief worker's console: one line every
    ``WORKER_LOG_EVERY_N`` iterations (``worker 1: Training iter 100, ...``)."""

    def __init__(self, cluster=None, **kwargs):
        super(WorkerConsoleLogger, self).__init__(**kwargs)
        self.prefix = 'worker {}: '.format(cluster.role.task_index)

    def start_progress(self, _sender, **_unused):
        """Start the clock; no progress bar (the chief's is the one shown)."""
        self.start_time = time.time()

    def read_console_vars(self, sender, iter_msg=None, **unused):
        """Fetch the console values on the iterations logged."""
        if iter_msg.current_iter % WORKER_LOG_EVERY_N == 0:
            super(WorkerConsoleLogger, self).read_console_vars(
                sender, iter_msg=iter_msg, **unused)

    def print_console_vars(self, _sender, iter_msg=None, **_unused):
        """Log every ``WORKER_LOG_EVERY_N``-th iteration's line."""
        if iter_msg.current_iter % WORKER_LOG_EVERY_N == 0:
            LOGGER.info('%s%s', self.prefix, iter_msg.to_console_string())


class DistributedWorker(EventHandler):
    """Session-time protocol of a cluster worker (added by the driver)."""

    def __init__(self, cluster=None, coordinator=None, initial_iter=0,
                 **kwargs):
        super(DistributedWorker, self).__init__(**kwargs)
        self.training = cluster
        self.role = cluster.role
        self.coordinator = coordinator
        self.initial_iter = initial_iter
        self.ops = {}
        self.session = None
        self.iter_started = None
        self.current_iter = None
        self._stopped = threading.Event()
        self._queue_coord = tf.train.Coordinator()
        self.listen(GRAPH_CREATED, self.make_ops)
        self.listen(SESS_STARTED, self.start)
        self.listen(ITER_STARTED, self.note_iteration)
        self.listen(ITER_FINISHED, self.check_chief_finished)
        self.listen(SESS_FINISHED, self.finish)

    # ------------------------------------------------------------ graph
    def make_ops(self, _sender, **_unused):
        """The shared start iteration and end flags (on the ps), the done
        report, and (sync) the token operations."""
        graph = self.training.graph
        n_workers = self.role.num_workers
        with tf.name_scope('distributed'):
            start_iter = graph.shared_variable('start_iter', [], tf.int64)
            finished = graph.shared_variable('finished', [n_workers], tf.int32)
            self.ops['start_iter'] = start_iter
            self.ops['start_ready'] = tf.is_variable_initialized(start_iter)
            self.ops['set_start'] = tf.group(
                finished.initializer, graph.global_step.initializer)
            self.ops['start_value'] = tf.placeholder(tf.int64, [])
            with tf.control_dependencies([self.ops['set_start']]):
                self.ops['assign_start'] = tf.group(
                    tf.assign(start_iter, self.ops['start_value']),
                    tf.assign(graph.global_step, self.ops['start_value']))
            self.ops['finished'] = finished
            # per worker: 0 not started, 1 training, 2 finished
            self.ops['mark_started'] = tf.scatter_update(
                finished, [self.role.task_index], [STARTED])
            self.ops['mark_finished'] = tf.scatter_update(
                finished, [self.role.task_index], [FINISHED])
            with tf.device('/job:ps/task:0'):
                self.ops['report_done'] = done_queue().enqueue(
                    self.role.task_index)
        sync = graph.sync_optimiser
        if sync is not None:
            self.ops['local_step_init'] = sync.local_step_init_op
            self.ops['release'] = sync.get_init_tokens_op(n_workers)
            if self.role.is_chief:
                self.ops['init_tokens'] = sync.get_init_tokens_op()
                self.ops['queue_runner'] = sync.get_chief_queue_runner()

    # ---------------------------------------------------------- session
    def start(self, _sender, session=None, **_unused):
        """Chief: publish the start iteration (the variables are restored
        by now), start the sync queue runner.  Others: wait for that."""
        self.session = session or tf.get_default_session()
        if self.role.is_chief:
            self.session.run(self.ops['assign_start'],
                             {self.ops['start_value']: self.initial_iter})
            if 'queue_runner' in self.ops:
                self.session.run(self.ops['init_tokens'])
                self.ops['queue_runner'].create_threads(
                    self.session, coord=self._queue_coord, daemon=True,
                    start=True)
        else:
            self._wait_for_chief()
        if 'local_step_init' in self.ops:
            self.session.run(self.ops['local_step_init'])
        self.session.run(self.ops['mark_started'])
        LOGGER.info('%s: training from iteration %d', self.role.describe(),
                    self.training.start_iter if not self.role.is_chief
                    else self.initial_iter)
        threading.Thread(target=self._monitor, daemon=True,
                         name='cluster-monitor').start()

    def _wait_for_chief(self):
        waited, logged = time.time(), time.time()
        while not self.session.run(self.ops['start_ready']):
            if self.coordinator is not None and self.coordinator.should_stop():
                return
            if time.time() - logged > 10:
                logged = time.time()
                LOGGER.info('worker %d: waiting %.0f s for the chief (worker 0) '
                            'to initialise the variables',
                            self.role.task_index, time.time() - waited)
            time.sleep(0.2)
        self.training.start_iter = int(self.session.run(self.ops['start_iter']))

    def note_iteration(self, _sender, iter_msg=None, **_unused):
        """Remember when the iteration started (for the sync wait log)."""
        self.iter_started = time.time()
        self.current_iter = iter_msg.current_iter

    def check_chief_finished(self, _sender, iter_msg=None, **_unused):
        """A non-chief stops when the chief has finished training."""
        self.iter_started = None
        if self.role.is_chief:
            return
        if self.session.run(self.ops['finished'])[0] == FINISHED:
            LOGGER.info('worker %d: the chief has finished training; stopping '
                        'after iteration %d', self.role.task_index,
                        iter_msg.current_iter)
            iter_msg.should_stop = True

    def finish(self, _sender, error=None, **_unused):
        """Mark this worker finished; the chief releases sync workers; every
        worker reports its end to the ps (best effort: the ps may be gone)."""
        self._stopped.set()
        if self.session is None:
            return
        try:
            self.session.run(self.ops['mark_finished'])
            if self.role.is_chief and 'release' in self.ops:
                self.session.run(self.ops['release'])
            self.session.run(self.ops['report_done'])
        except tf.errors.OpError as failure:
            if error is None:
                LOGGER.warning('%s: could not report the end to the parameter '
                               'server: %s', self.role.describe(),
                               str(failure).splitlines()[0])
        finally:
            self._queue_coord.request_stop()
            if self.training.private_dir:
                shutil.rmtree(self.training.private_dir, ignore_errors=True)

    # ---------------------------------------------------------- monitor
    def _monitor(self):
        """Log lost parameter servers, vanished workers and waiting sync
        steps; when the run is being stopped, unblock a waiting sync step."""
        reported = set()
        wait_logged = 0.0
        ps_addresses = self.role.cluster['ps']
        workers = self.role.cluster[WORKER]
        unblocked = False
        while not self._stopped.wait(MONITOR_SECONDS):
            if not unblocked and self.coordinator is not None and \
                    self.coordinator.should_stop():
                unblocked = True
                self._unblock()
            for index, address in enumerate(ps_addresses):
                if not is_listening(address):
                    LOGGER.error('%s: parameter server %d at %s is unreachable '
                                 '(stopped or killed): training cannot go on',
                                 self.role.describe(), index, address)
                    self._stopped.set()
                    return
            if not self.role.is_chief:
                continue
            try:
                states = self.session.run(self.ops['finished'])
            except tf.errors.OpError:
                continue
            for index, address in enumerate(workers[1:], 1):
                if states[index] == STARTED and index not in reported and \
                        not is_listening(address):
                    reported.add(index)
                    self._report_gone(index, address)
            started = self.iter_started
            if self.role.mode == 'sync' and started is not None and \
                    time.time() - started > SYNC_WAIT_LOG_SECONDS and \
                    time.time() - wait_logged > SYNC_WAIT_LOG_SECONDS:
                wait_logged = time.time()
                LOGGER.warning(
                    'chief: iteration %s has waited %.0f s for the other '
                    'replicas (sync mode aggregates the gradients of all %d '
                    'workers); unreachable workers: %s', self.current_iter,
                    time.time() - started, self.role.num_workers,
                    ', '.join(str(i) for i in sorted(reported)) or 'none')

    def _report_gone(self, index, address):
        if self.role.mode == 'sync':
            LOGGER.warning('chief: worker %d at %s is gone before the end of '
                           'training (killed?); sync training waits for its '
                           'gradients: restart it with the same command, or stop '
                           'all with SIGTERM', index, address)
        else:
            LOGGER.warning('chief: worker %d at %s is gone before the end of '
                           'training (killed?); the other workers train on',
                           index, address)

    def _unblock(self):
        """Stopping: a step blocked on the sync token queue returns."""
        try:
            if self.role.is_chief and 'queue_runner' in self.ops:
                self.session.run(self.ops['queue_runner'].cancel_op)
            elif 'release' in self.ops:
                self.session.run(self.ops['release'])
        except tf.errors.OpError:
            pass
