"""Where the driver puts each tower, and the session configuration."""
import logging

import tensorflow.compat.v1 as tf

from niftydrive.utilities import random_seed

LOGGER = logging.getLogger('niftydrive.engine.application_driver')

_GPU_COUNT = []


def count_local_gpus():
    """The number of GPUs TensorFlow sees (cached for the process)."""
    if not _GPU_COUNT:
        _GPU_COUNT.append(len(tf.config.experimental.list_physical_devices('GPU')))
    return _GPU_COUNT[0]


def device_string(num_gpus, is_training, device_id=0, is_worker=True):
    """The device of tower ``device_id`` (or, ``is_worker`` False, of the
    ops the towers share): no GPUs requested -> ``/cpu:<id>``; training ->
    ``/gpu:<id>`` when GPUs exist, else ``/cpu:<id>`` (virtual CPU devices);
    inference -> ``/gpu:0`` if any GPU, else ``/cpu:0``."""
    n_local_gpus = count_local_gpus()
    if num_gpus <= 0:
        return '/cpu:{}'.format(device_id)
    if is_training:
        if is_worker and n_local_gpus > 0:
            if device_id >= n_local_gpus:
                LOGGER.warning('trying to use gpu id %s, but only has %s '
                               'GPU(s), please set num_gpus to %s at most',
                               device_id, n_local_gpus, n_local_gpus)
            return '/gpu:{}'.format(device_id)
        return '/cpu:{}'.format(device_id if is_worker else 0)
    return '/gpu:0' if n_local_gpus > 0 else '/cpu:0'


def session_config(num_gpus, is_training):
    """Soft placement; on a machine without GPUs, one virtual CPU device per
    training tower so the towers run on separate devices; single-threaded
    ops when the run has a random seed."""
    config = tf.ConfigProto()
    config.log_device_placement = False
    config.allow_soft_placement = True
    if is_training and num_gpus > 1 and count_local_gpus() == 0:
        config.device_count['CPU'] = num_gpus
    if random_seed.is_seeded():
        # a multi-threaded reduction sums in a varying order: one thread
        # per op makes every float of a seeded run repeatable
        config.intra_op_parallelism_threads = 1
        config.inter_op_parallelism_threads = 1
    return config
