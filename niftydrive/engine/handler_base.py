"""``EventHandler``: the base of the driver's handlers.

A handler is constructed by the driver at the start of a run with the
driver's settings as keyword arguments (``handler_class(**vars(driver))``,
as NiftyNet 0.6 did, so ``__init__`` takes the names it needs and
``**_unused``), connects its methods to signals of
``niftydrive.engine.signal`` and is disconnected when the run ends.
"""
import weakref

from niftydrive.engine.signal import ENGINE_SIGNALS


class EventHandler(object):
    """Connects methods to signals for one run; ``disconnect`` undoes it."""

    def __init__(self, **_unused):
        self._connections = []

    def listen(self, sig, receiver):
        """Connect ``receiver`` to ``sig`` until ``disconnect``."""
        # strong reference: the handler lives exactly as long as the run
        sig.connect(receiver, weak=False)
        self._connections.append((sig, receiver))

    def disconnect(self):
        """Stop receiving signals."""
        for sig, receiver in self._connections:
            sig.disconnect(receiver)
        self._connections = []


def disconnect_handler(handler):
    """Disconnect every receiver bound to ``handler`` from the engine's
    signals, whether or not it is an ``EventHandler`` (a NiftyNet 0.6 style
    handler connects its bound methods itself)."""
    if isinstance(handler, EventHandler):
        handler.disconnect()
    for sig in ENGINE_SIGNALS:
        for receiver in list(sig.receivers.values()):
            if isinstance(receiver, weakref.ref):
                receiver = receiver()
            if receiver is not None and \
                    getattr(receiver, '__self__', None) is handler:
                sig.disconnect(receiver)
