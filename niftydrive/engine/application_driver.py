"""``ApplicationDriver``: builds the multi-tower graph and runs the loops.

The driver reads the parameters, creates the application, builds one tower
per device (``worker_0``, ``worker_1``, ... name scopes sharing variables),
averages gradients and outputs across towers, and runs training (with
interleaved validation) or inference.  Everything that happens around an
iteration is done by observers listening to blinker signals:
``ConsoleLogger``, ``TensorBoardLogger`` and ``ModelSaver``.

Unlike NiftyNet's original, a run's observers are disconnected when the run
ends, sampler-thread failures reach the caller instead of hanging, and any
failure is re-raised after the clean-up (final checkpoint, threads stopped).
"""
import itertools
import logging
import os
import signal as os_signal
import threading
import time

import numpy as np
import tensorflow.compat.v1 as tf
from blinker import signal
from tensorflow.core.protobuf import config_pb2

from niftydrive.application.base_application import EVAL, INFER as INFER_ACTION, \
    TRAIN as TRAIN_ACTION, resolve_action
from niftydrive.engine.application_factory import ApplicationFactory
from niftydrive.engine.application_iteration import INFER, TRAIN, VALID, \
    IterationMessage
from niftydrive.engine.application_variables import CONSOLE, NETWORK_OUTPUT, \
    TF_SUMMARIES, GradientsCollector, OutputsCollector, \
    global_vars_init_or_restore
from niftydrive.io.image_sets_partitioner import ImageSetsPartitioner
from niftydrive.io.misc_io import get_latest_subfolder, touch_folder
from niftydrive.layer.bn import BN_COLLECTION
from niftydrive.utilities.errors import UserInputError
from niftydrive.utilities.util_common import ParserNamespace, set_cuda_device, \
    traverse_nested

FILE_PREFIX = 'model.ckpt'
LOGGER = logging.getLogger(__name__)


class MissingCheckpointError(tf.errors.NotFoundError, UserInputError):
    """The checkpoint to restore does not exist (a ``NotFoundError`` that
    ``net_run`` reports as a user mistake)."""

    def __init__(self, message):
        tf.errors.NotFoundError.__init__(self, None, None, message)

    def __str__(self):
        return self.message


def iter_generator(count_generator, phase):
    """Yield an ``IterationMessage`` of ``phase`` for each number generated."""
    for iter_i in count_generator:
        message = IterationMessage()
        message.current_iter, message.phase = iter_i, phase
        yield message


class _Observer(object):
    """Something that listens to the driver's signals during one run."""

    def __init__(self):
        self._subscriptions = []

    def _listen(self, sig, handler):
        # a strong reference: the observer lives exactly as long as the run
        sig.connect(handler, weak=False)
        self._subscriptions.append((sig, handler))

    def disconnect(self):
        """Stop listening; called by the driver when the run ends."""
        for sig, handler in self._subscriptions:
            sig.disconnect(handler)
        self._subscriptions = []

    def close(self):
        """Release resources (files); called after ``disconnect``."""


class ConsoleLogger(_Observer):
    """Fetches the ``CONSOLE`` tensors and logs one line per iteration."""

    def __init__(self, outputs_collector):
        super(ConsoleLogger, self).__init__()
        self.outputs_collector = outputs_collector
        for phase_pre, phase_post in (
                (ApplicationDriver.pre_train_iter, ApplicationDriver.post_train_iter),
                (ApplicationDriver.pre_validation_iter,
                 ApplicationDriver.post_validation_iter),
                (ApplicationDriver.pre_infer_iter, ApplicationDriver.post_infer_iter)):
            self._listen(phase_pre, self.read_console_vars)
            self._listen(phase_post, self.print_console_vars)

    def read_console_vars(self, iter_msg):
        """Add the console tensors to the iteration's fetches."""
        iter_msg.ops_to_run[CONSOLE] = self.outputs_collector.variables(CONSOLE)

    @staticmethod
    def print_console_vars(iter_msg):
        """Log the iteration's console line."""
        if LOGGER.isEnabledFor(logging.INFO):
            LOGGER.info(iter_msg.to_console_string())


