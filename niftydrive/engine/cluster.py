"""Which process of a TensorFlow cluster this is, its server, and the
parameter-server process.

A cluster is TensorFlow's own: ``tf.train.ClusterSpec`` with a ``ps`` job
(parameter servers, holding the variables) and a ``worker`` job (worker 0
is the chief), each task a ``tf.train.Server``.  The role of a process
comes from the ``TF_CONFIG`` environment variable (the standard JSON,
``{"cluster": {...}, "task": {"type": "worker", "index": 1}}``) or from
``[SYSTEM] cluster_spec`` / ``job_name`` / ``task_index``, which take
precedence (so one config file plus command-line overrides serve every
process).
"""
import json
import logging
import os
import socket

from niftydrive.utilities.errors import UserInputError

LOGGER = logging.getLogger(__name__)

PS, WORKER = 'ps', 'worker'
DISTRIBUTED_MODES = ('async', 'sync')
#: The queue on the parameter server each worker reports its end to.
DONE_QUEUE = 'niftydrive_workers_done'
_SERVERS = []


def started_servers():
    """The servers this process started (such a process ends with
    ``os._exit``: gRPC can hold a normal exit for minutes)."""
    return list(_SERVERS)


class ClusterRole(object):
    """This process's place in the cluster (``job_name``, ``task_index``)
    and the training mode (``async``: each worker applies its own updates;
    ``sync``: every step aggregates all workers' gradients)."""

    def __init__(self, cluster, job_name, task_index, mode='async'):
        self.cluster = cluster
        self.job_name = job_name
        self.task_index = task_index
        self.mode = mode

    @property
    def is_ps(self):
        """True for a parameter server."""
        return self.job_name == PS

    @property
    def is_chief(self):
        """True for worker 0, the only process that writes files."""
        return self.job_name == WORKER and self.task_index == 0

    @property
    def num_workers(self):
        """How many workers train."""
        return len(self.cluster[WORKER])

    @property
    def address(self):
        """``host:port`` of this process's server."""
        return self.cluster[self.job_name][self.task_index]

    @property
    def device(self):
        """This task's device name, e.g. ``/job:worker/task:1``."""
        return '/job:{}/task:{}'.format(self.job_name, self.task_index)

    def describe(self):
        """E.g. ``worker 1 of 2 (localhost:2223, sync)``."""
        return '{} {} of {} ({}, {})'.format(
            self.job_name, self.task_index, len(self.cluster[self.job_name]),
            self.address, self.mode)

    def cluster_spec(self):
        """The ``tf.train.ClusterSpec``."""
        import tensorflow.compat.v1 as tf
        return tf.train.ClusterSpec(self.cluster)

    def start_server(self, config=None):
        """Start this task's ``tf.train.Server`` (``config``: its devices,
        e.g. virtual CPUs for towers); a clear message when it cannot."""
        import tensorflow.compat.v1 as tf
        try:
            server = tf.train.Server(self.cluster_spec(), job_name=self.job_name,
                                     task_index=self.task_index, config=config)
        except (tf.errors.OpError, RuntimeError) as error:
            raise UserInputError('cannot start the server of {} at {}: {}'.format(
                self.device, self.address, str(error).splitlines()[0])) from None
        _SERVERS.append(server)
        return server


def _parse_cluster(text, source):
    try:
        cluster = json.loads(text) if isinstance(text, str) else text
    except ValueError as error:
        raise UserInputError('{} is not valid JSON ({}): {!r}'.format(
            source, error, text)) from None
    if not isinstance(cluster, dict) or not cluster.get(WORKER) or \
            not cluster.get(PS):
        raise UserInputError(
            '{} must name a "ps" and a "worker" job, e.g. {{"ps": '
            '["host0:2222"], "worker": ["host1:2222", "host2:2222"]}}; got '
            '{!r}'.format(source, text))
    unknown = sorted(set(cluster) - {PS, WORKER})
    if unknown:
        raise UserInputError('{}: job(s) {} are not supported (only "ps" and '
                             '"worker"; worker 0 is the chief)'.format(
                                 source, ', '.join(unknown)))
    for job, addresses in cluster.items():
        if not isinstance(addresses, list) or not all(
                isinstance(item, str) and ':' in item for item in addresses):
            raise UserInputError('{}: job "{}" must be a list of "host:port" '
                                 'strings, got {!r}'.format(source, job, addresses))
    return cluster


