"""``ApplyGradients``: runs the application's update op in training."""
import tensorflow.compat.v1 as tf

from niftydrive.engine.application_optimiser import ITERATION, \
    LEARNING_RATES, rate_name
from niftydrive.engine.application_variables import CONSOLE
from niftydrive.engine.handler_base import EventHandler
from niftydrive.engine.signal import GRAPH_CREATED, ITER_FINISHED, \
    ITER_STARTED

LEARNING_RATE_FETCH = 'learning_rates'


class ApplyGradients(EventHandler):
    """Adds ``application.gradient_op`` to training iterations only, so a
    validation iteration never changes a weight.  When the application's
    optimisers come from ``create_optimiser``, it also feeds the iteration
    number their learning-rate schedules read and adds each learning rate
    (``lr``, ``lr_1``, ...) to the training iterations' console values."""

    def __init__(self, is_training=True, **kwargs):
        super(ApplyGradients, self).__init__(**kwargs)
        self.iteration = None
        self.learning_rates = {}
        if is_training:
            self.listen(GRAPH_CREATED, self.find_schedules)
            self.listen(ITER_STARTED, self.add_gradients)
            self.listen(ITER_FINISHED, self.show_learning_rates)

    def find_schedules(self, _sender, graph=None, **_unused):
        """The iteration placeholder and learning rates in the graph."""
        graph = graph or tf.get_default_graph()
        iterations = graph.get_collection(ITERATION)
        self.iteration = iterations[0] if iterations else None
        self.learning_rates = {rate_name(rate): rate for rate in
                               graph.get_collection(LEARNING_RATES)}

    def add_gradients(self, sender, iter_msg=None, **_unused):
        """Fetch the update op on a training iteration; feed the iteration
        number (validation iterations too: summaries show the rate)."""
        if self.iteration is not None and not iter_msg.is_inference:
            iter_msg.data_feed_dict[self.iteration] = iter_msg.current_iter
        if iter_msg.is_training:
            iter_msg.ops_to_run['gradients'] = sender.gradient_op
            if self.learning_rates:
                iter_msg.ops_to_run[LEARNING_RATE_FETCH] = self.learning_rates

    @staticmethod
    def show_learning_rates(_sender, iter_msg=None, **_unused):
        """Put the fetched learning rates among the console values."""
        output = iter_msg.current_iter_output or {}
        rates = output.get(LEARNING_RATE_FETCH)
        if rates:
            console = output.get(CONSOLE)
            if not isinstance(console, dict):
                console = output[CONSOLE] = {}
            console.update(rates)
