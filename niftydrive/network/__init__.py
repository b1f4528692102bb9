"""Networks (``ToyNet``, ``HighRes3DNet``, ``UNet3D``, ``TinyNet``) assembled
from the layers in :mod:`niftydrive.layer`."""
