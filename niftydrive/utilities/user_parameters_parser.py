# -*- coding: utf-8 -*-
"""Read a NiftyNet-style configuration file plus command-line overrides.

``run(argv)`` returns ``(system_param, input_data_param)``:

- ``system_param``: dict with keys ``SYSTEM``, ``NETWORK``, ``TRAINING``,
  ``INFERENCE``, ``EVALUATION`` and ``CUSTOM`` (the application's own
  section, whatever its name in the file, with ``name`` set to the
  application), each a ``ParserNamespace`` holding every declared key
  (defaults filled in); ``SYSTEM.action`` is ``train``, ``inference`` or
  ``evaluation`` and ``SYSTEM.config_file`` the absolute config path;
- ``input_data_param``: dict input-section name -> ``ParserNamespace``.

Command line::

    net_run ACTION -c CONFIG [-a APPLICATION] [--KEY VALUE | --KEY=VALUE ...]

``--KEY`` sets a key of a system section (SYSTEM, NETWORK, TRAINING,
INFERENCE, EVALUATION; searched in that order) or of the application's
section; ``--SECTION.KEY`` sets a key of any section, including input data
sections (``--T1.spatial_window_size 32,32,32``).  Every mistake raises
``UserInputError`` (``CommandLineError`` for command-line syntax) with a
message naming the key, section, value and file.
"""
import configparser
import csv
import logging
import os
import sys
import textwrap
from collections import OrderedDict

from niftydrive.utilities.errors import UserInputError
from niftydrive.utilities.training_settings import inherit_training_settings
from niftydrive.utilities.user_parameters_custom import (
    APP_SECTIONS, LEGACY_SECTIONS, OPEN_SECTIONS, SUPPORTED_ARG_SECTIONS,
    app_of_section, custom_param)
from niftydrive.utilities.user_parameters_default import (
    INPUT_DATA, KEY_ALIASES, LEGACY_LOCATIONS, SUPPORTED_ACTIONS,
    SUPPORTED_DEFAULT_SECTIONS, Param)
from niftydrive.utilities.user_parameters_helper import (
    INT32_MAX, beyond_int32, strip_quotes, to_str)
from niftydrive.utilities.util_common import ParserNamespace, closest_match

LOGGER = logging.getLogger('niftydrive.config')

PROG = 'net_run'
INPUT_SECTION_LABEL = '<input data section>'
MAX_CONFIG_BYTES = 10 * 1024 * 1024
APP_NAME_PARAM = Param('name', to_str, '',
                       'The application (short name or dotted path)')


class CommandLineError(UserInputError):
    """A command-line syntax mistake (``net_run`` exits with code 2)."""

    exit_code = 2


class HelpRequested(Exception):
    """``-h``/``--help`` or ``--version``: ``text`` is what to print."""

    def __init__(self, text):
        super(HelpRequested, self).__init__(text)
        self.text = text


# --------------------------------------------------------------------------
# command line tokens
# --------------------------------------------------------------------------
_META_OPTIONS = {'-c': 'conf', '--conf': 'conf',
                 '-a': 'app', '--application_name': 'app'}


def _looks_like_number(token):
    try:
        float(token)
    except ValueError:
        return False
    return True


def split_command_line(argv):
    """Split ``argv`` into meta options and ``(option, value)`` overrides.

    Returns a dict with ``action``, ``conf``, ``app``, ``help``, ``version``
    and ``overrides`` (a list of ``(name, value)``, ``name`` without ``--``).
    """
    meta = {'action': None, 'conf': None, 'app': None, 'help': False,
            'version': False, 'overrides': []}
    index = 0
    while index < len(argv):
        token = argv[index]
        index += 1
        if token in ('-h', '--help'):
            meta['help'] = True
            continue
        if token in ('-v', '--version'):
            meta['version'] = True
            continue
        option, has_equals, value = token.partition('=')
        if option in _META_OPTIONS or (token[:2] in ('-c', '-a')
                                       and len(token) > 2
                                       and not token.startswith('--')):
            if option not in _META_OPTIONS:  # -cFILE
                option, value, has_equals = token[:2], token[2:], True
            if not has_equals:
                if index >= len(argv):
                    raise CommandLineError(
                        'option {} needs a value'.format(option))
                value = argv[index]
                index += 1
            meta[_META_OPTIONS[option]] = value
            continue
        if token.startswith('--') and len(token) > 2:
            name = option[2:]
            if not has_equals:
                if index >= len(argv) or (argv[index].startswith('--')
                                          and len(argv[index]) > 2):
                    raise CommandLineError(
                        'option --{} needs a value: --{} VALUE'.format(
                            name, name))
                value = argv[index]
                index += 1
            meta['overrides'].append((name, value))
            continue
        if token.startswith('-') and len(token) > 1 and \
                not _looks_like_number(token):
            raise CommandLineError(
                'unknown option {}; parameters are given as --KEY VALUE '
                '(see {} --help)'.format(token, PROG))
        if meta['action'] is None:
            meta['action'] = token
        else:
            raise CommandLineError(
                'unexpected argument "{}" (the action is already "{}"); '
                'parameters are given as --KEY VALUE'.format(
                    token, meta['action']))
    return meta


