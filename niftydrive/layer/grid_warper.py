"""Sampling grids: a parametric transformation maps each voxel of an output
grid to coordinates in a source image (voxel units), for a
``ResamplerLayer`` to sample there."""
import numpy as np
import tensorflow.compat.v1 as tf

from niftydrive.layer.base_layer import Layer, LayerFromCallable


class GridWarperLayer(Layer):
    """Base of the grid warpers.  ``source_shape`` / ``output_shape`` are
    the spatial shapes of the source image and of the grid (the grid may
    have fewer dimensions than the source); ``coeff_shape`` is the shape of
    the transformation parameters.  Subclasses compute their constant
    features in ``_create_features(**kwargs)`` (kept as ``psi``) and
    implement ``layer_op``."""

    def __init__(self, source_shape, output_shape, coeff_shape, name,
                 **kwargs):
        super(GridWarperLayer, self).__init__(name=name)
        self._source_shape = tuple(int(s) for s in source_shape)
        self._output_shape = tuple(int(s) for s in output_shape)
        if len(self._output_shape) > len(self._source_shape):
            raise ValueError(
                'the output grid ({} dimensions) cannot have more dimensions '
                'than the source ({})'.format(len(self._output_shape),
                                              len(self._source_shape)))
        self._coeff_shape = coeff_shape
        self._psi = self._create_features(**kwargs)

    def _create_features(self, **kwargs):
        """Constant features of the warp; subclasses implement it."""
        raise NotImplementedError

    def layer_op(self, *args, **kwargs):
        """Warp the grid; subclasses implement it."""
        raise NotImplementedError

    @property
    def coeff_shape(self):
        """Shape of the transformation parameters."""
        return self._coeff_shape

    @property
    def psi(self):
        """The constant features used to compute the grid."""
        return self._psi

    @property
    def source_shape(self):
        """Spatial shape of the source image."""
        return self._source_shape

    @property
    def output_shape(self):
        """Spatial shape of the output grid."""
        return self._output_shape


def _create_affine_features(output_shape, source_shape):
    """Homogeneous voxel coordinates of the output grid, in 'ij' order: a
    list of ``len(source_shape) + 1`` flattened arrays (the grid's axes,
    zeros for the source dimensions the grid lacks, then ones)."""
    missing = len(source_shape) - len(output_shape)
    ranges = [np.arange(size, dtype=np.float32)
              for size in list(output_shape) + [1] * missing]
    grids = np.meshgrid(*ranges, indexing='ij')
    return [grid.ravel() for grid in grids] + \
        [np.ones(int(np.prod(output_shape)), dtype=np.float32)]


class AffineWarpConstraints(object):
    """Which entries of an ``N x (N + 1)`` affine matrix are fixed: a nested
    list where a number fixes the entry and ``None`` leaves it free (given
    at run time, in row-major order)."""

    def __init__(self, constraints=((None,) * 3,) * 2):
        try:
            self._constraints = tuple(tuple(row) for row in constraints)
        except TypeError:
            raise TypeError('affine constraints must be a nested list, got '
                            '{!r}'.format(constraints)) from None
        self._num_dim = len(self._constraints)
        if any(len(row) != self._num_dim + 1 for row in self._constraints):
            raise ValueError('affine constraints must be an N x (N + 1) '
                             'matrix, got {!r}'.format(constraints))

    @property
    def constraints(self):
        """The nested tuple of constraints."""
        return self._constraints

    @property
    def num_dim(self):
        """N, the number of spatial dimensions."""
        return self._num_dim

    @property
    def num_free_params(self):
        """How many entries are given at run time."""
        return sum(row.count(None) for row in self._constraints)

    @property
    def mask(self):
        """Nested tuple, True where an entry is free."""
        return tuple(tuple(entry is None for entry in row)
                     for row in self._constraints)

    def __getitem__(self, index):
        return self._constraints[index]

    def combine_with(self, additional_constraints):
        """The union of two compatible sets of constraints."""
        other = additional_constraints
        if not isinstance(other, AffineWarpConstraints):
            other = AffineWarpConstraints(other)

        def _merge(left, right):
            if left is None or right is None:
                return right if left is None else left
            if left != right:
                raise ValueError('incompatible affine constraints: {} and '
                                 '{}'.format(left, right))
            return left

        return AffineWarpConstraints(
            [[_merge(a, b) for a, b in zip(row_a, row_b)]
             for row_a, row_b in zip(self._constraints, other.constraints)])

    def __and__(self, rhs):
        return self.combine_with(rhs)

    @classmethod
    def no_constraints(cls, num_dim=2):
        """Every entry free."""
        return cls(((None,) * (num_dim + 1),) * num_dim)

    @classmethod
    def translation_2d(cls, x=None, y=None):
        """Fix the 2-D translation entries that are given."""
        return cls([[None, None, x], [None, None, y]])

    @classmethod
    def translation_3d(cls, x=None, y=None, z=None):
        """Fix the 3-D translation entries that are given."""
        return cls([[None, None, None, x], [None, None, None, y],
                    [None, None, None, z]])

    @classmethod
    def scale_2d(cls, x=None, y=None):
        """Fix the 2-D scaling (diagonal) entries that are given."""
        return cls([[x, None, None], [None, y, None]])

    @classmethod
    def scale_3d(cls, x=None, y=None, z=None):
        """Fix the 3-D scaling (diagonal) entries that are given."""
        return cls([[x, None, None, None], [None, y, None, None],
                    [None, None, z, None]])

    @classmethod
    def shear_2d(cls, x=None, y=None):
        """Fix the 2-D shear (off-diagonal) entries that are given."""
        return cls([[None, x, None], [y, None, None]])

    @classmethod
    def no_shear_2d(cls):
        """2-D affine without shear."""
        return cls.shear_2d(x=0, y=0)

    @classmethod
    def no_shear_3d(cls):
        """3-D affine without shear."""
        return cls([[None, 0, 0, None], [0, None, 0, None],
                    [0, 0, None, None]])


