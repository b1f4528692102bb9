"""Window samplers and the grid aggregator on small volumes, through real TF queues."""
import csv
import os

import nibabel as nib
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from niftydrive.contrib.demo_data import write_nifti
from niftydrive.engine.sampler_grid import GridSampler, grid_spatial_coordinates
from niftydrive.engine.sampler_uniform import UniformSampler
from niftydrive.engine.windows_aggregator_grid import GridSamplesAggregator
from niftydrive.io.image_reader import ImageReader
from niftydrive.utilities.errors import UserInputError
from niftydrive.utilities.util_common import ParserNamespace

PLS_AFFINE = np.array([[0., -1.5, 0., 10.], [-1.5, 0., 0., 20.], [0., 0., 2., -5.], [0., 0., 0., 1.]])


def make_reader(tmp_path, shape=(9, 7, 5), affine=PLS_AFFINE, axcodes=('R', 'A', 'S'), n=2,
                padding=None):
    """A reader of ``n`` subjects whose image voxels are their own flat index."""
    rows = []
    for index in range(n):
        data = np.arange(np.prod(shape), dtype=np.float32).reshape(shape) + 1000 * index
        path = write_nifti(str(tmp_path / 's{}_img.nii.gz'.format(index)), data, affine)
        rows.append({'subject_id': 's{}'.format(index), 'img': path})
    data_param = {'img': ParserNamespace(axcodes=axcodes, pixdim=(), interp_order=0)}
    reader = ImageReader(['image']).initialise(data_param, ParserNamespace(image=('img',)), rows)
    reader.set_preprocessing(padding=padding)
    return reader


def window_param(size):
    """The input section parameters giving windows of ``size``."""
    return {'img': ParserNamespace(spatial_window_size=tuple(size))}


def drain(sampler, max_batches=1000):
    """Run the sampler's threads and dequeue until the queue ends."""
    batch_op = sampler.pop_batch_op()
    batches = []
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        sampler.run_threads(sess, coord, num_threads=1)
        try:
            for _ in range(max_batches):
                batches.append(sess.run(batch_op))
                if np.any(batches[-1]['image_location'] < 0):
                    break     # the stopping signal
        except tf.errors.OutOfRangeError:
            pass
        finally:
            sampler.close_all()
    return batches


def test_uniform_windows_lie_inside_the_volume_and_hold_its_voxels(tmp_path, graph):
    reader = make_reader(tmp_path)
    sampler = UniformSampler(reader, window_param((4, 3, 2)), batch_size=5,
                             windows_per_image=3, queue_length=10)
    batch_op = sampler.pop_batch_op()
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        sampler.run_threads(sess, coord, num_threads=2)
        try:
            batches = [sess.run(batch_op) for _ in range(6)]
        finally:
            sampler.close_all()
    for batch in batches:
        assert batch['image'].shape == (5, 4, 3, 2, 1)
        for window, loc in zip(batch['image'], batch['image_location']):
            idx, start, end = loc[0], loc[1:4], loc[4:]
            assert np.all(start >= 0) and np.all(end <= reader.spatial_shape(idx))
            assert np.array_equal(end - start, (4, 3, 2))
            volume = reader.get_subject(idx)['image']
            assert np.array_equal(window, volume[start[0]:end[0], start[1]:end[1], start[2]:end[2]])


def test_uniform_window_larger_than_image_is_zero_padded(tmp_path, graph):
    reader = make_reader(tmp_path, shape=(3, 4, 5), n=1, axcodes=())
    sampler = UniformSampler(reader, window_param((5, 4, 5)), batch_size=1,
                             windows_per_image=1)
    batch = drain_n(sampler, 1)[0]
    window = batch['image'][0, ..., 0]
    assert batch['image_location'][0].tolist() == [0, 0, 0, 0, 5, 4, 5]
    assert np.all(window[3:] == 0)
    assert np.array_equal(window[:3], reader.get_subject(0)['image'][..., 0])


def drain_n(sampler, count):
    batch_op = sampler.pop_batch_op()
    with tf.Session() as sess:
        sampler.run_threads(sess, tf.train.Coordinator(), num_threads=1)
        try:
            return [sess.run(batch_op) for _ in range(count)]
        finally:
            sampler.close_all()


@pytest.mark.parametrize('shape,window,border', [
    ((9, 7, 5), (4, 4, 3), (1, 1, 1)),
    ((10, 10, 1), (4, 6, 1), (0, 2, 0)),
    ((20, 9, 8), (8, 9, 4), (2, 0, 1)),
])
def test_grid_centres_cover_the_inside_of_the_image(shape, window, border):
    """With the border cropped from each window, the centres tile [border, end - border)."""
    hits = np.zeros(shape, dtype=int)
    rows = grid_spatial_coordinates(3, {'image': shape + (1,)}, {'image': window},
                                    border)['image']
    assert np.all(rows[:, 0] == 3)
    assert np.all(rows[:, 1:4] >= 0) and np.all(rows[:, 4:] <= shape)
    for row in rows:
        lo = [s + b if n > 1 else 0 for s, b, n in zip(row[1:4], border, shape)]
        hi = [e - b if n > 1 else 1 for e, b, n in zip(row[4:], border, shape)]
        hits[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]] += 1
    inside = tuple(slice(b, n - b) if n > 1 else slice(None) for b, n in zip(border, shape))
    assert hits[inside].min() >= 1


