"""Networks of the demos, named in their configs by dotted path
(``net_run`` puts a config file's folder on the import path)."""
from niftydrive.network.resnet import ResNet


class SmallResNet(ResNet):
    """NiftyNet's ResNet with few channels and one bottleneck block per
    resolution (the default has ten, too slow to build for a one-minute
    CPU demo)."""

    def __init__(self, num_classes, **kwargs):
        kwargs.setdefault('n_features', (8, 16, 32))
        kwargs.setdefault('n_blocks_per_resolution', 1)
        super(SmallResNet, self).__init__(num_classes, **kwargs)
