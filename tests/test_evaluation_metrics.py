"""Segmentation and regression metrics against values computed by hand on small
arrays: overlap ratios, volumes, distances in mm with anisotropic voxels,
connected-component counts, empty masks (never NaN), and the evaluators'
CSV, unit and name handling on small NIfTI files."""
import csv
import math

import nibabel as nib
import numpy as np
import pytest

from niftydrive.evaluation.base_evaluator import load_pair
from niftydrive.evaluation.pairwise_measures import PairwiseMeasures
from niftydrive.evaluation.regression_evaluator import RegressionEvaluator
from niftydrive.evaluation.segmentation_evaluator import SegmentationEvaluator
from niftydrive.utilities.errors import UserInputError
from niftydrive.utilities.util_common import ParserNamespace


def line_masks():
    """Reference voxels x = 2..4, segmentation x = 3..6 on a 10 x 1 x 1 grid."""
    ref = np.zeros((10, 1, 1), bool)
    ref[2:5] = True
    seg = np.zeros((10, 1, 1), bool)
    seg[3:7] = True
    return seg, ref


def test_overlap_and_volume_measures_of_two_lines():
    seg, ref = line_masks()
    m = PairwiseMeasures(seg, ref)
    # TP = {3, 4}, FP = {5, 6}, FN = {2}, TN = the other 5 voxels
    assert (m.tp(), m.fp(), m.fn(), m.tn()) == (2, 2, 1, 5)
    assert (m.n_pos_ref(), m.n_neg_ref(), m.n_pos_seg(), m.n_neg_seg()) == (3, 7, 4, 6)
    assert (m.n_intersection(), m.n_union()) == (2, 5)
    assert m.dice_score() == pytest.approx(4 / 7)
    assert m.jaccard() == pytest.approx(2 / 5)
    assert m.sensitivity() == pytest.approx(2 / 3)
    assert m.specificity() == pytest.approx(5 / 7)
    assert m.positive_predictive_values() == pytest.approx(1 / 2)
    assert m.negative_predictive_values() == pytest.approx(5 / 6)
    assert m.false_positive_rate() == pytest.approx(2 / 7)
    assert m.false_negative_rate() == pytest.approx(1 / 3)
    assert m.accuracy() == pytest.approx(7 / 10)
    assert m.vol_diff() == pytest.approx(1 / 3)
    assert m.informedness() == pytest.approx(2 / 3 + 5 / 7 - 1)
    assert m.markedness() == pytest.approx(1 / 2 + 5 / 6 - 1)


def test_distances_of_two_lines_use_the_voxel_size():
    seg, ref = line_masks()
    m = PairwiseMeasures(seg, ref, pixdim=(2.0, 1.0, 1.0))
    # one voxel thick: every voxel is a border voxel.  Segmentation voxels 3,4,5,6
    # are 0,0,1,2 voxels (0,0,2,4 mm) from the reference; reference voxels 2,3,4
    # are 1,0,0 voxels (2,0,0 mm) from the segmentation.
    assert m.measured_average_distance() == pytest.approx(8 / 7)
    assert m.measured_hausdorff_distance() == pytest.approx(4.0)
    # numpy's linear 95th percentile: of (0,0,2,4): 2 + 0.85 * 2; of (0,0,2): 0.9 * 2
    assert m.measured_hausdorff95_distance() == pytest.approx(3.7)
    isotropic = PairwiseMeasures(seg, ref)
    assert isotropic.measured_hausdorff_distance() == pytest.approx(2.0)


def single_voxel_masks():
    """Reference: voxel (2,2,2); segmentation: voxels (2,3,2) and (2,2,4)."""
    ref = np.zeros((5, 5, 5), bool)
    ref[2, 2, 2] = True
    seg = np.zeros((5, 5, 5), bool)
    seg[2, 3, 2] = seg[2, 2, 4] = True
    return seg, ref


def test_distances_along_each_axis_of_anisotropic_voxels():
    seg, ref = single_voxel_masks()
    m = PairwiseMeasures(seg, ref, pixdim=(1.0, 3.0, 0.5))
    # (2,3,2) is one voxel along y = 3 mm away, (2,2,4) two voxels along z = 1 mm;
    # the reference voxel is 1 mm from the nearer one.
    assert m.measured_hausdorff_distance() == pytest.approx(3.0)
    assert m.measured_average_distance() == pytest.approx((3 + 1 + 1) / 3)
    assert m.measured_hausdorff95_distance() == pytest.approx(1 + 0.95 * 2)
    swapped = PairwiseMeasures(seg, ref, pixdim=(1.0, 0.5, 3.0))
    assert swapped.measured_hausdorff_distance() == pytest.approx(6.0)


