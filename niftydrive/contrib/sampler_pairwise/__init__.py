"""Samplers of (fixed, moving) image pairs for registration: NiftyNet's
``niftynet.contrib.sampler_pairwise``."""
