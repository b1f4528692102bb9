"""Load image files (NIfTI, PNG, JPEG, ...) and move them between disk and network space.

Loaders: every function registered with :func:`register_image_loader` reads
one file into a nibabel image (2-D pictures become a ``nibabel.Nifti1Image``
with an identity affine, colour channels last). ``SUPPORTED_LOADERS`` names
them all; ``AVAILABLE_LOADERS`` those whose library is installed here.
:func:`load_image_from_file` uses the one named by an input section's
``loader`` key, or tries the auto-discovered ones in order (nibabel,
opencv, skimage, pillow, simpleitk, numpy).

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
from collections import OrderedDict

import nibabel as nib
import numpy as np
from nibabel import orientations as ornt_mod

from niftydrive.io.misc_io import not_a_file_reason
from niftydrive.utilities.errors import UserInputError
from niftydrive.utilities.util_import import require_module

LOGGER = logging.getLogger(__name__)

#: every loader niftydrive knows: name -> (required module, min version, pip package)
SUPPORTED_LOADERS = OrderedDict()
#: the loaders usable on this machine: name -> {'func': ..., 'auto_discover': bool}
AVAILABLE_LOADERS = OrderedDict()


def register_image_loader(name, requires, min_version=None, auto_discover=True,
                          package=None):
    """Decorator registering ``func(filename) -> nibabel image`` as loader ``name``.

    The loader is always listed in ``SUPPORTED_LOADERS``; it is added to
    ``AVAILABLE_LOADERS`` only when module ``requires`` (at least
    ``min_version``) imports. With ``auto_discover`` it is tried when an input
    section sets no ``loader``. A loader raises ``IOError`` for a file it
    cannot read, so that the next one is tried.

    :param package: the pip package providing ``requires`` (for messages)
    """
    def _register(func):
        SUPPORTED_LOADERS[name] = (requires, min_version, package or requires.split('.')[0])
        try:
            require_module(requires, min_version=min_version, mandatory=True)
        except (ImportError, AssertionError):
            AVAILABLE_LOADERS.pop(name, None)
        else:
            AVAILABLE_LOADERS[name] = dict(func=func, auto_discover=auto_discover)
        return func
    return _register


def _missing_library_message(name):
    module, min_version, package = SUPPORTED_LOADERS[name]
    return 'image loader "{}" needs the Python package {}{} (module {}), which is not ' \
           'installed: `pip install {}`, or choose another loader ({}).'.format(
               name, package, ' >= {}'.format(min_version) if min_version else '', module,
               package, ', '.join(AVAILABLE_LOADERS) or 'none available')


def load_image_from_file(filename, loader=None):
    """Read ``filename`` with loader ``loader`` (a name), or with the first
    auto-discovered available loader that can read it.

    :return: a nibabel image (``affine``, ``header``, ``dataobj``)
    :raises UserInputError: unknown loader name, its library missing, or no
        loader could read the file
    """
    if loader:
        loader = str(loader).strip().lower()
        if loader not in SUPPORTED_LOADERS:
            raise UserInputError('loader = {}: unknown image loader; supported: {}.'.format(
                loader, ', '.join(SUPPORTED_LOADERS)))
        if loader not in AVAILABLE_LOADERS:
            raise UserInputError(_missing_library_message(loader))
        try:
            return AVAILABLE_LOADERS[loader]['func'](filename)
        except (IOError, OSError, ValueError) as error:
            raise UserInputError('loader = {} cannot read {}: {}'.format(
                loader, filename, error)) from error
    failures = []
    for name, entry in AVAILABLE_LOADERS.items():
        if not entry['auto_discover']:
            continue
        try:
            return entry['func'](filename)
        except (IOError, OSError, ValueError) as error:
            failures.append('{}: {}'.format(name, str(error).splitlines()[0] if str(error)
                                            else type(error).__name__))
    missing = [name for name in SUPPORTED_LOADERS if name not in AVAILABLE_LOADERS]
    raise UserInputError('no image loader could read {} ({}){}.'.format(
        filename, '; '.join(failures) or 'no loader available',
        '; loaders not installed: {}'.format(', '.join(
            '{} (pip install {})'.format(n, SUPPORTED_LOADERS[n][2]) for n in missing))
        if missing else ''))


class ImageAsNibabel(nib.Nifti1Image):
    """A 2-D picture as a NIfTI-1 image: ``[x, y]`` grey, or ``[x, y, 1, 1, c]``
    for ``c <= 4`` colour channels (the channels become the 5th dimension)."""

    def __init__(self, img, affine):
        img = np.asarray(img)
        if img.dtype == bool:
            img = img.astype(np.uint8)
        if img.ndim == 3 and img.shape[2] <= 4:
            img = img[:, :, None, None, :]
        super(ImageAsNibabel, self).__init__(img, affine)


def image2nibabel(img, affine=None):
    """Wrap a picture array as an :class:`ImageAsNibabel` (identity affine by default)."""
    return ImageAsNibabel(img, np.eye(4) if affine is None else affine)


@register_image_loader('nibabel', requires='nibabel')
def imread_nibabel(filename):
    """NIfTI-1/2 (and the other formats nibabel reads) with their affine."""
    try:
        image = nib.load(filename)
    except nib.filebasedimages.ImageFileError as error:
        raise IOError('nibabel cannot read {}: {}'.format(filename, error)) from error
    if not hasattr(image, 'affine') or image.affine is None:
        raise IOError('{} has no affine'.format(filename))
    return image


@register_image_loader('opencv', requires='cv2', package='opencv-python-headless')
def imread_opencv(filename):
    """OpenCV (colour as RGB), identity affine."""
    cv2 = require_module('cv2', mandatory=True)
    img = cv2.imread(filename, -1)
    if img is None:
        raise IOError('opencv cannot read {}'.format(filename))
    if img.ndim == 3:
        img = img[..., ::-1]
    return image2nibabel(img)


@register_image_loader('skimage', requires='skimage.io', min_version=(0, 13),
                       package='scikit-image')
def imread_skimage(filename):
    """scikit-image, identity affine."""
    skio = require_module('skimage.io', mandatory=True)
    try:
        return image2nibabel(skio.imread(filename))
    except (ValueError, SyntaxError) as error:
        raise IOError(str(error)) from error


@register_image_loader('pillow', requires='PIL.Image', package='pillow')
def imread_pillow(filename):
    """Pillow (PNG, JPEG, TIFF, BMP ...), identity affine."""
    pil = require_module('PIL.Image', mandatory=True)
    try:
        with pil.open(filename) as picture:
            return image2nibabel(np.asarray(picture))
    except (pil.UnidentifiedImageError, SyntaxError) as error:
        raise IOError('pillow cannot read {}: {}'.format(filename, error)) from error


@register_image_loader('simpleitk', requires='SimpleITK', package='SimpleITK')
def imread_sitk(filename):
    """SimpleITK (NIfTI, MetaImage, NRRD, DICOM ...), affine converted to RAS."""
    sitk = require_module('SimpleITK', mandatory=True)
    try:
        simg = sitk.ReadImage(filename)
    except RuntimeError as error:
        raise IOError('SimpleITK cannot read {}: {}'.format(filename, error)) from error
    img = sitk.GetArrayFromImage(simg)
    if simg.GetDimension() > 2:
        img = img.transpose()   # SimpleITK arrays are [z, y, x]
    return image2nibabel(img, affine=make_affine_from_sitk(simg))


@register_image_loader('numpy', requires='numpy')
def imread_numpy(filename):
    """A ``.npy`` array (or the first array of a ``.npz``) as it is (axes
    ``x, y, z, t, m``), identity affine."""
    if not str(filename).lower().endswith(('.npy', '.npz')):
        raise IOError('not a .npy/.npz file')
    data = np.load(filename, allow_pickle=False)
    if isinstance(data, np.lib.npyio.NpzFile):
        data = data[data.files[0]]
    data = np.asarray(data)
    if data.dtype == bool:
        data = data.astype(np.uint8)
    elif data.dtype == np.int64:
        data = data.astype(np.float64)   # NIfTI images refuse int64 data
    return nib.Nifti1Image(data, np.eye(4))


@register_image_loader('dummy', requires='numpy', auto_discover=False)
def imread_dummy(filename=None):
    """Random ``100 x 100`` RGB noise whatever the file (for testing a pipeline)."""
    del filename
    return image2nibabel(np.random.randint(255, size=(100, 100, 3)).astype(np.uint8))


def make_affine_from_sitk(sitk_img):
    """The voxel-to-world affine of a SimpleITK image, in nibabel's RAS convention."""
    if sitk_img.GetDimension() < 3:
        return np.eye(4)
    origin = np.array(sitk_img.TransformContinuousIndexToPhysicalPoint((0, 0, 0)))
    columns = [np.array(sitk_img.TransformContinuousIndexToPhysicalPoint(axis)) - origin
               for axis in ((1, 0, 0), (0, 1, 0), (0, 0, 1))]
    affine = np.eye(4)
    affine[:3, :3] = np.stack(columns, axis=1)
    affine[:3, 3] = origin
    return np.diag([-1.0, -1.0, 1.0, 1.0]).dot(affine)   # LPS -> RAS


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


def load_image(path, subject_id=None, loader=None):
    """Checked :func:`load_image_from_file`: errors name the file and the subject.

    :raises UserInputError: missing or empty file, no loader could read it
    """
    reason = not_a_file_reason(path)
    if reason:
        raise UserInputError('Image {} {}.'.format(_name(path, subject_id), reason))
    if os.path.getsize(path) == 0:
        raise UserInputError('Image {} is empty (0 bytes).'.format(_name(path, subject_id)))
    try:
        return load_image_from_file(path, loader)
    except UserInputError as error:
        raise UserInputError('Cannot read image {}: {}'.format(
            _name(path, subject_id), error)) from error
    except Exception as error:  # a library's own exception types for bad files
        raise UserInputError('Cannot read image {}: {}'.format(
            _name(path, subject_id), error)) from error


def load_nifti(path, subject_id=None):
    """``load_image`` with any loader (kept for callers written for NIfTI only)."""
    return load_image(path, subject_id)


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
    :param loader: an image loader name (``None``: try the available ones)
    """

    def __init__(self, path, subject_id=None, axcodes=None, pixdim=None, interp_order=3,
                 loader=None):
        self.path = path
        self.loader = loader or None
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
            image = load_image(self.path, self.subject_id, self.loader)
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
