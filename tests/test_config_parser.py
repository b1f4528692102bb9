"""Configuration files: NiftyNet's example configs, types, paths, overrides, errors."""
import glob
import logging
import os
import textwrap

import pytest

from niftydrive.utilities.errors import UserInputError
from niftydrive.utilities.user_parameters_custom import SUPPORTED_ARG_SECTIONS
from niftydrive.utilities.user_parameters_default import (
    INPUT_DATA, SUPPORTED_DEFAULT_SECTIONS)
from niftydrive.utilities.user_parameters_parser import (
    CommandLineError, HelpRequested, format_help, parse, parse_config_file)

from shared_data import (
    NIFTYNET_CONFIGS, needs_niftynet_configs, niftynet_config as _config)

CONFIG_FILES = sorted(glob.glob(os.path.join(NIFTYNET_CONFIGS, '*.ini'))) or [
    pytest.param('', marks=needs_niftynet_configs)]


def write_config(folder, text, name='config.ini'):
    """Write a dedented config file into ``folder``; its path."""
    path = os.path.join(str(folder), name)
    with open(path, 'w') as config_file:
        config_file.write(textwrap.dedent(text))
    return path


TOY = """
    [SYSTEM]
    num_threads = 1
    [NETWORK]
    batch_size = 4
    [TRAINING]
    max_iter = 10
    lr = 0.01
    [CUSTOM]
    name = toy
    vector_size = 20
"""

SEGMENTATION = """
    [T1]
    path_to_search = ./data
    filename_contains = T1
    spatial_window_size = (20, 42, 42)
    [label]
    path_to_search = ./data
    filename_contains = Label
    spatial_window_size = (20, 42, 42)
    interp_order = 0
    [SYSTEM]
    model_dir = ./models/seg
    [NETWORK]
    name = toynet
    [TRAINING]
    max_iter = 10
    {training}
    [SEGMENTATION]
    image = T1
    label = label
    num_classes = 4
"""


@needs_niftynet_configs
def test_there_are_15_niftynet_configs():
    assert len(CONFIG_FILES) == 15


