"""Image loaders: registry, choice by the `loader` key, optional libraries, 2-D pictures."""
import importlib

import nibabel as nib
import numpy as np
import pytest

from niftydrive.contrib.demo_data import write_nifti, write_png
from niftydrive.io import image_loader
from niftydrive.io.image_loader import (
    AVAILABLE_LOADERS, SUPPORTED_LOADERS, image2nibabel, load_image_from_file,
    register_image_loader)
from niftydrive.utilities.errors import UserInputError
from niftydrive.utilities.util_import import require_module

PIR = np.array([[0., 0., -2., 10.], [-1.5, 0., 0., 3.], [0., 1.25, 0., -4.], [0., 0., 0., 1.]])


def importable(module):
    try:
        importlib.import_module(module)
        return True
    except ImportError:
        return False


needs_pillow = pytest.mark.skipif(not importable('PIL.Image'),
                                  reason='pillow is not installed (pip install pillow)')
needs_sitk = pytest.mark.skipif(not importable('SimpleITK'),
                                reason='SimpleITK is not installed (pip install SimpleITK)')


@pytest.fixture
def registry():
    """Restore both loader registries after a test that registers loaders."""
    saved = dict(SUPPORTED_LOADERS), dict(AVAILABLE_LOADERS)
    yield
    for table, copy in zip((SUPPORTED_LOADERS, AVAILABLE_LOADERS), saved):
        table.clear()
        table.update(copy)


def test_every_niftynet_loader_is_supported_and_available_iff_its_library_imports():
    assert list(SUPPORTED_LOADERS)[:5] == ['nibabel', 'opencv', 'skimage', 'pillow', 'simpleitk']
    assert {'numpy', 'dummy'} <= set(SUPPORTED_LOADERS)
    for name, (module, _, _) in SUPPORTED_LOADERS.items():
        assert (name in AVAILABLE_LOADERS) == importable(module), name
    assert not AVAILABLE_LOADERS['dummy']['auto_discover']


@needs_pillow
def test_grey_and_colour_png_load_as_nifti_with_an_identity_affine(tmp_path):
    grey = np.arange(35, dtype=np.uint8).reshape(7, 5)
    image = load_image_from_file(write_png(str(tmp_path / 'g.png'), grey))
    assert image.shape == (7, 5) and np.array_equal(np.asarray(image.dataobj), grey)
    assert np.array_equal(image.affine, np.eye(4))
    from PIL import Image
    rgb = np.random.RandomState(0).randint(0, 255, (7, 5, 3)).astype(np.uint8)
    Image.fromarray(rgb).save(str(tmp_path / 'c.png'))
    colour = load_image_from_file(str(tmp_path / 'c.png'))
    assert colour.shape == (7, 5, 1, 1, 3)
    assert np.array_equal(np.asarray(colour.dataobj)[:, :, 0, 0, :], rgb)


def test_the_loader_key_chooses_the_loader(tmp_path):
    path = write_nifti(str(tmp_path / 'v.nii.gz'), np.ones((3, 4, 5)), np.eye(4))
    assert load_image_from_file(path, 'nibabel').shape == (3, 4, 5)
    with pytest.raises(UserInputError, match=r'loader = numpy cannot read .*v\.nii\.gz'):
        load_image_from_file(path, 'numpy')
    with pytest.raises(UserInputError, match=r'loader = pilow: unknown image loader; '
                                             r'supported: nibabel, opencv'):
        load_image_from_file(path, 'pilow')


def test_a_loader_whose_library_is_missing_names_the_package_to_install(tmp_path, monkeypatch):
    monkeypatch.delitem(AVAILABLE_LOADERS, 'pillow', raising=False)
    with pytest.raises(UserInputError, match=r'needs the Python package pillow .*pip install '
                                             r'pillow'):
        load_image_from_file(str(tmp_path / 'x.png'), 'pillow')
    monkeypatch.delitem(AVAILABLE_LOADERS, 'opencv', raising=False)
    with pytest.raises(UserInputError, match='pip install opencv-python-headless'):
        load_image_from_file(str(tmp_path / 'x.png'), 'opencv')


def test_register_image_loader_adds_an_auto_discovered_loader(tmp_path, registry):
    @register_image_loader('text_grid', requires='numpy')
    def read_text(filename):
        if not filename.endswith('.txt'):
            raise IOError('not text')
        return image2nibabel(np.loadtxt(filename))

    @register_image_loader('never', requires='niftydrive_no_such_module', package='no-such')
    def read_never(filename):
        raise AssertionError('must not run')

    assert 'never' in SUPPORTED_LOADERS and 'never' not in AVAILABLE_LOADERS
    (tmp_path / 'grid.txt').write_text('1 2 3\n4 5 6\n')
    image = load_image_from_file(str(tmp_path / 'grid.txt'))
    assert np.array_equal(np.asarray(image.dataobj), [[1, 2, 3], [4, 5, 6]])
    with pytest.raises(UserInputError, match='pip install no-such'):
        load_image_from_file(str(tmp_path / 'grid.txt'), 'never')


def test_numpy_arrays_load_from_npy_files(tmp_path):
    data = np.random.RandomState(1).rand(4, 3, 2).astype(np.float32)
    np.save(str(tmp_path / 'a.npy'), data)
    assert np.array_equal(np.asarray(load_image_from_file(str(tmp_path / 'a.npy')).dataobj), data)


def test_a_file_no_loader_reads_is_named_with_what_each_loader_said(tmp_path):
    path = tmp_path / 'junk.nii'
    path.write_bytes(b'not an image at all' * 30)
    with pytest.raises(UserInputError) as error:
        load_image_from_file(str(path))
    assert 'junk.nii' in str(error.value) and 'nibabel:' in str(error.value)


@needs_sitk
def test_simpleitk_gives_the_voxels_and_world_geometry_nibabel_gives(tmp_path):
    data = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
    path = write_nifti(str(tmp_path / 'pir.nii.gz'), data, PIR)
    from_sitk = load_image_from_file(path, 'simpleitk')
    from_nib = nib.load(path)
    assert np.array_equal(np.asarray(from_sitk.dataobj), np.asarray(from_nib.dataobj))
    assert np.allclose(from_sitk.affine, from_nib.affine, atol=1e-5)


def test_require_module_checks_presence_and_version():
    assert require_module('numpy', min_version='1.0') is np
    assert require_module('numpy', min_version=(1, 0)) is np
    assert require_module('niftydrive_no_such_module') is None
    with pytest.raises(ImportError, match='niftydrive_no_such_module'):
        require_module('niftydrive_no_such_module', mandatory=True)
    with pytest.raises(AssertionError, match='older than 999'):
        require_module('numpy', min_version='999', mandatory=True)
    assert require_module('numpy', min_version='999') is None


def test_the_module_documents_its_loaders():
    assert 'pillow' in image_loader.__doc__ and 'loader' in image_loader.__doc__
