"""InputBatchQueueRunner and RandomVectorSampler with real queues and threads."""
import threading
import time

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from niftydrive.engine.sampler_random_vector import RandomVectorSampler
from engine_test_apps import CountingSampler


def test_random_vectors_finite_repeat_then_stopping_signal_then_out_of_range(graph):
    sampler = RandomVectorSampler(names=('a', 'b'), vector_size=(5,), batch_size=4,
                                  n_interpolations=4, mean=10.0, stddev=0.1,
                                  repeat=3, queue_length=5)
    batch = sampler.pop_batch_op()
    assert batch['a'].shape.as_list() == [4, 5]           # batch dimension fixed
    assert batch['a_location'].shape.as_list() == [4, 7]
    coord = tf.train.Coordinator()
    with tf.Session() as sess:
        sampler.run_threads(sess, coord, num_threads=2)
        values = [sess.run(batch) for _ in range(3)]      # 3 runs of 4 vectors
        stops = 0
        with pytest.raises(tf.errors.OutOfRangeError):
            for _ in range(100):
                stop = sess.run(batch)
                assert np.all(stop['a'] == -1) and np.all(stop['a_location'] == -1)
                stops += 1
        sampler.close_all()
    assert stops >= 1
    for value in values:
        assert value['a'].shape == (4, 5)
        assert np.all(value['a_location'] == 1)
        assert np.abs(value['a'].mean() - 10.0) < 0.5
        assert not np.allclose(value['a'], value['b'])
        # four evenly spaced points on a line: constant differences
        steps = np.diff(value['a'], axis=0)
        assert np.allclose(steps, steps[0], atol=1e-5)


def test_random_vector_sampler_checks_argument_types(graph):
    with pytest.raises(TypeError, match='vector_size'):
        RandomVectorSampler(names=('v',), vector_size=10, batch_size=2)
    with pytest.raises(TypeError, match='names'):
        RandomVectorSampler(names=0, vector_size=(10,), batch_size=2)


def test_reshape_to_batch_size_works_on_a_popped_batch(graph):
    """NiftyNet code such as ``tf.reshape(x, [batch_size, -1])`` needs a known batch."""
    sampler = RandomVectorSampler(names=('v',), vector_size=(3, 2), batch_size=6,
                                  n_interpolations=3, repeat=None)
    flat = tf.reshape(sampler.pop_batch_op()['v'], [6, -1])
    assert flat.shape.as_list() == [6, 6]
    with tf.Session() as sess:
        sampler.run_threads(sess, tf.train.Coordinator(), num_threads=1)
        try:
            assert sess.run(flat).shape == (6, 6)
        finally:
            sampler.close_all()


def test_infinite_sampler_stops_on_close(graph):
    sampler = RandomVectorSampler(vector_size=(3,), batch_size=2, repeat=None)
    batch = sampler.pop_batch_op()
    coord = tf.train.Coordinator()
    with tf.Session() as sess:
        sampler.run_threads(sess, coord, num_threads=3)
        for _ in range(20):
            assert sess.run(batch)['vectors'].shape == (2, 3)
        sampler.close_all()
    assert not [t for t in threading.enumerate() if t.name.startswith('RandomVector')]


def test_windows_emitted_once_across_threads(graph):
    sampler = CountingSampler(batch_size=3, limit=10)
    batch = sampler.pop_batch_op()['x']
    coord = tf.train.Coordinator()
    seen = []
    with tf.Session() as sess:
        sampler.run_threads(sess, coord, num_threads=4)
        while True:
            try:
                seen.extend(sess.run(batch)[:, 0].tolist())
            except tf.errors.OutOfRangeError:
                break
        sampler.close_all()
    real = [k for k in seen if k != -1]
    assert sorted(real) == list(range(1, 11))  # none lost, none repeated
    assert len(seen) % 3 == 0 and seen[len(real):] == [-1] * (len(seen) - len(real))


def test_thread_error_unblocks_dequeue_and_is_reraised(graph):
    sampler = CountingSampler(batch_size=4, fail_at=1)
    batch = sampler.pop_batch_op()['x']
    coord = tf.train.Coordinator()
    with tf.Session() as sess:
        sampler.run_threads(sess, coord)
        start = time.time()
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(batch)  # would wait forever on a queue nobody fills
        assert time.time() - start < 1.0
        with pytest.raises(IOError, match="window 1"):
            coord.raise_requested_exception()
        sampler.close_all()


def test_wrong_window_shape_is_reported(graph):
    class BadSampler(CountingSampler):
        def layer_op(self):
            yield {'x': np.zeros((3, 3), dtype=np.float32)}

    sampler = BadSampler(batch_size=1)
    batch = sampler.pop_batch_op()['x']
    coord = tf.train.Coordinator()
    with tf.Session() as sess:
        sampler.run_threads(sess, coord)
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(batch)
        with pytest.raises(ValueError, match=r'input "x" has shape \(3, 3\)'):
            coord.raise_requested_exception()
        sampler.close_all()
