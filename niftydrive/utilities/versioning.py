# -*- coding: utf-8 -*-
"""The installed niftydrive version (NiftyNet's ``versioning``; functions renamed
``niftynet`` -> ``niftydrive``). Neither function ever raises."""


def get_niftydrive_version():
    """The version of the installed distribution (PEP 440), else the package's
    ``__version__``; None when neither can be found."""
    try:
        from importlib.metadata import version
        return version('niftydrive')
    except Exception:  # pylint: disable=broad-except  (not installed, broken metadata)
        pass
    try:
        from niftydrive import __version__
        return __version__
    except Exception:  # pylint: disable=broad-except
        return None


def get_niftydrive_version_string():
    """``'niftydrive version X'`` (``unknown`` when the version cannot be found)."""
    return 'niftydrive version {}'.format(get_niftydrive_version() or 'unknown')
