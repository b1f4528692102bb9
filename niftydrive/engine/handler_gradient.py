"""``ApplyGradients``: runs the application's update op in training."""
from niftydrive.engine.handler_base import EventHandler
from niftydrive.engine.signal import ITER_STARTED


class ApplyGradients(EventHandler):
    """Adds ``application.gradient_op`` to training iterations only, so a
    validation iteration never changes a weight."""

    def __init__(self, is_training=True, **kwargs):
        super(ApplyGradients, self).__init__(**kwargs)
        if is_training:
            self.listen(ITER_STARTED, self.add_gradients)

    @staticmethod
    def add_gradients(sender, iter_msg=None, **_unused):
        """Fetch the update op on a training iteration."""
        if iter_msg.is_training:
            iter_msg.ops_to_run['gradients'] = sender.gradient_op
