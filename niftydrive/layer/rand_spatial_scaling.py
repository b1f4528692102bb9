# -*- coding: utf-8 -*-
"""Random zooms for data augmentation: NiftyNet's ``RandomSpatialScalingLayer``."""
import numpy as np
import scipy.ndimage

from niftydrive.layer.base_layer import RandomisedLayer
from niftydrive.layer.layer_util import resize_3d, transform_fields


def antialiasing_sigma(zoom):
    """Gaussian sigma (voxels) matching the point spread of downsampling by ``zoom`` < 1.

    Cardoso et al., "Scale factor point spread function matching: beyond
    aliasing in image resampling", MICCAI 2015.
    """
    zoom = np.asarray(zoom, dtype=float)
    variance = np.maximum((1.0 / zoom) ** 2 - 1.0, 0.0) / (2.0 * np.sqrt(2.0 * np.log(2.0))) ** 2
    return np.sqrt(variance)


def zoomed_shape(shape, zoom):
    """The spatial shape after zooming by ``zoom`` (truncated; never below one voxel)."""
    return tuple(max(int(n * z), 1) for n, z in zip(shape, zoom))


def zoom_3d(volume, zoom, interp_order=1):
    """Resample a 3-D ``volume`` by ``zoom`` to :func:`zoomed_shape` (see
    :func:`~niftydrive.layer.layer_util.resize_3d`)."""
    return resize_3d(volume, zoomed_shape(volume.shape, zoom), interp_order)


class RandomSpatialScalingLayer(RandomisedLayer):
    """Zoom a subject's volumes by a random factor per axis.

    Each factor is ``1 + p / 100`` with ``p`` drawn uniformly from
    ``[min_percentage, max_percentage]`` (one draw for all axes when
    ``isotropic``); the volumes change shape accordingly (an axis of length 1
    is left alone). When every axis shrinks and ``antialiasing`` is on,
    interpolated fields are Gaussian-smoothed first. Fields with
    interpolation order 0 (labels) are never smoothed; NiftyNet smoothed them
    too, which creates label values that do not exist.
    """

    def __init__(self, min_percentage=-10.0, max_percentage=10.0, antialiasing=True,
                 isotropic=False, name='random_spatial_scaling', seed=None):
        super(RandomSpatialScalingLayer, self).__init__(name=name, seed=seed)
        if min_percentage > max_percentage:
            raise ValueError('scaling_percentage must be (min, max) with min <= max, got '
                             '({}, {})'.format(min_percentage, max_percentage))
        self._min_percentage = max(float(min_percentage), -99.9)
        self._max_percentage = float(max_percentage)
        self.antialiasing = bool(antialiasing)
        self.isotropic = bool(isotropic)
        self._rand_zoom = None

    def randomise(self, spatial_rank=3):
        """Draw the zoom factors of the first ``spatial_rank`` axes."""
        spatial_rank = int(np.floor(spatial_rank))
        count = 1 if self.isotropic else spatial_rank
        percent = self.rng.uniform(self._min_percentage, self._max_percentage, size=count)
        zoom = np.ones(3)
        zoom[:spatial_rank] = (np.resize(percent, spatial_rank) + 100.0) / 100.0
        self._rand_zoom = zoom

    @property
    def zoom(self):
        """The drawn zoom factor of each axis (after ``randomise()``)."""
        if self._rand_zoom is None:
            raise RuntimeError('RandomSpatialScalingLayer: call randomise() first')
        return tuple(self._rand_zoom)

    def _apply_transformation(self, volume, interp_order=3):
        zoom = [z if n > 1 else 1.0 for z, n in zip(self.zoom, volume.shape)]
        if all(z == 1.0 for z in zoom):
            return volume
        moving = [z for z, n in zip(zoom, volume.shape) if n > 1]
        if self.antialiasing and interp_order > 0 and all(z < 1.0 for z in moving):
            sigma = [s if n > 1 else 0.0 for s, n in zip(antialiasing_sigma(zoom), volume.shape)]
            volume = scipy.ndimage.gaussian_filter(volume, sigma)
        return zoom_3d(volume, zoom, interp_order)

    def layer_op(self, inputs, interp_orders, *args, **kwargs):
        """Zoom every field of ``inputs`` (dict ``field -> [x, y, z, c]``)."""
        if inputs is None:
            return inputs
        return transform_fields(inputs, interp_orders, self._apply_transformation)
