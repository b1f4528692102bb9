"""Window geometry shared by the samplers and the grid aggregator.

A *window* of a field is an array ``[x, y, z, channels]`` cut from a
subject's volume (see :class:`~niftydrive.io.image_reader.ImageReader`).
Each sampler also emits, per window, ``<field>_location``: an int32 vector
``[subject_index, x0, y0, z0, x1, y1, z1]`` giving the window's corners in
the subject's (padded) network-space voxel grid, end exclusive. Windows may
reach outside the volume; what lies outside is zero-padded.
"""
import numpy as np
import tensorflow.compat.v1 as tf

from niftydrive.utilities.errors import UserInputError

N_SPATIAL = 3
LOCATION_SUFFIX = '_location'
LOCATION_LENGTH = 1 + 2 * N_SPATIAL


def location_name(name):
    """The name of the location entry of a field: ``'image'`` -> ``'image_location'``."""
    return name + LOCATION_SUFFIX


def as_spatial_size(value, what='spatial_window_size'):
    """A window size as three positive ints (missing trailing axes are 1)."""
    try:
        size = tuple(int(v) for v in (value or ()))
    except (TypeError, ValueError):
        raise UserInputError('{} must be integers, got {!r}.'.format(what, value)) from None
    if not size:
        raise UserInputError('{} is not set: give the window size, e.g. (32, 32, 32), in the '
                             'input section(s).'.format(what))
    size = (size + (1,) * N_SPATIAL)[:N_SPATIAL]
    if any(s < 1 for s in size):
        raise UserInputError('{} must be positive, got {}.'.format(what, size))
    return size


def crop_window(volume, start, size):
    """Cut ``volume[start:start+size]`` spatially; outside the volume is zero."""
    start = np.asarray(start, dtype=int)
    size = np.asarray(size, dtype=int)
    shape = np.asarray(volume.shape[:N_SPATIAL])
    lo = np.maximum(start, 0)
    hi = np.minimum(start + size, shape)
    if np.all(lo == start) and np.all(hi == start + size):
        return volume[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
    window = np.zeros(tuple(size) + volume.shape[N_SPATIAL:], dtype=volume.dtype)
    if np.all(hi > lo):
        dst = tuple(slice(l - s, h - s) for l, h, s in zip(lo, hi, start))
        window[dst] = volume[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
    return window


def grid_starts(length, window, border):
    """Window starts along one axis for the grid sampler.

    Windows of ``window`` voxels, whose centres (``window - 2 * border``
    voxels) tile ``[0, length)`` exactly: the first starts at ``-border``,
    the last ends at ``length + border`` (or further when the image is
    smaller than the window). A singleton axis ignores the border.
    """
    if length == 1 and window == 1:
        return [0]
    step = window - 2 * border
    if step < 1:
        raise UserInputError(
            'INFERENCE border {} leaves nothing of windows of size {}: each window must be '
            'larger than twice the border.'.format(border, window))
    last = max(-border, length + border - window)
    starts = list(range(-border, last, step))
    starts.append(last)
    return starts


def grid_locations(spatial_shape, window, border):
    """All ``(start, end)`` corner pairs of the grid over a volume."""
    per_axis = [grid_starts(n, w, b) for n, w, b in zip(spatial_shape, window, border)]
    starts = np.stack(np.meshgrid(*per_axis, indexing='ij'), axis=-1).reshape(-1, N_SPATIAL)
    return [(tuple(s), tuple(s + np.asarray(window))) for s in starts]


class ImageWindow(object):
    """Names, shapes and dtypes of the windows a sampler emits.

    :param shapes: dict field -> one window's shape ``(x, y, z, channels)``
    :param dtypes: dict field -> TF dtype (float32 by default)
    """

    def __init__(self, shapes, dtypes=None):
        self.fields = tuple(shapes)
        self._shapes = {name: tuple(int(s) for s in shape) for name, shape in shapes.items()}
        self._dtypes = {name: (dtypes or {}).get(name, tf.float32) for name in self.fields}

    @classmethod
    def from_reader(cls, reader, window_size, fields=None):
        """Windows of ``window_size`` (three ints) for the reader's fields."""
        size = as_spatial_size(window_size)
        fields = fields or reader.names
        return cls({name: size + (reader.num_channels(name),) for name in fields})

    @property
    def spatial_size(self):
        """The spatial window size shared by all fields."""
        return self._shapes[self.fields[0]][:N_SPATIAL]

    @property
    def shapes(self):
        """dict name -> one window's shape, locations included."""
        shapes = dict(self._shapes)
        shapes.update((location_name(n), (LOCATION_LENGTH,)) for n in self.fields)
        return shapes

    @property
    def dtypes(self):
        """dict name -> TF dtype, locations included (int32)."""
        dtypes = dict(self._dtypes)
        dtypes.update((location_name(n), tf.int32) for n in self.fields)
        return dtypes

    def numpy_dtype(self, name):
        """The numpy dtype an entry must have when enqueued."""
        return self.dtypes[name].as_numpy_dtype

    def empty(self, count):
        """Zero arrays for ``count`` windows (a dict like a sampler's output)."""
        return {name: np.zeros((count,) + shape, dtype=self.numpy_dtype(name))
                for name, shape in self.shapes.items()}

    def cut(self, subject_index, data, starts):
        """Windows at ``starts`` (list of corner triples) from ``data`` (dict field -> volume)."""
        batch = self.empty(len(starts))
        size = np.asarray(self.spatial_size)
        for row, start in enumerate(starts):
            location = np.concatenate([[subject_index], start, np.asarray(start) + size])
            for name in self.fields:
                batch[name][row] = crop_window(data[name], start, size)
                batch[location_name(name)][row] = location
        return batch