class TensorBoardLogger(_Observer):
    """Writes the merged summaries every ``tensorboard_every_n`` iterations.

    Training and validation iterations go to the ``Training`` and
    ``Validation`` writers under ``summary_dir``.
    """

    def __init__(self, outputs_collector, summary_dir, graph,
                 tensorboard_every_n=20):
        super(TensorBoardLogger, self).__init__()
        self.outputs_collector = outputs_collector
        self.tensorboard_every_n = tensorboard_every_n
        self.writers = {}
        if tensorboard_every_n <= 0 or not summary_dir:
            return
        self.writers = {
            TRAIN: tf.summary.FileWriter(os.path.join(summary_dir, TRAIN), graph),
            VALID: tf.summary.FileWriter(os.path.join(summary_dir, VALID)),
        }
        self._listen(ApplicationDriver.pre_train_iter, self.read_tensorboard_op)
        self._listen(ApplicationDriver.pre_validation_iter, self.read_tensorboard_op)
        self._listen(ApplicationDriver.post_train_iter, self.write_tensorboard)
        self._listen(ApplicationDriver.post_validation_iter, self.write_tensorboard)

    def _is_due(self, iter_msg):
        return iter_msg.current_iter % self.tensorboard_every_n == 0

    def read_tensorboard_op(self, iter_msg):
        """Fetch the merged summary op on iterations that are due."""
        summary_op = self.outputs_collector.variables(TF_SUMMARIES)
        if summary_op != {} and summary_op is not None and self._is_due(iter_msg):
            iter_msg.ops_to_run[TF_SUMMARIES] = summary_op

    def write_tensorboard(self, iter_msg):
        """Write the fetched summary to the phase's writer."""
        summary = (iter_msg.current_iter_output or {}).get(TF_SUMMARIES)
        if summary is not None:
            self.writers[iter_msg.phase].add_summary(summary, iter_msg.current_iter)

    def close(self):
        for writer in self.writers.values():
            writer.close()


class ModelSaver(_Observer):
    """Saves a checkpoint every ``save_every_n`` iterations and at the end."""

    def __init__(self, session, saver, save_every_n, session_prefix):
        super(ModelSaver, self).__init__()
        self.session = session
        self.saver = saver
        self.save_every_n = save_every_n
        self.session_prefix = session_prefix
        self.last_saved_iter = None
        if save_every_n > 0:
            self._listen(ApplicationDriver.post_train_iter, self.save_model_interval)
        self._listen(ApplicationDriver.post_training, self.save_model)

    def save_model_interval(self, iter_msg):
        """Save when the iteration number is a multiple of ``save_every_n``."""
        if iter_msg.current_iter % self.save_every_n == 0:
            self.save_model(iter_msg)

    def save_model(self, iter_msg):
        """Save ``model.ckpt-<iter>`` (once per iteration number, iter > 0)."""
        iter_i = iter_msg.current_iter
        if iter_i <= 0 or iter_i == self.last_saved_iter:
            return
        self.saver.save(sess=self.session, save_path=self.session_prefix,
                        global_step=iter_i)
        self.last_saved_iter = iter_i
        LOGGER.info('iter %d saved: %s-%d', iter_i, self.session_prefix, iter_i)