class AffineGridWarperLayer(GridWarperLayer):
    """``warper(params)`` with ``params`` shaped ``[batch,
    num_free_params]`` (the free entries of the ``N x (N + 1)`` affine
    matrix ``A``, row-major) returns ``[batch, output_shape...,
    N]``: the source coordinates ``A @ [p, 1]`` of every output voxel
    ``p``."""

    def __init__(self, source_shape, output_shape, constraints=None,
                 name='affine_grid_warper'):
        num_dim = len(source_shape)
        if isinstance(constraints, AffineWarpConstraints):
            self._constraints = constraints
        elif constraints is None:
            self._constraints = AffineWarpConstraints.no_constraints(num_dim)
        else:
            self._constraints = AffineWarpConstraints(constraints)
        if self._constraints.num_free_params == 0:
            raise ValueError('the affine transformation is fully '
                             'constrained: nothing to estimate')
        if self._constraints.num_dim != num_dim:
            raise ValueError(
                'constraints for {} dimensions do not fit a {}-dimensional '
                'source'.format(self._constraints.num_dim, num_dim))
        super(AffineGridWarperLayer, self).__init__(
            source_shape=source_shape, output_shape=output_shape,
            coeff_shape=[num_dim * (num_dim + 1)], name=name)

    def _create_features(self):
        return np.stack(_create_affine_features(self._output_shape,
                                                self._source_shape))

    @property
    def constraints(self):
        """The ``AffineWarpConstraints``."""
        return self._constraints

    def _full_matrix(self, params):
        """``[batch, N, N + 1]`` affine matrices from the free parameters."""
        n_free = self._constraints.num_free_params
        if params.shape.as_list()[-1] != n_free:
            raise ValueError(
                'the affine grid warper expects {} parameters per sample '
                '(the free entries of the constraints), got shape {}'.format(
                    n_free, params.shape))
        free = tf.unstack(params, axis=1)
        batch = tf.shape(params)[0]
        entries, position = [], 0
        for row in self._constraints.constraints:
            for value in row:
                if value is None:
                    entries.append(free[position])
                    position += 1
                else:
                    entries.append(tf.fill([batch], float(value)))
        num_dim = self._constraints.num_dim
        return tf.reshape(tf.stack(entries, axis=1),
                          [-1, num_dim, num_dim + 1])

    def layer_op(self, inputs):
        """The warped grid; see the class docstring."""
        matrices = self._full_matrix(tf.cast(inputs, tf.float32))
        points = tf.constant(self._psi, dtype=tf.float32)  # [N + 1, n_points]
        coords = tf.einsum('bij,jp->bpi', matrices, points)
        return tf.reshape(coords, [-1] + list(self._output_shape) +
                          [self._constraints.num_dim])

    def inverse_op(self, name=None):
        """A layer mapping the same parameters to the grid of the inverse
        transformation (output space sampled from the source space)."""
        num_dim = self._constraints.num_dim

        def _inverse_grid(inputs):
            matrices = self._full_matrix(tf.cast(inputs, tf.float32))
            last_row = tf.tile(
                tf.constant([[[0.0] * num_dim + [1.0]]]),
                [tf.shape(matrices)[0], 1, 1])
            square = tf.concat([matrices, last_row], axis=1)
            inverse = tf.matrix_inverse(square)[:, :num_dim, :]
            warper = AffineGridWarperLayer(self.output_shape,
                                           self.source_shape)
            return warper(tf.reshape(inverse, [-1, num_dim * (num_dim + 1)]))

        return LayerFromCallable(_inverse_grid,
                                 name=name or self.name + '_inverse')