def test_border_of_a_cube_excludes_its_inside():
    cube = np.zeros((5, 5, 5), bool)
    cube[1:4, 1:4, 1:4] = True
    border = PairwiseMeasures(cube, cube).border_map(cube)
    assert border.sum() == 26 and not border[2, 2, 2]
    m = PairwiseMeasures(cube, cube, pixdim=(2, 3, 4))
    assert m.measured_hausdorff_distance() == 0.0 and m.dice_score() == 1.0


def test_connected_component_counts():
    ref = np.zeros((9, 3, 3), bool)
    ref[0:2] = True          # reference component 1: found
    ref[4:6] = True          # reference component 2: missed
    seg = np.zeros((9, 3, 3), bool)
    seg[1:3] = True          # overlaps component 1
    seg[8] = True            # a false positive component
    assert PairwiseMeasures(seg, ref).connected_elements() == (1, 1, 1)
    seg, ref = single_voxel_masks()
    assert PairwiseMeasures(seg, ref).connected_elements() == (0, 2, 1)


GRID_DIAGONAL = math.sqrt((4 * 1.0) ** 2 + (4 * 3.0) ** 2 + (4 * 0.5) ** 2)


@pytest.mark.parametrize('seg_empty, ref_empty, expected', [
    (True, True, dict(dice_score=1.0, jaccard=1.0, sensitivity=1.0, specificity=1.0,
                      positive_predictive_values=1.0, negative_predictive_values=1.0,
                      false_positive_rate=0.0, false_negative_rate=0.0, vol_diff=0.0,
                      measured_average_distance=0.0, measured_hausdorff_distance=0.0,
                      measured_hausdorff95_distance=0.0, connected_elements=(0, 0, 0))),
    (False, True, dict(dice_score=0.0, jaccard=0.0, sensitivity=1.0,
                       positive_predictive_values=0.0, false_negative_rate=0.0,
                       vol_diff=float('inf'), measured_hausdorff_distance=GRID_DIAGONAL,
                       measured_average_distance=GRID_DIAGONAL,
                       measured_hausdorff95_distance=GRID_DIAGONAL,
                       connected_elements=(0, 2, 0))),
    (True, False, dict(dice_score=0.0, jaccard=0.0, sensitivity=0.0,
                       positive_predictive_values=1.0, false_positive_rate=0.0,
                       false_negative_rate=1.0, vol_diff=1.0,
                       measured_hausdorff_distance=GRID_DIAGONAL,
                       measured_hausdorff95_distance=GRID_DIAGONAL,
                       connected_elements=(0, 0, 1))),
])
def test_empty_masks_give_defined_values_never_nan(seg_empty, ref_empty, expected):
    seg, ref = single_voxel_masks()
    seg = np.zeros_like(seg) if seg_empty else seg
    ref = np.zeros_like(ref) if ref_empty else ref
    m = PairwiseMeasures(seg, ref, pixdim=(1.0, 3.0, 0.5))
    values = m.to_dict()
    for name, value in values.items():
        for item in np.atleast_1d(value):
            assert not np.isnan(item), name
    for name, value in expected.items():
        assert values[name] == pytest.approx(value), name


def test_a_full_reference_has_defined_specificity():
    full = np.ones((2, 2, 2), bool)
    m = PairwiseMeasures(full, full)
    assert m.specificity() == 1.0 and m.negative_predictive_values() == 1.0
    assert m.false_positive_rate() == 0.0


# ------------------------------------------------------------------ evaluators
def save(path, data, zooms=(1.0, 3.0, 0.5), affine=None, dtype=np.int16):
    """Write ``data`` as NIfTI with voxel size ``zooms`` (or ``affine``)."""
    affine = np.diag(tuple(zooms) + (1.0,)) if affine is None else affine
    image = nib.Nifti1Image(np.asarray(data).astype(dtype), affine, dtype=dtype)
    nib.save(image, str(path))
    return str(path)


def read_csv(path):
    with open(str(path), newline='') as handle:
        return list(csv.DictReader(handle))


