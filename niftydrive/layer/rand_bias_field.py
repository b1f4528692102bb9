# -*- coding: utf-8 -*-
"""Random multiplicative bias fields for data augmentation: NiftyNet's
``RandomBiasFieldLayer`` (MR intensity inhomogeneity)."""
import numpy as np

from niftydrive.layer.base_layer import RandomisedLayer
from niftydrive.layer.layer_util import transform_fields


def monomial_powers(order):
    """Exponents ``(a, b, c)`` of every monomial ``x^a y^b z^c`` with ``a+b+c <= order``."""
    return [(a, b, c) for a in range(order + 1) for b in range(order + 1 - a)
            for c in range(order + 1 - a - b)]


class RandomBiasFieldLayer(RandomisedLayer):
    """Multiply the image by ``exp(P(x, y, z))``, ``P`` a random polynomial.

    ``P`` has every monomial of total degree up to ``order`` (:meth:`init_order`,
    the ``bf_order`` key), each with a coefficient drawn uniformly from the
    range given to :meth:`init_uniform_coeff` (``bias_field_range``). The
    coordinates run from -1 to 1 across each axis (0 on an axis of length
    1). Only the ``image_name`` field changes: labels and weights are left
    alone.
    """

    def __init__(self, name='random_bias_field', image_name='image', seed=None):
        super(RandomBiasFieldLayer, self).__init__(name=name, seed=seed)
        self.image_name = image_name
        self._bf_coeffs = None
        self.min_coeff = -10.0
        self.max_coeff = 10.0
        self.order = 3

    def init_uniform_coeff(self, coeff_range=(-10.0, 10.0)):
        """The ``(min, max)`` range of the polynomial's coefficients."""
        values = tuple(float(v) for v in coeff_range)
        if len(values) != 2 or values[0] > values[1]:
            raise ValueError('bias_field_range must be (min, max) with min <= max, got {}'
                             .format(values))
        self.min_coeff, self.max_coeff = values

    def init_order(self, order=3):
        """The polynomial's maximum total degree."""
        if int(order) < 0:
            raise ValueError('bf_order must be >= 0, got {}'.format(order))
        self.order = int(order)

    def randomise(self, spatial_rank=3):
        """Draw one coefficient per monomial."""
        count = len(monomial_powers(self.order))
        self._bf_coeffs = self.rng.uniform(self.min_coeff, self.max_coeff, size=count)

    @property
    def coefficients(self):
        """The drawn coefficients, in the order of :func:`monomial_powers`."""
        if self._bf_coeffs is None:
            raise RuntimeError('RandomBiasFieldLayer: call randomise() before using the layer')
        return tuple(self._bf_coeffs)

    def bias_field(self, shape):
        """The multiplicative field ``exp(P)`` for a volume of spatial ``shape``."""
        axes = [np.linspace(-1.0, 1.0, n) if n > 1 else np.zeros(1) for n in shape[:3]]
        x, y, z = np.meshgrid(*axes, indexing='ij')
        log_field = np.zeros(x.shape)
        for coeff, (a, b, c) in zip(self.coefficients, monomial_powers(self.order)):
            log_field += coeff * x ** a * y ** b * z ** c
        return np.exp(log_field)

    def _apply_transformation(self, volume, interp_order=3):
        return volume * self.bias_field(volume.shape)

    def layer_op(self, inputs, interp_orders=None, *args, **kwargs):
        """Bias the image field of ``inputs`` (dict ``field -> [x, y, z, c]``)."""
        if inputs is None:
            return inputs
        if not isinstance(inputs, dict):   # one array [x, y, z, ...]
            return transform_fields({'image': inputs}, {'image': (1,)},
                                    self._apply_transformation)['image']
        if self.image_name not in inputs:
            return inputs
        orders = {self.image_name: (1,)}
        return transform_fields(inputs, orders, self._apply_transformation)
