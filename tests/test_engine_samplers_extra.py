"""Weighted, balanced, resize and linear-interpolation samplers and the resize,
identity and classifier aggregators, on small volumes through real TF queues."""
import csv

import nibabel as nib
import numpy as np
import pytest
from scipy.stats import chisquare

from niftydrive.contrib.demo_data import write_nifti
from niftydrive.engine.sampler_balanced import BalancedSampler, balanced_spatial_coordinates
from niftydrive.engine.sampler_linear_interpolate import LinearInterpolateSampler
from niftydrive.engine.sampler_resize import ResizeSampler
from niftydrive.engine.sampler_weighted import WeightedSampler, weighted_spatial_coordinates
from niftydrive.engine.windows_aggregator_classifier import ClassifierSamplesAggregator
from niftydrive.engine.windows_aggregator_identity import WindowAsImageAggregator
from niftydrive.engine.windows_aggregator_resize import ResizeSamplesAggregator
from niftydrive.io.image_reader import ImageReader
from niftydrive.utilities.errors import UserInputError
from niftydrive.utilities.util_common import ParserNamespace
from test_seg_sampling import PLS_AFFINE, drain


def reader_of(tmp_path, images, priors=None, affine=PLS_AFFINE, window=(3, 3, 1)):
    """A reader of subjects ``images`` (arrays) with optional ``sampler`` maps."""
    rows = []
    for index, image in enumerate(images):
        row = {'subject_id': 's{}'.format(index),
               'img': write_nifti(str(tmp_path / 's{}_img.nii.gz'.format(index)), image, affine)}
        if priors is not None:
            row['map'] = write_nifti(str(tmp_path / 's{}_map.nii.gz'.format(index)),
                                     priors[index], affine)
        rows.append(row)
    section = ParserNamespace(axcodes=(), pixdim=(), interp_order=0, spatial_window_size=window)
    data_param = {'img': section}
    task = ParserNamespace(image=('img',))
    if priors is not None:
        data_param['map'] = section
        task = ParserNamespace(image=('img',), sampler=('map',))
    reader = ImageReader(None).initialise(data_param, task, rows)
    return reader, data_param


def sizes(shape, window):
    return {'image': tuple(shape) + (1, 1)}, {'image': tuple(window) + (1, 1)}


# -------------------------------------------------------------- weighted
def test_weighted_centres_follow_the_prior():
    prior = np.zeros((12, 1, 1))
    prior[2:8, 0, 0] = [1, 2, 3, 4, 0, 6]
    img_sizes, win_sizes = sizes(prior.shape, (1, 1, 1))
    rows = weighted_spatial_coordinates(7, {'sampler': prior}, img_sizes, win_sizes,
                                        n_samples=4000)['image']
    assert np.all(rows[:, 0] == 7) and np.all(rows[:, 4:] - rows[:, 1:4] == 1)
    counts = np.bincount(rows[:, 1], minlength=12)
    assert counts[6] == 0 and counts[:2].sum() == 0 and counts[8:].sum() == 0
    expected = 4000 * np.array([1, 2, 3, 4, 6]) / 16.0
    assert chisquare(counts[[2, 3, 4, 5, 7]], expected).pvalue > 0.001


def test_weighted_windows_stay_inside_and_ignore_prior_where_they_cannot_fit():
    prior = np.ones((10, 6, 1))
    prior[0, 0, 0] = 1e6          # a centre there would put the window outside
    img_sizes, win_sizes = sizes(prior.shape, (4, 3, 1))
    rows = weighted_spatial_coordinates(0, {'sampler': prior}, img_sizes, win_sizes,
                                        n_samples=500)['image']
    assert rows[:, 1:4].min() >= 0
    assert np.all(rows[:, 4:] <= np.array([10, 6, 1]))
    assert len(set(map(tuple, rows[:, 1:3]))) > 10   # spread, not stuck on the huge value


def test_weighted_prior_without_mass_or_missing_is_named():
    img_sizes, win_sizes = sizes((5, 5, 1), (1, 1, 1))
    with pytest.raises(UserInputError, match='sampling prior'):
        weighted_spatial_coordinates(0, {'sampler': np.zeros((5, 5, 1))}, img_sizes, win_sizes)
    with pytest.raises(UserInputError, match='sampler = <input section>'):
        weighted_spatial_coordinates(0, {'image': np.zeros((5, 5, 1))}, img_sizes, win_sizes)


