# -*- coding: utf-8 -*-
"""Typed value parsers for configuration files and the command line.

Every parser takes the raw text of one value (as written after ``key =`` in
an INI file, or after ``--key`` on the command line) and returns a Python
value, or raises ``ValueError`` whose message says what was expected.  The
configuration parser adds the key, section and file to that message.

Value syntax (NiftyNet's):

- tuples: ``(20, 42, 42)``, ``20, 42, 42`` or ``[20, 42, 42]``; ``()`` or an
  empty value is the empty tuple;
- booleans: ``True``/``yes``/``y``/``t``/``1`` and ``False``/``no``/``n``/
  ``f``/``0`` (any case);
- strings: written plainly; ``""`` or ``''`` is the empty string.
"""
import ast
import re

TRUE_VALUE = frozenset(('yes', 'true', 't', 'y', '1'))
FALSE_VALUE = frozenset(('no', 'false', 'f', 'n', '0'))

_BRACKETS = (('(', ')'), ('[', ']'))
_QUOTES = ('"', "'")


def strip_quotes(string_input):
    """Remove one pair of matching surrounding quotes: ``'"a"'`` -> ``'a'``."""
    text = str(string_input).strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in _QUOTES:
        return text[1:-1]
    return text


def standardise_string(input_string):
    """Trim a section or key name and drop characters outside [0-9a-zA-Z_- ]."""
    if not isinstance(input_string, str):
        return input_string
    return re.sub(r'[^0-9a-zA-Z_\- .]+', '', input_string.strip())


def str2boolean(string_input):
    """``'True'``/``'yes'``/``'1'``... -> True, ``'False'``/``'no'``/``'0'``... -> False."""
    if isinstance(string_input, bool):
        return string_input
    text = strip_quotes(string_input).lower()
    if text in TRUE_VALUE:
        return True
    if text in FALSE_VALUE:
        return False
    raise ValueError('expected a boolean (True/False, yes/no, 1/0), '
                     'got "{}"'.format(string_input))


def _split_array(string_input, split_spaces=True):
    """Split ``'(a, b, c)'`` / ``'a,b,c'`` / ``'[1 2]'`` into item strings.

    Without commas, whitespace separates items only when ``split_spaces``
    (numbers); names may contain spaces (``IXI image``).
    """
    text = strip_quotes(string_input)
    for opening, closing in _BRACKETS:
        if text.startswith(opening) and text.endswith(closing):
            text = text[1:-1].strip()
            break
    if not text:
        return []
    if any(char in text for char in '()[]'):
        raise ValueError('nested brackets are not supported')
    separator = ',' if ',' in text or not split_spaces else None
    items = [strip_quotes(item) for item in text.split(separator)]
    if separator and items and items[-1] == '':
        items = items[:-1]  # a trailing comma: "(1,)"
    if any(item == '' for item in items):
        raise ValueError('empty item')
    return items


def _typed_array(string_input, cast, type_name, split_spaces=True):
    if isinstance(string_input, (tuple, list)):
        items = list(string_input)
    elif isinstance(string_input, (int, float)) and not isinstance(
            string_input, bool):
        items = [string_input]
    else:
        try:
            items = _split_array(string_input, split_spaces)
        except ValueError as error:
            raise ValueError('expected a tuple of {}s such as (1, 2, 3), '
                             'got "{}" ({})'.format(type_name, string_input,
                                                    error))
    try:
        return tuple(cast(item) for item in items)
    except (TypeError, ValueError):
        raise ValueError('expected a tuple of {}s such as (1, 2, 3), '
                         'got "{}"'.format(type_name, string_input))


def _to_int(item):
    if isinstance(item, bool):
        raise ValueError(item)
    if isinstance(item, float):
        if not item.is_integer():
            raise ValueError(item)
        return int(item)
    return int(str(item).strip())


