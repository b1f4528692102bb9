"""HighRes3DNet with one residual block per stage."""
from niftydrive.network.highres3dnet import HighRes3DNet


class HighRes3DNetSmall(HighRes3DNet):
    """HighRes3DNet with one residual block (instead of three) in each of
    its three stages; same arguments as ``HighRes3DNet``."""

    def __init__(self, num_classes, w_initializer=None, w_regularizer=None,
                 b_initializer=None, b_regularizer=None, acti_func='prelu',
                 name='HighRes3DNetSmall', n_features=(16, 32, 64), repeat=1,
                 n_fc_features=80):
        super(HighRes3DNetSmall, self).__init__(
            num_classes, w_initializer=w_initializer,
            w_regularizer=w_regularizer, b_initializer=b_initializer,
            b_regularizer=b_regularizer, acti_func=acti_func, name=name,
            n_features=n_features, repeat=repeat,
            n_fc_features=n_fc_features)
