"""UniformSampler and GridSampler built as NiftyNet 0.3 built them, on real files."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from niftydrive.contrib.demo_data import write_nifti
from niftydrive.engine.sampler_grid import GridSampler, _enumerate_step_points, \
    grid_spatial_coordinates
from niftydrive.engine.sampler_uniform import UniformSampler, rand_spatial_coordinates
from niftydrive.io.image_reader import ImageReader
from niftydrive.utilities.util_common import ParserNamespace

VOLUME = (12, 10, 8)
PICTURE = (12, 10)


def section(window):
    return ParserNamespace(interp_order=1, pixdim=None, axcodes=None,
                           spatial_window_size=window)


@pytest.fixture
def files(tmp_path):
    """Two subjects with T1 and T2 volumes and a 2-D picture; voxels are their index."""
    rows = []
    for index in range(2):
        row = {'subject_id': 'sub{}'.format(index)}
        for name, shape in (('T1', VOLUME), ('T2', VOLUME), ('US', PICTURE)):
            data = np.arange(np.prod(shape), dtype=np.float32).reshape(shape) + 1000 * index
            row[name] = write_nifti(str(tmp_path / 'sub{}_{}.nii.gz'.format(index, name)),
                                    data, np.eye(4))
        rows.append(row)
    return rows


def volume_reader(rows, window):
    data_param = {'T1': section(window), 'T2': section(window)}
    reader = ImageReader(['image']).initialise(
        data_param, ParserNamespace(image=('T1', 'T2')), rows)
    return reader, data_param


def picture_reader(rows, window):
    data_param = {'US': section(window)}
    reader = ImageReader(['image']).initialise(data_param, ParserNamespace(image=('US',)),
                                               rows)
    return reader, data_param


def first_batch(sampler, threads=2):
    batch = sampler.pop_batch_op()
    with tf.Session() as sess:
        sampler.run_threads(sess, tf.train.Coordinator(), num_threads=threads)
        try:
            return sess.run(batch)
        finally:
            sampler.close_all()


def test_uniform_3d_multimodal_windows(graph, files):
    reader, data_param = volume_reader(files, (7, 8, 2))
    sampler = UniformSampler(reader=reader, data_param=data_param, batch_size=2,
                             windows_per_image=10, queue_length=10)
    out = first_batch(sampler)
    assert out['image'].shape == (2, 7, 8, 2, 2)
    for window, loc in zip(out['image'], out['image_location']):
        idx, (x, y, z) = loc[0], loc[1:4]
        assert np.array_equal(loc[4:] - loc[1:4], (7, 8, 2))
        data = reader(idx=int(idx))[1]['image']
        assert np.array_equal(window, data[x:x + 7, y:y + 8, z:z + 2, 0, :])


def test_uniform_2d_windows(graph, files):
    reader, data_param = picture_reader(files, (10, 9, 1))
    sampler = UniformSampler(reader=reader, data_param=data_param, batch_size=2,
                             windows_per_image=10, queue_length=10)
    assert first_batch(sampler)['image'].shape == (2, 10, 9, 1)


def test_uniform_dynamic_window_takes_the_rest_of_the_image(graph, files):
    reader, data_param = volume_reader(files, (8, 2))
    sampler = UniformSampler(reader=reader, data_param=data_param, batch_size=2,
                             windows_per_image=10, queue_length=10)
    assert first_batch(sampler)['image'].shape == (1, 8, 2, 8, 2)


def test_sections_missing_from_data_param_are_a_key_error(graph, files):
    reader, _ = volume_reader(files, (4, 4, 4))
    _, other = picture_reader(files, (4, 4, 1))
    with pytest.raises(KeyError):
        UniformSampler(reader=reader, data_param=other, batch_size=2, windows_per_image=1)
    with pytest.raises(KeyError):
        GridSampler(reader=reader, data_param=other, batch_size=2)


def test_a_sampler_closed_before_it_ran_is_fine(graph, files):
    reader, data_param = volume_reader(files, (4, 4, 4))
    UniformSampler(reader=reader, data_param=data_param, batch_size=2).close_all()


def test_rand_spatial_coordinates_are_concentric_and_reach_every_position():
    np.random.seed(0)
    coords = rand_spatial_coordinates(
        subject_id=3, data=None,
        img_sizes={'image': (9, 10, 11, 1, 2), 'label': (9, 10, 11, 1, 1)},
        win_sizes={'image': (8, 10, 5, 1, 2), 'label': (4, 6, 5, 1, 1)}, n_samples=300)
    image, label = coords['image'], coords['label']
    assert image.shape == label.shape == (300, 7) and image.dtype == np.int32
    assert np.all(image[:, 0] == 3)
    assert np.array_equal(image[:, 4:] - image[:, 1:4], np.tile([8, 10, 5], (300, 1)))
    assert np.array_equal(label[:, 1:4], image[:, 1:4] + [2, 2, 0])     # centred
    assert set(image[:, 1]) == {0, 1}            # the last position too (NiftyNet missed it)
    assert set(image[:, 2]) == {0}
    assert set(image[:, 3]) == set(range(7))
    with pytest.raises(NotImplementedError):
        rand_spatial_coordinates(0, None, {'a': (4, 4, 4), 'b': (5, 4, 4)},
                                 {'a': (2, 2, 2), 'b': (2, 2, 2)}, 1)


def test_grid_3d_and_2_5d_and_dynamic_windows(graph, files):
    reader, data_param = volume_reader(files, (8, 10, 2))
    sampler = GridSampler(reader=reader, data_param=data_param, batch_size=10,
                          spatial_window_size=None, window_border=(0, 0, 0),
                          queue_length=10)
    assert first_batch(sampler)['image'].shape == (10, 8, 10, 2, 2)
    sampler = GridSampler(reader=reader, data_param=data_param, batch_size=10,
                          spatial_window_size=(1, 6, 5), window_border=(0, 0, 0))
    assert first_batch(sampler)['image'].shape == (10, 6, 5, 2)
    reader, data_param = volume_reader(files, (8, 2))
    sampler = GridSampler(reader=reader, data_param=data_param, batch_size=10)
    assert first_batch(sampler, threads=1)['image'].shape == (1, 8, 2, 8, 2)


def test_grid_sampler_visits_every_window_once_then_signals_the_end(graph, files):
    reader, data_param = picture_reader(files, (10, 9, 1))
    sampler = GridSampler(reader=reader, data_param=data_param, batch_size=3,
                          window_border=(2, 2, 0))
    batch = sampler.pop_batch_op()
    rows = []
    with tf.Session() as sess:
        sampler.run_threads(sess, tf.train.Coordinator(), num_threads=2)
        try:
            while True:
                rows.extend(sess.run(batch)['image_location'].tolist())
        except tf.errors.OutOfRangeError:
            pass
        finally:
            sampler.close_all()
    real = sorted(tuple(r) for r in rows if min(r) >= 0)
    # x: steps of 10 - 4 = 6 from 0 while the window fits in 12 -> 0, then the end, 2
    # y: steps of 9 - 4 = 5 -> 0, then the end, 1
    expected = sorted((s, x, y, 0, x + 10, y + 9, 1) for s in (0, 1)
                      for x in (0, 2) for y in (0, 1))
    assert real == expected
    assert rows[len(real):] and all(min(r) == max(r) == -1 for r in rows[len(real):])


def test_grid_spatial_coordinates_in_niftynet_order():
    coords = grid_spatial_coordinates(
        subject_id=5, img_sizes={'image': (7, 5, 3, 1, 1)},
        win_sizes={'image': (4, 5, 2, 1, 1)}, border_size=(1, 0, 0))
    starts = [(0, 0, 0), (0, 0, 1), (2, 0, 0), (2, 0, 1), (3, 0, 0), (3, 0, 1)]
    expected = [(5,) + s + (s[0] + 4, s[1] + 5, s[2] + 2) for s in starts]
    assert coords['image'].tolist() == [list(row) for row in expected]
    assert coords['image'].dtype == np.int32
    negative = grid_spatial_coordinates(5, {'image': (7, 5, 3)}, {'image': (4, 5, 2)},
                                        (-1, -1, -1))
    zero = grid_spatial_coordinates(5, {'image': (7, 5, 3)}, {'image': (4, 5, 2)}, (0, 0, 0))
    assert np.array_equal(negative['image'], zero['image'])
    with pytest.raises(AssertionError, match='greater than the image'):
        grid_spatial_coordinates(5, {'image': (7, 5, 3)}, {'image': (8, 5, 2)}, (0, 0, 0))


@pytest.mark.parametrize('args,points', [
    ((0, 9, 3, 2), [0, 2, 4, 6]),
    ((0, 9, 3, 4), [0, 4, 6]),
    ((5, 0, 2, 1), [0, 1, 2, 3]),        # ends swapped
    ((0, 3, 5, 1), [0]),                 # window longer than the range
    ((0, 6, 0, 0), [0, 1, 2, 3, 4, 5]),  # lengths below one count as one
])
def test_enumerate_step_points(args, points):
    assert _enumerate_step_points(*args).tolist() == points


def test_enumerate_step_points_needs_integers():
    with pytest.raises(ValueError, match='integers'):
        _enumerate_step_points('start', 0, 0, 10)
