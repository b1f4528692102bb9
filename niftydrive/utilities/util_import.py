# -*- coding: utf-8 -*-
"""Import optional modules with a version check (NiftyNet's ``util_import``)."""
import importlib
import logging

LOGGER = logging.getLogger(__name__)


def _version_tuple(version):
    """``'1.13.3'`` or ``(1, 13)`` -> ``(1, 13, 3)`` / ``(1, 13)``; non-numeric
    parts (``'0rc1'``) count by their leading digits."""
    if isinstance(version, (tuple, list)):
        parts = version
    else:
        parts = str(version).split('.')
    numbers = []
    for part in parts:
        digits = ''
        for char in str(part):
            if not char.isdigit():
                break
            digits += char
        numbers.append(int(digits or 0))
    return tuple(numbers)


def require_module(name, min_version=None, descriptor='Optional', mandatory=False):
    """Import module ``name`` and check ``module.__version__ >= min_version``.

    :param name: dotted module name, e.g. ``'PIL.Image'``
    :param min_version: a version string (``'0.13'``) or tuple (``(0, 13)``);
        a module without ``__version__`` passes
    :param descriptor: word used in the log message (``'Optional'``)
    :param mandatory: raise when the module is missing or too old (otherwise
        log and return None)
    :return: the imported module, or None when not mandatory and unusable
    :raises ImportError: missing module (mandatory)
    :raises AssertionError: too old (mandatory)
    """
    name = '{}'.format(name)
    try:
        module = importlib.import_module(name)
    except ImportError:
        message = '{} Python module {} not found; install it ({}) and retry ' \
                  'if the application fails.'.format(descriptor, name, name.split('.')[0])
        if mandatory:
            raise ImportError(message)
        LOGGER.info(message)
        return None
    if min_version is None:
        return module
    version = getattr(module, '__version__', None)
    if version is None:
        top = importlib.import_module(name.split('.')[0])
        version = getattr(top, '__version__', None)
    if version is None or _version_tuple(version) >= _version_tuple(min_version):
        return module
    message = '{} Python module {} version {} is older than {}; upgrade it and ' \
              'retry.'.format(descriptor, name, version, min_version)
    if mandatory:
        raise AssertionError(message)
    LOGGER.info(message)
    return None
