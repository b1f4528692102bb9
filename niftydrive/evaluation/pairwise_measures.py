# -*- coding: utf-8 -*-
"""Overlap, volume, distance and connected-component measures of two binary masks.

:class:`PairwiseMeasures` compares a segmentation mask with a reference mask
on the same voxel grid (NiftyNet's names: ``n_pos_ref``, ``dice_score``,
``measured_hausdorff_distance``...).  Distances are in mm: the distance
transforms use the voxel size ``pixdim``, so anisotropic voxels are measured
correctly.

Borders: the voxels of a mask with at least one face neighbour outside the
mask (outside the image counts as outside the mask).  Connected components
use face connectivity (``num_neighbors=6``; 18 and 26 also accepted).

Empty sets never give NaN. Where a ratio would be 0/0 its numerator counts
errors that cannot occur, so the value of a perfect result is used:

- ``dice_score``, ``jaccard``, ``sensitivity``, ``specificity``,
  ``positive_predictive_values``, ``negative_predictive_values``: 1.0;
- ``false_positive_rate``, ``false_negative_rate``: 0.0;
- ``vol_diff`` (``|seg - ref| / ref``): 0.0 when both masks are empty and
  ``inf`` when only the reference is (any volume is infinitely too large);
- distances: 0.0 when both masks are empty; when only one is, the largest
  distance on the grid (its diagonal in mm), the worst value a distance can
  take, so means over subjects stay finite (BraTS' convention).
"""
import numpy as np
from scipy import ndimage

_CONNECTIVITY = {6: 1, 18: 2, 26: 3}


def _ratio(numerator, denominator, when_empty):
    """``numerator / denominator``, or ``when_empty`` when the denominator is 0."""
    if denominator == 0:
        return float(when_empty)
    return float(numerator) / float(denominator)


