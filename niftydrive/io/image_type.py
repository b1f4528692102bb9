# -*- coding: utf-8 -*-
"""The image objects an :class:`~niftydrive.io.image_reader.ImageReader` holds.

One object is one field (``image``, ``label`` ...) of one subject: one file,
or several files (one per input section, e.g. T1 and T2) concatenated along
the modality axis. ``get_data()`` returns NiftyNet's 5-D layout
``[x, y, z, time, modality]`` as float32: a 2-D picture ``[x, y]`` is
``[x, y, 1, 1, 1]``, an RGB picture ``[x, y, 1, 1, 3]``, a 4-D NIfTI series
``[x, y, z, t, 1]``.

Volumes of spatial rank 3 are reoriented to ``output_axcodes`` and resampled
to ``output_pixdim`` (spline order ``interp_order``); as in NiftyNet, images
of spatial rank 2 are not (those settings are ignored for them).
"""
import logging
import os

import numpy as np

from niftydrive.io.image_loader import SpatialImage, load_image
from niftydrive.io.misc_io import resolve_file_name
from niftydrive.utilities.errors import UserInputError

LOGGER = logging.getLogger(__name__)


def _as_tuple(value, length, what):
    """One entry per file: ``value`` itself when it already is a sequence of
    ``length`` per-file entries, else ``value`` repeated ``length`` times.

    For ``output_pixdim``/``output_axcodes`` a per-file entry is a sequence or
    None, so ``(1.0, 1.0, 1.0)`` is one pixdim for every file.
    """
    nested = what in ('output_pixdim', 'output_axcodes')
    if isinstance(value, (list, tuple)) and len(value) == length and (
            not nested or all(v is None or isinstance(v, (list, tuple)) for v in value)):
        return tuple(value)
    return (value,) * length


def _resolve_image_path(path):
    """``path`` made absolute; a relative path that does not exist from the
    current folder is looked up in the niftydrive home folder, as NiftyNet
    did. A path found nowhere is returned unchanged, so that reading it gives
    the error naming the subject and the file."""
    if os.path.lexists(path):
        return os.path.abspath(path)
    if os.path.isabs(path):
        return path
    from niftydrive.utilities.niftydrive_global_config import NiftyNetGlobalConfig
    try:
        return resolve_file_name(path, (NiftyNetGlobalConfig().get_niftydrive_home_folder(),))
    except UserInputError:
        return path


class Loadable(object):
    """Something whose voxels ``get_data()`` returns as a 5-D array."""

    def get_data(self):
        """The voxels ``[x, y, z, time, modality]``."""
        raise NotImplementedError


class DataFromFile(Loadable):
    """Data in one or more files: ``file_path``, ``name`` and ``loader`` are
    tuples with one entry per file (a single value is repeated).

    :param file_path: a path or a sequence of paths
    :param name: the input section name(s)
    :param loader: image loader name(s) (``None``: try the available ones)
    """

    def __init__(self, file_path, name=('loadable_data',), loader=None):
        self._file_path = None
        self._name = None
        self._loader = None
        self._dtype = None
        self.file_path = file_path
        self.name = name
        self.loader = loader

    @property
    def file_path(self):
        """A tuple of file paths, one per file."""
        return self._file_path

    @file_path.setter
    def file_path(self, path_array):
        if isinstance(path_array, str):
            path_array = (path_array,)
        try:
            paths = tuple(str(path) for path in path_array)
        except TypeError:
            raise UserInputError('expected a file name or a sequence of file names, '
                                 'got {!r}'.format(path_array))
        if not paths or any(not path for path in paths):
            raise UserInputError('empty file name in {!r}'.format(path_array))
        self._file_path = tuple(_resolve_image_path(path) for path in paths)

    @property
    def name(self):
        """A tuple of names (input sections), one per file."""
        return self._name

    @name.setter
    def name(self, name_array):
        self._name = _as_tuple(name_array, len(self.file_path), 'name')

    @property
    def loader(self):
        """A tuple of loader names (or None), one per file."""
        return self._loader

    @loader.setter
    def loader(self, loader):
        self._loader = tuple(item or None for item in
                             _as_tuple(loader, len(self.file_path), 'loader'))

    @property
    def dtype(self):
        """The on-disk data type of each file (a tuple)."""
        if self._dtype is None:
            self._dtype = tuple(load_image(path, None, loader).get_data_dtype()
                                for path, loader in zip(self.file_path, self.loader))
        return self._dtype

    def get_data(self):
        raise NotImplementedError


