"""The training or inference graph: one tower per device sharing variables.

``create_graph`` is the only place the driver's graph is built: the
application's network, one ``worker_<k>`` tower per device (each dequeues its
own batch), the gradient op over the towers' averaged gradients (with the
last tower's batch-norm updates), the merged outputs, then ``GRAPH_CREATED``
(handlers add their ops) and ``finalize``.
"""
import tensorflow.compat.v1 as tf

from niftydrive.engine import signal as engine_signal
from niftydrive.engine.devices import device_string
from niftydrive.layer.bn import BN_COLLECTION


def create_graph(app, graph, num_gpus, is_training, outputs_collector,
                 gradients_collector, cluster):
    """Build ``app``'s graph in ``graph`` with ``max(num_gpus, 1)`` towers;
    ``cluster`` places variables and wraps the gradient op (distributed
    training); returns the finalised graph."""
    assert isinstance(graph, tf.Graph)
    main_device = device_string(num_gpus, is_training, 0, is_worker=False)
    with graph.as_default(), cluster.device_scope(), tf.device(main_device):
        app.initialise_network()
        app.add_validation_flag()
        bn_ops = None
        for gpu_id in range(max(num_gpus, 1)):
            worker_device = device_string(num_gpus, is_training, gpu_id,
                                          is_worker=True)
            with tf.name_scope('worker_{}'.format(gpu_id)) as scope, \
                    tf.device(worker_device):
                app.connect_data_and_network(outputs_collector,
                                             gradients_collector)
                if is_training:
                    # batch-norm moving averages of the last tower
                    bn_ops = tf.get_collection(BN_COLLECTION, scope)
        if is_training and gradients_collector is not None:
            with tf.name_scope('ApplyGradients'), \
                    graph.control_dependencies(bn_ops or []), \
                    cluster.gradient_scope(app):
                app.set_network_gradient_op(gradients_collector.gradients)
        with tf.name_scope('MergedOutputs'):
            outputs_collector.finalise_output_op()
        engine_signal.GRAPH_CREATED.send(app, iter_msg=None, graph=graph)
    graph.finalize()
    return graph
