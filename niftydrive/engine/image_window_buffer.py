"""A TensorFlow queue fed by Python threads: the base of every sampler.

A sampler subclasses ``InputBatchQueueRunner`` and implements ``layer_op()``,
a generator of dicts (input name -> numpy array shaped like one window, or
``[n] + window shape`` for n windows).  ``run_threads`` starts threads that
push those windows into the queue; ``pop_batch_op`` gives the graph a batch.

Failures are never silent: an exception in a thread is handed to the
coordinator (``coord.raise_requested_exception()`` re-raises it with its
traceback) and the queue is cancelled, so a dequeue blocked on it fails at
once instead of waiting forever.
"""
import logging
import threading

import numpy as np
import tensorflow.compat.v1 as tf

LOGGER = logging.getLogger(__name__)


class _LockedIterator(object):
    """Lets several threads draw from one generator, each item once."""

    def __init__(self, iterable):
        self._iterator = iter(iterable)
        self._lock = threading.Lock()

    def __iter__(self):
        return self

    def __next__(self):
        with self._lock:
            return next(self._iterator)


class InputBatchQueueRunner(object):
    """Owns a queue of windows and the threads that fill it.

    :param capacity: the queue's capacity in windows (raised if needed so a
        full batch always fits)
    :param shuffle: a ``RandomShuffleQueue`` (training) or a FIFO queue
        whose last, possibly partial, batch is dequeued too (inference)
    """

    #: False: every thread iterates its own ``layer_op()`` (infinite random
    #: samplers). True: threads share one generator, so a finite sampler
    #: emits each window exactly once.
    generator_shared = False

    def __init__(self, capacity, shuffle=True):
        self.capacity = max(int(capacity), 1)
        self.shuffle = shuffle
        self._batch_size = 1
        self._window_shapes = {}
        self._placeholders = {}
        self._queue = None
        self._enqueue_op = None
        self._close_op = None
        self._cancel_op = None
        self._threads = []
        self._session = None
        self._coord = None
        self._live_threads = 0
        self._lock = threading.Lock()
        self._closed = False

    def layer_op(self, *args, **kwargs):
        """Generate windows: dicts of input name -> numpy array."""
        raise NotImplementedError

    def _create_queue_and_ops(self, window_shapes, window_dtypes,
                              batch_size, enqueue_size=1):
        """Build the queue with its enqueue, close and cancel operations.

        :param window_shapes: input name -> shape of one window
        :param window_dtypes: input name -> TensorFlow dtype
        :param batch_size: windows per dequeued batch
        :param enqueue_size: kept for NiftyNet compatibility; any number of
            windows can be enqueued at once
        """
        del enqueue_size
        names = sorted(window_shapes)
        self._batch_size = max(int(batch_size), 1)
        self._window_shapes = {name: tuple(int(d) for d in window_shapes[name])
                               for name in names}
        capacity = max(self.capacity, 2 * self._batch_size)
        dtypes = [tf.as_dtype(window_dtypes[name]) for name in names]
        shapes = [self._window_shapes[name] for name in names]
        with tf.name_scope('queue'):
            if self.shuffle:
                min_after_dequeue = max(
                    0, min(capacity // 2, capacity - self._batch_size))
                self._queue = tf.RandomShuffleQueue(
                    capacity=capacity, min_after_dequeue=min_after_dequeue,
                    dtypes=dtypes, shapes=shapes, names=names,
                    name='shuffled_windows')
            else:
                self._queue = tf.FIFOQueue(
                    capacity=capacity, dtypes=dtypes, shapes=shapes,
                    names=names, name='fifo_windows')
            self._placeholders = {
                name: tf.placeholder(dtype, shape=(None,) + shape, name=name)
                for name, dtype, shape in zip(names, dtypes, shapes)}
            self._enqueue_op = self._queue.enqueue_many(self._placeholders)
            self._close_op = self._queue.close()
            self._cancel_op = self._queue.close(cancel_pending_enqueues=True)
        self.capacity = capacity

    def pop_batch_op(self, device_id=0):
        """A dict of input name -> batch tensor ``[batch_size] + window shape``.

        Call once per tower: each call is a separate dequeue.
        """
        if self._queue is None:
            raise RuntimeError('{}: the queue was not created; call '
                               '_create_queue_and_ops first'.format(
                                   type(self).__name__))
        with tf.name_scope('pop_batch_{}'.format(device_id)):
            if self.shuffle:
                return self._queue.dequeue_many(self._batch_size)
            return self._queue.dequeue_up_to(self._batch_size)

    def _as_window_batch(self, name, value):
        """``value`` shaped ``[n] + window shape`` (adds n=1 to a single window)."""
        if name not in self._window_shapes:
            raise ValueError('{} produced an input named "{}" which is not one '
                             'of its queue inputs {}'.format(
                                 type(self).__name__, name,
                                 sorted(self._window_shapes)))
        value = np.asarray(value)
        shape = self._window_shapes[name]
        if value.shape == shape:
            value = value[np.newaxis, ...]
        if value.shape[1:] != shape:
            raise ValueError('{}: input "{}" has shape {}, expected a window {} '
                             'or [n] + {}'.format(type(self).__name__, name,
                                                  value.shape, shape, shape))
        return value

    def _push(self, windows):
        session, coord = self._session, self._coord
        try:
            for output in windows:
                if coord.should_stop():
                    break
                feed = {self._placeholders[name]: self._as_window_batch(name, value)
                        for name, value in output.items()}
                missing = set(self._placeholders) - set(output)
                if missing:
                    raise ValueError('{} did not produce inputs {}'.format(
                        type(self).__name__, sorted(missing)))
                session.run(self._enqueue_op, feed_dict=feed)
        except (tf.errors.CancelledError, tf.errors.OutOfRangeError):
            pass  # the queue was closed: we are being stopped
        except Exception as error:  # pylint: disable=broad-except
            LOGGER.error('%s thread failed: %s', type(self).__name__, error)
            coord.request_stop(error)
            self._close(cancel=True)
        finally:
            with self._lock:
                self._live_threads -= 1
                last_one = self._live_threads == 0
            if last_one:
                # every generator is exhausted: let dequeues drain and then end
                self._close(cancel=False)

    def _close(self, cancel):
        with self._lock:
            if self._closed or self._session is None:
                return
            self._closed = True
        try:
            self._session.run(self._cancel_op if cancel else self._close_op)
        except (RuntimeError, tf.errors.OpError):
            pass  # the session is already closed

    def run_threads(self, session, coord, num_threads=1):
        """Start ``num_threads`` threads that fill the queue from ``layer_op``."""
        if self._queue is None:
            raise RuntimeError('{}: no queue to fill'.format(type(self).__name__))
        self._session, self._coord = session, coord
        self._closed = False
        num_threads = max(int(num_threads), 1)
        shared = _LockedIterator(self.layer_op()) if self.generator_shared else None
        self._live_threads = num_threads
        self._threads = []
        for index in range(num_threads):
            windows = shared if shared is not None else self.layer_op()
            thread = threading.Thread(
                target=self._push, args=(windows,), daemon=True,
                name='{}-{}'.format(type(self).__name__, index))
            self._threads.append(thread)
            thread.start()

    def close_all(self):
        """Cancel the queue and wait for the threads to finish."""
        self._close(cancel=True)
        for thread in self._threads:
            thread.join(timeout=10)
            if thread.is_alive():
                LOGGER.warning('sampler thread %s did not stop', thread.name)
        self._threads = []