@pytest.mark.parametrize('path', CONFIG_FILES, ids=os.path.basename)
def test_every_niftynet_config_parses(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sections = parse_config_file(path)
    assert set(SUPPORTED_DEFAULT_SECTIONS) <= set(sections)
    for name, values in sections.items():
        if name in SUPPORTED_DEFAULT_SECTIONS:
            assert set(vars(values)) == set(SUPPORTED_DEFAULT_SECTIONS[name])
        elif name not in SUPPORTED_ARG_SECTIONS and name != 'SETTINGS':
            assert set(vars(values)) == set(INPUT_DATA)
            assert isinstance(values.spatial_window_size, tuple)
            assert isinstance(values.interp_order, int)
    if os.path.basename(path) == 'default_eval_config.ini':
        with pytest.raises(UserInputError, match='no application section'):
            parse(['train', '-c', path])
        return
    system_param, input_data_param = parse(['train', '-c', path])
    assert set(system_param) == {'SYSTEM', 'NETWORK', 'TRAINING', 'INFERENCE',
                                 'EVALUATION', 'CUSTOM'}
    assert system_param['SYSTEM'].action == 'train'
    assert system_param['CUSTOM'].name in (
        'net_segment', 'net_regress', 'net_gan', 'net_autoencoder',
        'net_reg')
    assert isinstance(system_param['TRAINING'].lr, float)
    assert isinstance(system_param['TRAINING'].max_iter, int)
    assert os.path.isabs(system_param['SYSTEM'].model_dir)
    assert input_data_param


def test_default_segmentation_values_and_types():
    system_param, data = parse(['train', '-c', _config('default_segmentation.ini')])
    assert data['modality1'].spatial_window_size == (20, 42, 42)
    assert data['modality1'].pixdim == (1.0, 1.0, 1.0)
    assert data['modality1'].axcodes == ('A', 'R', 'S')
    assert data['modality1'].filename_contains == ('T1',)
    assert data['modality1'].filename_not_contains == ()
    assert data['label'].interp_order == 0
    assert data['modality1'].csv_file == ''
    assert system_param['SYSTEM'].cuda_devices == ''
    assert system_param['SYSTEM'].num_threads == 2
    training = system_param['TRAINING']
    assert training.lr == 0.01 and isinstance(training.lr, float)
    assert training.rotation_angle == (-10.0, 10.0)
    assert training.random_flipping_axes == (1,)
    assert training.loss_type == 'Dice'
    network = system_param['NETWORK']
    assert network.normalisation is False and network.whitening is False
    assert network.normalise_foreground_only is True
    assert network.decay == 0.1
    assert network.volume_padding_size == (21, 21, 21)
    assert network.cutoff == (0.01, 0.99)
    assert network.queue_length == 20
    assert system_param['INFERENCE'].border == (0, 0, 1)
    assert system_param['INFERENCE'].spatial_window_size == (0, 0, 3)
    assert system_param['EVALUATION'].evaluations == 'Dice'
    app = system_param['CUSTOM']
    assert app.name == 'net_segment'
    assert app.image == ('modality1',) and app.label == ('label',)
    assert app.num_classes == 160 and app.output_prob is False
    assert app.label_normalisation is True


def test_niftynet_value_conventions():
    system_param, data = parse(
        ['train', '-c', _config('default_multimodal_segmentation.ini')])
    assert system_param['INFERENCE'].border == (5, 5, 5)  # one value: all dims
    assert system_param['CUSTOM'].image == ('T1', 'T2', 'T1c', 'Flair')
    assert system_param['CUSTOM'].weight == ('T1',)
    assert list(data) == ['T1', 'T2', 'T1c', 'Flair', 'label']
    assert data['T1'].filename_not_contains == ('T1c',)

    system_param, data = parse(['train', '-c', _config('vae_config.ini')])
    assert system_param['CUSTOM'].image == ('IXI image',)
    assert system_param['CUSTOM'].noise_stddev == 1.0
    assert data['Encoded features'].spatial_window_size == (1, 1, 1)
    assert system_param['NETWORK'].decay == 1e-7

    system_param, _ = parse(['train', '-c', _config('label_driven_registration.ini')])
    assert system_param['TRAINING'].lr == 1e-5
    assert system_param['TRAINING'].validation_every_n == 10
    assert system_param['TRAINING'].exclude_fraction_for_validation == 0.1
    assert system_param['NETWORK'].volume_padding_size == (5, 5, 5)
    assert system_param['CUSTOM'].moving_label == ('label1',)

    system_param, data = parse(['train', '-c', _config('weighted_sample_regression.ini')])
    assert data['OUTPUTIMAGE'].filename_not_contains == ()
    assert data['OUTPUTIMAGE'].filename_contains == ('003',)
    assert system_param['CUSTOM'].sampler == ('SAMPWEIGHT',)
    assert system_param['CUSTOM'].loss_border == 8

    sections = parse_config_file(_config('default_eval_config.ini'))
    assert sections['SETTINGS'].threshold == 0.5
    assert sections['SETTINGS'].save_discrete is True
    assert sections['ref 1'].filename_contains == ('Lesion',)
    assert sections['output modality 1'].filename_contains == ('Lesion', 'group2')


def test_keys_niftynet_configs_misplace_are_moved_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger='niftydrive.config'):
        system_param, _ = parse(['train', '-c', _config('GAN_demo_train_config.ini')])
    assert system_param['NETWORK'].queue_length == 20
    assert not hasattr(system_param['SYSTEM'], 'queue_length')
    assert 'queue_length' in caplog.text and '[NETWORK]' in caplog.text
    assert system_param['CUSTOM'].conditioning == (
        'conditioningX', 'conditioningY', 'conditioningZ')
    system_param, _ = parse(['train', '-c', _config('holisticnet_config.ini')])
    assert system_param['CUSTOM'].output_prob is False
    assert not hasattr(system_param['INFERENCE'], 'output_prob')