def cluster_role(system_param, environ=None):
    """The process's ``ClusterRole``, or None for a one-process run.

    ``[SYSTEM] cluster_spec`` (JSON, as TF_CONFIG's ``cluster``),
    ``job_name`` and ``task_index`` override what ``TF_CONFIG`` says.
    """
    environ = os.environ if environ is None else environ
    get = lambda key, default=None: getattr(system_param, key, default)  # noqa: E731
    cluster, job_name, task_index = None, None, None
    tf_config = environ.get('TF_CONFIG', '').strip()
    if tf_config:
        try:
            config = json.loads(tf_config)
        except ValueError as error:
            raise UserInputError('TF_CONFIG is not valid JSON ({})'.format(
                error)) from None
        if config.get('cluster'):
            cluster = _parse_cluster(config['cluster'], 'TF_CONFIG "cluster"')
        task = config.get('task') or {}
        job_name, task_index = task.get('type'), task.get('index')
    if get('cluster_spec'):
        cluster = _parse_cluster(get('cluster_spec'), '[SYSTEM] cluster_spec')
    job_name = get('job_name') or job_name
    if get('task_index', -1) is not None and get('task_index', -1) >= 0:
        task_index = get('task_index')
    if cluster is None:
        if job_name:
            raise UserInputError('job_name = {} but no cluster: set [SYSTEM] '
                                 'cluster_spec or TF_CONFIG'.format(job_name))
        return None
    if job_name not in (PS, WORKER):
        raise UserInputError('job_name must be "ps" or "worker" in a cluster '
                             '(TF_CONFIG task type or [SYSTEM] job_name), got '
                             '{!r}'.format(job_name))
    task_index = 0 if task_index is None else int(task_index)
    if not 0 <= task_index < len(cluster[job_name]):
        raise UserInputError('task_index {} is out of range: the cluster has {} '
                             '"{}" task(s)'.format(task_index,
                                                   len(cluster[job_name]), job_name))
    mode = get('distributed_mode') or 'async'
    return ClusterRole(cluster, job_name, task_index, mode)


def run_parameter_server(role):
    """Serve the variables until every worker has reported its end (each
    does, whatever the outcome), then return 0."""
    import tensorflow.compat.v1 as tf
    server = role.start_server()
    LOGGER.info('parameter server %s started; waiting for %d worker(s)',
                role.describe(), role.num_workers)
    graph = tf.Graph()
    with graph.as_default(), tf.device(role.device):
        done = done_queue()
        wait_all = done.dequeue_many(role.num_workers)
    with tf.Session(server.target, graph=graph,
                    config=tf.ConfigProto(device_filters=[role.device])) as session:
        session.run(wait_all)
    LOGGER.info('every worker has finished: parameter server %s stops',
                role.describe())
    return 0


def done_queue():
    """The queue (on the ps) that workers put their task index into at the
    end of their run."""
    import tensorflow.compat.v1 as tf
    return tf.FIFOQueue(-1, tf.int32, shapes=[], name='workers_done',
                        shared_name=DONE_QUEUE)


def free_ports(count, host='127.0.0.1'):
    """``count`` distinct TCP ports free at the moment on ``host``."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind((host, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def is_listening(address, timeout=1.0):
    """True when something accepts TCP connections at ``host:port``."""
    host, port = address.rsplit(':', 1)
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except OSError:
        return False