class SpatialImage2D(DataFromFile):
    """An image of spatial rank 2 or 3 from one or more files.

    :param interp_order: spline order for resampling, one per file or one for all
    :param output_pixdim: voxel size to resample to (None/empty: keep)
    :param output_axcodes: orientation to reorient to (None/empty: keep)
    :param subject_id: used in error messages only
    """

    def __init__(self, file_path, name, interp_order, output_pixdim, output_axcodes,
                 loader, subject_id=None):
        DataFromFile.__init__(self, file_path=file_path, name=name, loader=loader)
        self.subject_id = subject_id
        count = len(self.file_path)
        try:
            self._interp_order = tuple(
                3 if order is None else int(order)
                for order in _as_tuple(interp_order, count, 'interp_order'))
        except (TypeError, ValueError):
            raise UserInputError('interp_order must be an integer (or one per file), got '
                                 '{!r} for {}'.format(interp_order, self.file_path))
        self._output_pixdim = _as_tuple(output_pixdim, count, 'output_pixdim')
        self._output_axcodes = _as_tuple(output_axcodes, count, 'output_axcodes')
        self._images = [self._file_image(index, geometry=False) for index in range(count)]
        self._check_shapes()
        if self.spatial_rank >= 3:
            self._images = [self._file_image(index, geometry=True) for index in range(count)]

    def _file_image(self, index, geometry):
        return SpatialImage(
            self.file_path[index], self.subject_id,
            axcodes=self._output_axcodes[index] if geometry else None,
            pixdim=self._output_pixdim[index] if geometry else None,
            interp_order=self._interp_order[index], loader=self.loader[index])

    def _check_shapes(self):
        shapes = {image.path: image.original_spatial_shape for image in self._images}
        if len(set(shapes.values())) > 1:
            raise UserInputError('Subject {}: the files of one field have different spatial '
                                 'shapes: {}'.format(self.subject_id, '; '.join(
                                     '{} {}'.format(p, s) for p, s in shapes.items())))

    @property
    def file_images(self):
        """The per-file :class:`~niftydrive.io.image_loader.SpatialImage` objects."""
        return self._images

    @property
    def interp_order(self):
        """Interpolation order of each file (a tuple)."""
        return self._interp_order

    @property
    def output_pixdim(self):
        """Target voxel size of each file (None: keep); always None at rank 2."""
        return tuple(image.pixdim for image in self._images)

    @property
    def output_axcodes(self):
        """Target orientation of each file (None: keep); always None at rank 2."""
        return tuple(image.axcodes for image in self._images)

    @property
    def original_pixdim(self):
        """Voxel size on disk of each file (a tuple of 3-tuples)."""
        return tuple(image.original_pixdim for image in self._images)

    @property
    def original_affine(self):
        """Affine on disk of each file (a tuple of 4x4 arrays)."""
        return tuple(image.original_affine for image in self._images)

    @property
    def original_axcodes(self):
        """Orientation on disk of each file, e.g. ``(('R', 'A', 'S'),)``."""
        import nibabel as nib
        return tuple(nib.aff2axcodes(affine) for affine in self.original_affine)

    @property
    def original_shape(self):
        """The 5-D shape on disk (modalities of all files summed)."""
        return self._shape(original=True)

    @property
    def shape(self):
        """The 5-D shape of ``get_data()``: ``(x, y, z, time, modalities)``."""
        return self._shape(original=False)

    def _time_modality(self):
        """Per file ``(time, modality)`` sizes; when the files disagree on time
        they are folded into modalities (``(1, t * m)``) so they can be joined."""
        sizes = [tuple(image.original_shape[3:5]) + (1,) * (2 - len(image.original_shape[3:5]))
                 for image in self._images]
        if len(sizes) > 1 and len(set(t for t, _ in sizes)) > 1:
            sizes = [(1, t * m) for t, m in sizes]
        return [(int(t), int(m)) for t, m in sizes]

    def _shape(self, original):
        first = self._images[0]
        spatial = first.original_spatial_shape if original else first.spatial_shape
        sizes = self._time_modality()
        return tuple(int(s) for s in spatial) + (sizes[0][0], sum(m for _, m in sizes))

    @property
    def spatial_rank(self):
        """Number of spatial axes longer than one voxel (2 for a picture)."""
        return int(np.sum([dim > 1 for dim in self._images[0].original_spatial_shape]))

    def get_data(self):
        """The voxels as float32 ``[x, y, z, time, modality]``."""
        arrays = [image.get_data() for image in self._images]
        arrays = [array.reshape(array.shape[:3] + size)
                  for array, size in zip(arrays, self._time_modality())]
        if len(arrays) == 1:
            return arrays[0]
        try:
            return np.concatenate(arrays, axis=4)
        except ValueError:
            raise UserInputError('Subject {}: cannot concatenate {} (shapes {}).'.format(
                self.subject_id, ', '.join(self.file_path), [a.shape for a in arrays]))


class SpatialImage3D(SpatialImage2D):
    """A 3-D volume from one file (reoriented and resampled as asked)."""


class SpatialImage4D(SpatialImage3D):
    """A volume series from one 4-D file, or 3-D volumes of several files
    concatenated along the modality axis."""


class SpatialImage5D(SpatialImage4D):
    """A 5-D file (time and vector components), reoriented and resampled
    volume by volume."""


class ImageFactory(object):
    """Create the image object matching the number of dimensions in the header."""

    INSTANCE_DICT = {2: SpatialImage2D,
                     3: SpatialImage3D,
                     4: SpatialImage4D,
                     5: SpatialImage5D,
                     6: SpatialImage5D}

    @classmethod
    def create_instance(cls, file_path, **kwargs):
        """An image of the class for the files' dimensionality.

        :param file_path: a path or a sequence of paths (one per input section)
        :param kwargs: ``name``, ``interp_order``, ``output_pixdim``,
            ``output_axcodes``, ``loader`` (and optionally ``subject_id``)
        :raises UserInputError: no file name, or an unreadable file
        """
        if file_path is None:
            raise UserInputError('No file_path provided; check the input sections of '
                                 'the config.')
        paths = (file_path,) if isinstance(file_path, str) else tuple(file_path)
        paths = tuple(_resolve_image_path(str(path)) if path else path for path in paths)
        loaders = kwargs.get('loader')
        loader = loaders[0] if isinstance(loaders, (list, tuple)) and loaders else loaders
        header = load_image(paths[0], kwargs.get('subject_id'), loader or None)
        ndims = len(header.shape) + (1 if len(paths) > 1 else 0)
        kwargs.setdefault('name', ('loadable_data',) * len(paths))
        kwargs.setdefault('interp_order', 3)
        kwargs.setdefault('output_pixdim', None)
        kwargs.setdefault('output_axcodes', None)
        kwargs.setdefault('loader', None)
        return cls.INSTANCE_DICT.get(ndims, SpatialImage5D)(paths, **kwargs)
