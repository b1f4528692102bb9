"""The driver's signals (blinker), sent in a well-defined order.

Two families, both available to applications, handlers and scripts:

* the seed's per-phase signals, sent with the ``IterationMessage`` as
  sender: ``pre_train_iter``, ``post_train_iter``, ``pre_validation_iter``,
  ``post_validation_iter``, ``pre_infer_iter``, ``post_infer_iter`` and
  ``post_training`` (also ``ApplicationDriver.<name>``);
* NiftyNet 0.6's lifecycle signals, sent with the application as sender and
  the message as keyword ``iter_msg``: ``GRAPH_CREATED`` (the graph is built
  but not finalised: handlers may still add ops), ``SESS_STARTED``,
  ``ITER_STARTED``, ``ITER_FINISHED`` and ``SESS_FINISHED``.

Receivers of one signal are called in the order they were connected (plain
blinker leaves that order undefined), so the order of ``[SYSTEM]
event_handler`` is the order in which handlers see each event.
"""
from collections.abc import MutableSet

from blinker import NamedSignal, signal as named_signal
from blinker.base import default_namespace


class _OrderedIdSet(MutableSet):
    """A set that iterates in insertion order (blinker's receiver ids)."""

    def __init__(self, items=()):
        self._items = dict.fromkeys(items)

    def __contains__(self, item):
        return item in self._items

    def __iter__(self):
        return iter(list(self._items))

    def __len__(self):
        return len(self._items)

    def add(self, value):
        self._items[value] = None

    def discard(self, value):
        self._items.pop(value, None)

    def copy(self):
        """A shallow copy keeping the order."""
        return _OrderedIdSet(self._items)


class OrderedSignal(NamedSignal):
    """A named blinker signal whose receivers run in connection order."""

    set_class = _OrderedIdSet


def ordered_signal(name, doc=None):
    """The signal called ``name`` in blinker's default namespace, created as
    an ``OrderedSignal`` so that ``blinker.signal(name)`` returns it too."""
    existing = default_namespace.get(name)
    if existing is None or isinstance(existing, OrderedSignal):
        return default_namespace.setdefault(name, OrderedSignal(name, doc))
    return named_signal(name, doc)  # created elsewhere first: keep that one


# the seed's signals (sender: the IterationMessage)
pre_train_iter = ordered_signal('pre_train_iter', 'before a training iteration')
post_train_iter = ordered_signal('post_train_iter', 'after a training iteration')
pre_validation_iter = ordered_signal('pre_validation_iter',
                                     'before a validation iteration')
post_validation_iter = ordered_signal('post_validation_iter',
                                      'after a validation iteration')
pre_infer_iter = ordered_signal('pre_infer_iter', 'before an inference iteration')
post_infer_iter = ordered_signal('post_infer_iter', 'after an inference iteration')
post_training = ordered_signal('post_training', 'after the last training iteration')

# NiftyNet 0.6's lifecycle signals (sender: the application)
GRAPH_CREATED = ordered_signal(
    'graph_started', 'the graph is built, not yet finalised')
SESS_STARTED = ordered_signal('session_started', 'a session has started')
SESS_FINISHED = ordered_signal(
    'session_finished', 'the session is about to close (normally or not)')
ITER_STARTED = ordered_signal('iteration_started', 'an iteration starts')
ITER_FINISHED = ordered_signal('iteration_finished', 'an iteration finished')

ENGINE_SIGNALS = (
    pre_train_iter, post_train_iter, pre_validation_iter, post_validation_iter,
    pre_infer_iter, post_infer_iter, post_training,
    GRAPH_CREATED, SESS_STARTED, SESS_FINISHED, ITER_STARTED, ITER_FINISHED)
