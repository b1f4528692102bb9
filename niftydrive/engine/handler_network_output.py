"""``OutputInterpreter``: hands the network's outputs to the application."""
import logging

from niftydrive.engine.application_variables import NETWORK_OUTPUT
from niftydrive.engine.handler_base import EventHandler
from niftydrive.engine.signal import ITER_FINISHED, ITER_STARTED

LOGGER = logging.getLogger(__name__)


class OutputInterpreter(EventHandler):
    """Fetches the ``NETWORK_OUTPUT`` tensors each iteration and passes
    their values to ``application.interpret_output``; an inference iteration
    whose interpretation returns False ends the loop (every batch done)."""

    def __init__(self, outputs_collector=None, **kwargs):
        super(OutputInterpreter, self).__init__(**kwargs)
        self.outputs_collector = outputs_collector
        self.listen(ITER_STARTED, self.add_network_outputs)
        self.listen(ITER_FINISHED, self.interpret_output)

    def add_network_outputs(self, _sender, iter_msg=None, **_unused):
        """Fetch the network outputs."""
        iter_msg.ops_to_run[NETWORK_OUTPUT] = \
            self.outputs_collector.variables(NETWORK_OUTPUT)

    @staticmethod
    def interpret_output(sender, iter_msg=None, **_unused):
        """``iter_msg.status = application.interpret_output(values)``."""
        iter_msg.status = sender.interpret_output(
            iter_msg.current_iter_output[NETWORK_OUTPUT])
        if iter_msg.is_inference and not iter_msg.status:
            LOGGER.info('processed all batches.')
            iter_msg.should_stop = True
