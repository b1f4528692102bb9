"""Optimisers by name: each class builds a TF1 optimiser for a learning rate."""
import numpy as np
import tensorflow.compat.v1 as tf


class Adam(object):
    """Adam (Kingma and Ba, 2015)."""

    @staticmethod
    def get_instance(learning_rate):
        """A ``tf.train.AdamOptimizer``."""
        return tf.train.AdamOptimizer(learning_rate=learning_rate, beta1=0.9,
                                      beta2=0.999, epsilon=1e-8)


class GradientDescent(object):
    """Plain stochastic gradient descent."""

    @staticmethod
    def get_instance(learning_rate):
        """A ``tf.train.GradientDescentOptimizer``."""
        return tf.train.GradientDescentOptimizer(learning_rate=learning_rate)


class Momentum(object):
    """Gradient descent with momentum 0.9."""

    @staticmethod
    def get_instance(learning_rate):
        """A ``tf.train.MomentumOptimizer``."""
        return tf.train.MomentumOptimizer(learning_rate=learning_rate,
                                          momentum=0.9)


class NesterovMomentum(object):
    """Gradient descent with Nesterov momentum 0.9."""

    @staticmethod
    def get_instance(learning_rate):
        """A ``tf.train.MomentumOptimizer`` with ``use_nesterov=True``."""
        return tf.train.MomentumOptimizer(learning_rate=learning_rate,
                                          momentum=0.9, use_nesterov=True)


class Adagrad(object):
    """Adagrad."""

    @staticmethod
    def get_instance(learning_rate):
        """A ``tf.train.AdagradOptimizer``."""
        return tf.train.AdagradOptimizer(learning_rate=learning_rate)


class RMSProp(object):
    """RMSProp."""

    @staticmethod
    def get_instance(learning_rate):
        """A ``tf.train.RMSPropOptimizer``."""
        return tf.train.RMSPropOptimizer(learning_rate=learning_rate)


# ---------------------------------------------------------------------------
# Learning-rate schedules and gradient preparation, shared by applications:
# ``create_optimiser`` builds an optimiser whose learning rate follows
# ``[TRAINING] lr_schedule``; ``BaseApplication.set_network_gradient_op``
# applies ``vars_to_freeze`` and ``gradient_clipping`` to each optimiser's
# gradients.

#: graph collection of the learning-rate tensors, one per optimiser
LEARNING_RATES = 'niftydrive_learning_rates'
#: graph collection holding the iteration placeholder the schedules read
ITERATION = 'niftydrive_iteration'
LR_SCHEDULES = ('constant', 'step', 'exponential', 'cosine', 'warmup')


def _param(action_param, key, default):
    value = getattr(action_param, key, None)
    return default if value is None else value


def rate_name(rate):
    """The console name of a learning-rate tensor (``lr``, ``lr_1``...)."""
    return rate.op.name.rsplit('/', 1)[-1]


def iteration_placeholder():
    """The graph's scalar ``iteration`` placeholder (created once), fed with
    the iteration number by the ``apply_gradients`` handler."""
    existing = tf.get_collection(ITERATION)
    if existing:
        return existing[0]
    with tf.name_scope(None):
        iteration = tf.placeholder(tf.int64, [], name='iteration')
    tf.add_to_collection(ITERATION, iteration)
    return iteration


def learning_rate(action_param, iteration):
    """The learning rate at training ``iteration`` (1, 2, ...): ``lr`` under
    ``lr_schedule`` (with ``lr_decay_steps``, ``lr_decay_rate``,
    ``lr_warmup_steps``, and ``max_iter`` for cosine), as a tensor."""
    from niftydrive.utilities.errors import UserInputError
    base = float(_param(action_param, 'lr', 0.01))
    schedule = _param(action_param, 'lr_schedule', 'constant') or 'constant'
    decay_steps = int(_param(action_param, 'lr_decay_steps', 0))
    rate = float(_param(action_param, 'lr_decay_rate', 0.1))
    warmup = int(_param(action_param, 'lr_warmup_steps', 0))
    if schedule not in LR_SCHEDULES:
        raise UserInputError('[TRAINING] lr_schedule = {}: expected one of '
                             '{}'.format(schedule, ', '.join(LR_SCHEDULES)))
    if schedule in ('step', 'exponential') and decay_steps <= 0:
        raise UserInputError('[TRAINING] lr_schedule = {} needs lr_decay_steps '
                             '> 0 (now {})'.format(schedule, decay_steps))
    if schedule == 'warmup' and warmup <= 0:
        raise UserInputError('[TRAINING] lr_schedule = warmup needs '
                             'lr_warmup_steps > 0 (now {})'.format(warmup))
    # the number of updates made before this iteration
    step = tf.maximum(tf.cast(iteration, tf.float32) - 1.0, 0.0)
    if schedule == 'step':
        lr = base * tf.pow(rate, tf.floor(step / decay_steps))
    elif schedule == 'exponential':
        lr = base * tf.pow(rate, step / decay_steps)
    elif schedule == 'cosine':
        span = float(decay_steps if decay_steps > 0 else
                     max(int(_param(action_param, 'max_iter', 1)), 1))
        lr = base * 0.5 * (1.0 + tf.cos(np.pi * tf.minimum(step, span) / span))
    else:
        lr = tf.constant(base)
    if warmup > 0:
        lr = lr * tf.minimum(1.0, (step + 1.0) / warmup)
    return lr


def create_optimiser(action_param, name='lr'):
    """The optimiser ``[TRAINING] optimiser`` names, with the learning rate
    of ``lr_schedule``; the rate is shown on the console and in TensorBoard
    as ``name`` (``lr``, ``lr_1``, ... for several optimisers)."""
    from niftydrive.engine.application_factory import OptimiserFactory
    from niftydrive.engine.application_variables import TF_SUMMARIES
    taken = {rate_name(rate) for rate in tf.get_collection(LEARNING_RATES)}
    label, count = name, 0
    while label in taken:
        count += 1
        label = '{}_{}'.format(name, count)
    with tf.name_scope(None), tf.name_scope('LearningRate'):
        rate = tf.identity(learning_rate(action_param, iteration_placeholder()),
                           name=label)
    tf.add_to_collection(LEARNING_RATES, rate)
    with tf.name_scope(None):
        tf.summary.scalar(label, rate, collections=[TF_SUMMARIES])
    optimiser_class = OptimiserFactory.create(
        _param(action_param, 'optimiser', 'adam'))
    return optimiser_class.get_instance(rate)


def prepare_gradients(gradient_lists, action_param):
    """Each optimiser's ``(grad, var)`` list after ``vars_to_freeze`` (pairs
    of matching variables dropped) and ``gradient_clipping`` (> 0: clipped
    to that global norm, per optimiser)."""
    from niftydrive.engine.fine_tuning import drop_frozen
    gradient_lists = drop_frozen(
        gradient_lists, _param(action_param, 'vars_to_freeze', ''))
    clip = float(_param(action_param, 'gradient_clipping', 0.0))
    if clip <= 0:
        return gradient_lists
    clipped_lists = []
    for pairs in gradient_lists:
        pairs = [(grad, var) for grad, var in pairs if grad is not None]
        if not pairs:
            clipped_lists.append(pairs)
            continue
        clipped, _ = tf.clip_by_global_norm([grad for grad, _ in pairs], clip)
        clipped_lists.append(list(zip(clipped, [var for _, var in pairs])))
    return clipped_lists
