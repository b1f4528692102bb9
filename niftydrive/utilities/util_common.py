"""Small helpers shared across niftydrive (NiftyNet's ``util_common``)."""
import difflib
import logging
import os

import numpy as np

from niftydrive.utilities.errors import UserInputError

LOGGER = logging.getLogger(__name__)


class ParserNamespace(object):
    """An attribute bag holding the parameters of one config section."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)

    def update(self, **kwargs):
        """Set (or overwrite) several attributes at once."""
        self.__dict__.update(kwargs)

    def __contains__(self, key):
        return key in self.__dict__

    def __eq__(self, other):
        return isinstance(other, ParserNamespace) and vars(self) == vars(other)

    def __repr__(self):
        items = ', '.join('{}={!r}'.format(key, value)
                          for key, value in sorted(vars(self).items()))
        return 'ParserNamespace({})'.format(items)

    @classmethod
    def merged(cls, *sections):
        """One namespace holding the keys of every section given (None
        skipped); a key of a later section wins over the same key earlier."""
        keys = {}
        for section in sections:
            keys.update(vars(section) if section is not None else {})
        return cls(**keys)


def traverse_nested(input_lists, types=(list, tuple)):
    """Yield the leaves of arbitrarily nested lists/tuples, depth first."""
    if isinstance(input_lists, types):
        for item in input_lists:
            for leaf in traverse_nested(item, types=types):
                yield leaf
    else:
        yield input_lists


def list_depth_count(input_list):
    """Depth of nesting of a list: ``[[1]]`` -> 2, ``[1]`` -> 1, ``1`` -> 0."""
    if not isinstance(input_list, (list, tuple)):
        return 0
    if not input_list:
        return 1
    return 1 + max(list_depth_count(item) for item in input_list)


def _average_tower_grads(tower_grads):
    """Average one optimiser's ``[(grad, var), ...]`` lists over towers."""
    import tensorflow.compat.v1 as tf
    if len(tower_grads) == 1:
        return list(tower_grads[0])
    averaged = []
    for grad_and_vars in zip(*tower_grads):
        variable = grad_and_vars[0][1]
        grads = [grad for grad, _ in grad_and_vars if grad is not None]
        if not grads:
            averaged.append((None, variable))
            continue
        grads = [tf.convert_to_tensor(grad) for grad in grads]
        # NiftyNet's op name: the driver builds this under ``ApplyGradients``
        mean_grad = tf.reduce_mean(tf.stack(grads, axis=0), axis=0,
                                   name='AveOverDevices')
        averaged.append((mean_grad, variable))
    return averaged


def average_gradients(multi_device_gradients):
    """Average gradients collected from several devices.

    ``multi_device_gradients[i]`` is what tower ``i`` produced: either a list
    of ``(grad, var)`` pairs (one optimiser) or a list of such lists (several
    networks/optimisers).  The result has the shape of one tower's entry.
    """
    if not multi_device_gradients:
        return []
    depth = list_depth_count(multi_device_gradients[0])
    # [(g, v), ...] has depth 2 (list of tuples); a list of those has depth 3
    if depth > 2:
        return [_average_tower_grads([tower[k] for tower in multi_device_gradients])
                for k in range(len(multi_device_gradients[0]))]
    return _average_tower_grads(multi_device_gradients)


def damerau_levenshtein_distance(s1, s2):
    """Edit distance counting insertions, deletions, substitutions and swaps."""
    previous_row, current_row = None, list(range(len(s2) + 1))
    rows = []
    for i in range(1, len(s1) + 1):
        previous_row, current_row = current_row, [i] + [0] * len(s2)
        rows.append(previous_row)
        for j in range(1, len(s2) + 1):
            cost = 0 if s1[i - 1] == s2[j - 1] else 1
            current_row[j] = min(previous_row[j] + 1,
                                 current_row[j - 1] + 1,
                                 previous_row[j - 1] + cost)
            if (i > 1 and j > 1 and s1[i - 1] == s2[j - 2]
                    and s1[i - 2] == s2[j - 1]):
                current_row[j] = min(current_row[j], rows[-2][j - 2] + 1)
    return current_row[-1]


def closest_match(name, candidates, max_distance=None):
    """The candidate most like ``name`` (for "did you mean" hints), or None.

    A candidate qualifies when its edit distance is at most ``max_distance``
    (default: a third of the longer name, at least 2) or when one name
    contains the other.
    """
    name = str(name)
    best, best_distance = None, None
    for candidate in candidates:
        candidate = str(candidate)
        distance = damerau_levenshtein_distance(name.lower(), candidate.lower())
        if best_distance is None or distance < best_distance:
            best, best_distance = candidate, distance
    if best is None:
        return None
    limit = max_distance if max_distance is not None else max(
        2, max(len(name), len(best)) // 3)
    if best_distance <= limit:
        return best
    close = difflib.get_close_matches(name, [str(c) for c in candidates], n=1)
    return close[0] if close else None


def look_up_operations(type_str, supported, what=None):
    """Return ``supported[type_str]``; a clear ``ValueError`` when unknown.

    Strings are matched exactly; the error lists a near match when there is
    one, else every supported name, and starts with ``what`` (e.g.
    ``'regression loss_type'``) when given.
    """
    if isinstance(type_str, str) and type_str in supported:
        return supported[type_str]
    suggestion = closest_match(type_str, list(supported))
    if suggestion is not None:
        hint = 'did you mean "{}"?'.format(suggestion)
    else:
        hint = 'supported names are: {}.'.format(', '.join(sorted(supported)))
    message = 'Could not import "{}": unknown name, {}'.format(type_str, hint)
    raise UserInputError('{}: {}'.format(what, message) if what else message)


def set_cuda_device(cuda_devices):
    """Set ``CUDA_VISIBLE_DEVICES`` when ``cuda_devices`` holds a digit."""
    if cuda_devices and any(char.isdigit() for char in str(cuda_devices)):
        os.environ['CUDA_VISIBLE_DEVICES'] = str(cuda_devices)
        LOGGER.info('set CUDA_VISIBLE_DEVICES to %s', cuda_devices)


def has_bad_inputs(input_args):
    """True (and each problem logged) when a required parameter is missing.

    ``input_args`` is a dict of section name -> ParserNamespace; a value of
    ``None`` marks a parameter the user must give.
    """
    is_bad = False
    for section, args in input_args.items():
        for name, value in vars(args).items():
            if value is None:
                LOGGER.error('parameter %s in section [%s] is required',
                             name, section)
                is_bad = True
    return is_bad


def _format_value(value):
    if isinstance(value, (tuple, list)):
        return '({})'.format(', '.join(str(item) for item in value))
    if isinstance(value, np.ndarray):
        return _format_value(value.tolist())
    return str(value)


def print_save_input_parameters(system_param, input_data_param, txt_file=None):
    """Log every resolved parameter and, with ``txt_file``, save them as INI."""
    lines = []
    for sections in (input_data_param or {}, system_param or {}):
        for section, args in sections.items():
            lines.append('[{}]'.format(section))
            for name, value in sorted(vars(args).items()):
                lines.append('{} = {}'.format(name, _format_value(value)))
            lines.append('')
    for line in lines:
        if line:
            LOGGER.debug(line)
    if txt_file:
        with open(txt_file, 'w') as settings:
            settings.write('\n'.join(lines))
    return lines
