"""Augmentation layers on small synthetic volumes: where a marker voxel goes,
image and label staying aligned, random parameters within their configured
range, and reproducibility from a seed."""
import numpy as np
import pytest

from niftydrive.layer.rand_bias_field import RandomBiasFieldLayer, monomial_powers
from niftydrive.layer.rand_elastic_deform import RandomElasticDeformationLayer
from niftydrive.layer.rand_flip import RandomFlipLayer
from niftydrive.layer.rand_rotation import RandomRotationLayer
from niftydrive.layer.rand_spatial_scaling import RandomSpatialScalingLayer


def marker(shape, at, value=1.0):
    """A volume ``shape + (1,)`` of zeros with ``value`` at voxel ``at``."""
    volume = np.zeros(tuple(shape) + (1,), dtype=np.float32)
    volume[tuple(at) + (0,)] = value
    return volume


def where(volume, value=None):
    """Voxel coordinates of the maximum (or of every voxel equal to ``value``)."""
    if value is None:
        return tuple(int(i) for i in np.unravel_index(np.argmax(volume[..., 0]),
                                                         volume.shape[:3]))
    return sorted(tuple(int(i) for i in row) for row in np.argwhere(volume[..., 0] == value))


def blobs(shape=(16, 16, 16), seed=0):
    """A label volume with values {0, 1, 2} in cuboids, and an image 100 * label."""
    rng = np.random.RandomState(seed)
    label = np.zeros(tuple(shape) + (1,), dtype=np.float32)
    for value in (1, 2):
        lo = rng.randint(2, 7, size=3)
        label[lo[0]:lo[0] + 6, lo[1]:lo[1] + 6, lo[2]:lo[2] + 5] = value
    return {'image': label * 100.0, 'label': label.copy()}


ORDERS = {'image': (3,), 'label': (0,)}


# ------------------------------------------------------------------ flip
def test_flip_moves_the_marker_to_the_mirror_voxel_in_image_and_label():
    layer = RandomFlipLayer(flip_axes=(0, 2), flip_probability=1.0)
    layer.randomise()
    data = {'image': marker((5, 6, 7), (1, 2, 3), 5.0), 'label': marker((5, 6, 7), (1, 2, 3))}
    out = layer(data, {'image': (1,), 'label': (0,)})
    assert layer.flipped_axes == (0, 2)
    assert where(out['image']) == (3, 2, 3)
    assert where(out['label'], 1.0) == [(3, 2, 3)]
    assert where(data['image']) == (1, 2, 3)   # the input is not modified


def test_flip_axes_not_listed_or_probability_zero_never_flip():
    layer = RandomFlipLayer(flip_axes=(1,), flip_probability=0.0)
    volume = marker((4, 4, 4), (0, 1, 2))
    for _ in range(20):
        layer.randomise()
        assert np.array_equal(layer(volume), volume)
    layer = RandomFlipLayer(flip_axes=(1,), flip_probability=1.0)
    layer.randomise()
    assert layer.flipped_axes == (1,)


def test_flip_probability_is_per_axis_and_seeded():
    layer = RandomFlipLayer(flip_axes=(0, 1), seed=7)
    draws = []
    for _ in range(600):
        layer.randomise()
        draws.append(layer.flipped_axes)
    for axis in (0, 1):
        assert 0.42 < np.mean([axis in d for d in draws]) < 0.58
    assert not any(2 in d for d in draws)
    again = RandomFlipLayer(flip_axes=(0, 1), seed=7)
    again.randomise()
    assert again.flipped_axes == draws[0]


def test_flip_refuses_a_non_spatial_axis():
    with pytest.raises(ValueError, match='0, 1 or 2'):
        RandomFlipLayer(flip_axes=(3,))


# -------------------------------------------------------------- rotation
@pytest.mark.parametrize('key, expected', [
    ('z', (4, 6, 4)),    # about axis 2: +x turns towards +y
    ('y', (4, 4, 2)),    # about axis 1: +x turns towards -z
])
def test_quarter_turn_moves_the_marker_about_the_named_axis(key, expected):
    layer = RandomRotationLayer()
    ranges = {'x': (), 'y': (), 'z': ()}
    ranges[key] = (90.0, 90.0)
    layer.init_non_uniform_angle(ranges['x'], ranges['y'], ranges['z'])
    layer.randomise()
    data = {'image': marker((9, 9, 9), (6, 4, 4), 10.0), 'label': marker((9, 9, 9), (6, 4, 4))}
    out = layer(data, {'image': (1,), 'label': (0,)})
    assert where(out['image']) == expected
    assert out['image'][expected + (0,)] == pytest.approx(10.0, abs=1e-4)
    assert where(out['label'], 1.0) == [expected]


