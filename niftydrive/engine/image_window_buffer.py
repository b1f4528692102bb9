"""A TensorFlow queue fed by Python threads: NiftyNet's ``InputBatchQueueRunner``.

A sampler subclasses ``InputBatchQueueRunner`` (usually together with
:class:`~niftydrive.layer.base_layer.Layer`), describes its windows with an
:class:`~niftydrive.engine.image_window.ImageWindow`, calls
``self._create_queue_and_ops(window, enqueue_size, dequeue_size)`` and
implements ``layer_op()``: a generator of dicts, one per enqueue, keyed by
the window's placeholders (``window.image_data_placeholder(name)``,
``window.coordinates_placeholder(name)``) or by the input names
(``'image'``, ``'image_location'``), each value ``[enqueue_size] + window
shape`` (a single window may omit the leading 1).

``run_threads`` starts threads that push those windows; ``pop_batch_op``
gives the graph a batch ``[dequeue_size] + window shape`` with the
spatial/time axes of length one squeezed away (6-D windows, as NiftyNet).

When a finite sampler's generator ends, the queue receives NiftyNet's
stopping-signal windows: every value, locations included, is -1, so an
aggregator or ``interpret_output`` sees the end; after enough of them for a
last batch per consumer, the queue is closed and a further dequeue raises
``OutOfRangeError``, which ends a driver loop normally.

Better than NiftyNet (SPEC section 3): an exception in a thread is handed
to the coordinator (``coord.raise_requested_exception()`` re-raises it
with its traceback) and the queue is cancelled, so a dequeue blocked on it
fails at once instead of waiting forever; several threads may serve a
finite sampler (they share one generator, each window is emitted once).
"""
import logging
import threading

import numpy as np
import tensorflow.compat.v1 as tf

from niftydrive.engine.image_window import N_SPATIAL
from niftydrive.engine.input_wait import timed_dequeue
from niftydrive.engine.window_memory import check_window_memory
from niftydrive.utilities import random_seed

LOGGER = logging.getLogger(__name__)

#: The value of every entry of a stopping-signal window.
STOPPING_SIGNAL = -1


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


def squeeze_spatial_temporal_dim(tensor):
    """Drop the x, y, z and time axes of length one of a 6-D ``[batch, x, y, z, t, c]`` tensor.

    Tensors of another rank are returned unchanged. A time series with one
    channel (``t > 1``, ``c == 1``) moves its time axis to the channel axis.
    """
    if tensor.shape.ndims != 6:
        return tensor
    dims = tensor.shape.as_list()
    if dims[4] != 1:
        if dims[5] != 1:
            raise NotImplementedError('windows with both time steps ({}) and channels ({}) '
                                      'are not supported'.format(dims[4], dims[5]))
        tensor = tf.transpose(tensor, [0, 1, 2, 3, 5, 4])
        dims = tensor.shape.as_list()
    axes = [axis for axis in range(1, 5) if dims[axis] == 1]
    return tf.squeeze(tensor, axis=axes) if axes else tensor