def seg_param(units='foreground', **kwargs):
    return ParserNamespace(evaluation_units=units, num_classes=-1, output_prob=False,
                           label_normalisation=False, **kwargs)


@pytest.fixture
def label_files(tmp_path):
    """Subject s1: label 1 as in ``single_voxel_masks`` plus a label 2 voxel found
    exactly; voxels of 1 x 3 x 0.5 mm."""
    seg, ref = single_voxel_masks()
    seg, ref = seg.astype(np.int16), ref.astype(np.int16)
    seg[0, 0, 0] = ref[0, 0, 0] = 2
    return (save(tmp_path / 'seg.nii.gz', seg), save(tmp_path / 'ref.nii.gz', ref))


def test_segmentation_csv_per_subject_and_label(tmp_path, label_files):
    evaluator = SegmentationEvaluator(
        seg_param(), ParserNamespace(evaluations='Dice,hausdorff_distance,average_distance,'
                                                 'connected_elements,vol_diff,recall'))
    output = tmp_path / 'out' / 'evaluation.csv'
    evaluator.run([('s1',) + label_files], str(output))
    with open(str(output)) as handle:
        header = handle.readline().strip().split(',')
    assert header == ['subject_id', 'label', 'dice', 'hausdorff_distance',
                      'average_distance', 'TPc', 'FPc', 'FNc', 'vol_diff', 'sensitivity']
    rows = read_csv(output)
    assert [(r['subject_id'], r['label']) for r in rows] == [('s1', '1'), ('s1', '2')]
    one, two = rows
    assert float(one['dice']) == 0.0
    assert float(one['hausdorff_distance']) == pytest.approx(3.0)   # pixdim from the header
    assert float(one['average_distance']) == pytest.approx(5 / 3, abs=1e-6)
    assert (one['TPc'], one['FPc'], one['FNc']) == ('0', '2', '1')
    assert float(one['vol_diff']) == pytest.approx(1.0)
    assert float(two['dice']) == 1.0 and float(two['hausdorff_distance']) == 0.0


def test_label_and_cc_units(tmp_path):
    ref = np.zeros((9, 3, 3), np.int16)
    ref[0:2] = 1
    ref[4:6] = 2
    seg = np.zeros((9, 3, 3), np.int16)
    seg[1:3] = 1
    seg[8] = 1
    files = (save(tmp_path / 'seg.nii.gz', seg, (1, 1, 1)),
             save(tmp_path / 'ref.nii.gz', ref, (1, 1, 1)))
    evaluator = SegmentationEvaluator(seg_param('label,cc'),
                                      ParserNamespace(evaluations='dice,n_pos_ref'))
    rows = evaluator.run([('s1',) + files], str(tmp_path / 'e.csv'))
    table = [(r['label'], r['cc_id'], r['dice'], r['n_pos_ref']) for r in read_csv(
        tmp_path / 'e.csv')]
    # slabs of 9 voxels. label 0: reference x in {2,3,6,7,8} (45 voxels),
    # segmentation x in {0,3,4,5,6,7} (54), both x in {3,6,7} (27)
    assert table[0] == ('0', 'all', '{:.6f}'.format(2 * 27 / (45 + 54)), '45')
    assert table[1] == ('1', 'all', '{:.6f}'.format(2 * 9 / (18 + 27)), '18')
    assert table[2] == ('2', 'all', '0.000000', '18')
    # components of the foreground: r1 (x 0..1) meets seg component 1 (x 1..2);
    # r2 (x 4..5) meets none
    assert table[3] == ('foreground', 'r1_s1', '{:.6f}'.format(2 * 9 / (18 + 18)), '18')
    assert table[4] == ('foreground', 'r2_s', '0.000000', '18')
    assert len(rows) == 5


def test_num_classes_adds_absent_labels_as_perfect(tmp_path, label_files):
    param = seg_param()
    param.num_classes = 4
    rows = SegmentationEvaluator(param, ParserNamespace(evaluations='dice')).evaluate(
        [('s1',) + label_files])
    assert [(r['label'], r['dice']) for r in rows] == [(1, 0.0), (2, 1.0), (3, 1.0)]


