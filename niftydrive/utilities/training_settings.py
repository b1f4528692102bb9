"""The model folder describes itself: ``<model_dir>/settings_<action>.txt``.

``net_run`` writes every resolved parameter of a run there (NiftyNet's file
name; our content is INI, so it reads back).  At inference and evaluation,
the preprocessing keys that the run's own configuration does not set come
from the training run's ``settings_train.txt``: a model must see its
inputs normalised, resampled and windowed as in training, and a user who
forgets ``whitening = True`` at inference would otherwise get wrong outputs
without any error.  A log line names each key taken this way.
"""
import logging
import os

from niftydrive.utilities.errors import UserInputError

LOGGER = logging.getLogger(__name__)

#: Keys of ``[NETWORK]`` that must match training.
NETWORK_KEYS = ('normalisation', 'whitening', 'histogram_ref_file',
                'norm_type', 'cutoff', 'normalise_foreground_only',
                'foreground_type', 'multimod_foreground_type',
                'volume_padding_size', 'volume_padding_mode')
#: Keys of each input section that must match training.
INPUT_KEYS = ('spatial_window_size', 'pixdim', 'axcodes', 'interp_order',
              'loader')
#: Keys of the application section that must match training.
APPLICATION_KEYS = ('label_normalisation',)


def settings_file(model_dir, action):
    """``<model_dir>/settings_<action>.txt``."""
    return os.path.join(model_dir, 'settings_{}.txt'.format(action))


def _inherited_keys(section, app_section):
    if section.kind == 'input':
        return INPUT_KEYS
    if section.canonical == 'NETWORK':
        return NETWORK_KEYS
    if section.canonical == app_section:
        return APPLICATION_KEYS
    return ()


def _saved_section(saved, section, app_section):
    """The training run's section matching ``section`` (the application
    section is saved as ``[CUSTOM]``), or None."""
    name = 'CUSTOM' if section.canonical == app_section else section.name
    return saved[name] if saved.has_section(name) else None


def inherit_training_settings(parsed, app_section):
    """Fill the preprocessing keys that ``parsed`` (the parser's sections of
    an inference or evaluation run) leaves unset with the training run's
    values from ``<model_dir>/settings_train.txt``, checked as a config's
    are; return the ``[section] key = value`` texts taken."""
    from niftydrive.utilities.user_parameters_parser import convert_value, \
        load_config
    path = settings_file(parsed['SYSTEM'].values['model_dir'], 'train')
    if not os.path.isfile(path):
        return []
    try:
        saved = load_config(path)
    except UserInputError as error:
        LOGGER.warning('training settings not used: %s', error)
        return []
    taken = []
    for section in parsed.values():
        keys = _inherited_keys(section, app_section)
        saved_section = _saved_section(saved, section, app_section) \
            if keys else None
        if saved_section is None:
            continue
        for key in keys:
            param = section.schema.get(key)
            if param is None or key not in saved_section or \
                    key in section.from_file or key in section.from_cli:
                continue
            value = convert_value(param, saved_section[key], section.label,
                                  path)
            if value != section.values[key]:
                section.values[key] = value
                taken.append('[{}] {} = {}'.format(section.name, key,
                                                   saved_section[key]))
    if taken:
        LOGGER.info('not set in this configuration, taken from the training '
                    'run (%s): %s', path, '; '.join(taken))
    return taken