# ------------------------------------------------------------------ paths
def test_relative_paths_resolve_against_the_config_folder(tmp_path, monkeypatch):
    config_dir = tmp_path / 'configs'
    config_dir.mkdir()
    path = write_config(config_dir, SEGMENTATION.format(training=''))
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    system_param, data = parse(['train', '-c', os.path.relpath(path)])
    model_dir = str(config_dir / 'models' / 'seg')
    assert system_param['SYSTEM'].model_dir == model_dir
    assert system_param['SYSTEM'].dataset_split_file == os.path.join(
        model_dir, 'dataset_split.csv')
    assert system_param['INFERENCE'].save_seg_dir == os.path.join(
        model_dir, 'inference')
    assert data['T1'].path_to_search == str(config_dir / 'data')
    assert system_param['SYSTEM'].config_file == path


def test_path_defaults_and_command_line_paths(tmp_path, monkeypatch):
    path = write_config(tmp_path, TOY)
    monkeypatch.chdir('/')
    system_param, data = parse(['train', '-c', path])
    assert data == {}
    assert system_param['SYSTEM'].model_dir == str(tmp_path / 'model')
    # a relative path on the command line is relative to where the user is
    work = tmp_path / 'work'
    work.mkdir()
    monkeypatch.chdir(work)
    system_param, _ = parse(['train', '-c', path, '--model_dir', 'out',
                             '--save_seg_dir', '../gen'])
    assert system_param['SYSTEM'].model_dir == str(work / 'out')
    assert system_param['INFERENCE'].save_seg_dir == str(tmp_path / 'gen')


def test_comma_separated_search_paths_and_absolute_paths(tmp_path):
    path = write_config(tmp_path, SEGMENTATION.format(training='').replace(
        'path_to_search = ./data\n    filename_contains = T1',
        'path_to_search = a, /abs/b\n    filename_contains = T1'))
    _, data = parse(['train', '-c', path])
    assert data['T1'].path_to_search == '{},/abs/b'.format(tmp_path / 'a')


# -------------------------------------------------------------- overrides
def test_command_line_overrides_are_typed(tmp_path):
    path = write_config(tmp_path, SEGMENTATION.format(training=''))
    system_param, data = parse([
        'train', '-c', path, '--max_iter', '20', '--lr=1e-3',
        '--whitening', 'yes', '--starting_iter', '-1', '--border', '4',
        '--T1.spatial_window_size', '32,32', '--TRAINING.save_every_n=7',
        '--num_classes', '3', '--spatial_window_size', '(8, 8, 8)',
        '--cuda_devices', '""'])
    assert system_param['TRAINING'].max_iter == 20
    assert system_param['TRAINING'].lr == 0.001
    assert system_param['TRAINING'].starting_iter == -1
    assert system_param['TRAINING'].save_every_n == 7
    assert system_param['NETWORK'].whitening is True
    assert system_param['INFERENCE'].border == (4, 4, 4)
    assert system_param['INFERENCE'].spatial_window_size == (8, 8, 8)
    assert data['T1'].spatial_window_size == (32, 32, 1)
    assert data['label'].spatial_window_size == (20, 42, 42)
    assert system_param['CUSTOM'].num_classes == 3
    assert system_param['SYSTEM'].cuda_devices == ''


def test_custom_section_of_a_user_application_accepts_its_keys(tmp_path):
    path = write_config(tmp_path, TOY.replace('name = toy', 'name = my.pkg.App')
                        + '    noise_level = 0.5\n    names = a, b\n')
    system_param, _ = parse(['train', '-c', path, '--vector_size', '7',
                             '--CUSTOM.extra', '(1, 2)', '--noise_level', '2'])
    custom = system_param['CUSTOM']
    assert custom.name == 'my.pkg.App' and custom.vector_size == 7
    assert custom.noise_level == 2 and custom.names == ('a', 'b')
    assert custom.extra == (1, 2)


