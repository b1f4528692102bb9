"""Test-wide set-up: quiet TensorFlow, fresh graphs, several virtual CPUs."""
import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

import pytest  # noqa: E402

import niftydrive  # noqa: E402,F401  (configures TensorFlow 1.x behaviour)
import tensorflow.compat.v1 as tf  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def graph():
    """A fresh default graph for the test."""
    with tf.Graph().as_default() as new_graph:
        yield new_graph


@pytest.fixture
def multi_cpu_config():
    """A session config exposing four virtual CPU devices."""
    config = tf.ConfigProto(device_count={'CPU': 4})
    config.allow_soft_placement = True
    return config


@pytest.fixture(autouse=True)
def _clear_application_singleton():
    """Applications are per-process singletons; reset them between tests."""
    yield
    try:
        from niftydrive.application.base_application import SingletonApplication
    except ImportError:
        return
    SingletonApplication.clear_all()


@pytest.fixture(autouse=True, scope='session')
def _global_config_in_a_temporary_folder(tmp_path_factory):
    """niftydrive's global config and home folder (created on first use) go to
    a temporary folder, not the home folder of whoever runs the tests; child
    processes inherit the setting."""
    config_home = tmp_path_factory.mktemp('niftydrive_config')
    (config_home / 'config.ini').write_text(
        '[global]\nhome = {}\n'.format(config_home / 'home'))
    saved = os.environ.get('NIFTYDRIVE_CONFIG_HOME')
    os.environ['NIFTYDRIVE_CONFIG_HOME'] = str(config_home)
    yield
    if saved is None:
        os.environ.pop('NIFTYDRIVE_CONFIG_HOME', None)
    else:
        os.environ['NIFTYDRIVE_CONFIG_HOME'] = saved
