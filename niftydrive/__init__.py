"""niftydrive: NiftyNet's application engine on TensorFlow 2.x graph mode.

Importing the package configures TensorFlow once for the whole process:
TensorFlow 1.x behaviour (``tensorflow.compat.v1`` with v2 behaviour off, so
variables are reference variables and graphs, sessions and queues act as in
TF 1.x) and quiet C++/Python logging.  Modules import TensorFlow as
``import tensorflow.compat.v1 as tf``.
"""
import logging
import os
import sys
import warnings

__version__ = '0.1.0'

#: NiftyNet's console scripts: ``net_run`` with their application chosen
APPLICATION_SCRIPTS = ('net_segment', 'net_regress', 'net_classify', 'net_gan',
                       'net_autoencoder')

# TF's C++ logger reads this at import: only errors that matter to users.
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
warnings.filterwarnings('ignore', category=DeprecationWarning,
                        module=r'(tensorflow|keras|tf_keras|google)(\.|$)')
warnings.filterwarnings('ignore', category=FutureWarning,
                        module=r'(tensorflow|keras)(\.|$)')



def _import_tensorflow_quietly():
    """Import TF with C++ start-up chatter (oneDNN notices) kept off stderr.

    Those lines are written before TF's own log level applies, so the file
    descriptor itself is pointed at /dev/null during the import.  Python
    exceptions still propagate; set NIFTYDRIVE_TF_VERBOSE=1 to see the lines.
    """
    if os.environ.get('NIFTYDRIVE_TF_VERBOSE'):
        import tensorflow.compat.v1 as tf_v1
        return tf_v1
    try:
        saved_stderr = os.dup(2)
    except OSError:  # no usable stderr (embedded interpreters)
        saved_stderr = None
    if saved_stderr is not None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    try:
        import tensorflow.compat.v1 as tf_v1
    finally:
        if saved_stderr is not None:
            os.dup2(saved_stderr, 2)
            os.close(saved_stderr)
    return tf_v1


def _only_cli_help_requested():
    """True for `net_run ... --help` / `--version`: they print text only, so
    the process need not pay TensorFlow's import time (seconds)."""
    argv = getattr(sys, 'argv', None) or ['']
    return os.path.basename(argv[0]) in ('net_run',) + APPLICATION_SCRIPTS and any(
        arg in ('-h', '--help', '-v', '--version') for arg in argv[1:])


def configure_tensorflow():
    """Import TensorFlow in TF 1.x mode (idempotent); return ``tf.compat.v1``."""
    try:
        tf_v1 = _import_tensorflow_quietly()
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ImportError(
            'niftydrive needs TensorFlow 2.x, which is not installed ({}). '
            'Install it with `pip install "niftydrive[cpu]"` '
            '(or `pip install tensorflow-cpu`), or `pip install '
            '"niftydrive[gpu]"` for the CUDA build.'.format(error)) from error
    if not getattr(configure_tensorflow, 'done', False):
        tf_v1.logging.set_verbosity(tf_v1.logging.ERROR)
        logging.getLogger('tensorflow').setLevel(logging.ERROR)
        tf_v1.disable_v2_behavior()
        configure_tensorflow.done = True
    return tf_v1


if not _only_cli_help_requested():
    configure_tensorflow()

logging.getLogger('niftydrive').addHandler(logging.NullHandler())


def main(argv=None):
    """NiftyNet's ``niftynet.main()``: run ``net_run`` on ``argv`` (default
    ``sys.argv[1:]``) and return 0.

    The application comes from ``-a``, the config, or the program name
    (``net_segment`` ...). Unlike the console scripts, which print one line
    and exit non-zero, this function raises on bad input, as NiftyNet's did:
    ``niftydrive.utilities.errors.UserInputError`` (a ``ValueError``) for a
    mistake in the command line, config or data.
    """
    from niftydrive.net_run import run
    return run(argv)
