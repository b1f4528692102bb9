"""Base classes of every layer and network.

A layer is a callable object: ``layer(inputs, ...)`` runs ``layer_op``.  The
operation is wrapped in ``tf.make_template`` when the object is built, which
fixes its variable scope there and then (``create_scope_now_=True``).  Every
call after the first reuses the variables of the first call, whatever name
scope the call happens in, so one layer object called in the ``worker_0``,
``worker_1`` ... towers owns a single set of variables whose names carry no
``worker_N`` part (e.g. ``G/conv_bn_selu/conv_/w``).
"""
import numpy as np
import tensorflow.compat.v1 as tf


class Layer(object):
    """A named operation on tensors; subclasses implement ``layer_op``.

    A subclass that works on numpy arrays (the reader's preprocessing layers)
    sets ``numpy_op = True``: it is called directly, with no TensorFlow
    template or variable scope, so sampler threads can run it concurrently.
    """

    numpy_op = False

    def __init__(self, name='untitled_op'):
        self.name = name
        self._op = self.layer_op if self.numpy_op else tf.make_template(
            name, self.layer_op, create_scope_now_=True)

    def layer_op(self, *args, **kwargs):
        """The computation of the layer; subclasses must override it."""
        raise NotImplementedError(
            "method 'layer_op' of {} is not implemented".format(
                type(self).__name__))

    def __call__(self, *args, **kwargs):
        return self._op(*args, **kwargs)

    def layer_scope(self):
        """The ``tf.VariableScope`` holding this layer's variables."""
        return self._op.variable_scope

    def to_string(self):
        """A one-line description: class name and variable scope."""
        scope = self.name if self.numpy_op else self.layer_scope().name
        return '{} ({})'.format(type(self).__name__, scope)

    def __str__(self):
        return self.to_string()


class TrainableLayer(Layer):
    """A layer with variables (weights), initialisers and regularisers.

    ``initializer`` / ``regularizer`` are the defaults of the layer;
    subclasses keep per-variable ones in the ``initializers`` and
    ``regularizers`` dicts (e.g. ``{'w': ..., 'b': ...}``).
    """

    def __init__(self, name='trainable_op', initializer=None,
                 regularizer=None):
        super(TrainableLayer, self).__init__(name=name)
        self.initializer = initializer
        self.regularizer = regularizer
        self._initializers = {}
        self._regularizers = {}

    @property
    def initializers(self):
        """Dict variable name -> initialiser used when creating it."""
        return self._initializers

    @initializers.setter
    def initializers(self, value):
        if not isinstance(value, dict):
            raise TypeError('initializers must be a dict, got {!r}'.format(
                value))
        self._initializers = value

    @property
    def regularizers(self):
        """Dict variable name -> regulariser applied to it (or None)."""
        return self._regularizers

    @regularizers.setter
    def regularizers(self, value):
        if not isinstance(value, dict):
            raise TypeError('regularizers must be a dict, got {!r}'.format(
                value))
        self._regularizers = value

    def _scope_prefix(self):
        # a trailing '/' keeps scope 'G' from matching variables of 'G_1'
        return self.layer_scope().name + '/'

    def trainable_variables(self):
        """The trainable variables created by this layer (and its children)."""
        prefix = self._scope_prefix()
        return [var for var in tf.trainable_variables()
                if var.op.name.startswith(prefix)]

    def num_trainable_params(self):
        """Total number of scalar trainable parameters of this layer."""
        return int(sum(np.prod(var.shape.as_list())
                       for var in self.trainable_variables()))

    def regularizer_loss(self):
        """The regularisation loss tensors of this layer's variables, a list
        (empty when no regulariser was set), as NiftyNet returned them; sum
        them with ``tf.add_n``."""
        prefix = self._scope_prefix()
        return [loss for loss in
                tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
                if loss.op.name.startswith(prefix)]

    def restore_from_checkpoint(self, checkpoint_name, scope=None):
        """Start this layer's variables from checkpoint ``checkpoint_name``
        instead of their initialisers (fine-tuning).

        ``scope`` is the variables' scope in the checkpoint (default: this
        layer's own scope). The request is put in the ``RESTORABLE``
        collection, which ``global_vars_init_or_restore`` carries out when
        the driver initialises the variables.
        """
        from niftydrive.engine.application_variables import RESTORABLE
        own_scope = self.layer_scope().name
        tf.add_to_collection(RESTORABLE, (own_scope, checkpoint_name, scope or own_scope))

    def to_string(self):
        """Class name, scope and the shapes of the trainable variables."""
        lines = [super(TrainableLayer, self).to_string()]
        for var in self.trainable_variables():
            lines.append('  {} {}'.format(var.op.name, var.shape.as_list()))
        return '\n'.join(lines)


class DataDependentLayer(Layer):
    """A layer whose parameters are computed from data (not trained), e.g. a
    histogram normaliser; ``is_ready()`` says whether they are available."""

    def __init__(self, name='data_dependent_op'):
        super(DataDependentLayer, self).__init__(name=name)

    def is_ready(self):
        """True when the data-dependent parameters are available."""
        return True

    def train(self, *args, **kwargs):
        """Compute the data-dependent parameters; subclasses override."""
        raise NotImplementedError(
            "method 'train' of {} is not implemented".format(
                type(self).__name__))


class RandomisedLayer(Layer):
    """A layer with random parameters (e.g. data augmentation) redrawn by
    ``randomise()``.

    The parameters are drawn from ``self.rng``, a ``numpy.random.RandomState``
    seeded with ``seed`` (None: fresh entropy), so a run can be repeated
    exactly; :meth:`set_seed` reseeds it.
    """

    def __init__(self, name='randomised_op', seed=None):
        super(RandomisedLayer, self).__init__(name=name)
        self.rng = np.random.RandomState(seed)

    def set_seed(self, seed):
        """Restart the layer's random stream from ``seed``."""
        self.rng = np.random.RandomState(seed)

    def randomise(self, *args, **kwargs):
        """Draw new random parameters; subclasses override."""
        raise NotImplementedError(
            "method 'randomise' of {} is not implemented".format(
                type(self).__name__))


class Invertible(object):
    """A preprocessing layer whose effect ``inverse_op`` undoes (e.g. padding),
    so network outputs can be mapped back onto the input image."""

    def inverse_op(self, *args, **kwargs):
        """Undo ``layer_op``; subclasses override."""
        raise NotImplementedError(
            "method 'inverse_op' of {} is not implemented".format(
                type(self).__name__))


class LayerFromCallable(Layer):
    """A layer whose ``layer_op`` is the given callable."""

    def __init__(self, layer_op, name='layer_from_callable'):
        if not callable(layer_op):
            raise TypeError(
                'LayerFromCallable needs a callable, got {!r}'.format(
                    layer_op))
        self._callable = layer_op
        super(LayerFromCallable, self).__init__(name=name)

    def layer_op(self, *args, **kwargs):
        """Call the wrapped callable."""
        return self._callable(*args, **kwargs)
