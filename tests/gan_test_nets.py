"""A SimulatorGAN small enough for tests (named by dotted path in configs):
its discriminator has 4..8 channels instead of 32..1024, everything else
is NiftyNet's simulator GAN."""
from niftydrive.network.simulator_gan import SimulatorGAN


class SmallSimulatorGAN(SimulatorGAN):
    """``SimulatorGAN`` with a narrow discriminator."""

    def __init__(self, name='simulator_GAN'):
        super(SmallSimulatorGAN, self).__init__(name=name)
        self.discriminator.channels = [4, 4, 8, 8, 8, 8]
