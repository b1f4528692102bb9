"""A few training steps of a network's loss, quickly (tests of networks)."""
import tensorflow.compat.v1 as tf

from niftydrive.layer.bn import BN_COLLECTION


def fast_session_config():
    """Grappler's graph rewrites cost more than the few steps tests run."""
    config = tf.ConfigProto()
    config.graph_options.rewrite_options.disable_meta_optimizer = True
    return config


def train_a_few_steps(loss, steps=5, learning_rate=0.01, var_list=None):
    """``(loss before, loss after)`` ``steps`` Adam steps (batch-norm
    updates included) from a fresh initialisation."""
    with tf.control_dependencies(tf.get_collection(BN_COLLECTION)):
        train_op = tf.train.AdamOptimizer(learning_rate).minimize(
            loss, var_list=var_list)
    with tf.Session(config=fast_session_config()) as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss)
        for _ in range(steps):
            sess.run(train_op)
        return first, sess.run(loss)


def tiny_holistic_net_class():
    """A HolisticNet subclass with tiny widths (for net_run by dotted
    name: ``network_training.TinyHolisticNet``)."""
    from niftydrive.network.holistic_net import HolisticNet

    class TinyHolisticNet(HolisticNet):
        """HolisticNet with one 4-channel block per scale."""

        def __init__(self, num_classes, **kwargs):
            super(TinyHolisticNet, self).__init__(num_classes, **kwargs)
            self.num_res_blocks = [1] * 4
            self.num_features = [4] * 4
            self.num_fea_score_layers = [[4, 4]] * 4

    return TinyHolisticNet


TinyHolisticNet = tiny_holistic_net_class()
