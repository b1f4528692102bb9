"""ImageWindow (NiftyNet's window description) and the queue built from it."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from niftydrive.engine.image_window import ImageWindow
from niftydrive.engine.image_window_buffer import InputBatchQueueRunner
from niftydrive.utilities.errors import UserInputError
from niftydrive.utilities.util_common import ParserNamespace

SOURCES = {'image': ('T1', 'T2'), 'label': ('parc',)}
SHAPES = {'image': (60, 50, 40, 1, 2), 'label': (60, 50, 40, 1, 1)}
DTYPES = {'image': tf.float32, 'label': tf.int32}


def sections(t1, t2, parc):
    return {'T1': ParserNamespace(spatial_window_size=t1),
            'T2': ParserNamespace(spatial_window_size=t2),
            'parc': ParserNamespace(spatial_window_size=parc)}


def window(t1=(8, 6, 4), t2=(8, 6, 4), parc=(4, 4, 2)):
    return ImageWindow.from_data_reader_properties(SOURCES, SHAPES, DTYPES,
                                                   sections(t1, t2, parc))


def test_window_shapes_complete_the_spatial_size_with_the_image_axes(graph):
    win = window()
    assert win.names == ('image', 'label')
    assert win.shapes == {'image': (8, 6, 4, 1, 2), 'label': (4, 4, 2, 1, 1)}
    assert win.dtypes == win.tf_dtypes == DTYPES
    assert not win.has_dynamic_shapes
    holders = win.placeholders_dict(5)
    assert set(holders) == {'image', 'label', 'image_location', 'label_location'}
    assert holders['image'].shape.as_list() == [5, 8, 6, 4, 1, 2]
    assert holders['label'].dtype == tf.int32
    assert win.coordinates_placeholder('label').shape.as_list() == [5, 7]
    assert win.coordinates_placeholder('label').dtype == tf.int32
    assert win.image_data_placeholder('image') is holders['image']
    assert win.placeholders_dict(9) is holders        # created once


@pytest.mark.parametrize('sizes,image,label', [
    (((8, 6), (8, 6), 3), (8, 6, None, 1, 2), (3, None, None, 1, 1)),
    (((-1, -1), (-1, -1), -1), (None, None, None, 1, 2), (None, None, None, 1, 1)),
    (((0, 6, 4), (0, 6, 4), (4, 0, 2)), (None, 6, 4, 1, 2), (4, None, 2, 1, 1)),
])
def test_missing_zero_or_negative_axes_are_dynamic(graph, sizes, image, label):
    win = window(*sizes)
    assert win.shapes == {'image': image, 'label': label}
    assert win.has_dynamic_shapes
    win.placeholders_dict(10)                         # dynamic: one window at a time
    assert win.image_data_placeholder('image').shape.as_list() == [1] + list(image)
    assert win.coordinates_placeholder('image').shape.as_list() == [1, 7]
    matched = win.match_image_shapes({'image': (30, 20, 10, 1, 2),
                                      'label': (30, 20, 10, 1, 1)})
    assert matched['image'] == tuple(i if i else s for i, s in zip(image, (30, 20, 10, 1, 2)))
    assert matched['label'] == tuple(i if i else s for i, s in zip(label, (30, 20, 10, 1, 1)))


def test_static_window_matches_any_image_unchanged():
    win = window()
    assert win.match_image_shapes({'image': (9, 9, 9, 1, 2), 'label': (9, 9, 9, 1, 1)}) == \
        win.shapes


def test_set_spatial_shape_resizes_every_input_and_its_placeholders(graph):
    win = window()
    win.placeholders_dict(3)
    win.set_spatial_shape((20, 21, 22))
    assert win.shapes == {'image': (20, 21, 22, 1, 2), 'label': (20, 21, 22, 1, 1)}
    assert win.image_data_placeholder('label').shape.as_list() == [3, 20, 21, 22, 1, 1]
    win.set_spatial_shape((0, 0, 3))                  # NiftyNet: 0 is the whole image
    assert win.shapes['image'] == (None, None, 3, 1, 2)
    assert win.image_data_placeholder('image').shape.as_list() == [1, None, None, 3, 1, 2]
    with pytest.raises(TypeError, match='integers'):
        win.set_spatial_shape(('a', 2, 3))


def test_bad_window_parameters_raise_niftynet_errors_with_clear_messages():
    with pytest.raises(TypeError, match=r'spatial_window_size is not set for input "label"'):
        window(parc=())
    with pytest.raises(UserInputError, match=r'\[parc\]'):   # also one line for net_run
        window(parc=())
    with pytest.raises(TypeError, match=r'\[T1\] spatial_window_size must be integers'):
        window(t1=('big', 3, 3))
    with pytest.raises(UserInputError, match='different spatial_window_size'):
        window(t2=(8, 6, 5))
    with pytest.raises(KeyError) as error:
        ImageWindow.from_data_reader_properties(
            SOURCES, SHAPES, DTYPES, {'T1': ParserNamespace(spatial_window_size=(2, 2, 2))})
    assert 'section [T2]' in str(error.value)
    with pytest.raises(TypeError):
        ImageWindow.from_data_reader_properties(SOURCES, SHAPES, {'image': tf.float32},
                                                sections((2,), (2,), (2,)))
    with pytest.raises(TypeError, match='names'):
        ImageWindow(names=3, shapes={}, dtypes={})
    with pytest.raises(TypeError, match='shape of "v"'):
        ImageWindow(names=('v',), shapes={'v': 10}, dtypes={'v': tf.float32})


def test_placeholders_must_exist_before_they_are_looked_up(graph):
    win = window()
    with pytest.raises(RuntimeError, match='placeholders_dict'):
        win.coordinates_placeholder('image')
    win.placeholders_dict()
    with pytest.raises(KeyError, match='weight'):
        win.image_data_placeholder('weight')


class ListSampler(InputBatchQueueRunner):
    """Enqueues the given items (NiftyNet-style dicts) once each, in order."""

    generator_shared = True

    def __init__(self, win, items, enqueue_size=1, batch_size=1, capacity=10):
        InputBatchQueueRunner.__init__(self, capacity=capacity, shuffle=False)
        self.items = items
        self._create_queue_and_ops(win, enqueue_size=enqueue_size, dequeue_size=batch_size)

    def layer_op(self):
        for item in self.items(self.window) if callable(self.items) else self.items:
            yield item


def run_to_end(sampler, batch=None):
    batch = batch if batch is not None else sampler.pop_batch_op()
    out = []
    with tf.Session() as sess:
        sampler.run_threads(sess, tf.train.Coordinator(), num_threads=1)
        try:
            while True:
                out.append(sess.run(batch))
        except tf.errors.OutOfRangeError:
            pass
        finally:
            sampler.close_all()
    return out


@pytest.mark.parametrize('shape,batched', [
    ((4, 5, 3, 1, 2), [6, 4, 5, 3, 2]),     # 3-D, several modalities: time axis squeezed
    ((4, 5, 1, 1, 1), [6, 4, 5, 1]),        # 2-D: z and time squeezed
    ((1, 5, 3, 1, 2), [6, 5, 3, 2]),        # a slice along x (2.5-D window)
    ((4, 5, 3, 3, 1), [6, 4, 5, 3, 3]),     # a time series of one modality: time -> channels
])
def test_pop_batch_op_has_the_batch_size_and_squeezes_6d_windows(graph, shape, batched):
    win = ImageWindow(['image'], {'image': shape}, {'image': tf.float32})

    def items(window):
        for k in range(12):
            yield {window.image_data_placeholder('image'): np.full((2,) + shape, k, np.float32),
                   window.coordinates_placeholder('image'): np.full((2, 7), k, np.int32)}
    sampler = ListSampler(win, items, enqueue_size=2, batch_size=6)
    batch = sampler.pop_batch_op()
    assert batch['image'].shape.as_list() == batched
    assert batch['image_location'].shape.as_list() == [6, 7]
    assert tf.reshape(batch['image'], [6, -1]).shape.as_list() == [6, int(np.prod(shape))]
    values = run_to_end(sampler, batch)
    real = [b for b in values if np.all(b['image_location'] >= 0)]
    assert [b['image'].shape for b in real] == [tuple(batched)] * 4
    assert [b['image'][:, 0].ravel()[0] for b in real] == [0, 3, 6, 9]


def test_dynamic_windows_of_different_sizes_pass_one_at_a_time(graph):
    win = ImageWindow(['image'], {'image': (None, 4, 1, 1, 1)}, {'image': tf.float32})
    items = [{'image': np.ones((n, 4, 1, 1, 1), np.float32),
              'image_location': np.array([[k, 0, 0, 0, n, 4, 1]], np.int32)}
             for k, n in enumerate((3, 5, 2))]
    sampler = ListSampler(win, items, enqueue_size=4, batch_size=4)
    batch = sampler.pop_batch_op()
    assert batch['image'].shape.as_list() == [1, None, 4, 1]
    values = run_to_end(sampler, batch)
    assert [b['image'].shape for b in values[:3]] == [(1, 3, 4, 1), (1, 5, 4, 1), (1, 2, 4, 1)]
    assert all(np.all(b['image_location'] == -1) for b in values[3:])


def test_the_stopping_signal_fills_the_last_batch_then_the_queue_closes(graph):
    win = ImageWindow(['v'], {'v': (2,)}, {'v': tf.float32})
    items = [{'v': np.array([k, k], np.float32), 'v_location': np.full(7, k, np.int32)}
             for k in range(5)]
    values = run_to_end(ListSampler(win, items, batch_size=4, capacity=6))
    assert values[0]['v'][:, 0].tolist() == [0, 1, 2, 3]
    assert values[1]['v'][:, 0].tolist() == [4, -1, -1, -1]
    assert values[1]['v_location'][1:].tolist() == [[-1] * 7] * 3
    assert len(values) >= 2 and all(np.all(b['v'] == -1) for b in values[2:])


def thread_error(sampler):
    """The error a sampler thread handed to the coordinator (the dequeue fails at once)."""
    batch = sampler.pop_batch_op()
    coord = tf.train.Coordinator()
    with tf.Session() as sess:
        sampler.run_threads(sess, coord)
        try:
            with pytest.raises((tf.errors.OutOfRangeError, tf.errors.CancelledError)):
                sess.run(batch)
            with pytest.raises(Exception) as error:
                coord.raise_requested_exception()
        finally:
            sampler.close_all()
    return error.value


def test_an_item_that_does_not_fit_the_window_is_reported(graph):
    win = ImageWindow(['v'], {'v': (2,)}, {'v': tf.float32})
    bad = [{'v': np.zeros((3,), np.float32), 'v_location': np.zeros(7, np.int32)}]
    error = thread_error(ListSampler(win, bad))
    assert isinstance(error, ValueError)
    assert 'input "v" has shape (1, 3), expected' in str(error)
    error = thread_error(ListSampler(win, [{'v': np.zeros(2, np.float32)}]))
    assert "did not produce inputs ['v_location']" in str(error)


def test_create_queue_needs_an_image_window(graph):
    with pytest.raises(TypeError, match='ImageWindow'):
        ListSampler({'v': (2,)}, [])
