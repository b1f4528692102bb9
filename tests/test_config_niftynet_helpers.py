"""NiftyNet's config helpers: add_*_args over argparse (generated from the Param
declarations), match_array, versioning, the global config file."""
import argparse
import configparser
import os

import pytest

from niftydrive.utilities import user_parameters_default as defaults
from niftydrive.utilities.niftydrive_global_config import NiftyNetGlobalConfig
from niftydrive.utilities.user_parameters_custom import SEGMENTATION, add_customised_args
from niftydrive.utilities.user_parameters_regex import match_array
from niftydrive.utilities.versioning import (
    get_niftydrive_version, get_niftydrive_version_string)


@pytest.mark.parametrize('adder, section', [
    (defaults.add_application_args, defaults.SYSTEM),
    (defaults.add_network_args, defaults.NETWORK),
    (defaults.add_training_args, defaults.TRAINING),
    (defaults.add_inference_args, defaults.INFERENCE),
    (defaults.add_evaluation_args, defaults.EVALUATION),
    (defaults.add_input_data_args, defaults.INPUT_DATA)])
def test_every_declared_key_becomes_an_argument_with_its_default(adder, section):
    parser = adder(argparse.ArgumentParser())
    parsed = vars(parser.parse_args([]))
    assert parsed == {name: param.default for name, param in section.items()}
    help_text = parser.format_help()
    for name in section:
        assert '--' + name in help_text


def test_arguments_parse_and_check_values_as_the_config_does(capsys):
    parser = defaults.add_network_args(argparse.ArgumentParser())
    parsed = parser.parse_args(['--cutoff', '(0.05, 0.95)', '--whitening', 'yes',
                                '--volume_padding_size', '4', '--norm_type', 'quartile'])
    assert parsed.cutoff == (0.05, 0.95) and parsed.whitening is True
    assert parsed.volume_padding_size == (4, 4, 4) and parsed.norm_type == 'quartile'
    with pytest.raises(SystemExit):
        parser.parse_args(['--norm_type', 'decile'])
    assert "invalid choice: 'decile'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parser.parse_args(['--batch_size', 'two'])
    segmentation = add_customised_args(argparse.ArgumentParser(), 'segmentation')
    assert set(vars(segmentation.parse_args([]))) == set(SEGMENTATION)
    with pytest.raises(NotImplementedError, match='no application section'):
        add_customised_args(argparse.ArgumentParser(), 'nothing')
    assert set(defaults.SECTION_ARG_ADDERS) == set(defaults.SUPPORTED_DEFAULT_SECTIONS)


@pytest.mark.parametrize('text, type_str, expected', [
    ('(1, 2, 3)', 'int', (1, 2, 3)), ('{-1,+2}', 'int', (-1, 2)), ('4', 'int', (4,)),
    ('()', 'int', ()), ('', 'float', ()), ('(1.5, .5, 2)', 'float', (1.5, 0.5, 2.0)),
    ('1e-3, 2', 'float', (0.001, 2.0)), ('(T1, T2 flair)', 'str', ('T1', 'T2 flair')),
    ('(1,)', 'int', (1,))])
def test_match_array_reads_tuples(text, type_str, expected):
    assert match_array(text, type_str) == expected


@pytest.mark.parametrize('text, type_str', [
    ('(1, 2', 'int'), ('(1.5, 2)', 'int'), ('(a, b)', 'float'), ('((1))', 'int'),
    ('(1, 2)', 'complex')])
def test_match_array_refuses_what_is_not_a_tuple_of_the_type(text, type_str):
    with pytest.raises(ValueError):
        match_array(text, type_str)


def test_version_functions_never_raise_and_agree():
    import niftydrive
    version = get_niftydrive_version()
    assert version and version.split('.')[0].isdigit()
    assert get_niftydrive_version_string() == 'niftydrive version {}'.format(version)
    assert version == niftydrive.__version__


def test_global_config_is_created_on_first_use_and_read_back(tmp_path, monkeypatch):
    monkeypatch.setenv('NIFTYDRIVE_CONFIG_HOME', str(tmp_path / 'conf'))
    monkeypatch.setenv('HOME', str(tmp_path / 'user'))
    config = NiftyNetGlobalConfig()
    assert config is NiftyNetGlobalConfig()
    assert config.get_niftydrive_config_folder() == str(tmp_path / 'conf')
    parser = configparser.ConfigParser()
    parser.read(str(tmp_path / 'conf' / 'config.ini'))
    assert parser['global']['home'] == os.path.join('~', 'niftydrive')
    home = config.get_niftydrive_home_folder()
    assert home == str(tmp_path / 'user' / 'niftydrive') and os.path.isdir(home)
    assert config.get_default_examples_folder() == os.path.join(home, 'examples')
    assert config.get_download_server_url() == \
        'https://github.com/NifTK/NiftyNetModelZoo/raw/master'


def test_global_config_home_setting_and_a_broken_file(tmp_path, monkeypatch):
    monkeypatch.setenv('NIFTYDRIVE_CONFIG_HOME', str(tmp_path / 'set'))
    (tmp_path / 'set').mkdir()
    (tmp_path / 'set' / 'config.ini').write_text(
        '[global]\nhome = {}\ndownload_server_url = https://mirror.example/zoo\n'
        .format(tmp_path / 'models'))
    assert NiftyNetGlobalConfig().get_niftydrive_home_folder() == str(tmp_path / 'models')
    assert NiftyNetGlobalConfig().get_download_server_url() == 'https://mirror.example/zoo'
    monkeypatch.setenv('NIFTYDRIVE_CONFIG_HOME', str(tmp_path / 'broken'))
    (tmp_path / 'broken').mkdir()
    (tmp_path / 'broken' / 'config.ini').write_text('no section header\n')
    monkeypatch.setenv('HOME', str(tmp_path / 'user'))
    config = NiftyNetGlobalConfig()
    assert (tmp_path / 'broken' / 'config.ini.backup').read_text() == 'no section header\n'
    assert config.get_niftydrive_home_folder() == str(tmp_path / 'user' / 'niftydrive')
