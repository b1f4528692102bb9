"""Between-graph replication: where the variables go and how gradients are
applied when several worker processes train one model.

Each worker builds the whole graph (its towers included) under
``tf.train.replica_device_setter``, so the variables live on the parameter
servers and the computation on the worker.  In ``async`` mode each worker
applies its own averaged gradients; in ``sync`` mode the gradients of the
application's optimisers go through one ``tf.train.SyncReplicasOptimizer``
that applies them once every worker's have arrived.
"""
import contextlib

import tensorflow.compat.v1 as tf

#: Variables of the distributed machinery; never in checkpoints, so a
#: checkpoint is the same as one written by a one-process run.
DISTRIBUTED_VARIABLES = 'niftydrive_distributed_variables'


class _RecordingOptimiser(object):
    """Stands in for an application optimiser while the application builds
    its update: records the gradients it was asked to apply."""

    def __init__(self, optimiser, records):
        self._optimiser = optimiser
        self._records = records

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        """Record; the real update is built by ``SyncReplicasOptimizer``."""
        del global_step, name
        self._records.append((self._optimiser, list(grads_and_vars)))
        return tf.no_op(name='recorded_update')

    def __getattr__(self, name):
        return getattr(self._optimiser, name)


class _GroupedOptimiser(tf.train.Optimizer):
    """Applies each variable's aggregated gradient with the optimiser the
    application chose for it; increments the global step once."""

    def __init__(self, records, name_scope):
        super(_GroupedOptimiser, self).__init__(False, 'GroupedOptimiser')
        self._records = records
        self._name_scope = name_scope  # the application's, for the same names

    def compute_gradients(self, *args, **kwargs):
        raise NotImplementedError('gradients come from the application')

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        by_var = {var.ref(): grad for grad, var in grads_and_vars}
        updates = []
        with tf.name_scope(self._name_scope + '/' if self._name_scope else None):
            for optimiser, pairs in self._records:
                updates.append(optimiser.apply_gradients(
                    [(by_var[var.ref()], var) for _, var in pairs]))
        with tf.control_dependencies(updates):
            return global_step.assign_add(1).op if global_step is not None \
                else tf.no_op()

    def get_slot(self, var, name):
        for optimiser, _ in self._records:
            slot = optimiser.get_slot(var, name)
            if slot is not None:
                return slot
        return None

    def get_slot_names(self):
        return sorted({name for optimiser, _ in self._records
                       for name in optimiser.get_slot_names()})


class DistributedGraph(object):
    """The graph-side of a worker: device placement, the shared step
    counters, and (sync) gradient aggregation."""

    def __init__(self, role):
        self.role = role
        self.sync_optimiser = None
        self.global_step = None

    def device_scope(self):
        """Variables on the parameter servers, the rest on this worker."""
        return tf.device(tf.train.replica_device_setter(
            worker_device=self.role.device, cluster=self.role.cluster_spec()))

    def shared_variable(self, name, shape, dtype):
        """A variable on the ps kept out of checkpoints (the chief
        initialises it after restoring)."""
        return tf.Variable(tf.zeros(shape, dtype), trainable=False, name=name,
                           collections=[tf.GraphKeys.LOCAL_VARIABLES,
                                        DISTRIBUTED_VARIABLES])

    @contextlib.contextmanager
    def gradient_scope(self, app):
        """Around ``app.set_network_gradient_op``: in sync mode, the
        updates the application builds are replaced by one synchronised
        update of the same gradients with the same optimisers."""
        with tf.control_dependencies(None), tf.name_scope('distributed'):
            self.global_step = self.shared_variable('global_step', [], tf.int64)
        if self.role.mode != 'sync':
            yield
            return
        records = []
        name_scope = tf.get_default_graph().get_name_scope()
        original = app.optimiser
        if isinstance(original, (list, tuple)):
            app.optimiser = type(original)(
                _RecordingOptimiser(opt, records) for opt in original)
        else:
            app.optimiser = _RecordingOptimiser(original, records)
        try:
            yield
        finally:
            app.optimiser = original
        seen = set()
        for _, pairs in records:
            for _, var in pairs:
                if var.ref() in seen:
                    raise ValueError(
                        'sync training: variable {} is updated by two optimisers; '
                        'use distributed_mode = async'.format(var.op.name))
                seen.add(var.ref())
        n_workers = self.role.num_workers
        self.sync_optimiser = tf.train.SyncReplicasOptimizer(
            _GroupedOptimiser(records, name_scope), replicas_to_aggregate=n_workers,
            total_num_replicas=n_workers)
        app.gradient_op = self.sync_optimiser.apply_gradients(
            [pair for _, pairs in records for pair in pairs],
            global_step=self.global_step)