def test_toy_application_section_refuses_misspelt_keys(tmp_path):
    path = write_config(tmp_path, TOY + '    n_inteprolations = 4\n')
    message = _error(['train', '-c', path])
    assert 'unknown key `n_inteprolations` in [CUSTOM]' in message
    assert 'did you mean `n_interpolations`?' in message
    path = write_config(tmp_path, TOY)
    assert 'did you mean `n_interpolations`' in _error(
        ['train', '-c', path, '--CUSTOM.n_inteprolations', '4'])
    # the same file names a user application: its extra keys are its own
    assert parse(['train', '-c', path, '-a', 'my.pkg.App',
                  '--CUSTOM.n_inteprolations', '4'])[0]['CUSTOM'] \
        .n_inteprolations == 4


def test_application_option_overrides_config_name(tmp_path):
    path = write_config(tmp_path, TOY.replace('name = toy', 'name = my.pkg.App'))
    system_param, _ = parse(['train', '-c', path, '-a', 'toy'])
    assert system_param['CUSTOM'].name == 'toy'
    system_param, _ = parse(['inference', '-c', path])
    assert system_param['CUSTOM'].name == 'my.pkg.App'
    assert system_param['SYSTEM'].action == 'inference'


# ----------------------------------------------------------------- errors
def _error(argv, error=UserInputError):
    with pytest.raises(error) as info:
        parse(argv)
    return str(info.value)


def test_misspelt_key_suggests_the_right_one(tmp_path):
    path = write_config(tmp_path, TOY.replace('max_iter', 'max_itr'))
    message = _error(['train', '-c', path])
    assert 'max_itr' in message and 'did you mean `max_iter`?' in message
    assert '[TRAINING]' in message and path in message


def test_key_in_the_wrong_section_names_the_right_section(tmp_path):
    path = write_config(tmp_path, TOY.replace(
        '[NETWORK]', '[NETWORK]\n    max_iter = 5'))
    message = _error(['train', '-c', path])
    assert '`max_iter` is not a key of [NETWORK]' in message
    assert 'belongs in [TRAINING]' in message
    path = write_config(tmp_path, SEGMENTATION.format(training='').replace(
        'interp_order = 0', 'interp_order = 0\n    num_classes = 2'))
    message = _error(['train', '-c', path])
    assert '[label] (an input data section)' in message
    assert 'belongs in [SEGMENTATION]' in message
    path = write_config(tmp_path, TOY.replace(
        '[TRAINING]', '[TRAINING]\n    spatial_window_size = 3'))
    message = _error(['train', '-c', path])
    assert '[INFERENCE] or an input data section' in message


def test_wrong_type_in_file_names_key_section_value_and_type(tmp_path):
    path = write_config(tmp_path, TOY.replace('max_iter = 10', 'max_iter = ten'))
    message = _error(['train', '-c', path])
    for part in ('`max_iter`', '[TRAINING]', '"ten"', 'an integer', path):
        assert part in message
    path = write_config(tmp_path, TOY.replace('lr = 0.01', 'lr = fast'))
    assert 'expects a number' in _error(['train', '-c', path])
    path = write_config(tmp_path, SEGMENTATION.format(training='').replace(
        '(20, 42, 42)\n    [label]', '(20, x, 42)\n    [label]'))
    message = _error(['train', '-c', path])
    assert 'spatial_window_size' in message and '[T1]' in message
    path = write_config(tmp_path, TOY.replace(
        '[NETWORK]', '[NETWORK]\n    whitening = maybe'))
    assert 'True or False' in _error(['train', '-c', path])
    path = write_config(tmp_path, SEGMENTATION.format(training='').replace(
        'interp_order = 0', 'interp_order = 5'))
    assert 'Choices are: 0, 1, 2, 3' in _error(['train', '-c', path])