def to_int(string_input):
    """An integer: ``'12'`` -> 12 (``'1e3'`` or ``'ten'`` are refused)."""
    try:
        return _to_int(strip_quotes(string_input)
                       if isinstance(string_input, str) else string_input)
    except (TypeError, ValueError):
        raise ValueError('expected an integer, got "{}"'.format(string_input))


def to_checkpoint_iter(string_input):
    """A checkpoint iteration: an integer, or ``best`` (-2: the best model
    that validation kept)."""
    if isinstance(string_input, str) and \
            strip_quotes(string_input).lower() == 'best':
        return -2
    try:
        return to_int(string_input)
    except ValueError:
        raise ValueError('expected an integer or best, got "{}"'.format(
            string_input))


def to_float(string_input):
    """A real number: ``'1e-4'`` -> 0.0001."""
    if isinstance(string_input, bool):
        raise ValueError('expected a number, got "{}"'.format(string_input))
    try:
        return float(strip_quotes(string_input)
                     if isinstance(string_input, str) else string_input)
    except (TypeError, ValueError):
        raise ValueError('expected a number, got "{}"'.format(string_input))


def to_str(string_input):
    """A string; surrounding quotes are removed, ``""`` is the empty string."""
    return strip_quotes(string_input)


def int_array(string_input):
    """A tuple of integers: ``'(20, 42, 42)'`` -> (20, 42, 42), ``'5'`` -> (5,)."""
    return _typed_array(string_input, _to_int, 'integer')


def float_array(string_input):
    """A tuple of numbers: ``'(0.01, 0.99)'`` -> (0.01, 0.99)."""
    return _typed_array(string_input, float, 'number')


def str_array(string_input):
    """A tuple of strings: ``'T1,T2'`` or ``'(A, R, S)'`` -> ('T1', 'T2')."""
    return _typed_array(string_input, lambda item: str(item).strip(),
                        'string', split_spaces=False)


def spatial_atleast3d(string_input):
    """A spatial size padded with ones to three dims: ``'(20, 42)'`` -> (20, 42, 1).

    As in NiftyNet, one value is also padded with ones (``'64'`` ->
    (64, 1, 1)); an empty value stays the empty tuple (not set).
    """
    values = int_array(string_input)
    if not values:
        return ()
    if len(values) < 3:
        values = values + (1,) * (3 - len(values))
    return values


def spatialnumarray(string_input):
    """Three integers, the last value repeated: ``'5'`` -> (5, 5, 5).

    Used (as in NiftyNet) for ``border`` and ``volume_padding_size``; more
    than three values keep the first three; empty gives (0, 0, 0).
    """
    values = int_array(string_input) or (0,)
    while len(values) < 3:
        values = values + (values[-1],)
    return values[:3]


def parse_literal(string_input):
    """Generic value for keys without a declared type (user applications).

    Integers, floats, booleans (``True``/``False``), tuples of those, and
    otherwise the string itself (quotes removed): ``'100'`` -> 100,
    ``'(1, 2)'`` -> (1, 2), ``'T1, T2'`` -> ('T1', 'T2'), ``'adam'`` -> 'adam'.
    """
    text = str(string_input).strip()
    if text.lower() in ('true', 'false'):
        return text.lower() == 'true'
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        value = None
    else:
        if isinstance(value, (int, float, str)) and not isinstance(value, bool):
            return value
        if isinstance(value, (tuple, list)) and all(
                isinstance(item, (int, float, str)) for item in value):
            return tuple(value)
    if ',' in text:
        return tuple(parse_literal(item) for item in _split_array(text))
    return strip_quotes(text)


