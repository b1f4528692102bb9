"""Image objects: NiftyNet's 5-D layout, class by dimensionality, 2-D pictures, geometry."""
import importlib

import numpy as np
import pytest

from niftydrive.contrib.demo_data import write_nifti, write_png
from niftydrive.io.image_type import (
    DataFromFile, ImageFactory, SpatialImage2D, SpatialImage3D, SpatialImage4D, SpatialImage5D)
from niftydrive.utilities.errors import UserInputError

RAS = np.diag([2.0, 1.0, 1.5, 1.0])


def create(paths, **kwargs):
    kwargs.setdefault('name', 'img')
    return ImageFactory.create_instance(paths, **kwargs)


def test_a_3d_volume_is_5d_with_singleton_time_and_modality(tmp_path):
    data = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    image = create(write_nifti(str(tmp_path / 'v.nii'), data, RAS))
    assert type(image) is SpatialImage3D
    assert image.shape == (2, 3, 4, 1, 1) and image.spatial_rank == 3
    loaded = image.get_data()
    assert loaded.dtype == np.float32 and np.array_equal(loaded[..., 0, 0], data)
    assert image.file_path[0].endswith('v.nii') and image.interp_order == (3,)
    assert np.allclose(image.original_pixdim[0], (2.0, 1.0, 1.5))
    assert image.original_axcodes == (('R', 'A', 'S'),)


def test_a_series_keeps_time_and_sections_concatenate_as_modalities(tmp_path):
    series = np.random.rand(2, 3, 4, 5).astype(np.float32)
    image = create(write_nifti(str(tmp_path / 's.nii'), series, RAS))
    assert type(image) is SpatialImage4D and image.shape == (2, 3, 4, 5, 1)
    assert np.array_equal(image.get_data()[..., 0], series)
    t1 = write_nifti(str(tmp_path / 't1.nii'), series[..., 0], RAS)
    t2 = write_nifti(str(tmp_path / 't2.nii'), series[..., 1], RAS)
    both = create((t1, t2), name=('T1', 'T2'), interp_order=(3, 1))
    assert type(both) is SpatialImage4D and both.name == ('T1', 'T2')
    assert both.shape == (2, 3, 4, 1, 2) and both.interp_order == (3, 1)
    assert np.array_equal(both.get_data()[..., 0, :], series[..., :2])


def test_axcodes_and_pixdim_change_the_shape_of_volumes(tmp_path):
    data = np.zeros((4, 6, 8), np.float32)
    path = write_nifti(str(tmp_path / 'v.nii'), data, RAS)
    image = create(path, output_axcodes=('S', 'R', 'A'), output_pixdim=(1.0, 1.0, 1.0))
    assert image.shape == (12, 8, 6, 1, 1)
    assert image.get_data().shape == (12, 8, 6, 1, 1)
    assert image.output_axcodes == (('S', 'R', 'A'),)


@pytest.mark.skipif(importlib.util.find_spec('PIL') is None, reason='pillow is not installed')
def test_pictures_are_rank_2_and_ignore_axcodes_and_pixdim(tmp_path):
    grey = np.arange(20, dtype=np.float32).reshape(4, 5)
    image = create(write_png(str(tmp_path / 'g.png'), grey), output_axcodes=('L', 'P', 'S'),
                   output_pixdim=(0.5, 0.5, 1.0), loader='pillow')
    assert type(image) is SpatialImage2D and image.spatial_rank == 2
    assert image.shape == (4, 5, 1, 1, 1) and image.output_axcodes == (None,)
    assert np.array_equal(image.get_data()[:, :, 0, 0, 0], grey)
    from PIL import Image
    Image.fromarray(np.zeros((4, 5, 3), np.uint8)).save(str(tmp_path / 'c.png'))
    colour = create(str(tmp_path / 'c.png'))
    assert type(colour) is SpatialImage5D and colour.shape == (4, 5, 1, 1, 3)


def test_data_from_file_keeps_one_entry_per_file():
    data = DataFromFile(('a.nii', 'b.nii'), name=('A', 'B'), loader='nibabel')
    assert data.file_path == ('a.nii', 'b.nii') and data.name == ('A', 'B')   # found nowhere
    assert data.loader == ('nibabel', 'nibabel')
    assert DataFromFile('c.nii').name == ('loadable_data',)


def test_relative_paths_are_found_from_here_or_in_the_niftydrive_home(tmp_path, monkeypatch):
    home = tmp_path / 'home'
    (tmp_path / 'conf').mkdir()
    (tmp_path / 'conf' / 'config.ini').write_text('[global]\nhome = {}\n'.format(home))
    monkeypatch.setenv('NIFTYDRIVE_CONFIG_HOME', str(tmp_path / 'conf'))
    in_home = write_nifti(str(home / 'data' / 'h.nii'), np.zeros((2, 3, 4)), RAS)
    here = write_nifti(str(tmp_path / 'work' / 'w.nii'), np.zeros((2, 3, 4)), RAS)
    monkeypatch.chdir(tmp_path / 'work')
    assert DataFromFile(('w.nii', 'data/h.nii')).file_path == (here, in_home)
    assert create('data/h.nii').shape == (2, 3, 4, 1, 1)


def test_bad_inputs_are_named(tmp_path):
    with pytest.raises(UserInputError, match='No file_path'):
        ImageFactory.create_instance(None)
    with pytest.raises(UserInputError, match=r'missing\.nii .*does not exist'):
        create(str(tmp_path / 'missing.nii'))
    a = write_nifti(str(tmp_path / 'a.nii'), np.zeros((2, 3, 4)), RAS)
    b = write_nifti(str(tmp_path / 'b.nii'), np.zeros((2, 3, 5)), RAS)
    with pytest.raises(UserInputError, match=r'different spatial shapes.*\(2, 3, 5\)'):
        create((a, b), name=('A', 'B'))


def test_misc_io_helpers_for_the_5d_layout(tmp_path):
    from niftydrive.io.misc_io import expand_to_5d, infer_ndims_from_file, resolve_file_name
    assert expand_to_5d(np.zeros((3, 4))).shape == (3, 4, 1, 1, 1)
    assert expand_to_5d(np.zeros((3, 4, 5, 2))).shape == (3, 4, 5, 2, 1)
    path = write_nifti(str(tmp_path / 'series.nii'), np.zeros((2, 3, 4, 5)), RAS)
    assert infer_ndims_from_file(path) == 4
    assert resolve_file_name('series.nii', ('.', str(tmp_path))) == path
    with pytest.raises(UserInputError, match=r'nope.nii not found \(also looked in: .*\)'):
        resolve_file_name('nope.nii', (str(tmp_path),))
