"""Where the tests find NiftyNet's example configs: ``../shared`` beside the
repository (CI lays it there).  A plain clone has no ``../shared``: tests
that need it skip, saying why."""
import os

import pytest

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

NIFTYNET_CONFIGS = os.path.join(_REPO, '..', 'shared', 'niftynet-configs')

SKIP_REASON = ('NiftyNet example configs not found: {} (../shared/'
               'niftynet-configs beside the repository, as on CI)'.format(
                   os.path.normpath(NIFTYNET_CONFIGS)))

needs_niftynet_configs = pytest.mark.skipif(
    not os.path.isdir(NIFTYNET_CONFIGS), reason=SKIP_REASON)


def niftynet_config(name):
    """The path of NiftyNet example config ``name``; skip the test if absent."""
    path = os.path.join(NIFTYNET_CONFIGS, name)
    if not os.path.isfile(path):
        pytest.skip(SKIP_REASON)
    return path
