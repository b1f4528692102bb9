# -*- coding: utf-8 -*-
"""Random rotations for data augmentation: NiftyNet's ``RandomRotationLayer``."""
import numpy as np
import scipy.ndimage

from niftydrive.layer.base_layer import RandomisedLayer
from niftydrive.layer.layer_util import spatial_axes, transform_fields


def _check_range(values, what):
    values = tuple(float(v) for v in values)
    if len(values) != 2 or values[0] > values[1]:
        raise ValueError('{} must be (min, max) with min <= max, got {}'.format(what, values))
    return values


def rotation_matrix(angles):
    """3x3 rotation by ``angles`` (radians) about array axes 0, 1 and 2, in that order.

    The result maps a voxel offset from the volume centre to its new offset.
    """
    matrix = np.eye(3)
    for axis, angle in enumerate(angles):
        plane = [(axis + 1) % 3, (axis + 2) % 3]   # right-handed
        rot = np.eye(3)
        cos, sin = np.cos(angle), np.sin(angle)
        rot[plane[0], plane[0]] = cos
        rot[plane[0], plane[1]] = -sin
        rot[plane[1], plane[0]] = sin
        rot[plane[1], plane[1]] = cos
        matrix = rot.dot(matrix)
    return matrix


class RandomRotationLayer(RandomisedLayer):
    """Rotate a subject's volumes about their centre by random angles.

    Either one range for all three axes (:meth:`init_uniform_angle`, the
    ``rotation_angle`` key) or one range per axis (:meth:`init_non_uniform_angle`,
    ``rotation_angle_x/y/z``; an empty range means no rotation about that
    axis). Angles are in degrees. ``x``, ``y`` and ``z`` are the array axes
    0, 1 and 2 (after the reader's reorientation). NiftyNet's matrix named
    ``x`` turned about the third array axis and the one named ``z`` about the
    first; here each key turns about the axis it names.

    A 2-D image (one axis of length 1) is only rotated in its plane, i.e.
    about its singleton axis. Voxels coming from outside the volume are 0.
    Each field is resampled with its own interpolation order (0, nearest,
    for labels), so image and label turn together.
    """

    def __init__(self, name='random_rotation', seed=None):
        super(RandomRotationLayer, self).__init__(name=name, seed=seed)
        self.min_angle = None
        self.max_angle = None
        self.rotation_angle_x = ()
        self.rotation_angle_y = ()
        self.rotation_angle_z = ()
        self._angles = None

    def init_uniform_angle(self, rotation_angle=(-10.0, 10.0)):
        """One ``(min, max)`` range in degrees for the angle about every axis."""
        self.min_angle, self.max_angle = _check_range(rotation_angle, 'rotation_angle')

    def init_non_uniform_angle(self, rotation_angle_x, rotation_angle_y, rotation_angle_z):
        """A ``(min, max)`` range in degrees per axis; an empty one leaves that axis."""
        ranges = []
        for key, values in (('rotation_angle_x', rotation_angle_x),
                            ('rotation_angle_y', rotation_angle_y),
                            ('rotation_angle_z', rotation_angle_z)):
            ranges.append(_check_range(values, key) if len(values or ()) else ())
        self.rotation_angle_x, self.rotation_angle_y, self.rotation_angle_z = ranges
        self.min_angle = self.max_angle = None

    def randomise(self, spatial_rank=3):
        """Draw the three angles (uniformly within their ranges)."""
        if self.min_angle is not None:
            ranges = [(self.min_angle, self.max_angle)] * 3
        else:
            ranges = [self.rotation_angle_x, self.rotation_angle_y, self.rotation_angle_z]
        self._angles = np.array([self.rng.uniform(r[0], r[1]) if len(r) else 0.0
                                 for r in ranges])

    @property
    def angles(self):
        """The drawn angles in degrees about axes 0, 1, 2 (after ``randomise()``)."""
        if self._angles is None:
            raise RuntimeError('RandomRotationLayer: call randomise() before using the layer')
        return tuple(self._angles)

    def _matrix(self, shape):
        angles = np.deg2rad(self.angles)
        flat = [axis for axis in range(3) if axis not in spatial_axes(shape)]
        if flat:   # 2-D: only the in-plane rotation (about the singleton axis)
            angles = np.array([angle if axis == flat[0] else 0.0
                               for axis, angle in enumerate(angles)])
        return rotation_matrix(angles)

    def _apply_transformation_3d(self, volume, interp_order=3):
        matrix = self._matrix(volume.shape)
        if np.allclose(matrix, np.eye(3)):
            return volume
        centre = (np.asarray(volume.shape, dtype=float) - 1.0) / 2.0
        # output voxel o samples the input at R^T (o - c) + c
        inverse = matrix.T
        return scipy.ndimage.affine_transform(
            volume, inverse, offset=centre - inverse.dot(centre),
            order=interp_order, mode='constant', cval=0.0)

    def layer_op(self, inputs, interp_orders, *args, **kwargs):
        """Rotate every field of ``inputs`` (dict ``field -> [x, y, z, c]``)."""
        if inputs is None:
            return inputs
        return transform_fields(inputs, interp_orders, self._apply_transformation_3d)
