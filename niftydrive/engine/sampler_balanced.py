# -*- coding: utf-8 -*-
"""Windows centred on every label class equally often: NiftyNet's ``BalancedSampler``.

The ``sampler`` input is a label map. For each window a class is drawn
uniformly among the classes present where a centred window fits, then a
voxel of that class uniformly: with classes of 10 %, 10 % and 80 % of the
voxels, about a third of the windows are centred on each. Values of the map
are rounded to integers first (a label map resampled with a smooth
interpolation stays a label map).
"""
import logging

import numpy as np

from niftydrive.engine.sampler_weighted import (
    WeightedSampler, centre_region, centred_window_coordinates, common_spatial_size,
    largest_window, region_voxels, sampling_map)

LOGGER = logging.getLogger(__name__)


def balanced_spatial_coordinates(subject_id, data, img_sizes, win_sizes, n_samples=1):
    """``n_samples`` windows, each centred on a class drawn uniformly from ``data['sampler']``.

    Same signature and output as
    :func:`~niftydrive.engine.sampler_uniform.rand_spatial_coordinates`.
    """
    image_size = common_spatial_size(img_sizes)
    region = centre_region(image_size, largest_window(win_sizes))
    labels = np.round(sampling_map(data, subject_id, 'balanced')[region]).ravel()
    classes = np.unique(labels)
    if len(classes) > 500:
        LOGGER.warning('balanced sampling over %d distinct values: is the sampler input '
                       'a label map?', len(classes))
    n_samples = max(int(n_samples), 1)
    counts = np.random.multinomial(n_samples, [1.0 / len(classes)] * len(classes))
    flat = np.concatenate([np.random.choice(np.flatnonzero(labels == value), size=count)
                           for value, count in zip(classes, counts) if count])
    np.random.shuffle(flat)
    return centred_window_coordinates(subject_id, region_voxels(flat, region),
                                      img_sizes, win_sizes)


class BalancedSampler(WeightedSampler):
    """Random windows centred on each class of the ``sampler`` label map equally often.

    Arguments as :class:`~niftydrive.engine.sampler_uniform.UniformSampler`.
    """

    sampling = 'balanced'
    coordinates = staticmethod(balanced_spatial_coordinates)
