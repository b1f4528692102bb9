# -*- coding: utf-8 -*-
"""Windows placed in proportion to a sampling prior: NiftyNet's ``WeightedSampler``.

The reader must output a ``sampler`` input (``sampler = <input section>`` in
the application's config section): a map, of the image's shape, whose value
at a voxel is the (relative) probability that a window is centred there.
Only voxels where a centred window fits inside the image are candidates
(along an axis shorter than the window every voxel is, and the window
starts at 0). The centre is drawn with the cumulative histogram of the
candidates' prior values.

Different from NiftyNet: NiftyNet drew the ``k``-th of ``n`` windows at
cumulative mass ``1 - (u + k) / (n + 1)``, which never reaches the lowest
``1 / (n + 1)`` of the mass (with one window per image, half of it); here
each window draws an independent ``u``, so the centres follow the prior.
"""
import numpy as np

from niftydrive.engine.image_window import N_SPATIAL
from niftydrive.engine.sampler_uniform import UniformSampler
from niftydrive.utilities.errors import UserInputError

SAMPLER_INPUT = 'sampler'


def sampling_map(data, subject_id, what='weighted'):
    """The 3-D sampling prior of a subject (first channel of its ``sampler`` input)."""
    prior = None if data is None else data.get(SAMPLER_INPUT)
    if prior is None:
        raise UserInputError(
            '{} sampling needs a sampling prior: set "sampler = <input section>" in the '
            'application\'s config section (e.g. [SEGMENTATION]).'.format(what))
    prior = np.asarray(prior)
    return prior.reshape(prior.shape[:N_SPATIAL] + (-1,))[..., 0]


def centre_region(img_spatial_size, win_spatial_size):
    """Slices of the voxels that may be window centres (see the module docstring)."""
    region = []
    for length, size in zip(img_spatial_size, win_spatial_size):
        if length >= size:
            region.append(slice(size // 2, size // 2 + length - size + 1))
        else:
            region.append(slice(0, length))
    return tuple(region)


def crop_sampling_map(input_map, win_spatial_size):
    """The part of a 3-D map whose voxels may be window centres."""
    return input_map[centre_region(input_map.shape[:N_SPATIAL], win_spatial_size)]


def centred_window_coordinates(subject_id, centres, img_sizes, win_sizes):
    """Location rows of windows centred (the largest one) on ``centres``.

    :param centres: int array ``[n, 3]`` of voxel coordinates in the image
    :return: dict name -> int32 rows ``[subject_id, x0, y0, z0, x1, y1, z1]``;
        the windows of the inputs are concentric
    """
    image_size = np.asarray(next(iter(img_sizes.values()))[:N_SPATIAL], dtype=np.int64)
    windows = {name: np.asarray(size[:N_SPATIAL], dtype=np.int64)
               for name, size in win_sizes.items()}
    largest = np.max(np.stack(list(windows.values())), axis=0)
    starts = np.clip(np.asarray(centres, dtype=np.int64) - largest // 2, 0,
                     np.maximum(image_size - largest, 0))
    coordinates = {}
    for name, size in windows.items():
        start = starts + (largest - size) // 2
        ids = np.full((len(start), 1), subject_id)
        coordinates[name] = np.concatenate([ids, start, start + size], axis=1).astype(np.int32)
    return coordinates


def region_voxels(flat_indices, region):
    """Image voxel coordinates ``[n, 3]`` of flat indices into ``image[region]``."""
    shape = tuple(s.stop - s.start for s in region)
    return np.stack(np.unravel_index(flat_indices, shape), axis=1) + \
        np.array([s.start for s in region])


def common_spatial_size(img_sizes):
    """The spatial shape shared by every input's image (NotImplementedError if none)."""
    sizes = {tuple(size[:N_SPATIAL]) for size in img_sizes.values()}
    if len(sizes) > 1:
        raise NotImplementedError('cannot place windows on inputs of different spatial '
                                  'shapes {}'.format(sorted(sizes)))
    return sizes.pop()


def largest_window(win_sizes):
    """The largest spatial window size over the inputs, axis by axis."""
    return np.max(np.stack([np.asarray(s[:N_SPATIAL]) for s in win_sizes.values()]), axis=0)


def weighted_spatial_coordinates(subject_id, data, img_sizes, win_sizes, n_samples=1):
    """``n_samples`` windows whose centres are drawn in proportion to ``data['sampler']``.

    Same signature and output as
    :func:`~niftydrive.engine.sampler_uniform.rand_spatial_coordinates`.
    :raises UserInputError: no ``sampler`` input, or a prior with negative
        or non-finite values or no mass where windows fit
    """
    image_size = common_spatial_size(img_sizes)
    region = centre_region(image_size, largest_window(win_sizes))
    prior = sampling_map(data, subject_id)[region].astype(np.float64)
    if not np.all(np.isfinite(prior)) or prior.min() < 0 or prior.sum() <= 0:
        raise UserInputError(
            'The sampling prior of subject index {} must be finite, >= 0 and positive '
            'somewhere a window of {} fits (values {:g}..{:g}).'.format(
                subject_id, tuple(largest_window(win_sizes)), np.nanmin(prior),
                np.nanmax(prior)))
    cumulative = np.cumsum(prior.ravel())
    draws = np.random.random_sample(max(int(n_samples), 1)) * cumulative[-1]
    flat = np.minimum(np.searchsorted(cumulative, draws, side='right'), cumulative.size - 1)
    return centred_window_coordinates(subject_id, region_voxels(flat, region),
                                      img_sizes, win_sizes)


class WeightedSampler(UniformSampler):
    """Random windows centred in proportion to each subject's ``sampler`` map.

    Arguments as :class:`~niftydrive.engine.sampler_uniform.UniformSampler`.
    """

    sampling = 'weighted'
    coordinates = staticmethod(weighted_spatial_coordinates)

    def __init__(self, reader, data_param, batch_size=1, windows_per_image=1,
                 queue_length=10):
        UniformSampler.__init__(self, reader=reader, data_param=data_param,
                                batch_size=batch_size, windows_per_image=windows_per_image,
                                queue_length=queue_length)
        if SAMPLER_INPUT not in reader.names:
            sampling_map(None, None, self.sampling)   # the clear error, now, not in a thread
        self.spatial_coordinates_generator = self.coordinates