def check_action(action):
    """Validate the action; did-you-mean for near misses."""
    if action is None:
        raise CommandLineError(
            'no action given: use `{} train -c CONFIG` (actions: {})'.format(
                PROG, ', '.join(SUPPORTED_ACTIONS)))
    if action in SUPPORTED_ACTIONS:
        return action
    suggestion = closest_match(action, SUPPORTED_ACTIONS)
    hint = ' did you mean "{}"?'.format(suggestion) if suggestion else ''
    raise CommandLineError('unknown action "{}":{} Actions are: {}.'.format(
        action, hint, ', '.join(SUPPORTED_ACTIONS)))


# --------------------------------------------------------------------------
# config file
# --------------------------------------------------------------------------
def load_config(path):
    """Read an INI file into a ``ConfigParser`` (clear errors naming the file)."""
    if not path:
        raise CommandLineError(
            'no configuration file given: use -c CONFIG, e.g. '
            '`{} train -c configs/toy.ini`'.format(PROG))
    full_path = os.path.abspath(os.path.expanduser(path))
    if os.path.isdir(full_path):
        raise UserInputError(
            'configuration file {} is a folder, not a file'.format(path))
    if not os.path.exists(full_path):
        raise UserInputError('configuration file not found: {}'.format(path))
    if not os.path.isfile(full_path):   # a FIFO would block the read
        raise UserInputError('configuration file {} is not a regular file '
                             '(a pipe or device?)'.format(path))
    if os.path.getsize(full_path) > MAX_CONFIG_BYTES:
        raise UserInputError(
            'configuration file {} is {} bytes: too large for an INI '
            'configuration file; is it the right file?'.format(
                path, os.path.getsize(full_path)))
    config = configparser.ConfigParser(
        interpolation=None, inline_comment_prefixes=('#', ';'), strict=True)
    try:
        # utf-8-sig: editors on Windows start UTF-8 files with a byte-order
        # mark, which is not part of the first line.
        with open(full_path, encoding='utf-8-sig') as config_file:
            text = config_file.read()
    except OSError as error:
        raise UserInputError('cannot read configuration file {}: {}'.format(
            path, error.strerror or error))
    except UnicodeDecodeError as error:
        raise UserInputError(
            'configuration file {} is not a UTF-8 text file (byte {} cannot '
            'be decoded): is it a binary file, or saved in another encoding? '
            'Save it as UTF-8 text.'.format(path, error.start))
    if '\x00' in text:
        raise UserInputError(
            'configuration file {} is a binary file (it contains NUL bytes), '
            'not an INI text file'.format(path))
    try:
        config.read_string(text, source=full_path)
    except configparser.MissingSectionHeaderError as error:
        raise UserInputError(
            '{} line {}: "{}" comes before any [SECTION] header'.format(
                path, error.lineno, error.line.strip()))
    except (configparser.DuplicateSectionError,
            configparser.DuplicateOptionError) as error:
        raise UserInputError('{}: {}'.format(path, error.message.replace(
            "While reading from '{}' ".format(full_path), '')))
    except configparser.ParsingError as error:
        lines = '; '.join('line {}: {}'.format(lineno, line.strip())
                          for lineno, line in error.errors)
        raise UserInputError(
            '{}: cannot parse {} (expected `key = value` lines under '
            '[SECTION] headers)'.format(path, lines))
    if not config.sections():
        raise UserInputError(
            '{} has no [SECTION]; is it a niftydrive configuration '
            'file?'.format(path))
    return config


def classify_section(name, app_section=None):
    """``(kind, canonical name)``, kind: system, app, legacy or input.

    System and application section names match case-insensitively.
    """
    upper = name.strip().upper()
    if upper in SUPPORTED_DEFAULT_SECTIONS:
        return 'system', upper
    if upper in SUPPORTED_ARG_SECTIONS or (
            app_section is not None and upper == app_section.upper()):
        return 'app', upper
    if upper in LEGACY_SECTIONS:
        return 'legacy', upper
    return 'input', name