def test_rotation_keeps_label_values_and_image_label_alignment():
    layer = RandomRotationLayer(seed=3)
    layer.init_uniform_angle((-30.0, 30.0))
    data = blobs()
    for _ in range(3):
        layer.randomise()
        out = layer(data, {'image': (0,), 'label': (0,)})
        assert set(np.unique(out['label'])) <= {0.0, 1.0, 2.0}
        assert np.array_equal(out['image'], out['label'] * 100.0)
        binary = {'image': (data['label'] > 0) * 100.0, 'label': (data['label'] > 0) * 1.0}
        out = layer(binary, ORDERS)   # cubic image, nearest label: same centre of mass
        label_centre = np.argwhere(out['label'][..., 0] == 1.0).mean(axis=0)
        weights = np.clip(out['image'][..., 0], 0.0, None)
        image_centre = (np.indices(weights.shape).reshape(3, -1) * weights.reshape(-1)).sum(
            axis=1) / weights.sum()
        assert np.abs(label_centre - image_centre).max() < 0.5


def test_rotation_angles_stay_in_their_ranges():
    layer = RandomRotationLayer(seed=0)
    layer.init_uniform_angle((-10.0, 20.0))
    angles = []
    for _ in range(300):
        layer.randomise()
        angles.append(layer.angles)
    angles = np.array(angles)
    assert angles.min() >= -10.0 and angles.max() <= 20.0
    assert angles.min() < -8.0 and angles.max() > 18.0   # the whole range is used
    layer.init_non_uniform_angle((), (5.0, 6.0), ())
    layer.randomise()
    assert layer.angles[0] == 0.0 and layer.angles[2] == 0.0 and 5.0 <= layer.angles[1] <= 6.0


def test_rotation_of_a_2d_image_stays_in_plane():
    layer = RandomRotationLayer()
    layer.init_uniform_angle((90.0, 90.0))
    layer.randomise()
    out = layer({'image': marker((9, 9, 1), (6, 4, 0))}, {'image': (1,)})
    assert out['image'].shape == (9, 9, 1, 1)
    assert where(out['image']) == (4, 6, 0)


def test_rotation_refuses_a_reversed_range():
    with pytest.raises(ValueError, match='rotation_angle_y'):
        RandomRotationLayer().init_non_uniform_angle((), (10.0, -10.0), ())


# --------------------------------------------------------------- scaling
def test_doubling_maps_each_voxel_to_two_and_keeps_labels_aligned():
    layer = RandomSpatialScalingLayer(min_percentage=100.0, max_percentage=100.0)
    layer.randomise()
    data = {'image': marker((8, 8, 8), (2, 5, 1), 10.0), 'label': marker((8, 8, 8), (2, 5, 1))}
    out = layer(data, {'image': (0,), 'label': (0,)})
    assert out['image'].shape == out['label'].shape == (16, 16, 16, 1)
    expected = [(x, y, z) for x in (4, 5) for y in (10, 11) for z in (2, 3)]
    assert where(out['label'], 1.0) == expected
    assert where(out['image'], 10.0) == expected


def test_shrinking_smooths_images_but_not_labels():
    layer = RandomSpatialScalingLayer(min_percentage=-50.0, max_percentage=-50.0)
    layer.randomise()
    data = blobs()
    out = layer(data, ORDERS)
    assert out['image'].shape == out['label'].shape == (8, 8, 8, 1)
    assert set(np.unique(out['label'])) <= {0.0, 1.0, 2.0}
    assert len(np.unique(np.round(out['image'], 3))) > 3   # antialiased: in-between values
    plain = RandomSpatialScalingLayer(-50.0, -50.0, antialiasing=False)
    plain.randomise()
    assert not np.allclose(plain(data, ORDERS)['image'], out['image'])


def test_scaling_factors_stay_in_range_and_isotropic_shares_one():
    layer = RandomSpatialScalingLayer(-10.0, 20.0, seed=1)
    zooms = []
    for _ in range(300):
        layer.randomise()
        zooms.append(layer.zoom)
    zooms = np.array(zooms)
    assert zooms.min() >= 0.9 and zooms.max() <= 1.2
    assert zooms.min() < 0.92 and zooms.max() > 1.18
    assert np.std(zooms[:, 0] - zooms[:, 1]) > 0.05
    iso = RandomSpatialScalingLayer(-10.0, 20.0, isotropic=True, seed=1)
    for _ in range(20):
        iso.randomise()
        assert len(set(iso.zoom)) == 1


