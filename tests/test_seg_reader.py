"""Reading NIfTI subjects: orientation, byte order, dimensions, preprocessing, bad files."""
import gzip

import nibabel as nib
import numpy as np
import pytest

from niftydrive.contrib.demo_data import write_nifti
from niftydrive.io.image_loader import SpatialImage
from niftydrive.io.image_reader import ImageReader, LabelMapping
from niftydrive.utilities.errors import UserInputError
from niftydrive.utilities.util_common import ParserNamespace

RAS = np.diag([1.5, 1.5, 2.0, 1.0])


def ras_volume(shape=(4, 5, 6)):
    return np.arange(np.prod(shape), dtype=np.float32).reshape(shape)


def stored_as(codes, data, affine=RAS, path=None, dtype=None):
    """Write ``data`` (RAS voxel order) to disk in orientation ``codes``."""
    transform = nib.orientations.ornt_transform(
        nib.orientations.axcodes2ornt('RAS'), nib.orientations.axcodes2ornt(tuple(codes)))
    image = nib.Nifti1Image(data, affine).as_reoriented(transform)
    assert nib.aff2axcodes(image.affine) == tuple(codes)
    return write_nifti(path, np.asarray(image.dataobj), image.affine, dtype)


@pytest.mark.parametrize('codes', ['LPS', 'PIR', 'ASL', 'RAS'])
def test_any_orientation_reads_back_in_the_requested_axcodes(tmp_path, codes):
    data = ras_volume()
    path = stored_as(codes, data, path=str(tmp_path / 'img.nii.gz'))
    image = SpatialImage(path, 's1', axcodes=('R', 'A', 'S'))
    assert image.spatial_shape == data.shape
    assert np.array_equal(image.get_data()[..., 0], data)
    lpi = SpatialImage(path, 's1', axcodes=('L', 'P', 'I')).get_data()[..., 0]
    assert np.array_equal(lpi, data[::-1, ::-1, ::-1])


def test_to_original_undoes_reorientation_and_resampling(tmp_path):
    path = stored_as('PIR', ras_volume((6, 8, 4)), path=str(tmp_path / 'img.nii'))
    on_disk = np.asarray(nib.load(path).dataobj)
    image = SpatialImage(path, 's1', axcodes=('R', 'A', 'S'), pixdim=(0.75, 0.75, 1.0),
                         interp_order=0)
    data = image.get_data()
    assert data.shape == (12, 16, 8, 1)
    assert np.array_equal(image.to_original(data, 0)[..., 0], on_disk)


def test_big_endian_and_integer_files_become_native_float32(tmp_path):
    data = ras_volume()
    path = write_nifti(str(tmp_path / 'be.nii'), data, RAS, '>i2')
    assert nib.load(path).header.endianness == '>'
    loaded = SpatialImage(path).get_data()
    assert loaded.dtype == np.float32 and loaded.dtype.isnative
    assert np.array_equal(loaded[..., 0], data)


def test_4d_2d_and_multimodal_fields(tmp_path):
    series = np.random.rand(4, 5, 6, 3).astype(np.float32)
    slice_2d = np.random.rand(4, 5).astype(np.float32)
    rows = [{'subject_id': 'a',
             't': write_nifti(str(tmp_path / 'a_t.nii.gz'), series, RAS),
             'm': write_nifti(str(tmp_path / 'a_m.nii.gz'), series[..., 0], RAS)}]
    params = {'t': ParserNamespace(), 'm': ParserNamespace()}
    reader = ImageReader(['image']).initialise(params, ParserNamespace(image=('t', 'm')), rows)
    assert reader.num_channels('image') == 4
    image = reader.get_subject(0)['image']
    assert image.shape == (4, 5, 6, 4)
    assert np.array_equal(image[..., :3], series) and np.array_equal(image[..., 3], series[..., 0])
    flat = SpatialImage(write_nifti(str(tmp_path / 'flat.nii'), slice_2d, RAS), axcodes='RAS')
    assert flat.get_data().shape == (4, 5, 1, 1)
    assert np.array_equal(flat.get_data()[:, :, 0, 0], slice_2d)