def test_weighted_sampler_windows_are_centred_on_the_only_weighted_voxel(tmp_path, graph):
    image = np.arange(9 * 7, dtype=np.float32).reshape(9, 7, 1)
    prior = np.zeros((9, 7, 1), dtype=np.float32)
    prior[5, 2, 0] = 1.0
    reader, data_param = reader_of(tmp_path, [image], [prior])
    sampler = WeightedSampler(reader, data_param, batch_size=4, windows_per_image=2)
    batches = drain(sampler, max_batches=3)
    for batch in batches:
        assert np.all(batch['image_location'][:, 1:4] == [4, 1, 0])
        assert np.array_equal(batch['image'][0, :, :, 0], image[4:7, 1:4, 0])
        assert np.all(batch['sampler'][:, 1, 1] == 1.0)


def test_weighted_sampler_without_a_sampler_input_is_named(tmp_path, graph):
    reader, data_param = reader_of(tmp_path, [np.zeros((5, 5, 1), dtype=np.float32)])
    with pytest.raises(UserInputError, match='weighted sampling needs a sampling prior'):
        WeightedSampler(reader, data_param)


# -------------------------------------------------------------- balanced
def test_balanced_centres_are_class_balanced():
    labels = np.zeros((20, 20, 1))
    labels[:6, :3] = 1          # 4.5 % of the voxels
    labels[10, 10] = 2          # one voxel
    img_sizes, win_sizes = sizes(labels.shape, (1, 1, 1))
    rows = balanced_spatial_coordinates(0, {'sampler': labels}, img_sizes, win_sizes,
                                        n_samples=3000)['image']
    centre_classes = labels[rows[:, 1], rows[:, 2], 0].astype(int)
    counts = np.bincount(centre_classes, minlength=3)
    assert chisquare(counts).pvalue > 0.001
    assert set(map(tuple, rows[centre_classes == 2, 1:3])) == {(10, 10)}


def test_balanced_sampler_through_the_queue(tmp_path, graph):
    labels = np.zeros((12, 12, 1), dtype=np.float32)
    labels[8:10, 8:10] = 1
    reader, data_param = reader_of(tmp_path, [labels], [labels])
    sampler = BalancedSampler(reader, data_param, batch_size=10, windows_per_image=10,
                              queue_length=20)
    centres = np.concatenate([batch['sampler'][:, 1, 1, 0] for batch in
                              drain(sampler, max_batches=20)])
    assert 0.35 < centres.mean() < 0.65     # unbalanced 4 / 144 without the sampler


# ---------------------------------------------------------------- resize
def test_resize_round_trips_through_the_aggregator_to_the_input_geometry(tmp_path, graph):
    # blocks of 2 and 3 voxels: shrinking to one voxel a block and back with
    # nearest neighbours is exact
    blocks = [np.kron(np.random.RandomState(f).randint(0, 3, (4, 3, 2)), np.ones((f, f, f)))
              for f in (2, 3)]
    reader, data_param = reader_of(tmp_path, [b.astype(np.float32) for b in blocks],
                                   window=(4, 3, 2))
    sampler = ResizeSampler(reader, data_param, batch_size=1, spatial_window_size=(4, 3, 2),
                            shuffle_buffer=False)
    batches = drain(sampler)
    assert [b['image_location'][0, 0] for b in batches] == [0, 1, -1]
    assert batches[1]['image'].shape == (1, 4, 3, 2, 1)
    assert np.array_equal(batches[1]['image_location'][0], [1, 0, 0, 0, 12, 9, 6])
    aggregator = ResizeSamplesAggregator(reader, output_path=str(tmp_path / 'out'),
                                         interp_order=0)
    for batch in batches:
        if not aggregator.decode_batch(batch['image'], batch['image_location']):
            break
    for index, block in enumerate(blocks):
        written = nib.load(str(tmp_path / 'out' / 's{}_niftynet_out.nii.gz'.format(index)))
        assert written.shape == block.shape
        assert np.allclose(written.affine, PLS_AFFINE)
        assert np.array_equal(written.get_fdata(), block)
    assert len((tmp_path / 'out' / 'inferred.csv').read_text().split()) == 2


