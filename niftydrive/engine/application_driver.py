"""``ApplicationDriver``: builds the multi-tower graph and runs the loop.

The driver reads the parameters, creates the application, builds one tower
per device (``worker_0``, ``worker_1``, ... name scopes sharing variables),
averages gradients and outputs across towers, and runs the iterations that
its iteration generator yields.  Everything around an iteration is done by
event handlers (NiftyNet 0.6's design): the driver constructs the handlers
named by ``[SYSTEM] event_handler`` at the start of a run, sends the
signals of ``niftydrive.engine.signal`` and disconnects the handlers when
the run ends; it knows none of them by name.

Unlike NiftyNet's original, a run's handlers are disconnected when the run
ends, sampler-thread failures reach the caller instead of hanging, and any
failure is re-raised after the clean-up (final checkpoint, threads stopped).
"""
import logging
import os
import time

import tensorflow.compat.v1 as tf

from niftydrive.application.base_application import EVAL, INFER as INFER_ACTION, \
    TRAIN as TRAIN_ACTION, resolve_action
from niftydrive.engine import signal as engine_signal
from niftydrive.engine.application_factory import DEFAULT_EVENT_HANDLERS, \
    ApplicationFactory, EventHandlerFactory, IteratorFactory
from niftydrive.engine.application_iteration import INFER, TRAIN, \
    InputExhausted, IterationMessage, iter_generator
from niftydrive.engine.application_variables import GradientsCollector, \
    OutputsCollector
from niftydrive.engine.checkpoint_io import BEST_ITER, FILE_PREFIX, \
    MissingCheckpointError, best_checkpoint, infer_latest_model_file, \
    prepare_checkpoint_dir
from niftydrive.engine.dataset_split import partition_data
from niftydrive.engine.devices import session_config
from niftydrive.engine.distributed_training import LocalTraining, \
    training_process
from niftydrive.engine.handler_base import disconnect_handler
from niftydrive.engine.session_callables import SessionCallCache
from niftydrive.engine.stop_signals import StopSignals, \
    TerminationRequested, stop_samplers
from niftydrive.engine.tower_graph import create_graph
from niftydrive.io.misc_io import get_latest_subfolder, touch_folder
from niftydrive.utilities.errors import UserInputError
from niftydrive.utilities.random_seed import set_random_seed
from niftydrive.utilities.user_parameters_default import \
    SYSTEM as SYSTEM_PARAMS
from niftydrive.utilities.util_common import ParserNamespace, set_cuda_device

# NiftyNet 0.3 imported these from this module; they live in their own now.
from niftydrive.engine.handler_console import ConsoleLogger  # noqa: F401
from niftydrive.engine.handler_model import ModelSaver  # noqa: F401
from niftydrive.engine.handler_tensorboard import TensorBoardLogger  # noqa: F401

__all__ = ['ApplicationDriver', 'iter_generator', 'ConsoleLogger',
           'ModelSaver', 'TensorBoardLogger', 'TerminationRequested',
           'MissingCheckpointError', 'FILE_PREFIX']

LOGGER = logging.getLogger(__name__)