class InputBatchQueueRunner(object):
    """Owns a queue of windows and the threads that fill it.

    :param capacity: the queue's capacity in windows (raised to 2.5 batches
        if smaller)
    :param shuffle: a ``RandomShuffleQueue`` (training) or a FIFO queue
        (windows dequeued in the order the generator made them)
    """

    #: False: every thread iterates its own ``layer_op()`` (infinite random
    #: samplers). True: threads share one generator, so a finite sampler
    #: emits each window exactly once.
    generator_shared = False

    #: Push NiftyNet's stopping-signal windows (all -1) when the windows run
    #: out, before closing the queue.
    push_stopping_signal = True

    def __init__(self, capacity, shuffle=True):
        self.capacity = max(int(capacity), 1)
        # with [SYSTEM] random_seed, windows stay in order: see random_seed
        self.shuffle = shuffle and not random_seed.is_seeded()
        self._seed_index = random_seed.next_sampler_index()
        self._batch_size = 1
        self._window = None
        self.placeholders_dict = None
        self.output_tensor = None
        self._queue = None
        self._enqueue_op = None
        self._dequeue_func = None
        self._query_queue_size_op = None
        self._close_op = None
        self._close_queue_op = None
        self._threads = []
        self._workers = None
        self._session = None
        self._coordinator = None
        self._live_threads = 0
        self._last_output = None
        self._lock = threading.Lock()
        self._closed = False

    def layer_op(self, *args, **kwargs):
        """Generate windows: one dict (placeholder or name -> array) per enqueue."""
        raise NotImplementedError('{} must implement layer_op(), a generator of window '
                                  'dicts'.format(type(self).__name__))

    @property
    def window(self):
        """The :class:`~niftydrive.engine.image_window.ImageWindow` of the queue."""
        return self._window

    @window.setter
    def window(self, value):
        self._window = value

    def _create_queue_and_ops(self, window, enqueue_size=1, dequeue_size=1):
        """Build the queue and its enqueue, dequeue and close operations.

        :param window: an :class:`~niftydrive.engine.image_window.ImageWindow`
        :param enqueue_size: windows per enqueue (per item ``layer_op`` yields);
            1 when the window is dynamic
        :param dequeue_size: windows per batch; 1 when the window is dynamic
        """
        if not hasattr(window, 'has_dynamic_shapes'):
            raise TypeError('{}: expected an ImageWindow, got {!r}'.format(
                type(self).__name__, window))
        self._window = window
        dynamic = window.has_dynamic_shapes
        if dynamic and (enqueue_size > 1 or dequeue_size > 1):
            LOGGER.warning('%s: dynamic window size %s, so windows are queued and batched one '
                           'at a time', type(self).__name__, window.shapes)
        enqueue_size = 1 if dynamic else max(int(enqueue_size), 1)
        self._batch_size = 1 if dynamic else max(int(dequeue_size), 1)
        self.capacity = int(max(self.capacity, round(self._batch_size * 2.5), enqueue_size))
        check_window_memory(type(self).__name__, window.shapes, window.dtypes,
                            self.capacity, self._batch_size)
        self.placeholders_dict = window.placeholders_dict(enqueue_size)
        names = sorted(self.placeholders_dict)
        holders = [self.placeholders_dict[name] for name in names]
        dtypes = [holder.dtype for holder in holders]
        shapes = None if dynamic else [holder.shape[1:] for holder in holders]
        with tf.name_scope('queue'):
            if self.shuffle:
                self._queue = tf.RandomShuffleQueue(
                    capacity=self.capacity, min_after_dequeue=self.capacity // 2,
                    dtypes=dtypes, shapes=shapes, names=names, name='shuffled_queue')
            else:
                self._queue = tf.FIFOQueue(capacity=self.capacity, dtypes=dtypes,
                                           shapes=shapes, names=names, name='FIFO_queue')
            feed = dict(zip(names, holders))
            if dynamic:
                self._enqueue_op = self._queue.enqueue(feed)
                self._dequeue_func = self._queue.dequeue
            else:
                self._enqueue_op = self._queue.enqueue_many(feed)
                self._dequeue_func = self._queue.dequeue_many
            self._query_queue_size_op = self._queue.size()
            self._close_op = self._queue.close()
            self._close_queue_op = self._queue.close(cancel_pending_enqueues=True)

    def pop_batch_op(self):
        """A dict of input name -> batch tensor ``[batch_size] + window shape``.

        The batch dimension is fixed, so ``tf.reshape(x, [batch_size, -1])``
        works; 6-D windows lose their spatial/time axes of length one. Call
        once per tower: each call is a separate dequeue.
        """
        if self._queue is None:
            raise RuntimeError('{}: the queue was not created; call _create_queue_and_ops '
                               'first'.format(type(self).__name__))
        with tf.name_scope('pop_batch'):
            if self._window.has_dynamic_shapes:
                data = timed_dequeue(self._dequeue_func)
            else:
                data = timed_dequeue(lambda: self._dequeue_func(self._batch_size))
            for name, holder in self.placeholders_dict.items():
                data[name].set_shape([self._batch_size] + holder.shape.as_list()[1:])
            data = {name: squeeze_spatial_temporal_dim(tensor)
                    for name, tensor in data.items()}
        self.output_tensor = data
        return data

    # ----------------------------------------------------------- threads
    def _feed_dict(self, output):
        """Map a ``layer_op`` item to a feed dict of the enqueue placeholders."""
        if not isinstance(output, dict):
            raise TypeError('{}.layer_op must yield dicts, got {!r}'.format(
                type(self).__name__, type(output).__name__))
        by_name = {holder: name for name, holder in self.placeholders_dict.items()}
        feed = {}
        for key, value in output.items():
            name = by_name.get(key, key)
            holder = self.placeholders_dict.get(name) if isinstance(name, str) else None
            if holder is None:
                raise ValueError('{} produced an entry {!r} which is not one of its queue '
                                 'inputs {}'.format(type(self).__name__, key,
                                                    sorted(self.placeholders_dict)))
            feed[holder] = self._as_enqueue_array(name, holder, value)
        missing = set(self.placeholders_dict.values()) - set(feed)
        if missing:
            raise ValueError('{} did not produce inputs {}'.format(
                type(self).__name__, sorted(by_name[h] for h in missing)))
        return feed

    def _as_enqueue_array(self, name, holder, value):
        value = np.asarray(value)
        expected = holder.shape.as_list()
        if len(expected) == value.ndim + 1 and expected[0] == 1:
            value = value[np.newaxis, ...]
        if value.ndim != len(expected) or any(
                e is not None and e != v for e, v in zip(expected, value.shape)):
            raise ValueError('{}: input "{}" has shape {}, expected {} (the number of windows '
                             'per enqueue, then one window\'s shape)'.format(
                                 type(self).__name__, name, value.shape,
                                 tuple(expected)))
        return value

    def _push(self, windows, thread_index=0):
        random_seed.seed_thread(self._seed_index, thread_index)
        session, coord = self._session, self._coordinator
        exhausted = False
        try:
            for output in windows:
                if coord.should_stop():
                    break
                feed = self._feed_dict(output)
                with self._lock:
                    self._last_output = feed
                session.run(self._enqueue_op, feed_dict=feed)
            else:
                exhausted = True
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
        if last_one and exhausted:
            self._end_of_data()
        elif last_one:
            self._close(cancel=False)

    def _end_of_data(self):
        """Every generator is exhausted: stopping-signal windows, then close the queue."""
        try:
            if self.push_stopping_signal and self._last_output is not None:
                stop = {holder: np.full_like(value, STOPPING_SIGNAL)
                        for holder, value in self._last_output.items()}
                rows = next(iter(stop.values())).shape[0]
                for _ in range(-(-(self.capacity + self._batch_size) // rows)):
                    if self._coordinator.should_stop():
                        break
                    self._session.run(self._enqueue_op, feed_dict=stop)
        except (tf.errors.CancelledError, tf.errors.OutOfRangeError, RuntimeError):
            pass  # stopped while pushing the signal
        self._close(cancel=False)

    def _close(self, cancel):
        with self._lock:
            if self._closed or self._session is None:
                return
            self._closed = True
        try:
            self._session.run(self._close_queue_op if cancel else self._close_op)
        except (RuntimeError, tf.errors.OpError):
            pass  # the session is already closed

    def _current_queue_size(self):
        """Windows in the queue now (for debugging)."""
        return self._session.run(self._query_queue_size_op)

    def run_threads(self, session, coord, num_threads=1):
        """Start ``num_threads`` threads that fill the queue from ``layer_op``."""
        num_threads = max(int(num_threads), 1)
        shared = _LockedIterator(self.layer_op()) if self.generator_shared else None
        self._start_feeders(session, coord, [
            shared if shared is not None else self.layer_op()
            for _ in range(num_threads)])

    def run_processes(self, session, coord, num_processes=1, seed=None):
        """Fill the queue from ``num_processes`` worker processes, each running
        ``layer_op`` (seeded ``seed + i``), through one feeding thread.

        A sampler whose generator yields each window once
        (``generator_shared``, e.g. a grid) gets one worker, so no window
        is repeated.  See :mod:`niftydrive.engine.sampler_processes`.
        """
        from niftydrive.engine.sampler_processes import ProcessWindows
        num_processes = max(int(num_processes), 1)
        if self.generator_shared and num_processes > 1:
            LOGGER.info('%s yields each window once: one worker process',
                        type(self).__name__)
            num_processes = 1
        self._workers = ProcessWindows(
            self.layer_op, self._windows_by_name, num_processes, seed=seed,
            queue_length=max(self.capacity, 1), name=type(self).__name__,
            reseed=self.reseed_worker)
        self._start_feeders(session, coord, [self._workers])

    def reseed_worker(self, seed, index=0):
        """Called in worker process ``index``: give the randomised
        (augmentation) layers of ``self.reader`` their own stream.  With
        ``[SYSTEM] random_seed`` the worker is seeded as sampler thread
        ``index`` is, and worker 0 keeps the layers' streams as a thread
        would, so one process yields the windows one thread yields.
        Samplers with other random state of their own override this."""
        if random_seed.is_seeded():
            random_seed.seed_thread(self._seed_index, index)
            if index == 0:
                return
        reader = getattr(self, 'reader', None)
        for offset, layer in enumerate(getattr(reader, 'preprocessors', None) or ()):
            if hasattr(layer, 'set_seed'):
                layer.set_seed((seed * 7919 + offset) % 2 ** 32)

    def _windows_by_name(self, output):
        """A ``layer_op`` item keyed by input name (picklable for processes)."""
        by_name = {holder: name for name, holder in self.placeholders_dict.items()}
        return {by_name.get(key, key): np.asarray(value) for key, value in output.items()}

    def _start_feeders(self, session, coord, window_iterators):
        """One feeding thread per iterator of windows."""
        if self._queue is None:
            raise RuntimeError('{}: no queue to fill; call _create_queue_and_ops first'.format(
                type(self).__name__))
        self._session, self._coordinator = session, coord
        self._closed = False
        self._last_output = None
        self._live_threads = len(window_iterators)
        self._threads = []
        for index, windows in enumerate(window_iterators):
            thread = threading.Thread(target=self._push, args=(windows, index), daemon=True,
                                      name='{}-{}'.format(type(self).__name__, index))
            self._threads.append(thread)
            thread.start()

    def close_all(self):
        """Cancel the queue (pending enqueues and dequeues fail), join the
        threads and end any worker processes."""
        self._close(cancel=True)
        workers, self._workers = getattr(self, '_workers', None), None
        if workers is not None:
            workers.close()
        for thread in self._threads:
            thread.join(timeout=10)
            if thread.is_alive():
                LOGGER.warning('sampler thread %s did not stop', thread.name)
        self._threads = []


__all__ = ['InputBatchQueueRunner', 'squeeze_spatial_temporal_dim', 'STOPPING_SIGNAL',
           'N_SPATIAL']
