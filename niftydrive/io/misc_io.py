"""Folder, path and logging helpers (NiftyNet's ``misc_io`` subset)."""
import logging
import os
import sys
import tempfile

from niftydrive.utilities.errors import UserInputError



def touch_folder(model_dir):
    """Create ``model_dir`` if needed; return its absolute path.

    A folder that cannot be created raises ``UserInputError`` naming it.
    """
    model_dir = os.path.abspath(os.path.expanduser(model_dir))
    try:
        os.makedirs(model_dir, exist_ok=True)
    except OSError as error:
        raise UserInputError('cannot create folder {}: {}'.format(
            model_dir, error.strerror or error)) from error
    return model_dir


def not_a_file_reason(path):
    """Why ``path`` cannot be read as a file, or None if it is a regular file.

    E.g. ``'is a folder, not a file'``; checked without opening the path, so
    a FIFO never blocks.
    """
    if os.path.isfile(path):
        return None
    if os.path.islink(path) and not os.path.exists(path):
        return 'is a broken symbolic link (to {})'.format(os.readlink(path))
    if os.path.isdir(path):
        return 'is a folder, not a file'
    if os.path.exists(path):
        return 'is not a regular file (a pipe, socket or device)'
    return 'does not exist'


def get_latest_subfolder(parent_folder, create_new=False):
    """The highest-numbered sub-folder (``0``, ``1``, ...) of ``parent_folder``.

    With ``create_new`` (or when there is none yet) a new one numbered one
    higher is created.
    """
    parent_folder = touch_folder(parent_folder)
    numbers = [int(name) for name in os.listdir(parent_folder)
               if name.isdigit() and os.path.isdir(os.path.join(parent_folder, name))]
    if numbers and not create_new:
        latest = max(numbers)
    else:
        latest = max(numbers) + 1 if numbers else 0
    return touch_folder(os.path.join(parent_folder, str(latest)))


class _RunLogFormatter(logging.Formatter):
    """``INFO:niftydrive: ...`` for niftydrive's own loggers,
    ``INFO:<logger name>: ...`` for any other (a user's application)."""

    def format(self, record):
        source = 'niftydrive' if record.name.split('.')[0] == 'niftydrive' \
            else record.name
        return '{}:{}: {}'.format(record.levelname, source,
                                  record.getMessage()) + \
            ('\n' + self.formatException(record.exc_info)
             if record.exc_info else '')


# libraries whose INFO messages are noise in a run's log
_QUIET_LOGGERS = ('h5py', 'PIL', 'matplotlib', 'urllib3')
# TensorFlow's warnings are deprecation notices about its own internals
# (what a user can act on reaches them as our own messages): errors only.
_ERRORS_ONLY_LOGGERS = ('tensorflow', 'absl')


def set_logger(file_name=None, level=logging.INFO):
    """Send the run's log to the console and, optionally, to ``file_name``.

    Records of every logger at ``level`` or above are shown (niftydrive's and
    those of a user's application or handler), except the INFO chatter of a
    few libraries.  Calling it again replaces the handlers it added before.
    """
    root = logging.getLogger()
    root.setLevel(level)
    logging.getLogger('niftydrive').setLevel(level)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    for name in _ERRORS_ONLY_LOGGERS:
        library_logger = logging.getLogger(name)
        library_logger.setLevel(max(level, logging.ERROR))
        for handler in list(library_logger.handlers):   # printed once, by ours
            library_logger.removeHandler(handler)
    for handler in list(root.handlers):
        if getattr(handler, '_niftydrive_handler', False):
            root.removeHandler(handler)
            handler.close()
    handlers = [logging.StreamHandler()]
    if file_name:
        handlers.append(LogFileHandler(file_name))
    for handler in handlers:
        handler.setFormatter(_RunLogFormatter())
        handler._niftydrive_handler = True  # pylint: disable=protected-access
        root.addHandler(handler)
    return logging.getLogger('niftydrive')


class LogFileHandler(logging.FileHandler):
    """A log file that, once it cannot be written (disk full, read-only
    folder), says so in one line on stderr and stops writing, instead of
    ``--- Logging error ---`` and a traceback for every record."""

    def __init__(self, file_name):
        self.failed = False
        super(LogFileHandler, self).__init__(file_name)

    def emit(self, record):
        if not self.failed:
            super(LogFileHandler, self).emit(record)

    def handleError(self, record):
        self._give_up(sys.exc_info()[1])

    def _give_up(self, error):
        if self.failed:
            return
        self.failed = True
        sys.stderr.write(
            'niftydrive: warning: cannot write log file {}: {}; logging to '
            'the console only\n'.format(
                self.baseFilename, getattr(error, 'strerror', None) or error))

    def flush(self):
        try:
            super(LogFileHandler, self).flush()
        except OSError as error:
            self._give_up(error)

    def close(self):
        try:
            super(LogFileHandler, self).close()
        except OSError as error:
            self._give_up(error)