class ApplicationDriver(object):
    """Initialises an application, builds its graph and runs it.

    Use::

        driver = ApplicationDriver()
        driver.initialise_application(system_param, input_data_param)
        driver.run_application()

    Receivers connected to the signals below (or to those of
    ``niftydrive.engine.signal``) before ``run_application`` receive every
    iteration of that run.
    """

    # pylint: disable=too-many-instance-attributes
    pre_train_iter = engine_signal.pre_train_iter
    post_train_iter = engine_signal.post_train_iter
    pre_validation_iter = engine_signal.pre_validation_iter
    post_validation_iter = engine_signal.post_validation_iter
    pre_infer_iter = engine_signal.pre_infer_iter
    post_infer_iter = engine_signal.post_infer_iter
    post_training = engine_signal.post_training

    def __init__(self):
        self.app = None
        self.graph = tf.Graph()
        self.action = TRAIN_ACTION
        self.is_training = True
        self.num_threads = 0
        self.num_gpus = 0
        self.sampler_processes = 0
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
        self.event_handler_names = DEFAULT_EVENT_HANDLERS
        self.nan_guard = True
        self.stall_warning_seconds = 0
        self.iteration_generator_name = 'iteration_generator'
        self.outputs_collector = None
        self.gradients_collector = None
        self.workflow_param = {}  # every section, for handlers' own keys
        self.cluster = LocalTraining()  # this process's part of the training
        self._coord = tf.train.Coordinator()
        self._data_partitioner = None
        self._event_handlers = []
        self._threads_stopped = False
        self._session_call = SessionCallCache()
        self._stop_signals = StopSignals(on_signal=self._interrupt_input)

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
        if not getattr(system_param, 'model_dir', None):
            raise UserInputError('[SYSTEM] model_dir is not set')
        self.cluster = training_process(workflow_param)  # may adapt params
        try:  # NiftyNet required it to exist; creating it is friendlier
            touch_folder(system_param.model_dir)
        except UserInputError as error:
            raise UserInputError('[SYSTEM] model_dir: {}'.format(error)) from None
        self.action = resolve_action(system_param.action)
        self.workflow_param = workflow_param
        set_random_seed(getattr(system_param, 'random_seed', -1), self.graph)
        self.event_handler_names = tuple(
            getattr(system_param, 'event_handler', None) or DEFAULT_EVENT_HANDLERS)
        self.iteration_generator_name = getattr(
            system_param, 'iteration_generator', None) or 'iteration_generator'
        # unknown names are reported now, before any data is read
        self._handler_classes = self.cluster.handler_classes(
            [EventHandlerFactory.create(name) for name in self.event_handler_names])
        self._generator_class = IteratorFactory.create(
            self.iteration_generator_name)
        self.is_training = self.action == TRAIN_ACTION

        # hardware
        self.num_threads = max(system_param.num_threads, 1) \
            if self.is_training else 1
        self.num_gpus = system_param.num_gpus \
            if self.is_training else min(system_param.num_gpus, 1)
        # worker processes instead of threads for the samplers (0: threads)
        self.sampler_processes = getattr(system_param, 'sampler_processes', 0) \
            if self.is_training else 0
        set_cuda_device(getattr(system_param, 'cuda_devices', ''))
        self.stall_warning_seconds = getattr(
            system_param, 'stall_warning_seconds',
            SYSTEM_PARAMS['stall_warning_seconds'].default)

        # output folders
        self.model_dir = touch_folder(os.path.join(system_param.model_dir, 'models'))
        self.session_prefix = os.path.join(self.model_dir, FILE_PREFIX)

        if self.is_training:
            if train_param is None:
                raise UserInputError('training needs a [TRAINING] section')
            self.initial_iter = train_param.starting_iter
            self.final_iter = max(train_param.max_iter, self.initial_iter)
            self.save_every_n = train_param.save_every_n
            self.nan_guard = getattr(train_param, 'nan_guard', True)
            self.tensorboard_every_n = train_param.tensorboard_every_n
            self.max_checkpoints = max(train_param.max_checkpoints,
                                       self.max_checkpoints)
            self.validation_every_n = train_param.validation_every_n
            prepare_checkpoint_dir(
                self.model_dir, True, self.initial_iter,
                getattr(train_param, 'overwrite_checkpoints', False))
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
            prepare_checkpoint_dir(self.model_dir, False, self.initial_iter)
            # inference evaluates its outputs when labels exist: the
            # [EVALUATION] keys are visible, [INFERENCE] keys take precedence
            action_param = ParserNamespace.merged(eval_param, infer_param)
        else:
            # evaluation reads what inference wrote: [INFERENCE] keys such as
            # save_seg_dir are visible, [EVALUATION] keys take precedence
            action_param = ParserNamespace.merged(infer_param, eval_param)
        self.outputs_collector = OutputsCollector(n_devices=max(self.num_gpus, 1))

        if app_param is None:
            raise UserInputError('application parameters not specified '
                                 '(no application section such as [CUSTOM])')
        app_class = self._create_app(app_param.name)
        self.app = app_class(net_param, action_param, self.action)

        self._data_partitioner = self.cluster.shard(self._partition_data(
            system_param, train_param, data_param))
        self.app.initialise_dataset_loader(data_param, app_param,
                                           self._data_partitioner)
        if self.action == EVAL:
            return
        with self.graph.as_default(), tf.name_scope('Sampler'):
            self.app.initialise_sampler()

    def _partition_data(self, system_param, train_param, data_param):
        """Load (or write) the train/validation/inference split."""
        return partition_data(system_param, train_param, data_param,
                              self.is_training, self.initial_iter,
                              self.validation_every_n)

    # -------------------------------------------------------------------- run
    def run_application(self):
        """Build the graph, start a session, run the iterations.

        Training ends at ``final_iter`` (or when a finite sampler runs out);
        inference ends when the application says every batch is processed.
        Clean-up (``SESS_FINISHED``: final checkpoint; handlers off; sampler
        threads stopped) always runs, and any failure, including one in a
        sampler thread, is re-raised.
        """
        if self.action == EVAL:
            return self.app.evaluate()
        if self._coord.should_stop():  # a driver run a second time
            self._coord = tf.train.Coordinator()
        self._session_call.clear()
        self._threads_stopped = False
        self._resolve_initial_iter()
        loop_status = {'current_iter': self.initial_iter, 'normal_exit': False}
        start_time = time.time()
        try:
            self._event_handlers = self.load_event_handlers()
            with self._stop_signals:
                self._create_graph(self.graph)
                with self.cluster.session(self.graph, self._tf_config()) \
                        as session, self.graph.as_default(), session.as_default():
                    try:
                        self._run_session(session, loop_status)
                    finally:
                        self._stop_sampler_threads()  # before the session closes
        finally:
            self._stop_sampler_threads()
            for handler in self._event_handlers:
                disconnect_handler(handler)
            self._event_handlers = []
            LOGGER.info('%s stopped (time in second %.2f).',
                        type(self.app).__name__, time.time() - start_time)
        # a sampler thread may have failed while the loop was finishing
        self._coord.raise_requested_exception()
        return None

    def _resolve_initial_iter(self):
        """``-1`` (or inference iteration 0): the latest checkpoint; ``-2``
        (inference): the best model."""
        if self.initial_iter == BEST_ITER and not self.is_training:
            self.model_dir, self.initial_iter = best_checkpoint(self.model_dir)
            LOGGER.info('inference with the best model: %s, iter %d',
                        self.model_dir, self.initial_iter)
        if self.initial_iter < 0 or (not self.is_training and self.initial_iter == 0):
            self.initial_iter = infer_latest_model_file(
                self.model_dir,
                'starting_iter' if self.is_training else 'inference_iter')
            LOGGER.info('set initial_iter to %d based on checkpoints',
                        self.initial_iter)
        LOGGER.info('starting from iter %d', self.initial_iter)

    def load_event_handlers(self):
        """Construct this run's handlers with the driver's settings (they
        connect themselves to the signals, in the configured order)."""
        settings = dict(vars(self), coordinator=self._coord)
        handlers = []
        try:
            for handler_class in self._handler_classes:
                handlers.append(handler_class(**settings))
        except BaseException:  # e.g. a handler refusing its settings
            for handler in handlers:
                disconnect_handler(handler)
            raise
        return handlers

    def _run_session(self, session, loop_status):
        """``SESS_STARTED``, the loop, ``SESS_FINISHED`` (always)."""
        error = None
        try:
            self.app.check_initialisations()
            engine_signal.SESS_STARTED.send(self.app, iter_msg=None,
                                            session=session)
            self.initial_iter = self.cluster.first_iteration(self.initial_iter)
            self.loop(self._generator_class(**vars(self))(), session, loop_status)
        except InputExhausted as exhausted:
            # a finite sampler ran out; unless a sampler thread failed
            self._coord.raise_requested_exception()
            loop_status['normal_exit'] = True
            if self.is_training:
                LOGGER.warning(
                    'training stopped early after iteration %d of %d: the %s '
                    'input ran out of windows (a sampler with a finite '
                    'number of windows)', loop_status['current_iter'],
                    self.final_iter, exhausted.phase.lower())
        except tf.errors.CancelledError as cancelled:
            error = cancelled
            self._coord.raise_requested_exception()
            raise
        except KeyboardInterrupt as interrupt:
            error = interrupt
            LOGGER.warning('User cancelled application')
            raise
        except BaseException as failure:
            error = failure
            raise
        finally:
            self._finish_session(loop_status, error)

    def _finish_session(self, loop_status, error):
        """Tell handlers and ``post_training`` receivers the run is over."""
        final_msg = IterationMessage()
        final_msg.current_iter = loop_status['current_iter']
        final_msg.phase = TRAIN if self.is_training else INFER
        LOGGER.info('cleaning up...')
        engine_signal.SESS_FINISHED.send(self.app, iter_msg=final_msg,
                                         error=error)
        if self.is_training:
            self.post_training.send(final_msg)
        elif not loop_status['normal_exit']:
            LOGGER.warning('stopped early, incomplete loops')

    def _stop_sampler_threads(self):
        """Stop the coordinator and close every sampler (once)."""
        if self._coord.should_stop() and self._threads_stopped:
            return
        self._coord.request_stop()
        stop_samplers(self.app,
                      after_signal=self._stop_signals.received is not None)
        self._threads_stopped = True

    def _interrupt_input(self, signum):
        """On SIGTERM/SIGINT (from the signal watcher thread, at once):
        close the input queues, so that an iteration waiting for a batch
        that never comes returns and the run can save and stop."""
        LOGGER.warning('signal %d received: stopping (the last completed '
                       'iteration will be saved)', signum)
        self._coord.request_stop()
        if self.app is not None:
            self.app.stop()

    # ------------------------------------------------------------------ graph
    def _create_graph(self, graph=None):
        """Build the whole graph (see ``tower_graph.create_graph``)."""
        return create_graph(self.app, self.graph if graph is None else graph,
                            self.num_gpus, self.is_training,
                            self.outputs_collector, self.gradients_collector,
                            self.cluster)

    # ------------------------------------------------------------------- loop
    def interleaved_iteration_generator(self):
        """The configured generator's iterations for this driver (training
        with interleaved validation, or inference)."""
        return self._generator_class(**vars(self))()

    def loop(self, iteration_messages, session, loop_status):
        """Run each ``IterationMessage`` until the generator ends, the
        coordinator stops or a message says ``should_stop``."""
        with self._stop_signals.deferred():
            for iter_msg in iteration_messages:
                # a stop signal is raised here, between iterations
                self._stop_signals.raise_if_requested()
                if self._coord.should_stop():
                    return  # a sampler failed or the run is being stopped
                self.app.set_iteration_update(iter_msg)
                if iter_msg.should_stop:
                    break
                self.loop_step(iter_msg, session, loop_status)
                if iter_msg.should_stop:
                    break  # e.g. inference: every batch processed
            self._stop_signals.raise_if_requested()
        loop_status['normal_exit'] = True

    def loop_step(self, iter_msg, session, loop_status=None):
        """One iteration: ``ITER_STARTED`` and ``pre_*_iter`` (receivers add
        fetches and feeds), ``session.run``, ``ITER_FINISHED`` and
        ``post_*_iter`` (receivers read ``current_iter_output``)."""
        engine_signal.ITER_STARTED.send(self.app, iter_msg=iter_msg)
        iter_msg.pre_iter.send(iter_msg)
        try:
            iter_msg.current_iter_output = self._session_call(
                session, iter_msg.ops_to_run, iter_msg.data_feed_dict)
        except tf.errors.OpError as error:
            # a stop signal closed the queues this iteration waited on
            self._stop_signals.raise_if_requested()
            if isinstance(error, tf.errors.OutOfRangeError):
                # only here does an OutOfRangeError mean "no more windows"
                raise InputExhausted(iter_msg) from None
            raise
        if loop_status is not None and not iter_msg.is_validation:
            # the weights now are those of this iteration, whatever follows
            loop_status['current_iter'] = iter_msg.current_iter
        engine_signal.ITER_FINISHED.send(self.app, iter_msg=iter_msg)
        iter_msg.post_iter.send(iter_msg)

    @staticmethod
    def _create_app(app_type_string):
        """The application class for a short name or dotted path (cleared)."""
        app_class = ApplicationFactory.create(app_type_string)
        app_class.clear()
        return app_class

    def _tf_config(self):
        """Session configuration (soft placement, virtual CPU towers)."""
        return session_config(self.num_gpus, self.is_training)