def test_resize_sampler_for_training_never_ends_and_resizes_labels_nearest(tmp_path, graph):
    image = np.random.RandomState(0).rand(9, 9, 3).astype(np.float32)
    reader, data_param = reader_of(tmp_path, [image], [np.round(image * 2)], window=(5, 4, 3))
    reader.label_fields = ('sampler',)
    sampler = ResizeSampler(reader, data_param, batch_size=2, shuffle_buffer=True)
    batches = drain(sampler, max_batches=4)
    assert len(batches) == 4
    assert set(np.unique(batches[-1]['sampler'])) <= {0.0, 1.0, 2.0}
    assert batches[-1]['image'].shape == (2, 5, 4, 3, 1)


# --------------------------------------------------- linear interpolation
def test_linear_interpolate_sampler_mixes_pairs_of_subjects(tmp_path, graph):
    images = [np.full((4, 3, 1), value, dtype=np.float32) for value in (0.0, 10.0, 30.0)]
    reader, data_param = reader_of(tmp_path, images)
    sampler = LinearInterpolateSampler(reader, data_param, batch_size=3, n_interpolations=3)
    batches = drain(sampler)
    assert batches[-1]['image_location'][0, 0] == -1
    pairs = [b for b in batches if b['image_location'][0, 0] >= 0]
    assert [int(b['image_location'][0, 0]) for b in pairs] == [0, 1, 2]
    values = [float(v) for v in (0.0, 10.0, 30.0)]
    for batch in pairs:
        x, y = batch['image_location'][0, :2]
        assert x != y
        expected = [values[y], (values[x] + values[y]) / 2, values[x]]
        assert np.allclose(batch['image'].reshape(3, -1).mean(axis=1), expected)


# ----------------------------------------------------------- aggregators
def test_window_as_image_aggregator_names_files_by_subject(tmp_path):
    reader, _ = reader_of(tmp_path, [np.zeros((4, 3, 1), dtype=np.float32)] * 2)
    aggregator = WindowAsImageAggregator(reader, output_path=str(tmp_path / 'gen'))
    windows = np.arange(3 * 4 * 3).reshape(3, 4, 3, 1, 1).astype(np.float32)
    assert aggregator.decode_batch(windows, np.array([[0, 1], [0, 1], [1, 0]]))
    assert not aggregator.decode_batch(windows[:1], np.full((1, 2), -1))
    names = sorted(p.name for p in (tmp_path / 'gen').glob('*.nii.gz'))
    assert names == ['0_s0_s1_niftynet_generated.nii.gz', '0_s1_s0_niftynet_generated.nii.gz',
                     '1_s0_s1_niftynet_generated.nii.gz']
    saved = nib.load(str(tmp_path / 'gen' / '1_s0_s1_niftynet_generated.nii.gz')).get_fdata()
    assert np.array_equal(saved, windows[1])
    random_outputs = WindowAsImageAggregator(None, output_path=str(tmp_path / 'random'))
    assert not random_outputs.decode_batch(windows)
    assert len(list((tmp_path / 'random').glob('*_niftynet_generated.nii.gz'))) == 3


def test_classifier_aggregator_writes_one_row_and_image_per_subject(tmp_path):
    reader, _ = reader_of(tmp_path, [np.zeros((4, 3, 1), dtype=np.float32)] * 2)
    aggregator = ClassifierSamplesAggregator(reader, output_path=str(tmp_path / 'cls'))
    outputs = np.array([[0.25, 0.75], [0.9, 0.1]], dtype=np.float32)
    assert aggregator.decode_batch(outputs, np.array([[1, 0, 0, 0, 1, 1, 1],
                                                      [0, 0, 0, 0, 1, 1, 1]]))
    assert not aggregator.decode_batch(outputs[:1], np.full((1, 7), -1))
    with open(aggregator.csv_path) as handle:
        assert list(csv.reader(handle)) == [['s1', '0.25', '0.75'], ['s0', '0.9', '0.1']]
    image = nib.load(str(tmp_path / 'cls' / 's1_niftynet_out.nii.gz'))
    assert np.allclose(image.get_fdata().ravel(), [0.25, 0.75])
    assert np.allclose(image.affine, PLS_AFFINE)
