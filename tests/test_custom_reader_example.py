"""A custom reader written the way NiftyNet 0.3 users wrote them (after renaming
``niftynet`` to ``niftydrive``): data parameters, a partitioner's file list, an
ImageReader with NiftyNet's preprocessing layers and a user-written layer, and a
reader subclass adding a field. Runs offline on synthetic NIfTI data."""
import os

import numpy as np

from niftydrive.contrib.demo_data import make_dataset
from niftydrive.io.image_reader import ImageReader
from niftydrive.io.image_sets_partitioner import ImageSetsPartitioner
from niftydrive.layer.base_layer import Layer
from niftydrive.layer.binary_masking import BinaryMaskingLayer
from niftydrive.layer.mean_variance_normalisation import MeanVarNormalisationLayer
from niftydrive.layer.pad import PadLayer
from niftydrive.utilities.util_common import ParserNamespace


class ClipIntensityLayer(Layer):
    """A user's own preprocessing layer: clip the image to percentiles."""

    numpy_op = True

    def __init__(self, low=1, high=99):
        super(ClipIntensityLayer, self).__init__(name='clip_intensity')
        self.low, self.high = low, high

    def layer_op(self, image, mask=None):
        lo, hi = np.percentile(image['image'], (self.low, self.high))
        image['image'] = np.clip(image['image'], lo, hi)
        return image, mask


class ReaderWithBoundingBox(ImageReader):
    """A reader subclass that adds the label's bounding box as a field."""

    def layer_op(self, idx=None, shuffle=True):
        idx, data, interp_orders = super(ReaderWithBoundingBox, self).layer_op(idx, shuffle)
        if data is not None:
            nonzero = np.argwhere(data['label'][..., 0, 0] > 0)
            data['bbox'] = np.concatenate([nonzero.min(0), nonzero.max(0)])
        return idx, data, interp_orders


def test_custom_reader_pipeline(tmp_path):
    folder = str(tmp_path / 'data')
    make_dataset(folder, subjects=3, shape=(20, 20, 20), seed=1)
    data_param = {
        'T1': ParserNamespace(path_to_search=folder, filename_contains=('T1',),
                              interp_order=3, pixdim=None, axcodes=('R', 'A', 'S')),
        'parcellation': ParserNamespace(path_to_search=folder, filename_contains=('Label',),
                                        interp_order=0, pixdim=None, axcodes=('R', 'A', 'S')),
    }
    task_param = ParserNamespace(image=('T1',), label=('parcellation',))
    partitioner = ImageSetsPartitioner().initialise(data_param)
    file_list = partitioner.get_file_list()

    reader = ReaderWithBoundingBox(['image', 'label'])
    reader.initialise(data_param, task_param, file_list)
    foreground = BinaryMaskingLayer(type_str='otsu_plus')
    reader.add_preprocessing_layers([
        ClipIntensityLayer(),
        MeanVarNormalisationLayer(image_name='image', binary_masking_func=foreground),
        PadLayer(image_name=('image', 'label'), border=(4, 4, 4)),
    ])

    idx, data, interp_orders = reader(idx=0)
    assert idx == 0 and reader.get_subject_id(0) == 'subj01'
    assert data['image'].shape == (28, 28, 28, 1, 1)
    assert interp_orders['label'] == (0,)
    inner = data['image'][4:-4, 4:-4, 4:-4, 0, 0]
    mask = foreground(inner)
    assert abs(inner[mask].mean()) < 1e-3 and abs(inner[mask].std() - 1) < 1e-3
    low, high = data['bbox'][:3], data['bbox'][3:]
    assert np.all(low >= 4) and np.all(high < 24)     # the label is inside the padding
    assert os.path.basename(reader.output_list[0]['label'].file_path[0]) == \
        'subj01_Label.nii.gz'