class TerminationRequested(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: stop, save, clean up (exit code 143)."""

    exit_code = 128 + os_signal.SIGTERM


class _StopSignals(object):
    """Turns SIGTERM into ``_TerminationRequested`` while a run is active."""

    def __enter__(self):
        self._previous = None
        if threading.current_thread() is threading.main_thread():
            self._previous = os_signal.signal(os_signal.SIGTERM, self._raise)
        return self

    @staticmethod
    def _raise(signum, frame):
        raise TerminationRequested('terminated by signal {}'.format(signum))

    def __exit__(self, *exc_info):
        if self._previous is not None:
            os_signal.signal(os_signal.SIGTERM, self._previous)
        return False


class ApplicationDriver(object):
    """Initialises an application, builds its graph and runs it.

    Use::

        driver = ApplicationDriver()
        driver.initialise_application(system_param, input_data_param)
        driver.run_application()

    Handlers connected to the signals below before ``run_application``
    receive every ``IterationMessage`` of that run.
    """

    # pylint: disable=too-many-instance-attributes
    pre_train_iter = signal('pre_train_iter')
    post_train_iter = signal('post_train_iter')
    pre_validation_iter = signal('pre_validation_iter')
    post_validation_iter = signal('post_validation_iter')
    pre_infer_iter = signal('pre_infer_iter')
    post_infer_iter = signal('post_infer_iter')
    post_training = signal('post_training')

    def __init__(self):
        self.app = None
        self.graph = tf.Graph()
        self.saver = None
        self.action = TRAIN_ACTION
        self.is_training = True
        self.num_threads = 0
        self.num_gpus = 0
        self.model_dir = None
        self.summary_dir = None
        self.session_prefix = None
        self.max_checkpoints = 2
        self.save_every_n = 0
        self.tensorboard_every_n = -1
        self.validation_every_n = -1
        self.validation_max_iter = 1
        self.initial_iter = 0
        self.final_iter = 0
        self._coord = None
        self._init_op = None
        self._data_partitioner = None
        self._observers = []
        self._callables = {}
        self.outputs_collector = None
        self.gradients_collector = None
        self.console = None
        self.tensorboard = None
        self.model_saver = None

    # ------------------------------------------------------------------ setup
    def initialise_application(self, workflow_param, data_param=None):
        """Read the parameters, create the application and its samplers.

        :param workflow_param: dict of section name -> ``ParserNamespace``
            (``SYSTEM``, ``NETWORK``, ``TRAINING``, ``INFERENCE``, ``CUSTOM``)
        :param data_param: dict of input section name -> ``ParserNamespace``
        """
        try:
            system_param = workflow_param.get('SYSTEM', None)
            net_param = workflow_param.get('NETWORK', None)
            train_param = workflow_param.get('TRAINING', None)
            infer_param = workflow_param.get('INFERENCE', None)
            eval_param = workflow_param.get('EVALUATION', None)
            app_param = workflow_param.get('CUSTOM', None)
        except AttributeError:
            LOGGER.error('parameters should be dictionaries of sections')
            raise
        if system_param is None:
            raise UserInputError('the [SYSTEM] section is missing')
        if not os.path.isdir(system_param.model_dir):
            raise UserInputError('model folder {} does not exist (SYSTEM: '
                                 'model_dir)'.format(system_param.model_dir))
        self.action = resolve_action(system_param.action)
        self.is_training = self.action == TRAIN_ACTION

        # hardware
        self.num_threads = max(system_param.num_threads, 1) \
            if self.is_training else 1
        self.num_gpus = system_param.num_gpus \
            if self.is_training else min(system_param.num_gpus, 1)
        set_cuda_device(getattr(system_param, 'cuda_devices', ''))

        # output folders
        self.model_dir = touch_folder(os.path.join(system_param.model_dir, 'models'))
        self.session_prefix = os.path.join(self.model_dir, FILE_PREFIX)

        if self.is_training:
            if train_param is None:
                raise UserInputError('training needs a [TRAINING] section')
            self.initial_iter = train_param.starting_iter
            self.final_iter = max(train_param.max_iter, self.initial_iter)
            self.save_every_n = train_param.save_every_n
            self.tensorboard_every_n = train_param.tensorboard_every_n
            self.max_checkpoints = max(train_param.max_checkpoints,
                                       self.max_checkpoints)
            self.validation_every_n = train_param.validation_every_n
            if self.validation_every_n > 0:
                self.validation_max_iter = max(self.validation_max_iter,
                                               train_param.validation_max_iter)
            summary_root = os.path.join(system_param.model_dir, 'logs')
            self.summary_dir = get_latest_subfolder(
                summary_root, create_new=self.initial_iter == 0)
            self.gradients_collector = GradientsCollector(
                n_devices=max(self.num_gpus, 1))
            action_param = train_param
        elif self.action == INFER_ACTION:
            if infer_param is None:
                raise UserInputError('inference needs an [INFERENCE] section')
            self.initial_iter = infer_param.inference_iter
            action_param = infer_param
        else:
            # evaluation reads what inference wrote: [INFERENCE] keys such as
            # save_seg_dir are visible, [EVALUATION] keys take precedence
            merged = {}
            for section in (infer_param, eval_param):
                merged.update(vars(section) if section is not None else {})
            action_param = ParserNamespace(**merged)
        self.outputs_collector = OutputsCollector(n_devices=max(self.num_gpus, 1))

        if app_param is None:
            raise UserInputError('application parameters not specified '
                                 '(no application section such as [CUSTOM])')
        app_class = self._create_app(app_param.name)
        self.app = app_class(net_param, action_param, self.action)

        self._data_partitioner = self._partition_data(
            system_param, train_param, data_param)
        self.app.initialise_dataset_loader(data_param, app_param,
                                           self._data_partitioner)
        if self.action == EVAL:
            return
        with self.graph.as_default(), tf.name_scope('Sampler'):
            self.app.initialise_sampler()

    def _partition_data(self, system_param, train_param, data_param):
        """Load (or write) the train/validation/inference split."""
        partitioner = ImageSetsPartitioner()
        partitioner.reset()
        if not data_param:
            return partitioner
        split_file = getattr(system_param, 'dataset_split_file', None)
        ratios = None
        new_partition = False
        if self.is_training and self.initial_iter == 0 and \
                not (split_file and os.path.isfile(split_file)):
            fractions = (train_param.exclude_fraction_for_validation,
                         train_param.exclude_fraction_for_inference)
            if self.validation_every_n > 0 and fractions[0] <= 0:
                raise UserInputError(
                    'validation_every_n is {} but no validation split is '
                    'possible: set exclude_fraction_for_validation > 0 '
                    '[TRAINING] (now {}), or validation_every_n = -1'.format(
                        self.validation_every_n, fractions[0]))
            if any(fraction > 0 for fraction in fractions):
                new_partition, ratios = True, fractions
        partitioner.initialise(data_param=data_param, new_partition=new_partition,
                               data_split_file=split_file, ratios=ratios)
        if self.is_training and self.validation_every_n > 0 and \
                not partitioner.has_validation:
            raise UserInputError(
                'validation_every_n is {} but the dataset split {} has no '
                'validation subjects: remove that file to make a new split '
                '(with exclude_fraction_for_validation > 0), or set '
                'validation_every_n = -1'.format(self.validation_every_n,
                                                 split_file))
        return partitioner

    # -------------------------------------------------------------------- run
    def run_application(self):
        """Build the graph, initialise or restore, and run the loops.

        Training ends at ``final_iter`` (or when a finite sampler runs out);
        inference ends when the application says every batch is processed.
        Clean-up (final checkpoint, observers, sampler threads) always runs,
        and any failure, including one in a sampler thread, is re-raised.
        """
        if self.action == EVAL:
            return self.app.evaluate()
        self._coord = tf.train.Coordinator()
        self._callables = {}
        loop_status = {}
        start_time = time.time()
        with tf.Session(config=self._tf_config(), graph=self.graph) as session, \
                _StopSignals():
            try:
                self._create_graph(self.graph)
                self.app.check_initialisations()
                self._rand_init_or_restore_vars(session)
                self._run_sampler_threads(session=session)
                self._connect_observers(session)
                if self.is_training:
                    loop_status['current_iter'] = self.initial_iter
                    self._training_loop(session, loop_status)
                else:
                    loop_status['all_saved_flag'] = False
                    self._inference_loop(session, loop_status)
            except tf.errors.OutOfRangeError:
                # a finite sampler ran out; unless a sampler thread failed
                self._coord.raise_requested_exception()
                if 'all_saved_flag' in loop_status:
                    loop_status['all_saved_flag'] = True
            except tf.errors.CancelledError:
                self._coord.raise_requested_exception()
                raise
            except KeyboardInterrupt:
                LOGGER.warning('User cancelled application')
                raise
            finally:
                self._clean_up(session, loop_status, start_time)
        # a sampler thread may have failed while the loop was finishing
        self._coord.raise_requested_exception()
        return None

    def _connect_observers(self, session):
        self.console = ConsoleLogger(self.outputs_collector)
        self._observers = [self.console]
        if self.is_training:
            self.tensorboard = TensorBoardLogger(
                self.outputs_collector, self.summary_dir, session.graph,
                self.tensorboard_every_n)
            self.model_saver = ModelSaver(session, self.saver, self.save_every_n,
                                          self.session_prefix)
            self._observers += [self.tensorboard, self.model_saver]

    def _clean_up(self, session, loop_status, start_time):
        """Final checkpoint, observers off, sampler threads stopped."""
        LOGGER.info('cleaning up...')
        try:
            if self.is_training and self.saver is not None:
                iter_msg = IterationMessage()
                iter_msg.current_iter = loop_status.get('current_iter', -1)
                self.post_training.send(iter_msg)
            elif not self.is_training and not loop_status.get('all_saved_flag'):
                LOGGER.warning('stopped early, incomplete loops')
        finally:
            for observer in self._observers:
                observer.disconnect()
                observer.close()
            self._observers = []
            self._coord.request_stop()
            LOGGER.info('stopping sampling threads')
            self.app.stop()
            LOGGER.info('%s stopped (time in second %.2f).',
                        type(self.app).__name__, time.time() - start_time)
        del session

    def _run_sampler_threads(self, session=None):
        """Start every sampler's threads (an application may have none)."""
        if session is None or self._coord is None or self.num_threads <= 0:
            return
        samplers = [sampler for sampler in
                    traverse_nested(self.app.get_sampler() or [])
                    if sampler is not None]
        for sampler in samplers:
            sampler.run_threads(session, self._coord, self.num_threads)
        if samplers:
            LOGGER.info('filling queues (this can take a few minutes)')

    # ------------------------------------------------------------------ graph
    def _create_graph(self, graph=None):
        """Build the whole graph (the only place it is built) and finalise it."""
        graph = self.graph if graph is None else graph
        assert isinstance(graph, tf.Graph)
        main_device = self._device_string(0, is_worker=False)
        with graph.as_default(), tf.device(main_device):
            self.app.initialise_network()
            self.app.add_validation_flag()
            bn_ops = None
            for gpu_id in range(max(self.num_gpus, 1)):
                worker_device = self._device_string(gpu_id, is_worker=True)
                with tf.name_scope('worker_{}'.format(gpu_id)) as scope, \
                        tf.device(worker_device):
                    self.app.connect_data_and_network(self.outputs_collector,
                                                      self.gradients_collector)
                    if self.is_training:
                        # batch-norm moving averages of the last tower
                        bn_ops = tf.get_collection(BN_COLLECTION, scope)
            if self.is_training and self.gradients_collector is not None:
                with tf.name_scope('ApplyGradients'), \
                        graph.control_dependencies(bn_ops or []):
                    self.app.set_network_gradient_op(
                        self.gradients_collector.gradients)
            with tf.name_scope('Initialization'):
                self._init_op = global_vars_init_or_restore()
            with tf.name_scope('MergedOutputs'):
                self.outputs_collector.finalise_output_op()
            self.saver = tf.train.Saver(max_to_keep=self.max_checkpoints,
                                        save_relative_paths=True)
        graph.finalize()
        return graph

    def _rand_init_or_restore_vars(self, sess):
        """Random initialisation (training from 0) or restore a checkpoint.

        ``initial_iter > 0`` restores ``model.ckpt-<initial_iter>``; ``-1``
        (or 0 for inference) the latest checkpoint, and ``initial_iter``
        becomes its number.
        """
        LOGGER.info('starting from iter %d', self.initial_iter)
        if self.is_training and self.initial_iter == 0:
            sess.run(self._init_op)
            LOGGER.info('parameters from random initialisations ...')
            return
        if self.initial_iter > 0:
            checkpoint = '{}-{}'.format(self.session_prefix, self.initial_iter)
        else:
            ckpt_state = tf.train.get_checkpoint_state(self.model_dir)
            if ckpt_state is None or not ckpt_state.model_checkpoint_path:
                raise MissingCheckpointError(
                    'no checkpoint in {}: train first, or set starting_iter = 0 '
                    'to train from scratch'.format(self.model_dir))
            checkpoint = ckpt_state.model_checkpoint_path
            if not os.path.isabs(checkpoint):
                checkpoint = os.path.join(self.model_dir, checkpoint)
            try:
                self.initial_iter = int(checkpoint.rsplit('-', 1)[-1])
            except ValueError:
                raise UserInputError(
                    'cannot read an iteration number from checkpoint {}: set '
                    'starting_iter or inference_iter to a positive '
                    'number'.format(checkpoint)) from None
            LOGGER.info('set initial_iter to %d based on checkpoints',
                        self.initial_iter)
        if not tf.train.checkpoint_exists(checkpoint):
            available = sorted(
                int(name[len(FILE_PREFIX) + 1:-len('.index')])
                for name in os.listdir(self.model_dir)
                if name.startswith(FILE_PREFIX + '-') and name.endswith('.index')
                and name[len(FILE_PREFIX) + 1:-len('.index')].isdigit())
            raise MissingCheckpointError(
                'checkpoint {} not found; iterations saved in {}: {}'.format(
                    checkpoint, self.model_dir,
                    ', '.join(str(i) for i in available) or 'none'))
        LOGGER.info('accessing %s ...', checkpoint)
        self.saver.restore(sess, checkpoint)

    # ------------------------------------------------------------------ loops
    def interleaved_iteration_generator(self):
        """Training iterations, each multiple of ``validation_every_n``
        followed by ``validation_max_iter`` validation iterations."""
        for train_iter_msg in iter_generator(
                range(self.initial_iter + 1, self.final_iter + 1), TRAIN):
            self.app.set_iteration_update(train_iter_msg)
            yield train_iter_msg
            if train_iter_msg.current_iter > 0 and self.validation_every_n > 0 \
                    and train_iter_msg.current_iter % self.validation_every_n == 0:
                valid_iters = [train_iter_msg.current_iter] * self.validation_max_iter
                for valid_iter_msg in iter_generator(valid_iters, VALID):
                    self.app.set_iteration_update(valid_iter_msg)
                    yield valid_iter_msg

    def _session_call(self, sess, fetches, feed_dict):
        """``sess.run(fetches, feed_dict)`` through a cached callable.

        The fetches of an iteration repeat from one iteration to the next,
        so each distinct set is compiled once into a session callable; this
        skips most of ``Session.run``'s per-call Python work.
        """
        feeds = tuple(sorted(feed_dict, key=_feed_name))
        key = (_fetch_signature(fetches), feeds)
        runner = self._callables.get(key)
        if runner is None:
            runner = _CompiledRun(sess, fetches, feeds)
            self._callables[key] = runner
        return runner([feed_dict[feed] for feed in feeds])

    def _loop(self, iteration_generator, sess, loop_status):
        """Run each ``IterationMessage``: signal, ``session.run``, interpret."""
        for iter_msg in iteration_generator:
            if self._coord.should_stop() or iter_msg.should_stop:
                break
            iter_msg.pre_iter.send(iter_msg)
            iter_msg.ops_to_run[NETWORK_OUTPUT] = \
                self.outputs_collector.variables(NETWORK_OUTPUT)
            iter_msg.current_iter_output = self._session_call(
                sess, iter_msg.ops_to_run, iter_msg.data_feed_dict)
            if iter_msg.is_training or iter_msg.is_inference:
                loop_status['current_iter'] = iter_msg.current_iter
            iter_msg.status = self.app.interpret_output(
                iter_msg.current_iter_output[NETWORK_OUTPUT])
            iter_msg.post_iter.send(iter_msg)
            if iter_msg.should_stop:
                break

    def _training_loop(self, sess, loop_status):
        """Training (and validation) iterations; the gradient op is added to
        training iterations only, so validation never changes a weight."""
        def add_gradient(iter_msg):
            iter_msg.ops_to_run['gradients'] = self.app.gradient_op

        self.pre_train_iter.connect(add_gradient, weak=False)
        try:
            self._loop(self.interleaved_iteration_generator(), sess, loop_status)
        finally:
            self.pre_train_iter.disconnect(add_gradient)

    def _inference_loop(self, sess, loop_status):
        """Inference iterations until ``interpret_output`` returns False."""
        def is_complete(iter_msg):
            if not iter_msg.status:
                LOGGER.info('processed all batches.')
                loop_status['all_saved_flag'] = True
                iter_msg.should_stop = True

        self.post_infer_iter.connect(is_complete, weak=False)
        try:
            self._loop(iter_generator(itertools.count(), INFER), sess, loop_status)
        finally:
            self.post_infer_iter.disconnect(is_complete)

    # ---------------------------------------------------------------- devices
    def _device_string(self, device_id=0, is_worker=True):
        """The device of tower ``device_id`` (or of shared ops)."""
        n_local_gpus = _count_local_gpus()
        if self.num_gpus <= 0:
            return '/cpu:{}'.format(device_id)
        if self.is_training:
            if is_worker and n_local_gpus > 0:
                if device_id >= n_local_gpus:
                    LOGGER.warning('trying to use gpu id %s, but only has %s '
                                   'GPU(s), please set num_gpus to %s at most',
                                   device_id, n_local_gpus, n_local_gpus)
                return '/gpu:{}'.format(device_id)
            return '/cpu:{}'.format(device_id if is_worker else 0)
        return '/gpu:0' if n_local_gpus > 0 else '/cpu:0'

    @staticmethod
    def _create_app(app_type_string):
        """The application class for a short name or dotted path (cleared)."""
        app_class = ApplicationFactory.create(app_type_string)
        app_class.clear()
        return app_class

    def _tf_config(self):
        """Session configuration: soft placement; on a machine without GPUs,
        one virtual CPU device per tower so towers run on separate devices."""
        config = tf.ConfigProto()
        config.log_device_placement = False
        config.allow_soft_placement = True
        if self.is_training and self.num_gpus > 1 and _count_local_gpus() == 0:
            config.device_count['CPU'] = self.num_gpus
        return config


def _feed_name(feed):
    return getattr(feed, 'name', str(feed))


class _CompiledRun(object):
    """One fetch structure and feed list compiled into a session callable.

    Calling it with the feed values returns what ``sess.run`` would: the
    same nested dicts/lists with values in place of tensors (None for ops).
    """

    def __init__(self, sess, fetches, feeds):
        graph = sess.graph
        self._tensors, self._operations = [], []
        self._structure = self._flatten(graph, fetches)
        self._feed_dtypes = []
        options = config_pb2.CallableOptions()
        for feed in feeds:
            element = graph.as_graph_element(feed, allow_tensor=True,
                                             allow_operation=False)
            options.feed.append(element.name)
            self._feed_dtypes.append(element.dtype.as_numpy_dtype)
        options.fetch.extend(tensor.name for tensor in self._tensors)
        options.target.extend(op.name for op in self._operations)
        # pylint: disable=protected-access
        self._callable = sess._make_callable_from_options(options)

    def _flatten(self, graph, fetches):
        """Replace each tensor by its index in ``self._tensors``."""
        if isinstance(fetches, dict):
            return {key: self._flatten(graph, value) for key, value in fetches.items()}
        if isinstance(fetches, (list, tuple)):
            return type(fetches)(self._flatten(graph, value) for value in fetches)
        if fetches is None:
            return None
        element = graph.as_graph_element(fetches, allow_tensor=True,
                                         allow_operation=True)
        if isinstance(element, tf.Operation):
            self._operations.append(element)
            return None
        self._tensors.append(element)
        return len(self._tensors) - 1

    def _rebuild(self, structure, values):
        if isinstance(structure, dict):
            return {key: self._rebuild(value, values)
                    for key, value in structure.items()}
        if isinstance(structure, (list, tuple)):
            return type(structure)(self._rebuild(value, values)
                                   for value in structure)
        return None if structure is None else values[structure]

    def __call__(self, feed_values):
        feed_values = [np.asarray(value, dtype=dtype)
                       for value, dtype in zip(feed_values, self._feed_dtypes)]
        return self._rebuild(self._structure, self._callable(*feed_values))


def _fetch_signature(fetches):
    """A hashable description of a (nested) fetch structure."""
    if isinstance(fetches, dict):
        return tuple((key, _fetch_signature(fetches[key]))
                     for key in sorted(fetches, key=str))
    if isinstance(fetches, (list, tuple)):
        return (type(fetches).__name__,) + tuple(_fetch_signature(f) for f in fetches)
    return fetches


_GPU_COUNT = []


def _count_local_gpus():
    """The number of GPUs TensorFlow sees (cached for the process)."""
    if not _GPU_COUNT:
        _GPU_COUNT.append(len(tf.config.experimental.list_physical_devices('GPU')))
    return _GPU_COUNT[0]
