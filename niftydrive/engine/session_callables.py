"""Session calls compiled once per fetch structure.

The fetches of an iteration repeat from one iteration to the next, so each
distinct set is compiled once into a session callable
(``Session._make_callable_from_options``); this skips most of
``Session.run``'s per-call Python work.
"""
import numpy as np
from tensorflow.core.protobuf import config_pb2
import tensorflow.compat.v1 as tf


class SessionCallCache(object):
    """``cache(sess, fetches, feed_dict)`` returns what
    ``sess.run(fetches, feed_dict)`` would, through cached callables."""

    def __init__(self):
        self._callables = {}

    def __call__(self, sess, fetches, feed_dict):
        feeds = tuple(sorted(feed_dict, key=_feed_name))
        key = (id(sess), _fetch_signature(fetches), feeds)
        runner = self._callables.get(key)
        if runner is None:
            runner = _CompiledRun(sess, fetches, feeds)
            self._callables[key] = runner
        return runner([feed_dict[feed] for feed in feeds])

    def clear(self):
        """Forget every compiled callable (a new session needs new ones)."""
        self._callables = {}


def _feed_name(feed):
    # not getattr(feed, 'name', str(feed)): that formats the tensor every call
    name = getattr(feed, 'name', None)
    return str(feed) if name is None else name


class _CompiledRun(object):
    """One fetch structure and feed list compiled into a session callable.

    Calling it with the feed values returns what ``sess.run`` would: the
    same nested dicts/lists with values in place of tensors (None for ops).
    """

    def __init__(self, sess, fetches, feeds):
        graph = sess.graph
        self._tensors, self._operations = [], []
        self._structure = self._flatten(graph, fetches)
        self._feed_dtypes = []
        options = config_pb2.CallableOptions()
        for feed in feeds:
            element = graph.as_graph_element(feed, allow_tensor=True,
                                             allow_operation=False)
            options.feed.append(element.name)
            self._feed_dtypes.append(element.dtype.as_numpy_dtype)
        options.fetch.extend(tensor.name for tensor in self._tensors)
        options.target.extend(op.name for op in self._operations)
        # pylint: disable=protected-access
        self._callable = sess._make_callable_from_options(options)

    def _flatten(self, graph, fetches):
        """Replace each tensor by its index in ``self._tensors``."""
        if isinstance(fetches, dict):
            return {key: self._flatten(graph, value) for key, value in fetches.items()}
        if isinstance(fetches, (list, tuple)):
            return type(fetches)(self._flatten(graph, value) for value in fetches)
        if fetches is None:
            return None
        element = graph.as_graph_element(fetches, allow_tensor=True,
                                         allow_operation=True)
        if isinstance(element, tf.Operation):
            self._operations.append(element)
            return None
        self._tensors.append(element)
        return len(self._tensors) - 1

    def _rebuild(self, structure, values):
        if isinstance(structure, dict):
            return {key: self._rebuild(value, values)
                    for key, value in structure.items()}
        if isinstance(structure, (list, tuple)):
            return type(structure)(self._rebuild(value, values)
                                   for value in structure)
        return None if structure is None else values[structure]

    def __call__(self, feed_values):
        feed_values = [np.asarray(value, dtype=dtype)
                       for value, dtype in zip(feed_values, self._feed_dtypes)]
        return self._rebuild(self._structure, self._callable(*feed_values))


def _fetch_signature(fetches):
    """A hashable description of a (nested) fetch structure."""
    if isinstance(fetches, dict):
        return tuple((key, _fetch_signature(fetches[key]))
                     for key in sorted(fetches, key=str))
    if isinstance(fetches, (list, tuple)):
        return (type(fetches).__name__,) + tuple(_fetch_signature(f) for f in fetches)
    return fetches