def test_wrong_type_on_the_command_line(tmp_path):
    path = write_config(tmp_path, TOY)
    message = _error(['train', '-c', path, '--max_iter', 'ten'])
    assert '--max_iter ten' in message and '`max_iter`' in message
    assert '[TRAINING]' in message and 'an integer' in message
    message = _error(['train', '-c', path, '--max_itr', '10'], CommandLineError)
    assert 'did you mean --max_iter?' in message
    message = _error(['train', '-c', path, '--max_iter'], CommandLineError)
    assert 'needs a value' in message
    message = _error(['train', '-c', path, '--NETWROK.batch_size', '2'],
                     CommandLineError)
    assert 'did you mean [NETWORK]?' in message
    message = _error(['train', '-c', path, '--NETWORK.max_iter', '2'])
    assert 'belongs in [TRAINING]' in message
    message = _error(['train', '-c', path, '--filename_contains', 'T1'],
                     CommandLineError)
    assert '--SECTION.filename_contains' in message


def test_application_errors(tmp_path):
    path = write_config(tmp_path, TOY)
    message = _error(['train', '-c', path, '-a', 'net_segmnt'])
    assert 'unknown application "net_segmnt"' in message
    assert 'did you mean "net_segment"?' in message
    message = _error(['train', '-c', path, '-a', 'net_segment'])
    assert 'needs a [SEGMENTATION] section' in message
    path = write_config(tmp_path, TOY.replace('name = toy', 'name = tyo'))
    assert 'did you mean "toy"?' in _error(['train', '-c', path])
    path = write_config(tmp_path, TOY.replace('name = toy', 'name ='))
    assert '[CUSTOM] must name the application' in _error(['train', '-c', path])
    path = write_config(tmp_path, TOY.replace('[CUSTOM]\n    name = toy\n'
                                              '    vector_size = 20', ''))
    assert 'no application section' in _error(['train', '-c', path])
    path = write_config(tmp_path, SEGMENTATION.format(training='')
                        + '\n[REGRESSION]\nimage = T1\n')
    message = _error(['train', '-c', path])
    assert 'several application sections' in message and '-a' in message
    system_param, _ = parse(['train', '-c', path, '-a', 'net_regress'])
    assert system_param['CUSTOM'].image == ('T1',)


def test_command_line_and_file_errors(tmp_path):
    path = write_config(tmp_path, TOY)
    assert 'did you mean "train"?' in _error(['trian', '-c', path],
                                              CommandLineError)
    assert 'no action given' in _error(['-c', path], CommandLineError)
    assert 'no configuration file given' in _error(['train'], CommandLineError)
    assert 'unexpected argument' in _error(['train', 'extra', '-c', path],
                                           CommandLineError)
    message = _error(['train', '-c', str(tmp_path / 'missing.ini')])
    assert 'configuration file not found' in message and 'missing.ini' in message
    assert 'is a folder' in _error(['train', '-c', str(tmp_path)])
    bad = write_config(tmp_path, 'max_iter = 3\n[TRAINING]\n', 'bad.ini')
    assert 'before any [SECTION]' in _error(['train', '-c', bad])
    bad = write_config(tmp_path, '[TRAINING]\nlr = 1\nlr = 2\n', 'dup.ini')
    message = _error(['train', '-c', bad])
    assert 'dup.ini' in message and "'lr'" in message
    binary = tmp_path / 'binary.ini'
    binary.write_bytes(b'\xff\xfe\x00[')
    assert 'not a UTF-8 text file' in _error(['train', '-c', str(binary)])


def test_validation_needs_a_split(tmp_path):
    path = write_config(tmp_path, SEGMENTATION.format(
        training='validation_every_n = 5'))
    message = _error(['train', '-c', path])
    assert 'validation_every_n = 5' in message
    assert 'exclude_fraction_for_validation' in message
    # not checked for inference
    parse(['inference', '-c', path])
    path = write_config(tmp_path, SEGMENTATION.format(
        training='validation_every_n = 5\n    '
                 'exclude_fraction_for_validation = 0.2'))
    parse(['train', '-c', path])
    split_dir = tmp_path / 'models' / 'seg'
    split_dir.mkdir(parents=True)
    (split_dir / 'dataset_split.csv').write_text('s1,Training\ns2,Inference\n')
    assert 'has no Validation rows' in _error(['train', '-c', path])
    (split_dir / 'dataset_split.csv').write_text('s1,Training\ns2,Validation\n')
    parse(['train', '-c', path])


