"""Base class of the networks."""
from niftydrive.layer.base_layer import TrainableLayer


class BaseNet(TrainableLayer):
    """A network: a trainable layer that keeps the class count, the
    initialisers/regularisers of its weights (``w``) and biases (``b``) and
    the name of its activation function, for its sub-layers to use.

    Subclasses implement ``layer_op(images, is_training=True, **kwargs)``
    and build their sub-layers inside it, so that every variable lives under
    the network's scope (``<name>/...``).
    """

    def __init__(self, num_classes=0, w_initializer=None, w_regularizer=None,
                 b_initializer=None, b_regularizer=None, acti_func='prelu',
                 name='net'):
        super(BaseNet, self).__init__(name=name)
        self.num_classes = num_classes
        self.acti_func = acti_func
        self.initializers = {'w': w_initializer, 'b': b_initializer}
        self.regularizers = {'w': w_regularizer, 'b': b_regularizer}

    def weight_kwargs(self, with_bias=False):
        """Initialiser/regulariser keyword arguments for a sub-layer."""
        kwargs = dict(w_initializer=self.initializers['w'],
                      w_regularizer=self.regularizers['w'])
        if with_bias:
            kwargs.update(b_initializer=self.initializers['b'],
                          b_regularizer=self.regularizers['b'])
        return kwargs