def make_input_tuple(input_str, element_type=str):
    """``'a'`` -> ('a',), ``['a', 'b']`` -> ('a', 'b'); every item must be ``element_type``."""
    if input_str is None or input_str == '' or input_str == ():
        raise ValueError('expected a non-empty value of {}'.format(
            getattr(element_type, '__name__', element_type)))
    if isinstance(input_str, element_type):
        new_tuple = (input_str,)
    else:
        try:
            new_tuple = tuple(input_str)
        except TypeError:
            raise ValueError('cannot make a tuple of {} from {!r}'.format(
                getattr(element_type, '__name__', element_type), input_str))
    if not all(isinstance(item, element_type) for item in new_tuple):
        raise ValueError('every item of {!r} should be of type {}'.format(
            new_tuple, getattr(element_type, '__name__', element_type)))
    return new_tuple


def has_section_in_config(config, required_custom_section):
    """Raise ``ValueError`` unless ``config`` has the section (case-insensitive)."""
    wanted = standardise_string(required_custom_section).upper()
    if wanted not in (standardise_string(name).upper()
                      for name in config.sections()):
        raise ValueError('section [{}] not found'.format(
            required_custom_section))


INT32_MIN, INT32_MAX = -2 ** 31, 2 ** 31 - 1


class Range(object):
    """The values a numeric key allows (every item, for a tuple key).

    ``low``/``high`` bound the value (``None``: unbounded; ``low_open``/
    ``high_open`` exclude the bound itself); ``finite`` refuses ``inf`` and
    ``nan``.  Whatever the bounds, integers must fit in 32 bits (TensorFlow
    and numpy fail on larger ones far from the config).
    """

    def __init__(self, low=None, high=None, low_open=False, high_open=False,
                 finite=True):
        self.low = low
        self.high = high
        self.low_open = low_open
        self.high_open = high_open
        self.finite = finite

    def _item_ok(self, item):
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            return True
        if beyond_int32(item):
            return False
        if item != item or item in (float('inf'), float('-inf')):
            return not self.finite
        if self.low is not None and (
                item < self.low or (self.low_open and item == self.low)):
            return False
        if self.high is not None and (
                item > self.high or (self.high_open and item == self.high)):
            return False
        return True

    def contains(self, value):
        """True if ``value`` (or every item of a tuple ``value``) is allowed."""
        items = value if isinstance(value, (tuple, list)) else (value,)
        return all(self._item_ok(item) for item in items)

    def describe(self):
        """The allowed values in words, e.g. ``>= 0.5`` or ``in (0, 1]``."""
        if self.low is not None and self.high is not None:
            return 'in {}{}, {}{}'.format('(' if self.low_open else '[',
                                          self.low, self.high,
                                          ')' if self.high_open else ']')
        if self.low is not None:
            return '{} {}'.format('>' if self.low_open else '>=', self.low)
        if self.high is not None:
            return '{} {}'.format('<' if self.high_open else '<=', self.high)
        return 'finite' if self.finite else 'any number'


def beyond_int32(value):
    """True if ``value`` (or an item of a tuple ``value``) is an integer too
    large for 32 bits."""
    items = value if isinstance(value, (tuple, list)) else (value,)
    return any(isinstance(item, int) and not INT32_MIN <= item <= INT32_MAX
               for item in items)


# Short descriptions of the types above, for help texts and error messages.
TYPE_NAMES = {
    to_int: 'INT',
    to_checkpoint_iter: 'INT_OR_BEST',
    to_float: 'FLOAT',
    to_str: 'STR',
    str2boolean: 'BOOL',
    int_array: 'INT_TUPLE',
    float_array: 'FLOAT_TUPLE',
    str_array: 'STR_TUPLE',
    spatial_atleast3d: 'INT_TUPLE',
    spatialnumarray: 'INT_TUPLE',
    parse_literal: 'VALUE',
}

# Parsers of numbers (or tuples of numbers): their keys get a ``Range``.
INTEGER_PARSERS = frozenset((to_int, int_array, spatial_atleast3d,
                             spatialnumarray, to_checkpoint_iter))
NUMERIC_PARSERS = INTEGER_PARSERS | frozenset((to_float, float_array))