def _schema(kind, canonical):
    if kind == 'system':
        return SUPPORTED_DEFAULT_SECTIONS[canonical]
    if kind == 'app':
        schema = OrderedDict([('name', APP_NAME_PARAM)])
        schema.update(SUPPORTED_ARG_SECTIONS.get(canonical, {}))
        return schema
    if kind == 'legacy':
        return LEGACY_SECTIONS[canonical]
    return INPUT_DATA


def _is_open(kind, canonical, app_name=None):
    """Whether an application section accepts undeclared keys: a section
    niftydrive declares no keys for, or [CUSTOM] of a user application (not
    of the toy application, whose keys are all declared)."""
    if kind != 'app':
        return False
    if canonical not in SUPPORTED_ARG_SECTIONS:
        return True
    return canonical in OPEN_SECTIONS and app_name not in APP_SECTIONS


def _home_sections(key, active_app_section=None):
    """Sections (labels) that declare ``key``: system, app, input data."""
    homes = [name for name, schema in SUPPORTED_DEFAULT_SECTIONS.items()
             if key in schema]
    apps = [name for name, schema in SUPPORTED_ARG_SECTIONS.items()
            if key in schema and key != 'name']
    if active_app_section in apps:
        apps = [active_app_section]
    homes.extend(apps)
    if key in INPUT_DATA:
        homes.append(INPUT_SECTION_LABEL)
    return homes


def _all_keys():
    keys = {}
    for section, schema in list(SUPPORTED_DEFAULT_SECTIONS.items()) + list(
            SUPPORTED_ARG_SECTIONS.items()) + [
                (INPUT_SECTION_LABEL, INPUT_DATA)]:
        for key in schema:
            keys.setdefault(key, section)
    return keys


def _section_label(kind, name):
    if kind == 'input':
        return '[{}] (an input data section)'.format(name)
    return '[{}]'.format(name)


def suggest_key(key, known_keys):
    """The key a user probably meant: a known alias first (``learning_rate``
    -> ``lr``), else the closest spelling; None if nothing is close."""
    alias = KEY_ALIASES.get(key.lower())
    if alias in known_keys:
        return alias
    return closest_match(key, known_keys)


def unknown_key_error(key, section_name, kind, canonical, where,
                      active_app_section=None):
    """The ``UserInputError`` for a key its section does not declare."""
    label = _section_label(kind, section_name)
    homes = [home for home in _home_sections(key, active_app_section)
             if home != canonical]
    if homes:
        return UserInputError(
            '{}: `{}` is not a key of {}; it belongs in {}. Move it '
            'there.'.format(where, key, label, ' or '.join(
                '[{}]'.format(home) if home != INPUT_SECTION_LABEL
                else 'an input data section' for home in homes)))
    own_keys = [name for name in _schema(kind, canonical)]
    suggestion = suggest_key(key, own_keys)
    if suggestion:
        return UserInputError(
            '{}: unknown key `{}` in {}: did you mean `{}`?'.format(
                where, key, label, suggestion))
    every_key = _all_keys()
    suggestion = suggest_key(key, list(every_key))
    if suggestion:
        section = every_key[suggestion]
        return UserInputError(
            '{}: unknown key `{}` in {}: did you mean `{}` (a key of {})?'
            .format(where, key, label, suggestion,
                    'an input data section' if section == INPUT_SECTION_LABEL
                    else '[{}]'.format(section)))
    return UserInputError('{}: unknown key `{}` in {}; its keys are: {}'.format(
        where, key, label, ', '.join(own_keys)))


def convert_value(param, raw, section_label, where):
    """Parse the text ``raw`` with ``param``; empty text gives the default."""
    text = strip_quotes(raw) if isinstance(raw, str) else raw
    if text == '' or text is None:
        return param.default
    try:
        value = param.parse(raw)
    except ValueError as error:
        raise UserInputError(
            '{}: bad value for `{}` in {}: {} (`{}` expects {})'.format(
                where, param.name, section_label, error, param.name,
                _type_phrase(param)))
    if param.choices is not None and value not in param.choices:
        suggestion = closest_match(value, [str(c) for c in param.choices])
        hint = ' did you mean "{}"?'.format(suggestion) if suggestion else ''
        raise UserInputError(
            '{}: bad value "{}" for `{}` in {}:{} Choices are: {}.'.format(
                where, value, param.name, section_label, hint,
                ', '.join(repr(c) if c == '' else str(c)
                          for c in param.choices)))
    if param.check is not None and not param.check.contains(value):
        raise UserInputError(
            '{}: `{}` = {} in {} is out of range: {}'.format(
                where, param.name, _format_value(value), section_label,
                _range_phrase(param, value)))
    if not param.supported and value != param.default:
        raise UserInputError(
            '{}: `{}` in {} is a NiftyNet key niftydrive does not support yet; '
            'remove it or leave it at its default ({}).'.format(
                where, param.name, section_label,
                _format_value(param.default) if param.default != '' else 'empty'))
    return value


