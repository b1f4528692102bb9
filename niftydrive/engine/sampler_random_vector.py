"""Random vectors (e.g. a GAN's latent codes): NiftyNet's ``RandomVectorSampler``.

Each item of the generator is ``n_interpolations`` vectors spaced evenly on
the line between two random points drawn from ``N(mean, stddev)``, so
consecutive vectors morph smoothly (useful to inspect a generator). With
``repeat=None`` the sampler never ends; with a number it yields ``repeat``
such runs (``repeat * n_interpolations`` vectors), then NiftyNet's
stopping-signal windows (every value -1), then the queue closes and a
further dequeue raises ``OutOfRangeError``.
"""
import numpy as np
import tensorflow.compat.v1 as tf

from niftydrive.engine.image_window import LOCATION_LENGTH, ImageWindow, location_name
from niftydrive.engine.image_window_buffer import InputBatchQueueRunner
from niftydrive.layer.base_layer import Layer
from niftydrive.utilities.random_seed import thread_rng


class RandomVectorSampler(Layer, InputBatchQueueRunner):
    """Batches of normally distributed, interpolated vectors.

    :param names: the input names (a tuple of strings); each gets its own vectors
    :param vector_size: the shape of one vector (a tuple of ints)
    :param batch_size: vectors per batch
    :param n_interpolations: vectors per run between two random points
    :param repeat: number of runs, ``None`` for no end
    :param queue_length: queue capacity in vectors
    :raises TypeError: ``names`` is not a sequence of strings or
        ``vector_size`` not a sequence of ints (as NiftyNet)
    """

    def __init__(self, names=('vectors',), vector_size=(100,), batch_size=10,
                 n_interpolations=10, mean=0.0, stddev=1.0, repeat=1, queue_length=10,
                 name='random_vector_sampler'):
        if isinstance(names, str) or not isinstance(names, (tuple, list)) or \
                not all(isinstance(n, str) for n in names):
            raise TypeError('RandomVectorSampler names must be a tuple of strings, got '
                            '{!r}'.format(names))
        if not isinstance(vector_size, (tuple, list)) or not all(
                isinstance(d, (int, np.integer)) and not isinstance(d, bool)
                for d in vector_size):
            raise TypeError('RandomVectorSampler vector_size must be a tuple of ints, e.g. '
                            '(100,), got {!r}'.format(vector_size))
        Layer.__init__(self, name=name)
        InputBatchQueueRunner.__init__(self, capacity=queue_length, shuffle=False)
        self.names = tuple(names)
        self.vector_size = tuple(int(d) for d in vector_size)
        self.batch_size = int(batch_size)
        self.n_interpolations = max(int(n_interpolations), 1)
        self.mean = float(mean)
        self.stddev = float(stddev)
        self.repeat = repeat
        # a finite sampler must emit exactly `repeat` runs in total
        self.generator_shared = repeat is not None
        self.window = ImageWindow(names=self.names,
                                  shapes={n: self.vector_size for n in self.names},
                                  dtypes={n: tf.float32 for n in self.names})
        self._create_queue_and_ops(self.window, enqueue_size=self.n_interpolations,
                                   dequeue_size=self.batch_size)

    def layer_op(self, *args, **kwargs):
        """Yield dicts name -> ``[n_interpolations] + vector_size`` (locations all ones)."""
        rng = thread_rng()
        weights = np.linspace(0.0, 1.0, self.n_interpolations).reshape(
            (-1,) + (1,) * len(self.vector_size))
        location = np.ones((self.n_interpolations, LOCATION_LENGTH), dtype=np.int32)
        count = 0
        while self.repeat is None or count < self.repeat:
            output = {}
            for name in self.names:
                start, end = rng.normal(self.mean, self.stddev,
                                        size=(2,) + self.vector_size)
                output[name] = ((1.0 - weights) * start + weights * end).astype(np.float32)
                output[location_name(name)] = location
            yield output
            count += 1
