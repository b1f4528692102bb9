"""Resampling an image at arbitrary (voxel-unit) coordinates."""
import itertools

import tensorflow.compat.v1 as tf

from niftydrive.layer.base_layer import Layer
from niftydrive.layer.layer_util import infer_spatial_rank
from niftydrive.utilities.util_common import look_up_operations

# inverse distance weights are capped so that a knot at distance 0 wins
LARGE_FLOAT = 1e12


def _boundary_replicate(index, size):
    return tf.clip_by_value(index, 0.0, size - 1.0)


def _boundary_circular(index, size):
    return tf.floormod(index, size)


def _boundary_symmetric(index, size):
    if size == 1:
        return tf.zeros_like(index)
    period = 2.0 * size - 2.0
    return (size - 1.0) - tf.abs((size - 1.0) - tf.floormod(index, period))


SUPPORTED_BOUNDARY = {
    'ZERO': _boundary_replicate,  # outside knots are then masked to 0
    'REPLICATE': _boundary_replicate,
    'CIRCULAR': _boundary_circular,
    'SYMMETRIC': _boundary_symmetric,
}

SUPPORTED_INTERPOLATION = {'LINEAR': 'LINEAR', 'NEAREST': 'NEAREST',
                           'BSPLINE': 'BSPLINE', 'IDW': 'IDW'}


def _cubic_bspline_weights(frac):
    """Weights of the knots at offsets -1, 0, 1, 2 from ``floor(x)``."""
    return [tf.pow(1.0 - frac, 3) / 6.0,
            (3.0 * tf.pow(frac, 3) - 6.0 * tf.square(frac) + 4.0) / 6.0,
            (-3.0 * tf.pow(frac, 3) + 3.0 * tf.square(frac) + 3.0 * frac +
             1.0) / 6.0,
            tf.pow(frac, 3) / 6.0]


class ResamplerLayer(Layer):
    """``resampler(inputs, sample_coords)`` samples ``inputs`` shaped
    ``[batch, in_spatial..., channels]`` at ``sample_coords`` shaped
    ``[batch (or 1), out_spatial..., in_spatial_rank]``, coordinates in
    voxel units (index ``i`` is the centre of voxel ``i``).  The output is
    ``[batch, out_spatial..., channels]``.

    ``interpolation``: 'LINEAR' ((bi/tri)linear), 'NEAREST', 'BSPLINE'
    (cubic B-spline approximation over 4 knots per dimension, as NiftyNet's:
    no pre-filtering) or 'IDW' (inverse squared distance weighting of the
    2^rank surrounding knots).  ``boundary``: how knots outside the image
    are read: 'ZERO' (as 0), 'REPLICATE' (the nearest edge voxel),
    'CIRCULAR' (wrapped around), 'SYMMETRIC' (mirrored at the edge voxels).
    Gradients flow to ``inputs`` and (except 'NEAREST') to the
    coordinates.  The input's spatial shape must be known.
    """

    def __init__(self, interpolation='LINEAR', boundary='ZERO',
                 name='resampler'):
        super(ResamplerLayer, self).__init__(name=name)
        self.interpolation = look_up_operations(
            str(interpolation).upper(), SUPPORTED_INTERPOLATION,
            'resampler interpolation')
        self.boundary = str(boundary).upper()
        self.boundary_func = look_up_operations(
            self.boundary, SUPPORTED_BOUNDARY, 'resampler boundary')

    def layer_op(self, inputs, sample_coords):
        """The resampled tensor; see the class docstring."""
        if inputs.dtype != tf.float32:
            inputs = tf.cast(inputs, tf.float32)
        sample_coords = tf.cast(sample_coords, tf.float32)
        in_rank = infer_spatial_rank(inputs)
        in_size = inputs.shape.as_list()[1:-1]
        if any(size is None for size in in_size):
            raise ValueError('ResamplerLayer needs the spatial shape of its '
                             'input, got {}'.format(inputs.shape))
        if sample_coords.shape.as_list()[-1] != in_rank:
            raise ValueError(
                'sample_coords shaped {} must end with one coordinate per '
                'spatial dimension of the input ({})'.format(
                    sample_coords.shape, in_rank))
        batch = tf.shape(inputs)[0]
        coords_shape = tf.shape(sample_coords)
        sample_coords = tf.broadcast_to(
            sample_coords, tf.concat([[batch], coords_shape[1:]], axis=0))
        knots = [self._knots(x, size) for x, size in
                 zip(tf.unstack(sample_coords, axis=-1), in_size)]
        batch_ids = tf.broadcast_to(
            tf.reshape(tf.range(batch),
                       [-1] + [1] * (sample_coords.shape.ndims - 2)),
            tf.shape(sample_coords)[:-1])
        output = 0.0
        total_weight = 0.0
        for combination in itertools.product(*knots):
            indices = [batch_ids] + [tf.cast(index, tf.int32)
                                     for index, _, _ in combination]
            values = tf.gather_nd(inputs, tf.stack(indices, axis=-1))
            weight = self._combine_weights(combination)
            output += values * weight
            total_weight += weight
        if self.interpolation == 'IDW':
            output = output / total_weight
        return output

    def _knots(self, coord, size):
        """``[(index, weight, distance^2), ...]`` for one dimension."""
        if self.interpolation == 'NEAREST':
            bases, weights = [tf.round(coord)], [tf.ones_like(coord)]
        elif self.interpolation == 'BSPLINE':
            floor = tf.floor(coord)
            bases = [floor + offset for offset in (-1.0, 0.0, 1.0, 2.0)]
            weights = _cubic_bspline_weights(coord - floor)
        else:
            floor = tf.floor(coord)
            bases = [floor, floor + 1.0]
            weights = [1.0 - (coord - floor), coord - floor]
        knots = []
        for base, weight in zip(bases, weights):
            base_int = tf.stop_gradient(base)
            index = self.boundary_func(base_int, float(size))
            if self.boundary == 'ZERO':
                inside = tf.logical_and(base_int >= 0.0,
                                        base_int <= size - 1.0)
                weight = weight * tf.cast(inside, tf.float32)
            knots.append((index, weight, tf.square(coord - base_int)))
        return knots

    def _combine_weights(self, combination):
        if self.interpolation == 'IDW':
            distance = tf.add_n([dist for _, _, dist in combination])
            weight = tf.minimum(tf.reciprocal(distance), LARGE_FLOAT)
            if self.boundary == 'ZERO':
                for _, mask_weight, _ in combination:
                    weight *= tf.cast(mask_weight > 0.0, tf.float32)
        else:
            weight = combination[0][1]
            for _, dim_weight, _ in combination[1:]:
                weight = weight * dim_weight
        return tf.expand_dims(weight, -1)
