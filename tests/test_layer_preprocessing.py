"""Reader preprocessing layers: padding, foreground masks, whitening, histogram and
label normalisation (NiftyNet's standardisation_models.txt file)."""
import numpy as np
import pytest

import niftydrive.utilities.histogram_standardisation as hs
from niftydrive.layer.binary_masking import BinaryMaskingLayer, otsu_threshold
from niftydrive.layer.discrete_label_normalisation import DiscreteLabelNormalisationLayer
from niftydrive.layer.histogram_normalisation import HistogramNormalisationLayer
from niftydrive.layer.mean_variance_normalisation import MeanVarNormalisationLayer
from niftydrive.layer.pad import PadLayer
from niftydrive.utilities.errors import UserInputError


class FakeImage(object):
    """What a reader's output_list holds: an object with get_data() (5-D)."""

    def __init__(self, data):
        self.data = np.asarray(data, dtype=np.float32)
        self.file_path = ('fake.nii',)

    def get_data(self):
        return self.data


def cube_image(shape=(12, 12, 12), inside=100.0, outside=10.0, seed=0):
    """A bright 4^3 cube (voxels 4..7) on a dark background, with a little noise."""
    rng = np.random.RandomState(seed)
    image = np.full(shape, outside, np.float32) + rng.rand(*shape).astype(np.float32)
    image[4:8, 4:8, 4:8] = inside + rng.rand(4, 4, 4)
    return image


# ------------------------------------------------------------------ padding
def test_pad_layer_pads_named_fields_and_inverse_crops_them_back():
    image = np.random.rand(4, 5, 6, 1, 2).astype(np.float32)
    data = {'image': image.copy(), 'label': np.ones((4, 5, 6, 1, 1)), 'other': np.zeros(3)}
    pad = PadLayer(image_name=('image', 'label'), border=(2, 1, 0))
    padded, mask = pad(data)
    assert mask is None and padded['other'].shape == (3,)
    assert padded['image'].shape == (8, 7, 6, 1, 2) and padded['label'].shape == (8, 7, 6, 1, 1)
    assert padded['image'][0].min() == image.min()          # 'minimum' mode, per channel
    assert np.array_equal(pad.inverse_op(padded)[0]['image'], image)
    picture = np.ones((5, 5, 1, 1, 1))
    assert PadLayer(('image',), 3)(picture)[0].shape == (11, 11, 1, 1, 1)   # z stays 1
    assert PadLayer(('image',), 1, mode='constant')(np.ones((2, 2, 2)))[0][0, 0, 0] == 0
    with pytest.raises(UserInputError, match='negative'):
        PadLayer(('image',), (-1, 0, 0))


# -------------------------------------------------------------- foreground
@pytest.mark.parametrize('type_str', [
    'otsu_plus', 'threshold_plus', 'thresh_plus', 'mean_plus', 'otsu_minus', 'threshold_minus'])
def test_mask_types_select_the_cube_dilated_twice(type_str):
    """A bright cube for *_plus, a dark one for *_minus; thresholds are around 0."""
    image = cube_image()
    if type_str.endswith('minus'):
        image = 110.0 - image
    if 'thresh' in type_str:
        image = image - 55.0
    mask = BinaryMaskingLayer(type_str=type_str)(image)
    assert mask.dtype == bool and mask.shape == image.shape
    assert mask[4:8, 4:8, 4:8].all()
    # two dilations reach 2 voxels out along an axis, not 3; the corner stays out
    assert mask[2, 5, 5] and not mask[1, 5, 5] and not mask[0, 0, 0]


def test_otsu_threshold_separates_two_intensity_groups():
    values = np.concatenate([np.full(100, 10.0), np.full(50, 90.0)])
    assert 10.0 < otsu_threshold(values) < 90.0