def _format_value(value):
    if isinstance(value, tuple):
        return '({})'.format(', '.join(str(item) for item in value))
    return str(value)


def _range_phrase(param, value):
    if beyond_int32(value):
        return 'integers here are at most {} (32 bits)'.format(INT32_MAX)
    if isinstance(param.default, tuple):
        return 'each value must be {}'.format(param.check.describe())
    return 'it must be {}'.format(param.check.describe())


_TYPE_PHRASES = {
    'INT': 'an integer', 'FLOAT': 'a number', 'BOOL': 'True or False',
    'STR': 'a string', 'INT_TUPLE': 'a tuple of integers such as (1, 2, 3)',
    'FLOAT_TUPLE': 'a tuple of numbers such as (0.5, 1.0)',
    'STR_TUPLE': 'names separated by commas such as T1,T2',
    'VALUE': 'a value'}


def _type_phrase(param):
    return _TYPE_PHRASES.get(param.type_name, param.type_name)


class _ParsedSection(object):
    """The values of one section plus where each value came from."""

    def __init__(self, kind, name, canonical, app_name=None):
        self.kind = kind
        self.name = name
        self.canonical = canonical
        self.is_open = _is_open(kind, canonical, app_name)
        self.schema = OrderedDict(_schema(kind, canonical))
        self.values = OrderedDict(
            (key, param.default) for key, param in self.schema.items())
        self.from_file = set()   # keys set in the config file
        self.from_cli = set()    # keys set on the command line

    def param(self, key):
        """The Param of ``key`` (open sections: a generic one), or None."""
        if key in self.schema:
            return self.schema[key]
        if self.is_open:
            self.schema[key] = custom_param(key)
            return self.schema[key]
        return None

    @property
    def label(self):
        """How messages name this section."""
        return _section_label(self.kind, self.name)


def _parse_file_sections(config, config_path, app_section, app_name=None):
    """Typed values of every section of ``config``: name -> _ParsedSection."""
    parsed = OrderedDict()
    moved = []
    for section_name in config.sections():
        kind, canonical = classify_section(section_name, app_section)
        if kind == 'legacy' and not set(config[section_name]) - set(INPUT_DATA) \
                and config[section_name]:
            kind, canonical = 'input', section_name
        if kind != 'input' and canonical in parsed:
            raise UserInputError(
                '{}: sections [{}] and [{}] are the same section; merge '
                'them'.format(config_path, parsed[canonical].name,
                              section_name))
        section = _ParsedSection(kind, section_name, canonical, app_name)
        for key, raw in config.items(section_name):
            where = config_path
            if (canonical, key) in LEGACY_LOCATIONS:
                moved.append((canonical, key, raw))
                continue
            declared = key in section.schema
            param = section.param(key)
            if param is None:
                raise unknown_key_error(key, section_name, kind, canonical,
                                        where, app_section)
            homes = [home for home in _home_sections(key)
                     if home in SUPPORTED_DEFAULT_SECTIONS]
            if not declared and homes:
                LOGGER.warning(
                    '%s: `%s` in [%s] is an application parameter here; the '
                    'engine reads [%s] %s (move it there if that was meant).',
                    where, key, section_name, homes[0], key)
            section.values[key] = convert_value(param, raw, section.label,
                                                where)
            section.from_file.add(key)
        parsed[canonical] = section
    for canonical in SUPPORTED_DEFAULT_SECTIONS:
        if canonical not in parsed:
            parsed[canonical] = _ParsedSection('system', canonical, canonical)
    return parsed, moved


def _apply_legacy_locations(parsed, moved, app_section, config_path):
    """Move keys NiftyNet configs put in another section to their home."""
    for source, key, raw in moved:
        home = LEGACY_LOCATIONS[(source, key)]
        if home == 'APPLICATION':
            home = app_section
        target = parsed.get(home)
        if target is None or key not in target.schema:
            LOGGER.warning('%s: `%s` in [%s] is not used (no [%s] key of '
                           'that name); ignored.', config_path, key, source,
                           home)
            continue
        if key in target.from_file:
            LOGGER.warning('%s: `%s` in [%s] is ignored: [%s] sets it.',
                           config_path, key, source, home)
            continue
        LOGGER.warning('%s: `%s` belongs in [%s], not [%s]; using it as '
                       '[%s] %s.', config_path, key, home, source, home, key)
        target.values[key] = convert_value(target.schema[key], raw,
                                           target.label, config_path)
        target.from_file.add(key)


