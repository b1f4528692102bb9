"""No silent keys: every declared configuration key is either read by the
code that does what it says, or refused when set to anything but its
default ("not supported yet").  Each key's behaviour is tested with its
feature; this walk guarantees that no key is declared and then ignored."""
import os
import re

import pytest

from niftydrive.engine.application_factory import SUPPORTED_APP
from niftydrive.utilities.errors import UserInputError
from niftydrive.utilities.user_parameters_custom import APP_SECTIONS, \
    SUPPORTED_ARG_SECTIONS
from niftydrive.utilities.user_parameters_default import INPUT_DATA, \
    SUPPORTED_DEFAULT_SECTIONS
from niftydrive.utilities.user_parameters_helper import str2boolean, to_float, \
    to_int, to_str
from niftydrive.utilities.user_parameters_parser import convert_value

PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       'niftydrive')
DECLARATIONS = ('user_parameters_default.py', 'user_parameters_custom.py')


def _sections():
    """(section label, params) of every section a runnable config can hold:
    the system sections, input data sections, and the sections of the
    applications niftydrive provides (the others are refused as a whole)."""
    sections = list(SUPPORTED_DEFAULT_SECTIONS.items())
    sections.append(('<input section>', INPUT_DATA))
    for app_name, section in APP_SECTIONS.items():
        if app_name in SUPPORTED_APP:
            sections.append((section, SUPPORTED_ARG_SECTIONS[section]))
    return sections


ALL_PARAMS = [(label, param) for label, params in _sections()
              for param in params.values()]


def _source_without_declarations():
    texts = []
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith('.py') and name not in DECLARATIONS:
                with open(os.path.join(folder, name)) as handle:
                    texts.append(handle.read())
    return '\n'.join(texts)


SOURCE = _source_without_declarations()


def _non_default_text(param):
    """A valid text for ``param`` that differs from its default."""
    if param.choices:
        return str(next(c for c in param.choices if c != param.default))
    if param.parse is str2boolean:
        return str(not param.default)
    if param.parse is to_int:
        return str(param.default + 1)
    if param.parse is to_float:
        return str(param.default / 2.0 if param.default else 0.5)
    if param.parse is to_str:
        return 'something_else'
    return '(1, 2, 3)'


@pytest.mark.parametrize('label, param', ALL_PARAMS,
                         ids=['{}.{}'.format(l, p.name) for l, p in ALL_PARAMS])
def test_key_is_used_or_refused(label, param):
    if not param.supported:
        with pytest.raises(UserInputError, match='does not support yet'):
            convert_value(param, _non_default_text(param), label, 'test')
        assert convert_value(param, '', label, 'test') == param.default
        return
    pattern = r"""(['"]{0}['"]|\.{0}\b)""".format(re.escape(param.name))
    assert re.search(pattern, SOURCE), (
        '{} `{}` is declared but no code reads it: use it, or declare it '
        'supported=False'.format(label, param.name))