class PairwiseMeasures(object):
    """Measures comparing a binary segmentation ``seg_img`` with a reference ``ref_img``.

    :param seg_img: segmentation mask (non-zero: foreground)
    :param ref_img: reference mask of the same shape
    :param measures: names of the methods :meth:`to_dict` reports
        (default: every name in :attr:`m_dict`)
    :param num_neighbors: connectivity of borders and components: 6, 18 or 26
    :param pixdim: voxel size in mm along each axis
    """

    def __init__(self, seg_img, ref_img, measures=None, num_neighbors=6, pixdim=(1, 1, 1)):
        self.seg = np.asarray(seg_img) > 0
        self.ref = np.asarray(ref_img) > 0
        if self.seg.shape != self.ref.shape:
            raise ValueError('segmentation shape {} differs from reference shape {}'
                             .format(self.seg.shape, self.ref.shape))
        if num_neighbors not in _CONNECTIVITY:
            raise ValueError('num_neighbors must be 6, 18 or 26, got {}'.format(num_neighbors))
        self.neigh = num_neighbors
        self.structure = ndimage.generate_binary_structure(
            self.seg.ndim, min(_CONNECTIVITY[num_neighbors], self.seg.ndim))
        pixdim = tuple(float(p) for p in pixdim)[:self.seg.ndim]
        self.pixdim = pixdim + (1.0,) * (self.seg.ndim - len(pixdim))
        self.measures = list(measures) if measures is not None else list(self.m_dict)
        self._cache = {}

    m_dict = {
        'n_pos_ref': 'reference foreground voxels',
        'n_neg_ref': 'reference background voxels',
        'n_pos_seg': 'segmentation foreground voxels',
        'n_neg_seg': 'segmentation background voxels',
        'tp': 'true positive voxels', 'fp': 'false positive voxels',
        'fn': 'false negative voxels', 'tn': 'true negative voxels',
        'n_intersection': 'voxels in both masks', 'n_union': 'voxels in either mask',
        'sensitivity': 'TP / (TP + FN)', 'specificity': 'TN / (TN + FP)',
        'accuracy': '(TP + TN) / all voxels',
        'false_positive_rate': 'FP / (FP + TN)', 'false_negative_rate': 'FN / (FN + TP)',
        'positive_predictive_values': 'TP / (TP + FP)',
        'negative_predictive_values': 'TN / (TN + FN)',
        'dice_score': '2 TP / (2 TP + FP + FN)', 'jaccard': 'TP / (TP + FP + FN)',
        'informedness': 'sensitivity + specificity - 1',
        'markedness': 'PPV + NPV - 1',
        'vol_diff': '|n_pos_seg - n_pos_ref| / n_pos_ref',
        'measured_average_distance': 'mean border-to-border distance (mm)',
        'measured_hausdorff_distance': 'largest border-to-border distance (mm)',
        'measured_hausdorff95_distance': '95th percentile border distance (mm)',
        'connected_elements': '(TPc, FPc, FNc) component counts',
    }

    def _cached(self, key, compute):
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    # ---------------------------------------------------------- voxel counts
    def tp(self):
        """Voxels in both masks."""
        return self._cached('tp', lambda: int(np.count_nonzero(self.seg & self.ref)))

    def fp(self):
        """Voxels in the segmentation only."""
        return self._cached('fp', lambda: int(np.count_nonzero(self.seg & ~self.ref)))

    def fn(self):
        """Voxels in the reference only."""
        return self._cached('fn', lambda: int(np.count_nonzero(~self.seg & self.ref)))

    def tn(self):
        """Voxels in neither mask."""
        return int(self.seg.size) - self.tp() - self.fp() - self.fn()

    def n_pos_ref(self):
        """Reference foreground voxels."""
        return self.tp() + self.fn()

    def n_neg_ref(self):
        """Reference background voxels."""
        return self.tn() + self.fp()

    def n_pos_seg(self):
        """Segmentation foreground voxels."""
        return self.tp() + self.fp()

    def n_neg_seg(self):
        """Segmentation background voxels."""
        return self.tn() + self.fn()

    def n_intersection(self):
        """Voxels in both masks (= ``tp``)."""
        return self.tp()

    def n_union(self):
        """Voxels in either mask."""
        return self.tp() + self.fp() + self.fn()

    # ---------------------------------------------------------- ratios
    def sensitivity(self):
        """Recall, true positive rate: TP / (TP + FN); 1.0 for an empty reference."""
        return _ratio(self.tp(), self.n_pos_ref(), 1.0)

    def specificity(self):
        """True negative rate: TN / (TN + FP); 1.0 when the reference has no background."""
        return _ratio(self.tn(), self.n_neg_ref(), 1.0)

    def accuracy(self):
        """(TP + TN) / all voxels."""
        return _ratio(self.tp() + self.tn(), self.seg.size, 1.0)

    def false_positive_rate(self):
        """FP / (FP + TN) = 1 - specificity."""
        return _ratio(self.fp(), self.n_neg_ref(), 0.0)

    def false_negative_rate(self):
        """FN / (FN + TP) = 1 - sensitivity."""
        return _ratio(self.fn(), self.n_pos_ref(), 0.0)

    def positive_predictive_values(self):
        """Precision: TP / (TP + FP); 1.0 for an empty segmentation."""
        return _ratio(self.tp(), self.n_pos_seg(), 1.0)

    def negative_predictive_values(self):
        """TN / (TN + FN); 1.0 when the segmentation has no background."""
        return _ratio(self.tn(), self.n_neg_seg(), 1.0)

    def dice_score(self):
        """2 TP / (2 TP + FP + FN); 1.0 when both masks are empty."""
        return _ratio(2 * self.tp(), 2 * self.tp() + self.fp() + self.fn(), 1.0)

    def jaccard(self):
        """Intersection over union; 1.0 when both masks are empty."""
        return _ratio(self.tp(), self.n_union(), 1.0)

    intersection_over_union = jaccard

    def informedness(self):
        """Sensitivity + specificity - 1."""
        return self.sensitivity() + self.specificity() - 1.0

    def markedness(self):
        """Positive + negative predictive value - 1."""
        return self.positive_predictive_values() + self.negative_predictive_values() - 1.0

    def vol_diff(self):
        """|n_pos_seg - n_pos_ref| / n_pos_ref (0.0 both empty, inf reference empty)."""
        difference = abs(self.n_pos_seg() - self.n_pos_ref())
        if self.n_pos_ref() == 0:
            return 0.0 if difference == 0 else float('inf')
        return float(difference) / self.n_pos_ref()

    # ---------------------------------------------------------- distances
    def border_map(self, mask):
        """Voxels of ``mask`` with a neighbour outside it."""
        eroded = ndimage.binary_erosion(mask, structure=self.structure, border_value=0)
        return mask & ~eroded

    def max_distance(self):
        """The largest distance between two voxel centres of the grid (mm)."""
        extent = (np.array(self.seg.shape) - 1) * np.array(self.pixdim)
        return float(np.sqrt(np.sum(extent ** 2)))

    def border_distance(self):
        """``(seg_to_ref, ref_to_seg)``: mm from each border voxel of one mask
        to the nearest border voxel of the other (1-D arrays; None if a mask is empty)."""
        def compute():
            border_seg = self.border_map(self.seg)
            border_ref = self.border_map(self.ref)
            if not border_seg.any() or not border_ref.any():
                return None, None
            to_ref = ndimage.distance_transform_edt(~border_ref, sampling=self.pixdim)
            to_seg = ndimage.distance_transform_edt(~border_seg, sampling=self.pixdim)
            return to_ref[border_seg], to_seg[border_ref]
        return self._cached('border_distance', compute)

    def _distance(self, summarise):
        seg_to_ref, ref_to_seg = self.border_distance()
        if seg_to_ref is None:
            both_empty = not self.seg.any() and not self.ref.any()
            return 0.0 if both_empty else self.max_distance()
        return float(summarise(seg_to_ref, ref_to_seg))

    def measured_average_distance(self):
        """Mean of every border voxel's distance to the other mask's border (mm)."""
        return self._distance(lambda a, b: (a.sum() + b.sum()) / (a.size + b.size))

    def measured_hausdorff_distance(self):
        """Largest border-to-border distance, both directions (mm)."""
        return self._distance(lambda a, b: max(a.max(), b.max()))

    def measured_hausdorff95_distance(self):
        """Larger of the two directions' 95th percentile border distance (mm)."""
        return self._distance(lambda a, b: max(np.percentile(a, 95), np.percentile(b, 95)))

    # ---------------------------------------------------------- components
    def connected_components(self):
        """``((ref_labels, n_ref), (seg_labels, n_seg))``: numbered components."""
        return self._cached('components', lambda: (
            ndimage.label(self.ref, structure=self.structure),
            ndimage.label(self.seg, structure=self.structure)))

    def connected_elements(self):
        """``(TPc, FPc, FNc)``: reference components touched by the segmentation,
        segmentation components touching no reference, reference components missed."""
        (ref_cc, n_ref), (seg_cc, n_seg) = self.connected_components()
        overlap = self.seg & self.ref
        hit_ref = len(np.setdiff1d(np.unique(ref_cc[overlap]), [0]))
        hit_seg = len(np.setdiff1d(np.unique(seg_cc[overlap]), [0]))
        return hit_ref, n_seg - hit_seg, n_ref - hit_ref

    # ---------------------------------------------------------- reporting
    def to_dict(self):
        """``{measure name: value}`` for :attr:`measures`."""
        return {name: getattr(self, name)() for name in self.measures}
