"""What a new user meets first: their own modules, their own log lines,
and error messages that point at the fix."""
import os
import subprocess
import sys
import textwrap

import pytest
import tensorflow.compat.v1 as tf

from engine_test_apps import make_params
from niftydrive.application.base_application import BaseApplication
from niftydrive.engine.application_driver import ApplicationDriver
from test_net_run_cli import TOY, run_main, write_config

USER_MODULE = '''
import logging
from niftydrive.application.toy_application import ToyApplication

LOG = logging.getLogger(__name__)


class MyApp(ToyApplication):
    def initialise_network(self):
        LOG.info('hello from my application')
        super(MyApp, self).initialise_network()


class NotAnApp(object):
    pass
'''


class HalfWrittenApp(BaseApplication):
    """Implements nothing but its constructor."""

    REQUIRED_CONFIG_SECTION = 'CUSTOM'


def test_own_application_imports_from_the_config_folder_and_its_log_is_shown(
        tmp_path):
    project = tmp_path / 'project'
    project.mkdir()
    (project / 'my_first_app.py').write_text(textwrap.dedent(USER_MODULE))
    config = write_config(project)
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    net_run = os.path.join(os.path.dirname(sys.executable), 'net_run')
    result = subprocess.run(
        [net_run, 'train', '-c', config, '-a', 'my_first_app.MyApp'],
        cwd=str(elsewhere), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert 'INFO:my_first_app: hello from my application' in result.stderr
    assert 'INFO:niftydrive: Training iter 2' in result.stderr


def test_a_class_that_is_not_an_application_is_named(tmp_path, capsys,
                                                     monkeypatch):
    (tmp_path / 'not_an_app_module.py').write_text(textwrap.dedent(USER_MODULE))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, 'path', list(sys.path))
    code, _, err = run_main(['train', '-c', write_config(tmp_path), '-a',
                             'not_an_app_module.NotAnApp'], capsys)
    assert code == 1
    assert 'not_an_app_module.NotAnApp" is not a subclass of ' \
           'niftydrive.application.base_application.BaseApplication' in err
    assert 'Traceback' not in err


def test_a_missing_hook_is_named():
    app = HalfWrittenApp(None, None, 'train')
    with pytest.raises(NotImplementedError,
                       match=r'HalfWrittenApp.initialise_network\(\) is not '
                             r'implemented'):
        app.initialise_network()
    with pytest.raises(NotImplementedError, match='interpret_output'):
        app.interpret_output({})


@pytest.mark.parametrize('alias, meant', [('learning_rate', 'lr'),
                                          ('iterations', 'max_iter')])
def test_names_from_other_tools_suggest_ours(tmp_path, capsys, alias, meant):
    config = write_config(tmp_path, TOY.replace(
        '[TRAINING]\n', '[TRAINING]\n    {} = 3\n'.format(alias)))
    code, _, err = run_main(['train', '-c', config], capsys)
    assert code == 1
    assert 'unknown key `{}` in [TRAINING]: did you mean `{}`?'.format(
        alias, meant) in err


def test_inference_before_training_says_train_first(tmp_path):
    params = make_params(tmp_path, action='inference',
                         app='niftydrive.application.toy_application.ToyApplication')
    driver = ApplicationDriver()
    with pytest.raises(tf.errors.NotFoundError,
                       match='train first.*inference_iter'):
        driver.initialise_application(params, {})
        driver.run_application()