def test_an_output_in_another_orientation_is_compared_on_the_reference_grid(tmp_path):
    seg, ref = single_voxel_masks()
    affine = np.diag([1.0, 3.0, 0.5, 1.0])
    flipped = affine.dot(nib.orientations.inv_ornt_aff([[0, -1], [1, 1], [2, 1]], (5, 5, 5)))
    files = (save(tmp_path / 'seg.nii.gz', seg[::-1], affine=flipped),
             save(tmp_path / 'ref.nii.gz', ref, affine=affine))
    rows = SegmentationEvaluator(seg_param(), ParserNamespace(
        evaluations='hausdorff_distance,n_pos_seg')).evaluate([('s1',) + files])
    assert rows[0]['hausdorff_distance'] == pytest.approx(3.0) and rows[0]['n_pos_seg'] == 2


def test_probabilities_are_evaluated_by_their_most_likely_class(tmp_path, label_files):
    seg, _ = single_voxel_masks()
    probabilities = np.stack([1.0 - seg, seg * 1.0], axis=-1)[:, :, :, np.newaxis, :]
    files = (save(tmp_path / 'prob.nii.gz', probabilities, dtype=np.float32), label_files[1])
    param = seg_param()
    param.output_prob = True
    rows = SegmentationEvaluator(param, ParserNamespace(evaluations='n_pos_seg')).evaluate(
        [('s1',) + files])
    assert [(r['label'], r['n_pos_seg']) for r in rows] == [(1, 2), (2, 0)]


def test_probabilities_map_back_to_normalised_label_values(tmp_path):
    from niftydrive.io.image_reader import LabelMapping
    seg, ref = single_voxel_masks()
    probabilities = np.stack([1.0 - seg, seg * 1.0], axis=-1)[:, :, :, np.newaxis, :]
    files = (save(tmp_path / 'prob.nii.gz', probabilities, dtype=np.float32),
             save(tmp_path / 'ref.nii.gz', ref * 20))
    param = seg_param()
    param.output_prob = True
    param.label_normalisation = True
    evaluator = SegmentationEvaluator(param, ParserNamespace(evaluations='n_pos_seg,tp'))
    evaluator.label_mapping = LabelMapping([0, 20])
    rows = evaluator.evaluate([('s1',) + files])
    assert [(r['label'], r['n_pos_seg'], r['tp']) for r in rows] == [(20, 2, 0)]


def test_empty_labels_write_no_nan(tmp_path):
    empty = np.zeros((4, 4, 4), np.int16)
    files = (save(tmp_path / 'seg.nii.gz', empty), save(tmp_path / 'ref.nii.gz', empty))
    SegmentationEvaluator(seg_param('label,cc'), ParserNamespace(
        evaluations='dice,jaccard,sensitivity,specificity,precision,fpr,fnr,vol_diff,'
                    'average_distance,hausdorff_distance,hausdorff95_distance,'
                    'connected_elements')).run([('s1',) + files], str(tmp_path / 'e.csv'))
    text = (tmp_path / 'e.csv').read_text()
    assert 'nan' not in text.lower()
    rows = read_csv(tmp_path / 'e.csv')
    assert len(rows) == 1 and rows[0]['label'] == '0' and rows[0]['dice'] == '1.000000'


def test_regression_metrics_per_subject(tmp_path):
    reference = np.ones((2, 2, 1), np.float32)
    inferred = np.array([1, 2, 3, 4], np.float32).reshape((2, 2, 1))
    files = (save(tmp_path / 'out.nii.gz', inferred, dtype=np.float32),
             save(tmp_path / 'ref.nii.gz', reference, dtype=np.float32))
    evaluator = RegressionEvaluator(ParserNamespace(), ParserNamespace(evaluations=''))
    evaluator.run([('s1',) + files], str(tmp_path / 'r.csv'))
    rows = read_csv(tmp_path / 'r.csv')
    assert list(rows[0]) == ['subject_id', 'mse', 'rmse', 'mae']
    # differences 0, 1, 2, 3
    assert float(rows[0]['mse']) == pytest.approx(14 / 4)
    assert float(rows[0]['rmse']) == pytest.approx(math.sqrt(14 / 4), abs=1e-6)
    assert float(rows[0]['mae']) == pytest.approx(6 / 4)


# ------------------------------------------------------------------ bad input
def test_unknown_metric_gets_a_did_you_mean_naming_the_key():
    with pytest.raises(UserInputError, match=r'\[EVALUATION\] evaluations: unknown metric '
                                             r'"Dcie"; did you mean "Dice"\?'):
        SegmentationEvaluator(seg_param(), ParserNamespace(evaluations='Jaccard,Dcie'))


