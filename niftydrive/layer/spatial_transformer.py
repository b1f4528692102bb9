"""Grid warpers driven by displacement/coordinate fields."""
import numpy as np
import tensorflow.compat.v1 as tf

from niftydrive.layer.grid_warper import GridWarperLayer
from niftydrive.layer.resampler import ResamplerLayer

__all__ = ['ResamplerLayer', 'ResampledFieldGridWarperLayer',
           'BSplineFieldImageGridWarperLayer']


class ResampledFieldGridWarperLayer(GridWarperLayer):
    """``warper(field)``: ``field`` shaped ``[batch, coeff_shape...,
    n_source_dims]`` holds source coordinates on a coarse grid; the output
    grid (``output_shape``) samples it with ``resampler`` (default: linear,
    'REPLICATE' boundary).  With ``field_transform=None`` the corners of
    the output grid map to the corners of the field (to the second and
    second-to-last knots for a 'BSPLINE' resampler); otherwise
    ``field_transform`` (``[batch, n + 1, n + 1]`` homogeneous matrices)
    maps output voxel coordinates to field coordinates."""

    def __init__(self, source_shape, output_shape, coeff_shape,
                 field_transform=None, resampler=None,
                 name='resampling_interpolated_spline_grid_warper'):
        self._resampler = resampler or ResamplerLayer(
            interpolation='LINEAR', boundary='REPLICATE')
        self._interpolation = self._resampler.interpolation
        self._field_transform = field_transform
        super(ResampledFieldGridWarperLayer, self).__init__(
            source_shape=source_shape, output_shape=output_shape,
            coeff_shape=coeff_shape, name=name)

    def _create_features(self):
        missing = len(self._source_shape) - len(self._output_shape)
        out_shape = list(self._output_shape) + [1] * missing
        field_shape = list(self._coeff_shape) + [1] * missing
        if self._field_transform is not None:
            ranges = [np.arange(size, dtype=np.float32)
                      for size in out_shape]
        else:
            margin = 1.0 if self._interpolation == 'BSPLINE' else 0.0
            ranges = [np.linspace(margin, field - 1.0 - margin, size,
                                  dtype=np.float32)
                      for field, size in zip(field_shape, out_shape)]
        grids = np.meshgrid(*ranges, indexing='ij')
        return np.stack([grid.ravel() for grid in grids], axis=-1)

    def layer_op(self, field):
        """The warped grid ``[batch, output_shape..., n_source_dims]``."""
        n_dims = len(self._source_shape)
        points = tf.constant(self._psi)  # [n_points, n_dims]
        if self._field_transform is None:
            coords = tf.expand_dims(points, 0)
        else:
            homogeneous = tf.concat(
                [points, tf.ones_like(points[:, :1])], axis=1)
            coords = tf.einsum('bij,pj->bpi', self._field_transform,
                               homogeneous)[..., :n_dims]
        field_rank = len(field.shape.as_list()) - 2
        coords = tf.reshape(coords, [-1] + list(self._output_shape) +
                            [n_dims])[..., :field_rank]
        return self._resampler(field, coords)


class BSplineFieldImageGridWarperLayer(GridWarperLayer):
    """Free-form deformation (Rueckert et al. 1999): ``warper(field)`` with
    ``field`` shaped ``[batch, coeff_shape..., n_dims]`` of control-point
    values, one control point every ``knot_spacing`` voxels (plus one
    before the first and two after the last voxel, so ``coeff_shape[d] = 4
    + (output_shape[d] - 1) // knot_spacing[d]``), gives the cubic B-spline
    interpolation of the field at every voxel of ``output_shape``."""

    def __init__(self, source_shape, output_shape, knot_spacing,
                 name='interpolated_spline_grid_warper_layer'):
        self._knot_spacing = [int(k) for k in knot_spacing]
        coeff_shape = [4 + (int(n) - 1) // k
                       for n, k in zip(output_shape, self._knot_spacing)]
        super(BSplineFieldImageGridWarperLayer, self).__init__(
            source_shape=source_shape, output_shape=output_shape,
            coeff_shape=coeff_shape, name=name)

    def _create_features(self):
        # voxel p lies at control-grid coordinate p / spacing + 1
        ranges = [np.arange(size, dtype=np.float32) / spacing + 1.0
                  for size, spacing in zip(self._output_shape,
                                           self._knot_spacing)]
        grids = np.meshgrid(*ranges, indexing='ij')
        return np.stack(grids, axis=-1)[np.newaxis]

    def layer_op(self, field):
        """The interpolated field ``[batch, output_shape..., n_dims]``."""
        expected = list(self._coeff_shape)
        if field.shape.as_list()[1:-1] != expected:
            raise ValueError(
                'the B-spline field must be shaped [batch] + {} + [n_dims], '
                'got {}'.format(expected, field.shape))
        resampler = ResamplerLayer(interpolation='BSPLINE',
                                   boundary='REPLICATE')
        return resampler(field, tf.constant(self._psi))
