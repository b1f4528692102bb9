"""Dice per subject and class between segmentations and reference labels.

Both files are compared on the same voxel grid: directly when their shapes
and affines agree, else after reorienting both to the closest RAS
orientation (a label stored in another orientation than its image is fine).
Label values are compared as they are on disk (the aggregator maps network
classes back to the original label values).
"""
import csv
import logging
import os

import nibabel as nib
import numpy as np

from niftydrive.io.image_loader import load_nifti, read_voxels
from niftydrive.utilities.errors import UserInputError

LOGGER = logging.getLogger(__name__)

EVALUATION_CSV = 'evaluation.csv'
CSV_HEADER = ('subject_id', 'label', 'dice', 'reference_voxels', 'segmented_voxels')


def dice_score(segmentation, reference, label):
    """Dice of one label value: ``2|S∩R| / (|S| + |R|)`` (1.0 when both are empty)."""
    seg = segmentation == label
    ref = reference == label
    total = int(seg.sum()) + int(ref.sum())
    if total == 0:
        return 1.0
    return 2.0 * float(np.logical_and(seg, ref).sum()) / total


def _load_label_map(path, subject_id):
    image = load_nifti(path, subject_id)
    return image, np.round(read_voxels(image, path, subject_id)).astype(np.int64)


def load_pair(seg_path, ref_path, subject_id=None):
    """Segmentation and reference arrays on a common voxel grid."""
    seg_image, seg = _load_label_map(seg_path, subject_id)
    ref_image, ref = _load_label_map(ref_path, subject_id)
    seg, ref = np.squeeze(seg), np.squeeze(ref)
    if seg.shape == ref.shape and np.allclose(seg_image.affine, ref_image.affine, atol=1e-3):
        return seg, ref
    seg = np.squeeze(np.asarray(nib.as_closest_canonical(
        nib.Nifti1Image(seg.reshape(seg_image.shape), seg_image.affine)).dataobj))
    ref = np.squeeze(np.asarray(nib.as_closest_canonical(
        nib.Nifti1Image(ref.reshape(ref_image.shape), ref_image.affine)).dataobj))
    if seg.shape != ref.shape:
        raise UserInputError(
            'Subject {}: segmentation {} (shape {}) and reference label {} (shape {}) are not '
            'on the same voxel grid.'.format(subject_id, seg_path, seg_image.shape, ref_path,
                                             ref_image.shape))
    return seg, ref


def evaluate_subject(subject_id, seg_path, ref_path, labels=None):
    """Rows ``(subject_id, label, dice, |R|, |S|)`` for every non-zero label.

    :param labels: label values to evaluate; default: every non-zero value in
        the reference or the segmentation
    """
    seg, ref = load_pair(seg_path, ref_path, subject_id)
    if labels is None:
        labels = sorted(set(np.unique(ref).tolist()) | set(np.unique(seg).tolist()))
    rows = []
    for label in labels:
        if label == 0:
            continue
        rows.append((subject_id, int(label), dice_score(seg, ref, label),
                     int((ref == label).sum()), int((seg == label).sum())))
    return rows


def evaluate_segmentations(pairs, output_csv, labels=None):
    """Evaluate ``(subject_id, segmentation, reference)`` triples; write ``output_csv``.

    :return: the mean Dice over subjects and non-zero labels (NaN if none)
    """
    rows = []
    for subject_id, seg_path, ref_path in pairs:
        rows.extend(evaluate_subject(subject_id, seg_path, ref_path, labels))
    folder = os.path.dirname(os.path.abspath(output_csv))
    os.makedirs(folder, exist_ok=True)
    with open(output_csv, 'w', newline='') as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        for row in rows:
            writer.writerow(row[:2] + ('{:.6f}'.format(row[2]),) + row[3:])
    mean = float(np.mean([row[2] for row in rows])) if rows else float('nan')
    per_label = {}
    for row in rows:
        per_label.setdefault(row[1], []).append(row[2])
    LOGGER.info('Evaluation of %d subject(s) written to %s; mean Dice %.4f (%s)',
                len(pairs), output_csv, mean,
                ', '.join('label {}: {:.4f}'.format(k, np.mean(v))
                          for k, v in sorted(per_label.items())))
    return mean


def read_inferred_csv(path):
    """``{subject_id: output path}`` from an aggregator's ``inferred.csv``."""
    result = {}
    with open(path, newline='') as handle:
        for row in csv.reader(handle):
            if len(row) >= 2 and row[0].strip():
                result[row[0].strip()] = row[1].strip()
    return result