def test_multimodal_masks_fuse_by_and_or_multi():
    first = cube_image()
    second = np.full_like(first, 10.0)
    second[6:12, 6:12, 6:12] = 100.0
    image = np.stack([first, second], axis=-1)[:, :, :, None, :]     # [x, y, z, 1, 2]
    masks = {fusion: BinaryMaskingLayer('otsu_plus', fusion)(image)
             for fusion in ('and', 'or', 'multi')}
    assert masks['and'][5, 5, 5, 0, 0] == masks['and'][5, 5, 5, 0, 1] == False  # noqa: E712
    assert masks['and'][7, 7, 7, 0, 0] and masks['and'][7, 7, 7, 0, 1]
    assert masks['or'][5, 5, 5, 0, 1] and masks['or'][11, 11, 11, 0, 0]
    assert masks['multi'][5, 5, 5, 0, 0] and not masks['multi'][5, 5, 5, 0, 1]
    with pytest.raises(UserInputError, match='foreground_type = otsu: expected one of'):
        BinaryMaskingLayer('otsu')
    with pytest.raises(UserInputError, match='multimod_foreground_type = xor'):
        BinaryMaskingLayer('otsu_plus', 'xor')


# ---------------------------------------------------------------- whitening
def test_whitening_uses_the_foreground_only_when_given_a_mask_layer():
    image = cube_image()[..., None, None]
    plain, _ = MeanVarNormalisationLayer('image')({'image': image.copy()})
    assert abs(plain['image'].mean()) < 1e-4 and abs(plain['image'].std() - 1) < 1e-3
    masking = BinaryMaskingLayer('otsu_plus')
    data, mask = MeanVarNormalisationLayer('image', masking)({'image': image.copy()})
    inside = data['image'][mask['image']]
    assert abs(inside.mean()) < 1e-4 and abs(inside.std() - 1) < 1e-3
    assert abs(data['image'].mean()) > 0.1          # the background is not centred


# ---------------------------------------------------- histogram normalisation
def subjects(n=3):
    return [{'image': FakeImage(np.stack([cube_image(seed=s) * (1 + s),
                                          cube_image(seed=s) + 40 * s], -1)[:, :, :, None, :])}
            for s in range(n)]


def test_landmarks_are_trained_written_in_niftynet_format_and_reused(tmp_path):
    model = str(tmp_path / 'models' / 'histogram_ref_file.txt')
    layer = HistogramNormalisationLayer('image', ('T1', 'T2'), model, norm_type='percentile',
                                        cutoff=(0.01, 0.99))
    assert not layer.is_ready()
    layer.train(subjects())
    assert layer.is_ready()
    lines = [line.split() for line in open(model).read().splitlines()]
    assert [line[0] for line in lines] == ['T1', 'T2'] and all(len(l) == 14 for l in lines)
    for line in lines:
        values = [float(v) for v in line[1:]]
        assert values[0] == pytest.approx(0.0) and values[-1] == pytest.approx(100.0)
        assert values == sorted(values)
    assert hs.read_mapping_file(model)['T1'] == pytest.approx(layer.mapping['T1'])
    again = HistogramNormalisationLayer('image', ('T1', 'T2'), model)
    assert again.is_ready()
    again.train([])                     # nothing to train: the file is left alone
    assert not (tmp_path / 'models' / 'histogram_ref_file.txt.backup').exists()
    partly = HistogramNormalisationLayer('image', ('T1', 'FLAIR'), model)
    assert partly.modalities_to_train() == ['FLAIR']


def test_normalising_maps_each_image_onto_the_trained_landmarks(tmp_path):
    model = str(tmp_path / 'ref.txt')
    training = subjects(1)
    layer = HistogramNormalisationLayer('image', ('T1', 'T2'), model, cutoff=(0.01, 0.99))
    layer.train(training)
    image = training[0]['image'].get_data()
    normalised, mask = layer({'image': image.copy()})
    out = normalised['image'][..., 0, 0]
    landmarks = np.percentile(out, [1, 50, 99])
    mapping = np.array(layer.mapping['T1'])
    assert landmarks == pytest.approx(mapping[[0, 6, 12]], abs=1e-3)
    assert mask['image'].all()                       # no masking function: every voxel
    order = np.argsort(image[..., 0, 0].ravel())
    assert np.all(np.diff(out.ravel()[order]) >= -1e-6)   # monotonic
    brighter = image.copy()
    brighter[..., 0] = brighter[..., 0] * 3 + 7           # a scanner with other units
    assert np.allclose(layer({'image': brighter})[0]['image'][..., 0, 0], out, atol=1e-3)