def test_a_metric_of_another_application_is_refused():
    with pytest.raises(UserInputError, match='"mse" is a regression metric; net_segment'):
        SegmentationEvaluator(seg_param(), ParserNamespace(evaluations='dice,mse'))
    with pytest.raises(UserInputError, match='"dice" is a segmentation metric; net_regress'):
        RegressionEvaluator(None, ParserNamespace(evaluations='dice'))


def test_unknown_evaluation_unit_is_named():
    with pytest.raises(UserInputError, match=r'evaluation_units: unknown unit "labels"; '
                                             r'did you mean "label"\?'):
        SegmentationEvaluator(seg_param('foreground,labels'), None)


def test_a_label_of_another_grid_is_named(tmp_path):
    files = (save(tmp_path / 'seg.nii.gz', np.zeros((5, 5, 5))),
             save(tmp_path / 'ref.nii.gz', np.zeros((6, 5, 5))))
    with pytest.raises(UserInputError, match='not on the same voxel grid') as error:
        load_pair(*files, subject_id='s1')
    assert 'seg.nii.gz' in str(error.value) and 'ref.nii.gz' in str(error.value)
    assert '(6, 5, 5)' in str(error.value)


def test_a_label_shifted_by_voxels_is_not_on_the_same_grid(tmp_path):
    shifted = np.diag([1.0, 3.0, 0.5, 1.0])
    shifted[:3, 3] = (2.0, 0.0, 0.0)
    files = (save(tmp_path / 'seg.nii.gz', np.zeros((5, 5, 5))),
             save(tmp_path / 'ref.nii.gz', np.zeros((5, 5, 5)), affine=shifted))
    with pytest.raises(UserInputError, match='not on the same voxel grid'):
        load_pair(*files, subject_id='s1')


def test_a_4d_label_is_named(tmp_path):
    files = (save(tmp_path / 'seg.nii.gz', np.zeros((5, 5, 5))),
             save(tmp_path / 'ref4d.nii.gz', np.zeros((5, 5, 5, 2)), dtype=np.int64))
    evaluator = SegmentationEvaluator(seg_param(), None)
    with pytest.raises(UserInputError, match=r'ref4d.nii.gz has shape \(5, 5, 5, 2\): '
                                             r'evaluation needs one 3-D label map'):
        evaluator.evaluate([('s1',) + files])


def test_a_missing_file_is_named(tmp_path):
    seg = save(tmp_path / 'seg.nii.gz', np.zeros((5, 5, 5)))
    evaluator = SegmentationEvaluator(seg_param(), None)
    with pytest.raises(UserInputError, match=r'missing.nii.gz \(subject s1\) does not exist'):
        evaluator.evaluate([('s1', seg, str(tmp_path / 'missing.nii.gz'))])


def test_a_label_map_with_nan_is_named(tmp_path):
    bad = np.zeros((2, 1, 1), np.float32)
    bad[0] = np.nan
    files = (save(tmp_path / 'seg.nii.gz', bad, dtype=np.float32),
             save(tmp_path / 'ref.nii.gz', np.zeros((2, 1, 1))))
    with pytest.raises(UserInputError, match='segmentation .*seg.nii.gz has NaN'):
        SegmentationEvaluator(seg_param(), None).evaluate([('s1',) + files])


def test_a_4d_segmentation_without_output_prob_is_named(tmp_path):
    files = (save(tmp_path / 'seg4d.nii.gz', np.zeros((5, 5, 5, 1, 3))),
             save(tmp_path / 'ref.nii.gz', np.zeros((5, 5, 5))))
    with pytest.raises(UserInputError, match=r'seg4d.nii.gz has shape \(5, 5, 5, 1, 3\).*'
                                             r'output_prob = True'):
        SegmentationEvaluator(seg_param(), None).evaluate([('s1',) + files])


def test_regression_refuses_non_finite_voxels(tmp_path):
    bad = np.array([1.0, np.nan], np.float32).reshape((2, 1, 1))
    files = (save(tmp_path / 'out.nii.gz', bad, dtype=np.float32),
             save(tmp_path / 'ref.nii.gz', np.ones((2, 1, 1)), dtype=np.float32))
    with pytest.raises(UserInputError, match='out.nii.gz has NaN or infinite voxels'):
        RegressionEvaluator(None, None).evaluate([('s1',) + files])
