"""Cropping of spatial borders."""
import numpy as np

from niftydrive.layer import layer_util
from niftydrive.layer.base_layer import Layer


class CropLayer(Layer):
    """Remove ``border`` voxels from both ends of every spatial dimension
    (``border`` is an int or one int per spatial dimension)."""

    def __init__(self, border, name='crop'):
        super(CropLayer, self).__init__(name=name)
        self.border = border

    def layer_op(self, inputs):
        """Crop ``inputs`` shaped ``[batch, spatial..., channels]``."""
        rank = layer_util.infer_spatial_rank(inputs)
        borders = np.atleast_1d(np.asarray(self.border, dtype=np.int64))
        if borders.size == 1:
            borders = np.repeat(borders, rank)
        if borders.size != rank or np.any(borders < 0):
            raise ValueError(
                'CropLayer "{}": border {!r} must be one non-negative int or '
                'one per spatial dimension ({})'.format(
                    self.name, self.border, rank))
        borders = borders.tolist()
        spatial = inputs.shape.as_list()[1:-1]
        for size, border in zip(spatial, borders):
            if size is not None and 2 * border >= size:
                raise ValueError(
                    'CropLayer "{}": border {} is too large for spatial '
                    'shape {}'.format(self.name, self.border, spatial))
        slices = ([slice(None)] +
                  [slice(b, -b if b else None) for b in borders] +
                  [slice(None)])
        return inputs[tuple(slices)]


def crop_to_spatial_shape(inputs, spatial_shape):
    """The centre of ``inputs`` (``[batch, spatial..., channels]``) with
    ``spatial_shape``: each axis larger than the target loses
    ``(size - target) // 2`` voxels at its start and the rest at its end,
    as a sampler places a smaller window inside a larger one."""
    sizes = inputs.shape.as_list()[1:-1]
    if len(sizes) != len(spatial_shape) or any(
            size is None or size < target for size, target in zip(sizes, spatial_shape)):
        raise ValueError('cannot crop spatial shape {} to {}'.format(
            sizes, list(spatial_shape)))
    slices = [slice(None)]
    for size, target in zip(sizes, spatial_shape):
        start = (size - target) // 2
        slices.append(slice(start, start + target))
    slices.append(slice(None))
    return inputs[tuple(slices)]