def test_out_of_range_values(tmp_path):
    path = write_config(tmp_path, TOY)
    assert 'it must be >= 1' in _error(['train', '-c', path, '--batch_size', '0'])
    assert 'must be in [0, 1)' in _error(
        ['train', '-c', path, '--exclude_fraction_for_inference', '1.5'])
    assert '`starting_iter` = -3' in _error(
        ['train', '-c', path, '--starting_iter', '-3'])


HUGE = '1' + '0' * 23   # 1e23 written as an integer


@pytest.mark.parametrize('option, value, message', [
    ('lr', 'inf', '`lr` = inf in [TRAINING] is out of range: it must be > 0'),
    ('lr', '-inf', '`lr` = -inf in [TRAINING] is out of range'),
    ('lr', 'nan', '`lr` = nan in [TRAINING] is out of range'),
    ('lr', '0', '`lr` = 0.0 in [TRAINING] is out of range: it must be > 0'),
    ('stddev', 'nan', '`stddev` = nan in [CUSTOM] is out of range: it must '
                      'be >= 0'),
    ('stddev', '-inf', '`stddev` = -inf in [CUSTOM] is out of range'),
    ('decay', '-0.5', '`decay` = -0.5 in [NETWORK] is out of range: it must '
                      'be >= 0'),
    ('decay', '-inf', '`decay` = -inf in [NETWORK]'),
    ('max_checkpoints', '0', '`max_checkpoints` = 0 in [TRAINING] is out of '
                             'range: it must be >= 1'),
    ('num_threads', '-1', '`num_threads` = -1 in [SYSTEM] is out of range: '
                          'it must be in [1, 256]'),
    ('max_checkpoints', HUGE, '`max_checkpoints` = {} in [TRAINING] is out '
                              'of range: integers here are at most '
                              '2147483647'.format(HUGE)),
    ('queue_length', HUGE, '`queue_length` = {} in [NETWORK]'.format(HUGE)),
    ('num_gpus', HUGE, '`num_gpus` = {} in [SYSTEM]'.format(HUGE)),
    ('batch_size', HUGE, '`batch_size` = {} in [NETWORK]'.format(HUGE)),
    ('vector_size', '-7', '`vector_size` = -7 in [CUSTOM] is out of range'),
    ('vector_size', '100000000', '`vector_size` = 100000000 in [CUSTOM] is '
                                 'out of range: it must be in [1, 100000]'),
    ('TRAINING.rotation_angle', '(-10, inf)',
     '`rotation_angle` = (-10.0, inf) in [TRAINING] is out of range: each '
     'value must be finite'),
])
def test_values_out_of_range_name_key_and_value(tmp_path, option, value,
                                                message):
    path = write_config(tmp_path, TOY)
    assert message in _error(['train', '-c', path, '--' + option, value])
    key = option.split('.')[-1]
    section = 'CUSTOM' if key in ('stddev', 'vector_size') else next(
        name for name, schema in SUPPORTED_DEFAULT_SECTIONS.items()
        if key in schema)
    text = '\n'.join(line for line in TOY.splitlines()
                     if not line.strip().startswith(key + ' ='))
    if '[{}]'.format(section) not in text:
        text += '\n    [{}]'.format(section)
    text = text.replace('[{}]'.format(section), '[{}]\n    {} = {}'.format(
        section, key, value))
    in_file = write_config(tmp_path, text, 'file.ini')
    assert message.split(' is out of range')[0] in _error(
        ['train', '-c', in_file])


def test_input_and_application_ranges(tmp_path):
    path = write_config(tmp_path, SEGMENTATION.format(training=''))
    assert '`num_classes` = {} in [SEGMENTATION] is out of range'.format(
        HUGE) in _error(['train', '-c', path, '--num_classes', HUGE])
    assert '`spatial_window_size` = (0, 42, 42) in [T1] (an input data ' \
           'section) is out of range: each value must be in [1, 65535]' in \
        _error(['train', '-c', path, '--T1.spatial_window_size', '0,42,42'])
    assert '`pixdim` = (1.0, -1.0, 1.0) in [label]' in _error(
        ['train', '-c', path, '--label.pixdim', '1,-1,1'])


