"""Folder, path and logging helpers (NiftyNet's ``misc_io`` subset)."""
import logging
import os

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
_QUIET_LOGGERS = ('tensorflow', 'absl', 'h5py', 'PIL', 'matplotlib', 'urllib3')


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
    for handler in list(root.handlers):
        if getattr(handler, '_niftydrive_handler', False):
            root.removeHandler(handler)
            handler.close()
    handlers = [logging.StreamHandler()]
    if file_name:
        handlers.append(logging.FileHandler(file_name))
    for handler in handlers:
        handler.setFormatter(_RunLogFormatter())
        handler._niftydrive_handler = True  # pylint: disable=protected-access
        root.addHandler(handler)
    return logging.getLogger('niftydrive')


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