@pytest.mark.parametrize('window,border,padding', [
    ((4, 3, 2), (0, 0, 0), None),
    ((5, 4, 3), (1, 1, 1), None),
    ((4, 4, 4), (1, 0, 1), (2, 2, 2)),
    ((16, 16, 16), (2, 2, 2), None),     # window larger than the image: padded
])
def test_grid_sampler_and_aggregator_round_trip_exactly(tmp_path, graph, window, border,
                                                        padding):
    reader = make_reader(tmp_path, padding=padding, n=3)
    sampler = GridSampler(reader, window_param(window), batch_size=4, window_border=border,
                          queue_length=8)
    aggregator = GridSamplesAggregator(reader, output_path=str(tmp_path / 'out'),
                                       window_border=border, interp_order=0, prefix='_out',
                                       is_label=False)
    going = True
    for batch in drain(sampler):
        assert going
        going = aggregator.decode_batch(batch['image'], batch['image_location'])
    assert going is False
    with open(str(tmp_path / 'out' / 'inferred.csv')) as handle:
        rows = list(csv.reader(handle))
    assert [r[0] for r in rows] == ['s0', 's1', 's2']
    for index, (subject_id, path) in enumerate(rows):
        original = nib.load(str(tmp_path / 's{}_img.nii.gz'.format(index)))
        written = nib.load(path)
        assert np.allclose(written.affine, original.affine)
        assert np.array_equal(written.get_fdata(), original.get_fdata())


def test_aggregator_accepts_outputs_smaller_than_the_window(tmp_path, graph):
    """A valid-convolution network's output is centred in its input window.

    The image edges lie outside every output, so the volume is padded by
    the voxels the network loses (as NiftyNet users did).
    """
    reader = make_reader(tmp_path, n=1, axcodes=(), padding=(1, 1, 1))
    sampler = GridSampler(reader, window_param((6, 6, 5)), batch_size=2,
                          window_border=(1, 1, 1))
    aggregator = GridSamplesAggregator(reader, output_path=str(tmp_path / 'o'),
                                       window_border=(1, 1, 1), is_label=False)
    for batch in drain(sampler):
        aggregator.decode_batch(batch['image'][:, 1:-1, 1:-1, 1:-1], batch['image_location'])
    out = nib.load(aggregator.saved[0][1]).get_fdata()
    assert np.array_equal(out, nib.load(str(tmp_path / 's0_img.nii.gz')).get_fdata())


def test_a_file_failing_in_a_sampler_thread_reaches_the_user(tmp_path, graph):
    """Voxels read lazily (cache full) and corrupt: the error ends the dequeue, no hang."""
    import gzip
    reader = make_reader(tmp_path, n=1, axcodes=())
    with gzip.open(reader.file_list[0]['img'], 'rb') as handle:
        raw = handle.read()
    with gzip.open(reader.file_list[0]['img'], 'wb') as handle:
        handle.write(raw[:len(raw) - 40])
    reader.subjects[0]['image'][0]._image = None
    reader._cache.clear()
    sampler = UniformSampler(reader, window_param((2, 2, 2)), batch_size=1)
    batch_op = sampler.pop_batch_op()
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        sampler.run_threads(sess, coord, num_threads=2)
        try:
            with pytest.raises((tf.errors.CancelledError, tf.errors.OutOfRangeError)):
                sess.run(batch_op)
            with pytest.raises(UserInputError, match=r's0_img.nii.gz \(subject s0\)'):
                coord.raise_requested_exception()
        finally:
            sampler.close_all()


def test_aggregator_writes_original_label_values_and_probabilities(tmp_path, graph):
    from niftydrive.io.image_reader import LabelMapping
    reader = make_reader(tmp_path, n=1)
    sampler = GridSampler(reader, window_param((4, 4, 4)), batch_size=3,
                          window_border=(1, 1, 1))
    labels = GridSamplesAggregator(reader, output_path=str(tmp_path / 'lab'),
                                   window_border=(1, 1, 1),
                                   label_mapping=LabelMapping([0, 10, 255]), is_label=True)
    probs = GridSamplesAggregator(reader, output_path=str(tmp_path / 'prob'),
                                  window_border=(1, 1, 1), is_label=False)
    for batch in drain(sampler):
        index = np.mod(batch['image'], 3).astype(np.int32)        # "classes" 0..2
        labels.decode_batch(index, batch['image_location'])
        probs.decode_batch(np.concatenate([index, 2 * index], -1), batch['image_location'])
    original = nib.load(str(tmp_path / 's0_img.nii.gz')).get_fdata()
    written = nib.load(labels.saved[0][1])
    assert written.get_data_dtype() == np.int32
    assert np.array_equal(written.get_fdata(), np.array([0, 10, 255])[np.mod(original, 3).astype(int)])
    prob = nib.load(probs.saved[0][1])
    assert prob.shape == original.shape + (1, 2)
    assert np.array_equal(prob.get_fdata()[..., 0, 1], 2 * np.mod(original, 3))
