"""A sampler of random vectors (e.g. a GAN's latent codes): no data needed."""
import numpy as np
import tensorflow.compat.v1 as tf

from niftydrive.engine.image_window_buffer import InputBatchQueueRunner
from niftydrive.layer.base_layer import Layer


class RandomVectorSampler(Layer, InputBatchQueueRunner):
    """Batches of normally distributed vectors.

    Vectors come in runs of ``n_interpolations``, spaced evenly on the line
    between two random end points, so consecutive vectors morph smoothly
    (useful to inspect a generator).  With ``repeat=None`` the sampler never
    runs out; with a number it yields that many batches and then the
    dequeue raises ``OutOfRangeError``.

    :param names: the input names; each gets its own vectors
    :param vector_size: shape of one vector (an int or a tuple)
    """

    def __init__(self, names=('vectors',), vector_size=(100,), batch_size=10,
                 n_interpolations=10, mean=0.0, stddev=1.0, repeat=1,
                 queue_length=10, name='random_vector_sampler'):
        Layer.__init__(self, name=name)
        InputBatchQueueRunner.__init__(self, capacity=queue_length,
                                       shuffle=False)
        if isinstance(vector_size, int):
            vector_size = (vector_size,)
        self.names = tuple(names)
        self.vector_size = tuple(int(d) for d in vector_size)
        self.batch_size = int(batch_size)
        self.n_interpolations = max(int(n_interpolations), 1)
        self.mean = float(mean)
        self.stddev = float(stddev)
        self.repeat = repeat
        # a finite sampler must emit exactly `repeat` batches in total
        self.generator_shared = repeat is not None
        self._create_queue_and_ops(
            window_shapes={name: self.vector_size for name in self.names},
            window_dtypes={name: tf.float32 for name in self.names},
            batch_size=self.batch_size)

    def _interpolated_vectors(self, rng):
        """An endless stream of vectors interpolated between random points."""
        weights = np.linspace(0.0, 1.0, self.n_interpolations)
        weights = weights.reshape((-1,) + (1,) * len(self.vector_size))
        while True:
            start, end = rng.normal(self.mean, self.stddev,
                                    size=(2,) + self.vector_size)
            for vector in (1.0 - weights) * start + weights * end:
                yield vector.astype(np.float32)

    def layer_op(self):
        """Yield dicts of name -> ``[batch_size] + vector_size`` arrays."""
        rng = np.random.default_rng()
        streams = {name: self._interpolated_vectors(rng) for name in self.names}
        count = 0
        while self.repeat is None or count < self.repeat:
            yield {name: np.stack([next(stream) for _ in range(self.batch_size)])
                   for name, stream in streams.items()}
            count += 1
