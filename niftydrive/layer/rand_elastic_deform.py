# -*- coding: utf-8 -*-
"""Random elastic deformations for data augmentation: NiftyNet's
``RandomElasticDeformationLayer`` (as used by Milletari et al., V-Net, 2016).

NiftyNet drew a SimpleITK B-spline transform; this layer draws the same kind
of field (a cubic B-spline over a regular mesh of control points with
Gaussian random coefficients) and resamples with scipy.ndimage, so it needs
no extra package.
"""
import numpy as np
import scipy.ndimage

from niftydrive.layer.base_layer import RandomisedLayer
from niftydrive.layer.layer_util import transform_fields


def cubic_bspline(t):
    """The cubic B-spline kernel evaluated at ``t`` (support ``|t| < 2``)."""
    t = np.abs(np.asarray(t, dtype=float))
    result = np.zeros_like(t)
    near = t < 1.0
    far = (t >= 1.0) & (t < 2.0)
    result[near] = 2.0 / 3.0 - t[near] ** 2 + 0.5 * t[near] ** 3
    result[far] = (2.0 - t[far]) ** 3 / 6.0
    return result


def bspline_basis(length, mesh_size):
    """Matrix ``[length, mesh_size + 3]``: weight of each control point at each voxel.

    The mesh has ``mesh_size`` intervals spanning the axis; cubic B-splines
    need one more control point before and two after them.
    """
    if length < 2:
        basis = np.zeros((length, mesh_size + 3))
        basis[:, 1] = 1.0   # a singleton axis is not deformed along itself
        return basis
    position = np.arange(length) * (mesh_size / float(length - 1)) + 1.0
    return cubic_bspline(position[:, None] - np.arange(mesh_size + 3)[None, :])


class RandomElasticDeformationLayer(RandomisedLayer):
    """Warp a subject's volumes with a smooth random displacement field.

    With probability ``proportion_to_augment`` (drawn by ``randomise``) the
    displacement along each axis is a cubic B-spline over a mesh of
    ``num_controlpoints`` intervals per axis whose coefficients are
    ``N(0, std_deformation_sigma**2)`` voxels; otherwise the layer does
    nothing. Output voxel ``p`` takes the input at ``p + d(p)`` (0 outside
    the volume), each field with its own interpolation order (0 for labels).
    Axes of length 1 are not displaced (2-D images stay 2-D).

    :param num_controlpoints: mesh intervals per axis (at least 2)
    :param std_deformation_sigma: spread of the coefficients in voxels (at least 1)
    :param proportion_to_augment: fraction of subject visits deformed
    :param spatial_rank: kept for NiftyNet compatibility (the rank is read from
        the volumes)
    """

    def __init__(self, num_controlpoints=4, std_deformation_sigma=15, proportion_to_augment=0.5,
                 spatial_rank=3, name='random_elastic_deformation', seed=None):
        super(RandomElasticDeformationLayer, self).__init__(name=name, seed=seed)
        self.num_controlpoints = max(int(num_controlpoints), 2)
        self.std_deformation_sigma = max(float(std_deformation_sigma), 1.0)
        self.proportion_to_augment = float(proportion_to_augment)
        self.spatial_rank = spatial_rank
        self._coefficients = None
        self._do_augmentation = False
        self._field_cache = (None, None)
        self._coordinates_cache = (None, None)

    def randomise(self, image_dict=None):
        """Draw whether to deform this time and, if so, the mesh coefficients."""
        self._do_augmentation = self.rng.random_sample() < self.proportion_to_augment
        mesh = (self.num_controlpoints + 3,) * 3
        self._coefficients = self.rng.normal(0.0, self.std_deformation_sigma, size=(3,) + mesh)
        self._field_cache = (None, None)
        self._coordinates_cache = (None, None)

    @property
    def do_augmentation(self):
        """Whether the drawn deformation is applied (after ``randomise()``)."""
        return self._do_augmentation

    def displacement(self, shape):
        """The displacement field ``[3, x, y, z]`` (voxels) for a volume of ``shape``."""
        if self._coefficients is None:
            raise RuntimeError('RandomElasticDeformationLayer: call randomise() first')
        shape = tuple(shape[:3])
        if self._field_cache[0] == shape:
            return self._field_cache[1]
        bases = [bspline_basis(n, self.num_controlpoints) for n in shape]
        field = np.zeros((3,) + shape)
        for axis in range(3):
            if shape[axis] > 1:
                field[axis] = np.einsum('ai,bj,ck,ijk->abc', bases[0], bases[1], bases[2],
                                        self._coefficients[axis], optimize=True)
        self._field_cache = (shape, field)
        return field

    def _apply_bspline_transformation(self, volume, interp_order=3):
        shape = tuple(volume.shape)
        if self._coordinates_cache[0] != shape:   # shared by the fields of one draw
            field = self.displacement(shape)
            self._coordinates_cache = (shape, np.indices(shape, dtype=float) + field)
        return scipy.ndimage.map_coordinates(volume, self._coordinates_cache[1],
                                             order=interp_order, mode='constant', cval=0.0)

    def layer_op(self, inputs, interp_orders, *args, **kwargs):
        """Warp every field of ``inputs`` (dict ``field -> [x, y, z, c]``) when drawn."""
        if inputs is None or not self._do_augmentation:
            return inputs
        return transform_fields(inputs, interp_orders, self._apply_bspline_transformation)