def parse_config_file(path, app_section=None):
    """Every section of a config file, typed: name -> ``ParserNamespace``.

    Unlike ``run`` this needs no application and resolves no paths (values
    are as written, defaults filled in): it checks a file's syntax, keys and
    types.  ``app_section`` names a user application's own section.
    """
    config = load_config(path)
    app_name = None
    if app_section is None:
        try:
            app_name, app_section = resolve_application(None, config, path)
        except UserInputError:
            app_section = None  # e.g. no application section: still parse
    parsed, moved = _parse_file_sections(config, path, app_section, app_name)
    _apply_legacy_locations(parsed, moved, app_section, path)
    return OrderedDict((section.name if section.kind == 'input'
                        else section.canonical,
                        ParserNamespace(**section.values))
                       for section in parsed.values())


# --------------------------------------------------------------------------
# application
# --------------------------------------------------------------------------
def _app_name_error(name):
    suggestion = closest_match(name, list(APP_SECTIONS))
    hint = ' did you mean "{}"?'.format(suggestion) if suggestion else ''
    return UserInputError(
        'unknown application "{}":{} Use a short name ({}) or the dotted '
        'import path of a BaseApplication subclass '
        '(e.g. my_package.my_module.MyApplication).'.format(
            name, hint, ', '.join(APP_SECTIONS)))


def _user_app_section(name):
    """REQUIRED_CONFIG_SECTION of a dotted application path, or None."""
    module_name, _, class_name = name.rpartition('.')
    try:
        import importlib
        module = importlib.import_module(module_name)
        section = getattr(getattr(module, class_name),
                          'REQUIRED_CONFIG_SECTION', None)
    except Exception:  # pylint: disable=broad-except
        return None  # the driver reports the import problem in full
    return section.upper() if isinstance(section, str) and section else None


def _refuse_evaluation_settings_file(config, config_path):
    """A clear refusal for NiftyNet 0.2's ``net_evaluate`` settings files
    (``[settings] application_type``, ``[output modality N]``, ``[ref N]``):
    NiftyNet 0.3's ``net_run`` did not read them either."""
    for section_name in config.sections():
        if section_name.strip().lower() == 'settings' and \
                'application_type' in config[section_name]:
            raise UserInputError(
                '{}: no application section: this is a NiftyNet 0.2 net_evaluate '
                'settings file ([{}] application_type), a format net_run does not read '
                '(NiftyNet 0.3 did not either). To evaluate segmentations, run '
                '`net_run evaluation -c <training config>` with [EVALUATION] evaluations '
                '= dice,jaccard,... (it compares the inferred files with the labels of '
                'the config\'s label section).'.format(config_path, section_name))


def resolve_application(cli_app, config, config_path):
    """``(application name, its config section)`` (SPEC section 4).

    ``-a`` first, then ``name =`` in the application's section, then the one
    known application section in the file.
    """
    present = OrderedDict()
    for section_name in config.sections():
        kind, canonical = classify_section(section_name)
        if kind == 'app':
            present[canonical] = section_name

    def file_name_of(canonical):
        section_name = present.get(canonical)
        if section_name is None:
            return ''
        return strip_quotes(config[section_name].get('name', ''))

    if cli_app:
        name = cli_app.strip()
        section = APP_SECTIONS.get(name)
        if section is None:
            if '.' not in name:
                raise _app_name_error(name)
            section = _user_app_section(name)
            if section is None:
                known = [s for s in present if s != 'CUSTOM']
                section = 'CUSTOM' if 'CUSTOM' in present or len(known) != 1 \
                    else known[0]
    elif 'CUSTOM' in present:
        name = file_name_of('CUSTOM')
        if not name:
            raise UserInputError(
                '{}: [CUSTOM] must name the application, e.g. `name = toy` '
                'or `name = my_package.my_module.MyApplication` (or give '
                '-a NAME)'.format(config_path))
        section = APP_SECTIONS.get(name)
        if section is None or section not in present:
            section = 'CUSTOM'
    elif len(present) == 1:
        section = next(iter(present))
        name = file_name_of(section) or app_of_section(section)
    elif not present:
        _refuse_evaluation_settings_file(config, config_path)
        raise UserInputError(
            '{}: no application section: add the section of your '
            'application ({}), or [CUSTOM] with `name = ...` for a user '
            'application.'.format(config_path, ', '.join(
                '[{}] for {}'.format(s, a) for a, s in APP_SECTIONS.items())))
    else:
        raise UserInputError(
            '{}: several application sections ({}); choose the application '
            'with -a NAME ({})'.format(
                config_path, ', '.join('[{}]'.format(s) for s in present),
                ', '.join(a for a, s in APP_SECTIONS.items()
                          if s in present)))
    if name not in APP_SECTIONS and '.' not in name:
        raise _app_name_error(name)
    if section not in present and not any(
            s.strip().upper() == section for s in config.sections()):
        raise UserInputError(
            '{}: application "{}" needs a [{}] section in the configuration '
            'file'.format(config_path, name, section))
    return name, section


