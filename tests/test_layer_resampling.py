"""Resampler, grid warpers, spatial transformers, resizing, smoothing and
spatial gradients: values against hand computations, shapes, gradients."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from scipy import ndimage

from niftydrive.layer.approximated_smoothing import SmoothingLayer
from niftydrive.layer.grid_warper import (
    AffineGridWarperLayer, AffineWarpConstraints)
from niftydrive.layer.linear_resize import LinearResizeLayer
from niftydrive.layer.resampler import ResamplerLayer
from niftydrive.layer.spatial_gradient import SpatialGradientLayer
from niftydrive.layer.spatial_transformer import (
    BSplineFieldImageGridWarperLayer, ResampledFieldGridWarperLayer)
from niftydrive.utilities.errors import UserInputError

LINE = np.array([0.0, 10.0, 20.0, 30.0], np.float32).reshape(1, 4, 1)


def _run(tensors, feed=None):
    with tf.Session() as sess:
        return sess.run(tensors, feed)


def _sample_line(interpolation, boundary, coords):
    coords = np.asarray(coords, np.float32).reshape(1, -1, 1)
    layer = ResamplerLayer(interpolation, boundary)
    return _run(layer(tf.constant(LINE), tf.constant(coords))).ravel()


@pytest.mark.parametrize('boundary, expected', [
    # coordinates 1.5, -1, 3.5, 4.5
    ('ZERO', [15, 0, 15, 0]),
    ('REPLICATE', [15, 0, 30, 30]),
    ('CIRCULAR', [15, 30, 15, 5]),
    ('SYMMETRIC', [15, 10, 25, 15]),
])
def test_linear_resampling_boundaries(graph, boundary, expected):
    values = _sample_line('LINEAR', boundary, [1.5, -1, 3.5, 4.5])
    np.testing.assert_allclose(values, expected, atol=1e-5)


def test_nearest_and_bspline_resampling(graph):
    np.testing.assert_allclose(
        _sample_line('NEAREST', 'REPLICATE', [1.4, 1.6, 7.0]), [10, 20, 30])
    # cubic B-splines reproduce a linear ramp away from the edges
    np.testing.assert_allclose(
        _sample_line('BSPLINE', 'SYMMETRIC', [1.0, 1.5, 1.75]),
        [10, 15, 17.5], atol=1e-4)
    # inverse distance weighting hits the knots exactly
    np.testing.assert_allclose(
        _sample_line('IDW', 'REPLICATE', [2.0, 1.5]), [20, 15], atol=1e-4)
    with pytest.raises(UserInputError, match='did you mean "LINEAR"'):
        ResamplerLayer('LINEARR')
    with pytest.raises(UserInputError, match='resampler boundary'):
        ResamplerLayer('LINEAR', 'MIRROR')


def test_linear_resampling_matches_scipy_in_3d(graph):
    rng = np.random.RandomState(0)
    image = rng.rand(5, 6, 4).astype(np.float32)
    coords = rng.uniform(0, 3.9, (3, 2, 3)).astype(np.float32)
    layer = ResamplerLayer('LINEAR', 'REPLICATE')
    value = _run(layer(tf.constant(image[None, ..., None]),
                       tf.constant(coords[None])))
    expected = ndimage.map_coordinates(
        image, np.moveaxis(coords, -1, 0), order=1, mode='nearest')
    assert value.shape == (1, 3, 2, 1)
    np.testing.assert_allclose(value[0, ..., 0], expected, atol=1e-5)


def test_resampler_gradients_reach_image_and_coordinates(graph):
    coords = tf.constant([[[1.5], [2.25]]])
    image = tf.constant(LINE)
    sampled = ResamplerLayer('LINEAR', 'REPLICATE')(image, coords)
    grad_coords, grad_image = _run(tf.gradients(tf.reduce_sum(sampled),
                                                [coords, image]))
    np.testing.assert_allclose(grad_coords.ravel(), [10, 10], atol=1e-5)
    np.testing.assert_allclose(grad_image.ravel(), [0, .5, 1.25, .25],
                               atol=1e-5)


def test_affine_grid_warper_identity_translation_and_inverse(graph):
    params = tf.constant([[1.0, 0.0, 0.5, 0.0, 1.0, 1.0]])
    warper = AffineGridWarperLayer(source_shape=(4, 5), output_shape=(2, 3))
    grid, inverse = _run([warper(params), warper.inverse_op()(params)])
    rows, cols = np.meshgrid(np.arange(2), np.arange(3), indexing='ij')
    assert grid.shape == (1, 2, 3, 2)
    np.testing.assert_allclose(grid[0, ..., 0], rows + 0.5)
    np.testing.assert_allclose(grid[0, ..., 1], cols + 1.0)
    # the inverse grid covers the source shape
    rows, cols = np.meshgrid(np.arange(4), np.arange(5), indexing='ij')
    assert inverse.shape == (1, 4, 5, 2)
    np.testing.assert_allclose(inverse[0, ..., 0], rows - 0.5, atol=1e-5)
    np.testing.assert_allclose(inverse[0, ..., 1], cols - 1.0, atol=1e-5)


def test_affine_constraints(graph):
    no_shear = AffineWarpConstraints.no_shear_2d()
    assert no_shear.num_free_params == 4
    assert no_shear.mask == ((True, False, True), (False, True, True))
    combined = no_shear & AffineWarpConstraints.translation_2d(x=2.0)
    assert combined.num_free_params == 3
    # free entries in row-major order: scale x, scale y, translation y
    warper = AffineGridWarperLayer((3, 3), (3, 3), constraints=combined)
    grid = _run(warper(tf.constant([[2.0, 1.0, -1.0]])))
    np.testing.assert_allclose(grid[0, 1, 2], [2 * 1 + 2.0, 2 - 1.0])
    with pytest.raises(ValueError, match='expects 3 parameters'):
        warper(tf.zeros([1, 6]))
    with pytest.raises(ValueError, match='incompatible'):
        AffineWarpConstraints.translation_2d(x=1.0) & \
            AffineWarpConstraints.translation_2d(x=2.0)
    with pytest.raises(ValueError, match='fully constrained'):
        AffineGridWarperLayer((2, 2), (2, 2), [[1, 0, 0], [0, 1, 0]])
    three_d = AffineGridWarperLayer((4, 4, 4), (2, 2))  # a 2-D slice of 3-D
    identity = np.eye(3, 4).reshape(1, 12).astype(np.float32)
    plane = _run(three_d(tf.constant(identity)))
    assert plane.shape == (1, 2, 2, 3)
    np.testing.assert_allclose(plane[0, 1, 1], [1, 1, 0])


def test_bspline_field_warper_reproduces_linear_fields(graph):
    warper = BSplineFieldImageGridWarperLayer((9, 9), (9, 9), (4, 4))
    assert warper.coeff_shape == [6, 6]
    # control point j sits at voxel (j - 1) * spacing
    knots = (np.arange(6) - 1.0) * 4.0
    field = np.stack(np.meshgrid(knots, knots, indexing='ij'), -1)
    grid = _run(warper(tf.constant(field[None], tf.float32)))
    rows, cols = np.meshgrid(np.arange(9), np.arange(9), indexing='ij')
    np.testing.assert_allclose(grid[0, ..., 0], rows, atol=1e-4)
    np.testing.assert_allclose(grid[0, ..., 1], cols, atol=1e-4)
    with pytest.raises(ValueError, match=r'\[6, 6\]'):
        warper(tf.zeros([1, 5, 5, 2]))


def test_resampled_field_warper_stretches_a_coarse_field(graph):
    coarse = np.stack(np.meshgrid(np.arange(3.0), np.arange(3.0),
                                  indexing='ij'), -1) * 2.0
    warper = ResampledFieldGridWarperLayer((5, 5), (5, 5), (3, 3))
    grid = _run(warper(tf.constant(coarse[None], tf.float32)))
    rows, cols = np.meshgrid(np.arange(5), np.arange(5), indexing='ij')
    np.testing.assert_allclose(grid[0, ..., 0], rows, atol=1e-5)
    np.testing.assert_allclose(grid[0, ..., 1], cols, atol=1e-5)


def test_linear_resize_3d_matches_tf1_convention(graph):
    ramp = np.arange(2, dtype=np.float32)
    volume = (ramp[:, None, None] * 10 + ramp[None, None, :])[None, ..., None]
    volume = np.broadcast_to(volume, (1, 2, 2, 2, 1)).astype(np.float32)
    resized = _run(LinearResizeLayer(4)(tf.constant(volume)))
    assert resized.shape == (1, 4, 4, 4, 1)
    # new voxel i samples old position i / 2 (no corner alignment)
    np.testing.assert_allclose(resized[0, :, 0, 0, 0], [0, 5, 10, 10])
    np.testing.assert_allclose(resized[0, 0, 0, :, 0], [0, .5, 1, 1])
    image = tf.constant(np.ones((2, 3, 3, 2), np.float32))
    assert LinearResizeLayer((6, 4))(image).shape.as_list() == [2, 6, 4, 2]
    with pytest.raises(ValueError, match='2-D or 3-D'):
        LinearResizeLayer(4)(tf.ones([1, 4, 1]))


def test_smoothing_of_a_delta_is_the_kernel(graph):
    image = np.zeros((1, 9, 9, 2), np.float32)
    image[0, 4, 4, 0] = 1.0
    image[0, :, :, 1] = 3.0
    smoothed = _run(SmoothingLayer(sigma=1.0)(tf.constant(image)))
    kernel = np.exp(-0.5 * np.arange(-3, 4) ** 2)
    kernel /= kernel.sum()
    np.testing.assert_allclose(smoothed[0, 1:8, 1:8, 0],
                               np.outer(kernel, kernel), atol=1e-6)
    assert smoothed[0, 4, 4, 1] == pytest.approx(3.0, abs=1e-5)
    cauchy = SmoothingLayer(sigma=[1.0, 0.0], type_str='cauchy')
    assert cauchy(tf.constant(image)).shape.as_list() == [1, 9, 9, 2]


def test_spatial_gradient_central_differences(graph):
    rows, cols = np.meshgrid(np.arange(5.0), np.arange(4.0), indexing='ij')
    image = tf.constant((rows ** 2 + 3 * cols)[None, ..., None], tf.float32)
    along_x, along_y, uncropped = _run([
        SpatialGradientLayer(0)(image), SpatialGradientLayer(1)(image),
        SpatialGradientLayer(1, do_cropping=False)(image)])
    assert along_x.shape == along_y.shape == (1, 3, 2, 1)
    np.testing.assert_allclose(along_x[0, :, 0, 0], [4, 8, 12])  # 2 * 2x
    np.testing.assert_allclose(along_y, 6.0)
    assert uncropped.shape == (1, 5, 2, 1)
    with pytest.raises(ValueError, match='spatial_axis 2'):
        SpatialGradientLayer(2)(image)
