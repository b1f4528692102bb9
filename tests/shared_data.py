"""Where the tests find ../shared (NiftyNet's example configs)."""
import os

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

NIFTYNET_CONFIGS = next(
    (path for path in (os.path.join(_REPO, '..', 'shared', 'niftynet-configs'),
                       '/work/shared/niftynet-configs') if os.path.isdir(path)),
    os.path.join(_REPO, '..', 'shared', 'niftynet-configs'))