# --------------------------------------------------------------------------
# command-line overrides
# --------------------------------------------------------------------------
def _find_section(parsed, wanted, app_section):
    if wanted in parsed:
        return parsed[wanted]
    upper = wanted.strip().upper()
    if upper == 'CUSTOM' or upper == app_section:
        return parsed.get(app_section)
    if upper in parsed and parsed[upper].kind != 'input':
        return parsed[upper]
    for section in parsed.values():
        if section.kind == 'input' and section.name == wanted.strip():
            return section
    return None


def apply_overrides(parsed, overrides, app_section):
    """Set ``--KEY VALUE`` / ``--SECTION.KEY VALUE`` values into ``parsed``."""
    for option, value in overrides:
        where = 'command line option --{} {}'.format(option, value)
        if '.' in option:
            section_name, key = option.rsplit('.', 1)
            section = _find_section(parsed, section_name, app_section)
            if section is None or (section.kind == 'app'
                                   and section.canonical != app_section):
                names = [s.name for s in parsed.values()
                         if s.kind != 'app' or s.canonical == app_section]
                suggestion = closest_match(section_name, names)
                hint = ' did you mean [{}]?'.format(suggestion) \
                    if suggestion else ''
                raise CommandLineError(
                    '{}: no section [{}] in the configuration:{} Sections: '
                    '{}.'.format(where, section_name, hint, ', '.join(names)))
            param = section.param(key)
            if param is None:
                raise unknown_key_error(key, section.name, section.kind,
                                        section.canonical, where, app_section)
        else:
            key = option
            section = param = None
            candidates = [parsed[name] for name in SUPPORTED_DEFAULT_SECTIONS]
            if app_section in parsed:
                candidates.append(parsed[app_section])
            for candidate in candidates:
                if key in candidate.schema or (
                        candidate.is_open and key in candidate.values):
                    section, param = candidate, candidate.param(key)
                    break
            if section is None:
                raise _unknown_option_error(key, where, parsed, candidates)
        section.values[key] = convert_value(param, value, section.label, where)
        section.from_cli.add(key)


def _unknown_option_error(key, where, parsed, candidates):
    if key in INPUT_DATA:
        inputs = [s.name for s in parsed.values() if s.kind == 'input']
        example = inputs[0] if inputs else 'SECTION'
        return CommandLineError(
            '{}: `{}` is a key of input data sections; name the section: '
            '--{}.{} VALUE'.format(where, key, example, key))
    known = [name for candidate in candidates for name in candidate.schema]
    suggestion = suggest_key(key, known)
    hint = ' did you mean --{}?'.format(suggestion) if suggestion else ''
    return CommandLineError(
        '{}: unknown parameter --{}.{} (see {} --help for every '
        'parameter)'.format(where, key, hint, PROG))


# --------------------------------------------------------------------------
# paths, defaults, checks
# --------------------------------------------------------------------------
def _resolve_path(value, base):
    if not value:
        return value
    parts = [part.strip() for part in str(value).split(',')]
    return ','.join(
        os.path.normpath(os.path.join(base, os.path.expanduser(part)))
        if part else part for part in parts)


