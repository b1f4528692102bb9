# -*- coding: utf-8 -*-
"""Regular expressions matching tuples written by users (NiftyNet's
``user_parameters_regex``): ``(1, 2, 3)``, ``{1, 2}``, ``1,2,3``, ``()``,
``(T1, T2)``."""
import re

INT = r'[-+]?\d+'
FLOAT = r'[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?'
LITERAL = r'[-_a-zA-Z0-9 \\:./]+'


def _items(item):
    """One or more ``item`` separated by commas, blanks allowed around them."""
    return r'\s*(?:{0})\s*(?:,\s*(?:{0})\s*)*,?'.format(item)


TUPLE = r'(?:{}|{})'.format(_items(FLOAT), _items(LITERAL))
STATEMENT = re.compile(r'^\s*(?:\(({0})?\)|\{{({0})?\}}|({0})?)\s*$'.format(TUPLE))

_CASTS = {'int': int, 'float': float, 'str': str}


def match_array(string_input, type_str):
    """The tuple written in ``string_input``, its items cast to ``type_str``
    (``'int'``, ``'float'`` or ``'str'``).

    :raises ValueError: the text is not a tuple, an item is not of the type,
        or ``type_str`` is unknown
    """
    if type_str not in _CASTS:
        raise ValueError('unknown array type_str {} (int, float or str)'.format(type_str))
    matched = STATEMENT.match(str(string_input))
    if not matched:
        raise ValueError('invalid parameter {}: expected a tuple such as (1, 2, 3)'.format(
            string_input))
    body = next((group for group in matched.groups() if group is not None), None)
    if body is None:
        return ()
    values = [value.strip() for value in body.split(',')]
    if values and not values[-1]:
        values = values[:-1]        # a trailing comma: "(1,)"
    if type_str == 'int':
        if not all(re.match(r'^{}$'.format(INT), value) for value in values):
            raise ValueError('expected integers in {}'.format(string_input))
    try:
        return tuple(_CASTS[type_str](value) for value in values)
    except ValueError:
        raise ValueError('expected {}s in {}'.format(type_str, string_input))
