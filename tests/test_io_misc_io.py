"""misc_io's NiftyNet helpers for writing outputs: save_data_array, save_volume_5d,
split_filename."""
import nibabel as nib
import numpy as np

from niftydrive.contrib.demo_data import write_nifti
from niftydrive.io.image_reader import ImageReader
from niftydrive.io.misc_io import save_data_array, save_volume_5d, split_filename
from niftydrive.utilities.util_common import ParserNamespace

# A left-posterior-inferior file with 2 mm voxels along x.
LPI_2MM = np.diag([-2.0, -1.0, -1.0, 1.0])


def test_split_filename_keeps_double_extensions_together():
    assert split_filename('/data/sub1_T1.nii.gz') == ('/data', 'sub1_T1', '.nii.gz')
    assert split_filename('scan.NII.GZ') == ('', 'scan', '.NII.GZ')
    assert split_filename('a/b.nii') == ('a', 'b', '.nii')
    assert split_filename('.nii.gz') == ('', '.nii', '.gz')


def test_save_volume_5d_writes_the_array_with_the_affine(tmp_path):
    data = np.arange(24, dtype=np.float32).reshape(2, 3, 4, 1, 1)
    path = save_volume_5d(data, 'out.nii.gz', str(tmp_path / 'new'), LPI_2MM)
    image = nib.load(path)
    np.testing.assert_array_equal(np.asarray(image.dataobj), data)
    np.testing.assert_array_equal(image.affine, LPI_2MM)
    assert save_volume_5d(None, 'none.nii.gz', str(tmp_path)) is None
    assert not (tmp_path / 'none.nii.gz').exists()


def test_save_data_array_undoes_the_readers_geometry(tmp_path):
    voxels = np.random.RandomState(3).randint(0, 5, size=(4, 6, 5)).astype(np.float32)
    source = write_nifti(str(tmp_path / 's1_T1.nii.gz'), voxels, LPI_2MM)
    data_param = {'T1': ParserNamespace(interp_order=0, pixdim=(1.0, 1.0, 1.0),
                                        axcodes=('R', 'A', 'S'))}
    reader = ImageReader(['image']).initialise(
        data_param, ParserNamespace(image=('T1',)),
        [{'subject_id': 's1', 'T1': source}])
    image_object = reader.output_list[0]['image']
    in_reader_space = image_object.get_data()
    assert in_reader_space.shape == (8, 6, 5, 1, 1)      # 2 mm -> 1 mm along x

    path = save_data_array(str(tmp_path / 'out'), 's1_copy.nii.gz', in_reader_space[..., 0, 0],
                           image_object=image_object, interp_order=0)
    written = nib.load(path)
    np.testing.assert_array_equal(written.affine, LPI_2MM)
    np.testing.assert_array_equal(np.asarray(written.dataobj)[..., 0, 0], voxels)


def test_save_data_array_layout_rules_without_an_image(tmp_path):
    vector = save_data_array(str(tmp_path), 'vector.nii.gz', np.arange(3.0))
    assert nib.load(vector).shape == (1, 1, 1, 1, 3)
    picture = save_data_array(str(tmp_path), 'picture.nii.gz', np.ones((4, 5)))
    assert nib.load(picture).shape == (4, 5, 1, 1, 1)
    channels = save_data_array(str(tmp_path), 'channels.nii.gz', np.ones((4, 5, 6, 2)))
    assert nib.load(channels).shape == (4, 5, 6, 1, 2)
    np.testing.assert_array_equal(nib.load(channels).affine, np.eye(4))