def resolve_paths(parsed, config_dir):
    """Make relative paths absolute: file values against the config folder,
    command-line values against the current directory; fill path defaults."""
    cwd = os.getcwd()
    for section in parsed.values():
        for key, param in section.schema.items():
            if not param.path or not section.values.get(key):
                continue
            base = cwd if key in section.from_cli else config_dir
            value = section.values[key]
            if key == 'path_to_search':
                section.values[key] = _resolve_path(value, base)
            else:
                section.values[key] = os.path.normpath(os.path.join(
                    base, os.path.expanduser(value)))
    system = parsed['SYSTEM'].values
    if not system['model_dir']:
        system['model_dir'] = os.path.join(config_dir, 'model')
    model_dir = system['model_dir']
    if not system['dataset_split_file']:
        system['dataset_split_file'] = os.path.join(model_dir,
                                                    'dataset_split.csv')
    network = parsed['NETWORK'].values
    if not network['histogram_ref_file']:
        network['histogram_ref_file'] = os.path.join(
            model_dir, 'histogram_ref_file.txt')
    inference = parsed['INFERENCE'].values
    if not inference['save_seg_dir']:
        inference['save_seg_dir'] = os.path.join(model_dir, 'inference')
    evaluation = parsed['EVALUATION'].values
    if not evaluation['save_csv_dir']:
        evaluation['save_csv_dir'] = os.path.join(model_dir, 'evaluation')


def _split_has_validation(split_file):
    try:
        with open(split_file, newline='') as csv_file:
            return any(len(row) >= 2 and row[1].strip().lower() == 'validation'
                       for row in csv.reader(csv_file))
    except (OSError, UnicodeDecodeError, csv.Error):
        return False


def check_values(system, input_data, action):
    """Cross-parameter checks a user should hear about before any work."""
    training = system['TRAINING']
    if training.exclude_fraction_for_validation + \
            training.exclude_fraction_for_inference >= 1.0:
        raise UserInputError(
            '[TRAINING] exclude_fraction_for_validation + '
            'exclude_fraction_for_inference = {}: nothing would be left for '
            'training'.format(training.exclude_fraction_for_validation +
                              training.exclude_fraction_for_inference))
    # Without input data the application validates on its own samples (the
    # toy application's random vectors): there is no split to check.
    if action == 'train' and training.validation_every_n > 0 and input_data:
        _check_validation_split(system, training)


def _check_validation_split(system, training):
    split_file = system['SYSTEM'].dataset_split_file
    prefix = '[TRAINING] validation_every_n = {} asks for validation, '.format(
        training.validation_every_n)
    if os.path.isfile(split_file):
        if not _split_has_validation(split_file):
            raise UserInputError(
                prefix + 'but the existing dataset_split_file {} has no '
                'Validation rows (an existing split is reused). Add '
                'Validation rows, remove the file to make a new split, or '
                'set validation_every_n = -1.'.format(split_file))
        return
    if training.exclude_fraction_for_validation <= 0:
        raise UserInputError(
            prefix + 'but no validation split is possible: '
            'exclude_fraction_for_validation is {} and there is no '
            'dataset_split_file ({}). Set exclude_fraction_for_validation '
            '(e.g. 0.1) or set validation_every_n = -1.'.format(
                training.exclude_fraction_for_validation, split_file))


# --------------------------------------------------------------------------
# help
# --------------------------------------------------------------------------
def _format_default(param):
    value = param.default
    if isinstance(value, tuple):
        return '({})'.format(', '.join(str(v) for v in value)) if value \
            else '()'
    if value == '':
        return '""'
    return str(value)


_NBSP = '\u00a0'


def _format_params(schema, prefix='--', width=30, line_width=79):
    lines = []
    for key, param in schema.items():
        head = '  {}{} {}'.format(prefix, key, param.type_name)
        allowed = param.declared_check
        # Non-breaking spaces keep "(default: X)" and "allowed: >= 1" whole.
        text = '{}{} {}'.format(
            param.help, '; allowed: {}'.format(allowed.describe())
            .replace(' ', _NBSP) if allowed is not None else '',
            '(default: {})'.format(_format_default(param)).replace(' ', _NBSP))
        if len(head) >= width:
            lines.append(head)
            head = ''
        wrapped = [line.replace(_NBSP, ' ') for line in
                   textwrap.wrap(text, line_width - width)] or ['']
        lines.append('{:<{}}{}'.format(head, width, wrapped[0]))
        lines.extend(' ' * width + line for line in wrapped[1:])
    return lines