def test_scaling_leaves_a_singleton_axis_alone():
    layer = RandomSpatialScalingLayer(-40.0, -40.0)
    layer.randomise()
    assert layer({'image': marker((10, 10, 1), (0, 0, 0))}, {'image': (1,)})['image'].shape \
        == (6, 6, 1, 1)


# ---------------------------------------------------- elastic deformation
def test_constant_coefficients_shift_the_volume():
    """The cubic B-spline sums to one: equal coefficients give a uniform shift."""
    layer = RandomElasticDeformationLayer(proportion_to_augment=1.0)
    layer.randomise()
    layer._coefficients[:] = 0.0
    layer._coefficients[0] = 3.0   # output voxel p takes input voxel p + 3 along x
    data = {'image': marker((12, 10, 8), (7, 5, 4), 10.0), 'label': marker((12, 10, 8), (7, 5, 4))}
    out = layer(data, {'image': (1,), 'label': (0,)})
    assert where(out['label'], 1.0) == [(4, 5, 4)]
    assert out['image'][4, 5, 4, 0] == pytest.approx(10.0, abs=1e-6)


def test_deformation_keeps_labels_and_alignment_and_is_smooth():
    layer = RandomElasticDeformationLayer(num_controlpoints=4, std_deformation_sigma=2.0,
                                          proportion_to_augment=1.0, seed=5)
    layer.randomise()
    data = blobs()
    out = layer(data, {'image': (0,), 'label': (0,)})
    assert set(np.unique(out['label'])) <= {0.0, 1.0, 2.0}
    assert np.array_equal(out['image'], out['label'] * 100.0)
    assert not np.array_equal(out['label'], data['label'])
    field = layer.displacement((16, 16, 16))
    assert 0.3 < field.std() < 6.0
    assert np.abs(np.diff(field, axis=1)).max() < 1.5   # neighbours move alike


def test_proportion_to_deform_is_the_fraction_of_deformed_draws():
    layer = RandomElasticDeformationLayer(proportion_to_augment=0.3, seed=11)
    data = blobs(shape=(6, 6, 6))
    deformed = 0
    for _ in range(400):
        layer.randomise()
        out = layer(data, ORDERS)
        deformed += out is not data
        assert layer.do_augmentation == (out is not data)
    assert 0.24 < deformed / 400.0 < 0.36
    never = RandomElasticDeformationLayer(proportion_to_augment=0.0)
    never.randomise()
    assert never(data, ORDERS) is data


def test_deformation_of_a_2d_image_moves_nothing_along_the_flat_axis():
    layer = RandomElasticDeformationLayer(proportion_to_augment=1.0, seed=2)
    layer.randomise()
    field = layer.displacement((12, 12, 1))
    assert field.shape == (3, 12, 12, 1)
    assert np.all(field[2] == 0.0) and field[0].std() > 0.5


# ------------------------------------------------------------ bias field
def test_bias_field_multiplies_the_image_only():
    layer = RandomBiasFieldLayer(seed=4)
    layer.init_order(2)
    layer.init_uniform_coeff((-0.3, 0.3))
    layer.randomise()
    assert len(layer.coefficients) == len(monomial_powers(2)) == 10
    data = {'image': np.ones((6, 7, 8, 1)) * 2.0, 'label': np.ones((6, 7, 8, 1))}
    out = layer(data, ORDERS)
    assert np.array_equal(out['label'], data['label'])
    ratio = out['image'][..., 0] / 2.0
    assert np.allclose(ratio, layer.bias_field((6, 7, 8)))
    assert ratio.std() > 0.0 and np.all(ratio > 0.0)


def test_bias_field_of_order_zero_scales_by_exp_of_its_coefficient():
    layer = RandomBiasFieldLayer(seed=0)
    layer.init_order(0)
    layer.init_uniform_coeff((-0.5, 0.5))
    coefficients = []
    for _ in range(200):
        layer.randomise()
        (coefficient,) = layer.coefficients
        coefficients.append(coefficient)
        out = layer(np.ones((3, 3, 3, 1)))
        assert np.allclose(out, np.exp(coefficient))
    assert -0.5 <= min(coefficients) < -0.45 and 0.45 < max(coefficients) <= 0.5


def test_same_seed_same_augmentation():
    data = blobs()
    outputs = []
    for _ in range(2):
        layer = RandomRotationLayer(seed=42)
        layer.init_uniform_angle((-20.0, 20.0))
        layer.randomise()
        outputs.append(layer(data, ORDERS)['image'])
    assert np.array_equal(outputs[0], outputs[1])
