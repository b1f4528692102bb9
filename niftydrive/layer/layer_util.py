"""Small helpers shared by the layers: spatial rank, kernel shapes,
default initialisers and the name check of padding options."""
import numpy as np
import tensorflow.compat.v1 as tf

from niftydrive.utilities.util_common import look_up_operations

SUPPORTED_PADDING = {'SAME': 'SAME', 'VALID': 'VALID'}


def infer_spatial_rank(input_tensor):
    """Number of spatial dimensions of a ``[batch, spatial..., channels]``
    tensor; only 1, 2 or 3 are supported."""
    ndims = input_tensor.shape.ndims
    if ndims is None or ndims - 2 not in (1, 2, 3):
        raise ValueError(
            'expected a tensor shaped [batch, spatial (1, 2 or 3 dims), '
            'channels], got shape {}'.format(input_tensor.shape))
    return ndims - 2


def expand_spatial_params(value, spatial_rank, what='kernel_size'):
    """An int, or a list of one int per spatial dimension, as a list of
    ``spatial_rank`` ints."""
    values = np.atleast_1d(np.asarray(value, dtype=np.int64)).tolist()
    if len(values) == 1:
        values = values * spatial_rank
    if len(values) != spatial_rank:
        raise ValueError(
            '{} {!r} does not match the {} spatial dimensions of the '
            'input'.format(what, value, spatial_rank))
    if any(v < 1 for v in values):
        raise ValueError('{} must be positive, got {!r}'.format(what, value))
    return [int(v) for v in values]


def check_padding(padding):
    """The padding option in upper case; unknown options are an error."""
    return look_up_operations(str(padding).upper(), SUPPORTED_PADDING)


def default_w_initializer():
    """He initialisation: truncated normal scaled by the fan-in."""
    return tf.variance_scaling_initializer(
        scale=2.0, mode='fan_in', distribution='truncated_normal')


def default_b_initializer():
    """Biases start at zero."""
    return tf.constant_initializer(0.0)


def check_spatial_dims(input_tensor, criterion):
    """True when every static spatial size satisfies ``criterion``."""
    spatial = input_tensor.shape.as_list()[1:-1]
    return all(criterion(size) for size in spatial if size is not None)


def transform_fields(inputs, interp_orders, transform):
    """Apply ``transform(volume, interp_order)`` to every 3-D volume of a dict.

    ``inputs`` maps field names to arrays ``[x, y, z, channels]`` (or
    NiftyNet's ``[x, y, z, time, channels]``); ``interp_orders`` maps each
    field to one interpolation order per channel (one value is used for all
    channels; a missing field or a negative order means "leave this field
    alone"). ``transform`` may change the spatial shape; it must change it
    the same way for every volume. Returns a new dict; the arrays of
    ``inputs`` are not modified.
    """
    outputs = {}
    for field, data in inputs.items():
        orders = tuple(np.atleast_1d((interp_orders or {}).get(field, (-1,))))
        if data is None or not orders or orders[0] < 0:
            outputs[field] = data
            continue
        data = np.asarray(data)
        trailing = data.shape[3:]
        volumes = data.reshape(data.shape[:3] + (-1,))
        transformed = [transform(volumes[..., i], int(orders[i] if i < len(orders)
                                                      else orders[0]))
                       for i in range(volumes.shape[-1])]
        stacked = np.stack(transformed, axis=-1).astype(data.dtype, copy=False)
        outputs[field] = stacked.reshape(stacked.shape[:3] + trailing)
    return outputs


def spatial_axes(shape):
    """The axes of a 3-D spatial shape longer than one voxel (a 2-D image has two)."""
    return tuple(axis for axis, size in enumerate(shape[:3]) if size > 1)


def check_divisible_channels(input_tensor, n_splits):
    """``n_channels // n_splits`` for an input whose (known) number of
    channels is a multiple of ``n_splits``; otherwise a ``ValueError``."""
    n_channels = tf.compat.dimension_value(input_tensor.shape[-1])
    n_splits = int(n_splits)
    if n_channels is None or n_splits < 1 or n_channels % n_splits:
        raise ValueError(
            'the number of input channels ({}) must be a multiple of '
            'n_splits ({})'.format(n_channels, n_splits))
    return n_channels // n_splits


def resize_3d(volume, shape, interp_order=1):
    """Resample a 3-D ``volume`` to ``shape``, voxel centres aligned.

    Output voxel ``o`` along an axis of ``n`` -> ``m`` voxels samples the
    input at ``(o + 0.5) * n / m - 0.5``, so the volume keeps its extent;
    samples beyond the edge take the nearest edge value.
    """
    import scipy.ndimage
    shape = tuple(int(m) for m in shape)
    if tuple(volume.shape) == shape:
        return volume
    step = np.array([n / float(m) for n, m in zip(volume.shape, shape)])
    # a diagonal matrix takes scipy's fast separable path
    return scipy.ndimage.affine_transform(volume, step, offset=0.5 * step - 0.5,
                                          output_shape=shape, order=int(interp_order),
                                          mode='nearest')