def is_writable_folder(folder):
    """True if a file can be created in ``folder`` (a real attempt: root
    passes permission checks, not a read-only mount)."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def resolve_module_dir(module_dir_str, create_new=False):
    """An absolute folder for a path or an importable package name."""
    if os.path.isdir(module_dir_str):
        return os.path.abspath(module_dir_str)
    try:
        module = __import__(module_dir_str, fromlist=['__file__'])
        return os.path.dirname(os.path.abspath(module.__file__))
    except (ImportError, AttributeError, TypeError, ValueError):
        pass
    if create_new:
        return touch_folder(module_dir_str)
    raise UserInputError('folder or module "{}" not found'.format(module_dir_str))


def to_absolute_path(input_path, model_root):
    """``input_path`` made absolute against ``model_root`` when relative."""
    if not input_path:
        return input_path
    input_path = os.path.expanduser(str(input_path))
    if os.path.isabs(input_path):
        return os.path.normpath(input_path)
    return os.path.normpath(os.path.join(os.path.abspath(model_root), input_path))


def resolve_checkpoint(checkpoint_name):
    """The checkpoint prefix ``checkpoint_name`` if its index file exists."""
    if os.path.isfile(checkpoint_name + '.index'):
        return checkpoint_name
    raise UserInputError('checkpoint {} not found (no {}.index)'.format(
        checkpoint_name, checkpoint_name))


def expand_to_5d(img_data):
    """``img_data`` with trailing axes of length 1 added up to 5 dimensions
    (``[x, y]`` -> ``[x, y, 1, 1, 1]``, NiftyNet's ``[x, y, z, t, m]`` layout)."""
    while img_data.ndim < 5:
        img_data = img_data[..., None]
    return img_data


def infer_ndims_from_file(file_path, loader=None):
    """Number of dimensions in the header of an image file (2 for a grey
    picture, 5 for a colour one, 3 for a volume ...).

    :raises UserInputError: missing file or no loader can read it
    """
    from niftydrive.io.image_loader import load_image
    return len(load_image(file_path, None, loader).shape)


def resolve_file_name(file_name, paths_to_try):
    """The absolute path of ``file_name``: itself when it exists, else the
    first existing ``<folder>/<file_name>`` for the folders in ``paths_to_try``.

    :raises UserInputError: found nowhere (the folders tried are named)
    """
    file_name = os.path.expanduser(str(file_name))
    if os.path.exists(file_name):
        return os.path.abspath(file_name)
    for folder in paths_to_try:
        candidate = os.path.join(os.path.expanduser(str(folder)), file_name)
        if os.path.exists(candidate):
            return os.path.abspath(candidate)
    raise UserInputError('file {} not found (also looked in: {})'.format(
        file_name, ', '.join(str(p) for p in paths_to_try) or 'nowhere'))


# Double extensions recognised by :func:`split_filename`.
FILE_EXTENSIONS = ('.nii.gz', '.tar.gz')


def split_filename(file_name):
    """``(folder, base name, extension)`` of ``file_name``; ``.nii.gz`` and
    ``.tar.gz`` count as one extension."""
    folder, base = os.path.split(file_name)
    for extension in FILE_EXTENSIONS:
        if base.lower().endswith(extension) and len(base) > len(extension):
            return folder, base[:-len(extension)], base[-len(extension):]
    base, extension = os.path.splitext(base)
    return folder, base, extension


def save_volume_5d(img_data, filename, save_path, affine=None):
    """Write ``img_data`` as ``<save_path>/<filename>`` (NIfTI, ``affine``,
    identity by default), creating the folder; nothing when ``img_data`` is None.

    :return: the path written, or None
    """
    import numpy as np
    from niftydrive.io.image_loader import save_nifti
    if img_data is None:
        return None
    path = os.path.join(touch_folder(save_path), filename)
    if os.path.isfile(path):
        logging.getLogger(__name__).warning('File %s exists, overwriting it.', path)
    save_nifti(img_data, np.eye(4) if affine is None else affine, path)
    logging.getLogger(__name__).info('Saved %s', path)
    return path


def _as_5d_for_saving(array):
    """NiftyNet's layout rules for a network output about to be saved: a 1-D
    feature vector becomes ``[1, 1, 1, 1, n]``, a 2-D or 3-D image gets
    trailing singleton axes, a 4-D ``[x, y, z, m]`` array gets a time axis."""
    if array.ndim == 1:
        return array.reshape((1, 1, 1, 1) + array.shape)
    if array.ndim == 4:
        return array[:, :, :, None, :]
    return expand_to_5d(array)


def save_data_array(filefolder, filename, array_to_save, image_object=None,
                    interp_order=3, reshape=True):
    """Save an array of the reader's space as ``<filefolder>/<filename>``.

    With ``image_object`` (an image of the reader, e.g.
    ``reader.output_list[idx]['image']``) the reader's resampling and
    reorientation are undone with ``interp_order`` and the file gets that
    image's affine, so the output lies on the input file's voxel grid; without
    it the array is saved as it is with an identity affine. ``reshape``
    applies NiftyNet's 5-D layout rules first (see ``_as_5d_for_saving``).

    :return: the path written
    """
    import numpy as np
    array = np.asarray(array_to_save)
    if reshape:
        array = _as_5d_for_saving(array)
    affine = None
    if image_object is not None:
        reference = image_object.file_images[0]
        spatial = array.shape[:3]
        channels = array.shape[3:]
        flat = array.reshape(spatial + (int(np.prod(channels)),))
        flat = reference.to_original(flat, interp_order)
        array = flat.reshape(flat.shape[:3] + channels)
        affine = reference.original_affine
    return save_volume_5d(array, filename, filefolder, affine)