def test_values_in_range_are_accepted(tmp_path):
    path = write_config(tmp_path, TOY)
    system_param, _ = parse(['train', '-c', path, '--lr', '1e-30',
                             '--max_checkpoints', '1', '--decay', '0',
                             '--stddev', '0', '--fill_constant', 'nan',
                             '--num_gpus', '0', '--starting_iter', '-1',
                             '--queue_length', '2147483647'])
    assert system_param['TRAINING'].lr == 1e-30
    assert system_param['INFERENCE'].fill_constant != \
        system_param['INFERENCE'].fill_constant   # nan: fill allows it
    assert system_param['NETWORK'].queue_length == 2 ** 31 - 1


def test_help_shows_the_allowed_range():
    text = format_help()
    assert 'allowed: >= 1 (default: 100)' in text   # max_checkpoints
    assert 'allowed: > 0 (default: 0.01)' in text   # lr


def test_config_with_byte_order_mark_is_read(tmp_path):
    path = tmp_path / 'bom.ini'
    path.write_bytes(b'\xef\xbb\xbf' + textwrap.dedent(TOY).lstrip()
                     .encode('utf-8'))
    system_param, _ = parse(['train', '-c', str(path)])
    assert system_param['SYSTEM'].num_threads == 1


@pytest.mark.parametrize('content, message', [
    (b'[SYSTEM]\nmodel_dir = caf\xe9\n', 'is not a UTF-8 text file (byte 24'),
    (b'\x1f\x8b\x08\x00\x00\x00\x00\x00', 'is not a UTF-8 text file'),
    (b'[SYSTEM]\x00\x00\x00\n', 'is a binary file (it contains NUL bytes)'),
])
def test_binary_or_non_utf8_config_gives_one_line(tmp_path, content, message):
    path = tmp_path / 'bad.ini'
    path.write_bytes(content)
    error = _error(['train', '-c', str(path)])
    assert message in error and str(path) in error and '\n' not in error


def test_config_that_is_a_fifo_is_refused_without_blocking(tmp_path):
    path = str(tmp_path / 'fifo.ini')
    os.mkfifo(path)
    assert 'is not a regular file' in _error(['train', '-c', path])


# ------------------------------------------------------------------- help
def test_help_lists_every_parameter_with_default():
    text = format_help()
    for section, schema in list(SUPPORTED_DEFAULT_SECTIONS.items()) + list(
            SUPPORTED_ARG_SECTIONS.items()):
        assert '[{}]'.format(section) in text
        for key in schema:
            assert '--{} '.format(key) in text, key
    for key in INPUT_DATA:
        assert '  {} '.format(key) in text
    assert '--max_iter INT' in text and '(default: 10000)' in text


def test_help_with_a_config_shows_its_application_and_inputs(tmp_path):
    path = write_config(tmp_path, SEGMENTATION.format(training=''))
    with pytest.raises(HelpRequested) as info:
        parse(['train', '-c', path, '--help'])
    assert '[SEGMENTATION] (application net_segment)' in info.value.text
    assert '[REGRESSION]' not in info.value.text
    assert 'here: T1, label' in info.value.text


def test_system_key_in_custom_section_is_kept_with_a_warning(tmp_path, caplog):
    path = write_config(tmp_path, TOY + '    max_iter = 3\n')
    assert 'it belongs in [TRAINING]' in _error(['train', '-c', path])
    path = write_config(tmp_path, TOY.replace('name = toy', 'name = my.pkg.App')
                        + '    max_iter = 3\n')
    with caplog.at_level(logging.WARNING, logger='niftydrive.config'):
        system_param, _ = parse(['train', '-c', path])
    assert system_param['CUSTOM'].max_iter == 3
    assert system_param['TRAINING'].max_iter == 10
    assert 'engine reads [TRAINING] max_iter' in caplog.text