def test_label_normalisation_maps_values_to_indices_and_back(tmp_path):
    labels = np.array([0, 10, 10, 255, 3, 0], np.float32).reshape(1, 2, 3)
    rows = [{'subject_id': 's', 'lab': write_nifti(str(tmp_path / 'l.nii'), labels, RAS),
             'img': write_nifti(str(tmp_path / 'i.nii'), labels, RAS)}]
    reader = ImageReader(['image', 'label']).initialise(
        {'lab': ParserNamespace(), 'img': ParserNamespace()},
        ParserNamespace(image='img', label='lab'), rows)
    mapping_file = str(tmp_path / 'model' / 'mapping.txt')
    reader.set_preprocessing(label_fields=('label',), num_classes=4, label_normalisation=True,
                             mapping_file=mapping_file)
    mapped = reader.get_subject(0)['label'][..., 0]
    assert mapped.ravel().tolist() == [0, 2, 2, 3, 1, 0]
    assert LabelMapping.from_file(mapping_file).backward(mapped).ravel().tolist() == \
        labels.ravel().tolist()


def test_whitening_gives_zero_mean_unit_variance(tmp_path):
    data = np.random.RandomState(0).normal(50, 7, (6, 6, 6)).astype(np.float32)
    rows = [{'subject_id': 's', 'img': write_nifti(str(tmp_path / 'i.nii'), data, RAS)}]
    reader = ImageReader(['image']).initialise({'img': ParserNamespace()},
                                               ParserNamespace(image='img'), rows)
    reader.set_preprocessing(whitening=True, foreground_only=False)
    whitened = reader.get_subject(0)['image']
    assert abs(whitened.mean()) < 1e-4 and abs(whitened.std() - 1) < 1e-3


# ------------------------------------------------------------------ bad input
def one_subject_reader(tmp_path, image_path, label_path=None):
    rows = [{'subject_id': 'subj07', 'img': image_path}]
    params = {'img': ParserNamespace()}
    task = ParserNamespace(image='img')
    names = ['image']
    if label_path:
        rows[0]['lab'] = label_path
        params['lab'] = ParserNamespace()
        task.label = 'lab'
        names.append('label')
    return ImageReader(names).initialise(params, task, rows)


def test_missing_file_names_file_and_subject(tmp_path):
    path = str(tmp_path / 'gone.nii.gz')
    with pytest.raises(UserInputError, match=r'gone.nii.gz \(subject subj07\) does not exist'):
        one_subject_reader(tmp_path, path)


def test_empty_file_names_file_and_subject(tmp_path):
    path = tmp_path / 'empty.nii.gz'
    path.write_bytes(b'')
    with pytest.raises(UserInputError, match=r'empty.nii.gz \(subject subj07\) is empty'):
        one_subject_reader(tmp_path, str(path))


def test_corrupt_header_names_file_and_subject(tmp_path):
    path = tmp_path / 'junk.nii'
    path.write_bytes(b'this is not a nifti file at all' * 20)
    with pytest.raises(UserInputError, match=r'junk.nii \(subject subj07\)'):
        one_subject_reader(tmp_path, str(path))


def test_truncated_voxels_name_file_and_subject(tmp_path):
    good = write_nifti(str(tmp_path / 'cut.nii'), np.random.rand(16, 16, 16), RAS, '<f4')
    raw = open(good, 'rb').read()
    with gzip.open(str(tmp_path / 'cut.nii.gz'), 'wb') as handle:
        handle.write(raw[:len(raw) // 2])
    reader = one_subject_reader(tmp_path, str(tmp_path / 'cut.nii.gz'))   # header is fine
    with pytest.raises(UserInputError, match=r'cut.nii.gz \(subject subj07\)'):
        reader.preload()


def test_image_and_label_of_different_shapes_are_named(tmp_path):
    image = write_nifti(str(tmp_path / 'img.nii'), np.zeros((4, 4, 4)), RAS)
    label = write_nifti(str(tmp_path / 'lab.nii'), np.zeros((4, 4, 5)), RAS)
    with pytest.raises(UserInputError) as error:
        one_subject_reader(tmp_path, image, label)
    message = str(error.value)
    assert 'subj07' in message and 'img.nii' in message and 'lab.nii' in message
    assert '(4, 4, 5)' in message


@pytest.mark.parametrize('normalise', [True, False])
def test_num_classes_smaller_than_the_labels_is_named(tmp_path, normalise):
    image = write_nifti(str(tmp_path / 'img.nii'), np.zeros((2, 2, 2)), RAS)
    label = write_nifti(str(tmp_path / 'lab.nii'), np.arange(8).reshape(2, 2, 2), RAS)
    reader = one_subject_reader(tmp_path, image, label)
    with pytest.raises(UserInputError, match='num_classes = 3'):
        reader.set_preprocessing(label_fields=('label',), num_classes=3,
                                 label_normalisation=normalise)
        reader.preload()