def format_help(app_section=None, input_sections=(), prog=PROG):
    """The full ``net_run --help`` text (``prog`` names the program): every
    parameter, by section."""
    lines = [
        'usage: {} ACTION -c CONFIG [-a APPLICATION] [--KEY VALUE ...]'
        .format(prog), '',
        'Train a niftydrive application or run inference with it, as '
        'described by a',
        'NiftyNet-style configuration file.', '',
        'actions:',
        '  train                     train the network (section [TRAINING])',
        '  inference                 run inference (section [INFERENCE])',
        '  evaluation                evaluate inference outputs against '
        'references',
        '                            (section [EVALUATION])',
        '', 'options:',
        '  -h, --help                show this help and exit',
        '  -c FILE, --conf FILE      the configuration file (INI)',
        '  -a NAME, --application_name NAME'] + [
            ' ' * 28 + line for line in textwrap.wrap(
                'the application: {} or a dotted import path; default: '
                '`name =` in the application section, else the one '
                'application section in the file'.format(
                    ', '.join(APP_SECTIONS)), 51)] + [
        '  -v, --version             show the version and exit', '',
        'Every parameter below is set in its [SECTION] of the config file as',
        '`key = value`, or on the command line as --KEY VALUE (system and '
        'application',
        'keys; `--name` is the [NETWORK] name) or --SECTION.KEY VALUE (any '
        'section,',
        'e.g. --T1.spatial_window_size 32,32,32); the command line wins.',
        'Values: tuples (20, 42, 42) or 20,42,42; booleans True/yes/1, '
        'False/no/0;',
        '"" is an empty string; an empty value means the default. Relative '
        'paths in',
        'the file resolve against the file\'s folder, on the command line '
        'against the',
        'current directory.']
    for section, schema in SUPPORTED_DEFAULT_SECTIONS.items():
        lines.extend(['', '[{}]'.format(section)])
        lines.extend(_format_params(schema))
    app_sections = [app_section] if app_section in SUPPORTED_ARG_SECTIONS \
        else list(SUPPORTED_ARG_SECTIONS)
    for section in app_sections:
        apps = [a for a, s in APP_SECTIONS.items() if s == section]
        lines.extend(['', '[{}] (application {}{})'.format(
            section, ', '.join(apps),
            '; a user application\'s [CUSTOM] accepts any other key'
            if section in OPEN_SECTIONS else '')])
        lines.extend(_format_params(SUPPORTED_ARG_SECTIONS[section]))
    lines.extend(['', '[<any other name>] (an input data source; on the '
                      'command line --<name>.KEY{})'.format(
                          ', here: ' + ', '.join(input_sections)
                          if input_sections else '')])
    lines.extend(_format_params(INPUT_DATA, prefix=''))
    return '\n'.join(lines) + '\n'


def _help_context(meta):
    """Best-effort (application section, input sections) for the help."""
    try:
        config = load_config(meta['conf'])
        config_path = meta['conf']
        _, app_section = resolve_application(meta['app'], config, config_path)
    except UserInputError:
        return None, ()
    inputs = [name for name in config.sections()
              if classify_section(name, app_section)[0] == 'input']
    return app_section, inputs


# --------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------
def parse(argv=None, prog=PROG):
    """Parse ``argv``; raise ``HelpRequested`` for --help/--version (the
    help's usage line names ``prog``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    meta = split_command_line(argv)
    if meta['help']:
        app_section, inputs = _help_context(meta) if meta['conf'] \
            else (None, ())
        raise HelpRequested(format_help(app_section, inputs, prog))
    if meta['version']:
        from niftydrive import __version__
        raise HelpRequested('niftydrive {}\n'.format(__version__))
    action = check_action(meta['action'])
    config = load_config(meta['conf'])
    config_path = os.path.abspath(os.path.expanduser(meta['conf']))
    config_dir = os.path.dirname(config_path)
    app_name, app_section = resolve_application(meta['app'], config,
                                                meta['conf'])
    parsed, moved = _parse_file_sections(config, meta['conf'], app_section,
                                         app_name)
    _apply_legacy_locations(parsed, moved, app_section, meta['conf'])
    apply_overrides(parsed, meta['overrides'], app_section)
    resolve_paths(parsed, config_dir)
    if action != 'train':
        inherit_training_settings(parsed, app_section)

    system_param = OrderedDict()
    for section in SUPPORTED_DEFAULT_SECTIONS:
        system_param[section] = ParserNamespace(**parsed[section].values)
    app_values = OrderedDict(parsed[app_section].values)
    app_values['name'] = app_name
    system_param['CUSTOM'] = ParserNamespace(**app_values)
    system_param['SYSTEM'].update(action=action, config_file=config_path)
    input_data_param = OrderedDict(
        (section.name, ParserNamespace(**section.values))
        for section in parsed.values() if section.kind == 'input')
    check_values(system_param, input_data_param, action)
    return system_param, input_data_param


def run(argv=None):
    """Parse the command line (default ``sys.argv[1:]``) and config file.

    Returns ``(system_param, input_data_param)`` (see the module docstring).
    ``--help``/``--version`` print their text and raise ``SystemExit(0)``;
    mistakes raise ``UserInputError``.
    """
    try:
        return parse(argv)
    except HelpRequested as request:
        sys.stdout.write(request.text)
        raise SystemExit(0)