def test_norm_type_and_cutoff_change_the_result(tmp_path):
    data = subjects(2)
    image = np.random.RandomState(5).gamma(2.0, 10.0, (12, 12, 12, 1, 2)).astype(np.float32)
    outputs = {}
    for norm_type, cutoff in (('percentile', (0.01, 0.99)), ('quartile', (0.01, 0.99)),
                              ('median', (0.01, 0.99)), ('percentile', (0.05, 0.95))):
        model = str(tmp_path / '{}_{}.txt'.format(norm_type, cutoff[0]))
        layer = HistogramNormalisationLayer('image', ('T1', 'T2'), model,
                                            norm_type=norm_type, cutoff=cutoff)
        layer.train(data)
        outputs[norm_type, cutoff] = layer(image.copy())[0]
    values = list(outputs.values())
    for index, first in enumerate(values):
        for second in values[index + 1:]:
            assert not np.allclose(first, second)
    with pytest.raises(UserInputError, match='norm_type = median_ish'):
        HistogramNormalisationLayer('image', ('T1',), 'x.txt', norm_type='median_ish')


def test_foreground_mask_changes_the_landmarks(tmp_path):
    plain = HistogramNormalisationLayer('image', ('T1', 'T2'), str(tmp_path / 'a.txt'))
    masked = HistogramNormalisationLayer('image', ('T1', 'T2'), str(tmp_path / 'b.txt'),
                                         binary_masking_func=BinaryMaskingLayer('otsu_plus'))
    plain.train(subjects())
    masked.train(subjects())
    assert not np.allclose(plain.mapping['T1'], masked.mapping['T1'])


def test_normalising_without_landmarks_is_a_clear_error(tmp_path):
    layer = HistogramNormalisationLayer('image', ('T1',), str(tmp_path / 'none.txt'))
    with pytest.raises(UserInputError, match=r'no landmarks for T1 in .*none.txt'):
        layer({'image': np.ones((2, 2, 2, 1, 1))})


def test_a_models_file_is_backed_up_before_it_is_rewritten(tmp_path):
    model = tmp_path / 'ref.txt'
    model.write_text('label_parc 0.0 4.0\n')
    layer = HistogramNormalisationLayer('image', ('T1', 'T2'), str(model))
    layer.train(subjects(1))
    assert (tmp_path / 'ref.txt.backup').read_text() == 'label_parc 0.0 4.0\n'
    assert set(hs.read_mapping_file(str(model))) == {'label_parc', 'T1', 'T2'}
    model.write_text('T1 a b c\n')
    with pytest.raises(UserInputError, match='ref.txt line 1'):
        hs.read_mapping_file(str(model))


# ------------------------------------------------------- label normalisation
def test_label_values_map_to_indices_and_back(tmp_path):
    model = str(tmp_path / 'ref.txt')
    labels = [{'label': FakeImage(np.array([0, 4, 4, 9]).reshape(1, 2, 2, 1, 1))},
              {'label': FakeImage(np.array([0, 12, 4, 0]).reshape(1, 2, 2, 1, 1))}]
    layer = DiscreteLabelNormalisationLayer('label', ('parc',), model)
    assert layer.key == 'label_parc' and not layer.is_ready()
    layer.train(labels)
    assert open(model).read().split() == ['label_parc', '0.0', '4.0', '9.0', '12.0']
    mapped, _ = layer({'label': labels[1]['label'].get_data().copy(), 'image': 1})
    assert mapped['label'].ravel().tolist() == [0, 3, 1, 0]
    assert layer.reverse_op(mapped)[0]['label'].ravel().tolist() == [0, 12, 4, 0]
    assert layer({'image': 1}) == ({'image': 1}, None)          # no label field: untouched
    with pytest.raises(UserInputError, match=r'label value\(s\) \[7.0\] are not among'):
        layer({'label': np.array([0.0, 7.0])})
    with pytest.raises(UserInputError, match='no label mapping "label_other"'):
        DiscreteLabelNormalisationLayer('label', ('other',), model)({'label': np.zeros(2)})
