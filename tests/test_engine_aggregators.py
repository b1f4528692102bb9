"""ImageWindowsAggregator (the base of every aggregator) and GridSamplesAggregator on 2-D data."""
import csv

import nibabel as nib
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from niftydrive.contrib.demo_data import write_nifti
from niftydrive.engine.sampler_grid import GridSampler
from niftydrive.engine.windows_aggregator_base import ImageWindowsAggregator
from niftydrive.engine.windows_aggregator_grid import GridSamplesAggregator
from niftydrive.io.image_reader import ImageReader
from niftydrive.utilities.util_common import ParserNamespace


def reader_of(tmp_path, shapes, window):
    rows = []
    for index, shape in enumerate(shapes):
        data = np.arange(np.prod(shape), dtype=np.float32).reshape(shape) + 100 * index
        path = write_nifti(str(tmp_path / 'p{}.nii.gz'.format(index)), data, np.eye(4))
        rows.append({'subject_id': 'p{}'.format(index), 'img': path})
    data_param = {'img': ParserNamespace(interp_order=0, pixdim=None, axcodes=None,
                                         spatial_window_size=window)}
    reader = ImageReader(['image']).initialise(data_param, ParserNamespace(image=('img',)),
                                               rows)
    return reader, data_param


def test_crop_batch_removes_the_border_and_moves_the_corners():
    window = np.arange(2 * 6 * 6 * 4 * 1).reshape((2, 6, 6, 4, 1))
    location = np.array([[0, 0, 0, 0, 6, 6, 4], [0, 4, 4, 0, 10, 10, 4]])
    cropped, moved = ImageWindowsAggregator.crop_batch(window, location, (1, 2, 0))
    assert cropped.shape == (2, 4, 2, 4, 1)
    assert np.array_equal(cropped, window[:, 1:5, 2:4, :, :])
    assert moved.tolist() == [[0, 1, 2, 0, 5, 4, 4], [0, 5, 6, 0, 9, 8, 4]]
    same, unmoved = ImageWindowsAggregator.crop_batch(window, location, ())
    assert same is window and unmoved is location
    # a network output smaller than the window: the centre is kept
    small, _ = ImageWindowsAggregator.crop_batch(window[:, 1:5, 1:5], location, (2, 2, 0))
    assert np.array_equal(small, window[:, 2:4, 2:4])
    with pytest.raises(ValueError, match='larger border'):
        ImageWindowsAggregator.crop_batch(window[:, 2:4, 2:4], location, (1, 1, 0))


def test_crop_batch_of_2d_windows_and_of_a_stopping_signal():
    window = np.ones((1, 6, 6, 3))
    cropped, moved = ImageWindowsAggregator.crop_batch(
        window, np.array([[2, 0, 0, 0, 6, 6, 1]]), (1, 1, 0))
    assert cropped.shape == (1, 4, 4, 1, 3)
    assert moved.tolist() == [[2, 1, 1, 0, 5, 5, 1]]
    stop = np.full((1, 7), -1)
    same, _ = ImageWindowsAggregator.crop_batch(window, stop, (1, 1, 1))
    assert same is window
    assert ImageWindowsAggregator._is_stopping_signal(stop[0])
    assert not ImageWindowsAggregator._is_stopping_signal(np.zeros(7))


def test_base_aggregator_logs_outputs_and_knows_its_image(tmp_path):
    reader, _ = reader_of(tmp_path, [(5, 4, 3), (5, 4, 3)], (2, 2, 2))
    (tmp_path / 'out').mkdir()
    (tmp_path / 'out' / 'inferred.csv').write_text('old,run\n')
    aggregator = ImageWindowsAggregator(image_reader=reader, output_path=str(tmp_path / 'out'))
    assert aggregator.image_id is None and aggregator.input_image is None
    aggregator.image_id = np.int32(1)
    assert aggregator.image_id == 1
    assert aggregator.input_image is reader.output_list[1]
    with pytest.raises(ValueError, match='integer'):
        aggregator.image_id = 'p1'
    with pytest.raises(NotImplementedError):
        aggregator.decode_batch(np.zeros((1, 2, 2, 2, 1)), np.zeros((1, 7)))
    aggregator.log_inferred('p0', 'p0_out.nii.gz')
    aggregator.log_inferred('p1', 'p1_out.nii.gz')
    with open(str(tmp_path / 'out' / 'inferred.csv')) as handle:
        assert list(csv.reader(handle)) == [
            ['p0', str(tmp_path / 'out' / 'p0_out.nii.gz')],
            ['p1', str(tmp_path / 'out' / 'p1_out.nii.gz')]]


class Doubler(ImageWindowsAggregator):
    """A user's aggregator: keeps twice every window's first voxel until the end."""

    def __init__(self, reader):
        ImageWindowsAggregator.__init__(self, image_reader=reader)
        self.values = []

    def decode_batch(self, window, location):
        for item, loc in zip(window, location):
            if self._is_stopping_signal(loc):
                return False
            self.image_id = loc[0]
            self.values.append(2 * item.flat[0])
        return True


def test_a_subclassed_aggregator_ends_at_the_stopping_signal(tmp_path, graph):
    reader, data_param = reader_of(tmp_path, [(4, 4, 2), (4, 4, 2)], (2, 4, 2))
    sampler = GridSampler(reader, data_param, batch_size=3)
    doubler = Doubler(reader)
    batch = sampler.pop_batch_op()
    batches = 0
    with tf.Session() as sess:
        sampler.run_threads(sess, tf.train.Coordinator(), 1)
        try:
            while True:
                out = sess.run(batch)
                batches += 1
                if not doubler.decode_batch(out['image'], out['image_location']):
                    break
        finally:
            sampler.close_all()
    assert batches == 2                  # 4 windows, then the stop rows fill batch 2
    assert doubler.values == [0, 32, 200, 232]    # 2 x voxel (0|2, 0, 0) of each image
    assert doubler.image_id == 1


def test_grid_aggregator_writes_2d_images_exactly(tmp_path, graph):
    reader, data_param = reader_of(tmp_path, [(9, 7), (6, 8)], (4, 4, 1))
    sampler = GridSampler(reader, data_param, batch_size=4, window_border=(1, 1, 0))
    aggregator = GridSamplesAggregator(reader, name='image',
                                       output_path=str(tmp_path / 'out'),
                                       window_border=(1, 1, 0), interp_order=0,
                                       prefix='_seg', is_label=False)
    batch = sampler.pop_batch_op()
    assert batch['image'].shape.as_list() == [4, 4, 4, 1]     # 2-D: [batch, x, y, channels]
    with tf.Session() as sess:
        sampler.run_threads(sess, tf.train.Coordinator(), 2)
        try:
            while aggregator.decode_batch(*sess.run([batch['image'],
                                                     batch['image_location']])):
                pass
        finally:
            sampler.close_all()
    assert [subject for subject, _ in aggregator.saved] == ['p0', 'p1']
    for index in range(2):
        written = nib.load(str(tmp_path / 'out' / 'p{}_seg.nii.gz'.format(index)))
        original = nib.load(str(tmp_path / 'p{}.nii.gz'.format(index)))
        assert written.shape == original.shape
        assert np.array_equal(written.get_fdata(), original.get_fdata())
