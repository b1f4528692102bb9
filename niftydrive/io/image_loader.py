"""Load NIfTI files with nibabel and move them between disk and network space.

A :class:`SpatialImage` is one file of one subject. ``header()`` checks the
file without reading the voxels; ``get_data()`` returns the voxels as a
float32 array ``[x, y, z, channels]`` reoriented to ``axcodes`` and resampled
to ``pixdim`` (when set); ``to_original(array)`` undoes both, so an output
written with the original affine lies on the input image.

Time (4th NIfTI dimension) and vector components (5th) are folded into the
channel axis; 2-D images get a z axis of size 1.
"""
import logging
import os

import nibabel as nib
import numpy as np
from nibabel import orientations as ornt_mod

from niftydrive.utilities.errors import UserInputError

LOGGER = logging.getLogger(__name__)


def _unset(value):
    """Whether a config value means 'not set' (None, '', (), all zeros...)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        return len(value) == 0
    except TypeError:
        return False


def _name(path, subject_id):
    return 'file {} (subject {})'.format(path, subject_id) if subject_id else 'file {}'.format(path)


def load_nifti(path, subject_id=None):
    """``nibabel`` image of a NIfTI file, with user-facing errors.

    :raises UserInputError: missing, empty, not NIfTI or unreadable header,
        naming the file and the subject
    """
    if not os.path.isfile(path):
        raise UserInputError('Image {} does not exist.'.format(_name(path, subject_id)))
    if os.path.getsize(path) == 0:
        raise UserInputError('Image {} is empty (0 bytes).'.format(_name(path, subject_id)))
    try:
        image = nib.load(path)
    except Exception as error:  # nibabel raises many types for bad files
        raise UserInputError('Cannot read image {}: {}'.format(
            _name(path, subject_id), error)) from error
    if not isinstance(image, (nib.Nifti1Image, nib.Nifti2Image)):
        raise UserInputError('Image {} is not NIfTI-1/2 (got {}).'.format(
            _name(path, subject_id), type(image).__name__))
    return image


def read_voxels(image, path, subject_id=None):
    """Voxel array of a loaded image as native-endian float32.

    :raises UserInputError: truncated or corrupt data, naming the file and subject
    """
    try:
        data = np.asanyarray(image.dataobj)
    except Exception as error:
        raise UserInputError('Cannot read the voxels of image {} (corrupt or truncated?): '
                             '{}'.format(_name(path, subject_id), error)) from error
    return np.asarray(data, dtype=np.float32)


def to_4d(data):
    """Spatial axes padded to three and time/components folded into channels."""
    shape = data.shape
    if data.ndim < 3:
        data = data.reshape(tuple(shape) + (1,) * (3 - data.ndim))
    spatial = data.shape[:3]
    return data.reshape(spatial + (-1,))


def _zoom(data, out_shape, order):
    """Resample ``[x, y, z, c]`` to spatial shape ``out_shape`` (corners aligned)."""
    from scipy import ndimage
    if tuple(data.shape[:3]) == tuple(out_shape):
        return data
    factors = [float(o) / float(i) for o, i in zip(out_shape, data.shape[:3])]
    channels = [ndimage.zoom(data[..., c], factors, order=int(order), mode='nearest')
                for c in range(data.shape[-1])]
    result = np.stack(channels, axis=-1).astype(np.float32)
    # scipy rounds the shape; make sure the exact requested shape comes out
    if tuple(result.shape[:3]) != tuple(out_shape):
        fixed = np.zeros(tuple(out_shape) + (result.shape[-1],), np.float32)
        crop = tuple(slice(0, min(a, b)) for a, b in zip(out_shape, result.shape[:3]))
        fixed[crop] = result[crop]
        result = fixed
    return result


class SpatialImage(object):
    """One NIfTI file of one subject, with reorientation and resampling.

    :param path: the file
    :param subject_id: for error messages
    :param axcodes: target orientation, e.g. ``('R', 'A', 'S')``; unset -> as on disk
    :param pixdim: target voxel size in mm; unset -> as on disk
    :param interp_order: spline order used for resampling (0 for labels)
    """

    def __init__(self, path, subject_id=None, axcodes=None, pixdim=None, interp_order=3):
        self.path = path
        self.subject_id = subject_id
        self.axcodes = None if _unset(axcodes) else tuple(str(a).upper() for a in axcodes)
        self.pixdim = None if _unset(pixdim) else tuple(float(p) for p in pixdim)
        if self.pixdim is not None and not any(self.pixdim):
            self.pixdim = None
        self.interp_order = 3 if interp_order is None else int(interp_order)
        self._image = None

    # ------------------------------------------------------------- header
    def header(self):
        """Load (once) and check the header; returns the nibabel image."""
        if self._image is None:
            image = load_nifti(self.path, self.subject_id)
            if len(image.shape) < 2 or len(image.shape) > 5 or 0 in image.shape:
                raise UserInputError('Image {} has unsupported shape {}.'.format(
                    _name(self.path, self.subject_id), image.shape))
            self._image = image
        return self._image

    @property
    def original_affine(self):
        """The affine stored in the file."""
        return self.header().affine

    @property
    def original_shape(self):
        """The array shape stored in the file."""
        return tuple(self.header().shape)

    @property
    def original_spatial_shape(self):
        """The first three dimensions on disk (1 for a 2-D image's z)."""
        shape = self.original_shape[:3]
        return tuple(shape) + (1,) * (3 - len(shape))

    @property
    def original_pixdim(self):
        """Voxel size on disk (first three zooms; 1 for missing axes)."""
        zooms = tuple(float(z) for z in self.header().header.get_zooms()[:3])
        return zooms + (1.0,) * (3 - len(zooms))

    def _ornt_transform(self):
        """Orientation transform from disk axes to ``axcodes`` (None if not asked)."""
        if self.axcodes is None:
            return None
        if len(self.axcodes) != 3:
            raise UserInputError('axcodes must name three axes, got {}.'.format(self.axcodes))
        try:
            source = ornt_mod.io_orientation(self._affine_3d())
            target = ornt_mod.axcodes2ornt(self.axcodes)
            return ornt_mod.ornt_transform(source, target)
        except Exception as error:
            raise UserInputError('axcodes {} are not a valid orientation (use three of '
                                 'L/R, A/P, S/I): {}'.format(self.axcodes, error)) from error

    def _affine_3d(self):
        affine = np.array(self.original_affine, dtype=np.float64)
        return affine

    @property
    def spatial_shape(self):
        """Spatial shape after reorientation and resampling (no data read)."""
        shape = np.array(self.original_spatial_shape)
        zooms = np.array(self.original_pixdim)
        transform = self._ornt_transform()
        if transform is not None:
            perm = transform[:, 0].astype(int)
            new_shape, new_zooms = np.empty(3, int), np.empty(3)
            new_shape[perm], new_zooms[perm] = shape, zooms
            shape, zooms = new_shape, new_zooms
        if self.pixdim is not None:
            target = np.array((self.pixdim + self.pixdim[-1:] * 3)[:3])
            shape = np.maximum(1, np.round(shape * zooms / target)).astype(int)
            # a singleton axis (2-D image) stays singleton
            shape = np.where(np.array(self._oriented_singletons()), 1, shape)
        return tuple(int(s) for s in shape)

    def _oriented_singletons(self):
        single = np.array(self.original_spatial_shape) == 1
        transform = self._ornt_transform()
        if transform is None:
            return single
        result = np.empty(3, bool)
        result[transform[:, 0].astype(int)] = single
        return result

    @property
    def num_channels(self):
        """Time points x components (1 for a plain 3-D volume)."""
        return int(np.prod(self.original_shape[3:])) if len(self.original_shape) > 3 else 1

    # --------------------------------------------------------------- data
    def get_data(self):
        """Voxels ``[x, y, z, c]`` float32, reoriented and resampled."""
        data = to_4d(read_voxels(self.header(), self.path, self.subject_id))
        transform = self._ornt_transform()
        if transform is not None:
            full = np.vstack([transform, [[3, 1]]])
            data = ornt_mod.apply_orientation(data, full)
        target = self.spatial_shape
        if tuple(data.shape[:3]) != target:
            data = _zoom(data, target, self.interp_order)
        return np.ascontiguousarray(data, dtype=np.float32)

    def to_original(self, data, interp_order=0):
        """Undo :meth:`get_data` geometry for an array ``[x, y, z, c]``.

        Resamples back to the oriented on-disk grid with ``interp_order``,
        then undoes the reorientation. Returns ``[x, y, z, c]`` on the file's
        own voxel grid, ready to be saved with :attr:`original_affine`.
        """
        transform = self._ornt_transform()
        oriented_shape = self.original_spatial_shape
        if transform is not None:
            perm = transform[:, 0].astype(int)
            shape = np.empty(3, int)
            shape[perm] = oriented_shape
            oriented_shape = tuple(int(s) for s in shape)
        if tuple(data.shape[:3]) != oriented_shape:
            data = _zoom(data.astype(np.float32), oriented_shape, interp_order)
        if transform is not None:
            inverse = ornt_mod.ornt_transform(ornt_mod.axcodes2ornt(self.axcodes),
                                              ornt_mod.io_orientation(self._affine_3d()))
            data = ornt_mod.apply_orientation(data, np.vstack([inverse, [[3, 1]]]))
        return np.ascontiguousarray(data)


def save_nifti(data, affine, path, reference_header=None):
    """Write ``data`` as NIfTI-1 with ``affine`` (qform and sform set)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    image = nib.Nifti1Image(data, affine)
    if reference_header is not None:
        try:
            image.header.set_xyzt_units(*reference_header.get_xyzt_units())
        except Exception:  # units are cosmetic; never fail a save on them
            pass
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=1)
    nib.save(image, path)
    return path
