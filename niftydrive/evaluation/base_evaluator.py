# -*- coding: utf-8 -*-
"""Evaluators: compute the ``[EVALUATION] evaluations`` metrics of every subject
and write them to one CSV.

An application's evaluator (``SegmentationEvaluator``, ``RegressionEvaluator``,
later ``ClassificationEvaluator``) subclasses :class:`BaseEvaluator` and
defines its kind of metrics (``KIND``), its default metric list, how a
subject's files are loaded (:meth:`BaseEvaluator.load_subject`) and how one
subject's rows are computed (:meth:`BaseEvaluator.evaluate_next`).  The
metric names are looked up with ``EvaluationFactory`` (short names, or a
dotted import path of a user's ``BaseEvaluation`` subclass); an unknown name
is refused with a did-you-mean hint naming the key.

The CSV has a header: the key columns (``subject_id``, then e.g. ``label``)
followed by one column per metric, in the order asked for.
"""
import csv
import logging
import math
import os

import numpy as np
from nibabel import affines as nib_affines
from nibabel import orientations as ornt_mod

from niftydrive.evaluation.base_evaluations import BaseEvaluation
from niftydrive.io.image_loader import load_nifti, read_voxels
from niftydrive.utilities.errors import UserInputError
from niftydrive.utilities.util_common import closest_match

LOGGER = logging.getLogger(__name__)

EVALUATION_CSV = 'evaluation.csv'
EVALUATIONS_KEY = '[EVALUATION] evaluations'


def split_names(value):
    """``'Dice, Jaccard'`` (or a tuple) -> ``['Dice', 'Jaccard']``."""
    if value is None:
        return []
    items = value.split(',') if isinstance(value, str) else list(value)
    return [str(item).strip() for item in items if str(item).strip()]


def resolve_evaluations(names, kind, application='this application'):
    """The evaluation classes named ``names``, each of kind ``kind``.

    :raises UserInputError: an unknown name (with a did-you-mean hint), a
        class that is not a ``BaseEvaluation``, or a metric of another kind
    """
    from niftydrive.engine.application_factory import (
        SUPPORTED_EVALUATIONS, SUPPORTED_EVALUATIONS_BY_KIND, EvaluationFactory)
    table = dict(SUPPORTED_EVALUATIONS)
    table.update(SUPPORTED_EVALUATIONS_BY_KIND.get(kind, {}))
    known = {name.lower(): name for name in table}
    same_kind = sorted(name for name in table
                       if EvaluationFactory.create(table[name]).KIND == kind)
    classes = []
    for name in names:
        if name.lower() not in known and '.' not in name:
            suggestion = closest_match(name, same_kind) or closest_match(
                name, list(table))
            hint = 'did you mean "{}"?'.format(suggestion) if suggestion else \
                'known {} metrics: {}.'.format(kind, ', '.join(same_kind))
            raise UserInputError('{}: unknown metric "{}"; {}'.format(
                EVALUATIONS_KEY, name, hint))
        try:
            evaluation = EvaluationFactory.create(table.get(known.get(name.lower()), name))
        except UserInputError as error:
            raise UserInputError('{}: {}'.format(EVALUATIONS_KEY, error)) from None
        if not (isinstance(evaluation, type) and issubclass(evaluation, BaseEvaluation)):
            raise UserInputError('{}: "{}" is not an evaluation (a subclass of niftydrive.'
                                 'evaluation.base_evaluations.BaseEvaluation).'.format(
                                     EVALUATIONS_KEY, name))
        if evaluation.KIND != kind:
            raise UserInputError(
                '{}: "{}" is a {} metric; {} evaluates {} metrics: {}.'.format(
                    EVALUATIONS_KEY, name, evaluation.KIND, application, kind,
                    ', '.join(same_kind)))
        if evaluation not in classes:
            classes.append(evaluation)
    return classes


# ------------------------------------------------------------------ loading
def _describe(path, subject_id):
    return '{} (subject {})'.format(path, subject_id) if subject_id else str(path)


class LoadedVolume(object):
    """Voxels ``[x, y, z, components]`` of one file, with its affine."""

    def __init__(self, path, subject_id, role):
        self.path = path
        self.subject_id = subject_id
        self.role = role
        image = load_nifti(path, subject_id)
        data = read_voxels(image, path, subject_id)
        shape = tuple(data.shape)
        if data.ndim > 5 or data.ndim < 2:
            raise UserInputError('{} {} has unsupported shape {}.'.format(
                role.capitalize(), _describe(path, subject_id), shape))
        spatial = shape[:3] + (1,) * (3 - len(shape[:3]))
        self.file_shape = shape
        self.data = data.reshape(spatial + (-1,))
        self.affine = np.array(image.affine, dtype=np.float64)

    def check_finite(self):
        """Refuse NaN or infinite voxels, naming the file."""
        if not np.all(np.isfinite(self.data)):
            raise UserInputError('Subject {}: {} {} has NaN or infinite voxels.'.format(
                self.subject_id, self.role, self.path))

    @property
    def num_components(self):
        """Volumes in the file beyond the three spatial axes (1 for a 3-D file)."""
        return self.data.shape[-1]

    @property
    def pixdim(self):
        """Voxel size in mm along the array axes."""
        return tuple(float(v) for v in nib_affines.voxel_sizes(self.affine))

    def to_canonical(self):
        """Reorient to the closest RAS axes (no resampling)."""
        ornt = ornt_mod.io_orientation(self.affine)
        self.affine = self.affine.dot(ornt_mod.inv_ornt_aff(ornt, self.data.shape[:3]))
        self.data = ornt_mod.apply_orientation(self.data, ornt)

    def describe(self):
        """``role path (shape ..., voxels ... mm)`` for messages."""
        return '{} {} (shape {}, voxels {} mm)'.format(
            self.role, self.path, self.file_shape,
            'x'.join('{:g}'.format(round(p, 4)) for p in self.pixdim))


def same_voxel_grid(first, second):
    """True when both volumes' voxel centres coincide (within half a voxel)."""
    shape = first.data.shape[:3]
    if shape != second.data.shape[:3]:
        return False
    corners = np.array([[i, j, k, 1.0] for i in (0, shape[0] - 1)
                        for j in (0, shape[1] - 1) for k in (0, shape[2] - 1)]).T
    offset = np.abs(first.affine.dot(corners) - second.affine.dot(corners))[:3]
    return float(np.max(np.sqrt(np.sum(offset ** 2, axis=0)))) <= 0.5 * min(first.pixdim)


def load_pair(inferred_path, reference_path, subject_id=None,
              inferred_role='inferred output', reference_role='reference'):
    """The inferred and the reference volumes on a common voxel grid.

    Files on the same grid are compared as stored; otherwise both are
    reoriented to the closest RAS axes (an output stored in another
    orientation than its reference is fine), and must then coincide.

    :return: ``(inferred, reference)`` :class:`LoadedVolume` objects
    :raises UserInputError: a missing or unreadable file, NaN or infinite
        voxels, or the two files not on the same voxel grid (naming the files)
    """
    inferred = LoadedVolume(inferred_path, subject_id, inferred_role)
    reference = LoadedVolume(reference_path, subject_id, reference_role)
    inferred.check_finite()
    reference.check_finite()
    if not same_voxel_grid(inferred, reference):
        inferred.to_canonical()
        reference.to_canonical()
        if not same_voxel_grid(inferred, reference):
            raise UserInputError(
                'Subject {}: {} and {} are not on the same voxel grid; evaluation compares '
                'them voxel by voxel: resample one onto the other\'s grid.'.format(
                    subject_id, inferred.describe(), reference.describe()))
    return inferred, reference


def read_inferred_csv(path):
    """``{subject_id: output path}`` from an aggregator's ``inferred.csv``."""
    result = {}
    with open(path, newline='') as handle:
        for row in csv.reader(handle):
            if len(row) >= 2 and row[0].strip():
                result[row[0].strip()] = row[1].strip()
    return result


def format_value(value):
    """CSV text of a metric value: integers as such, floats with 6 decimals."""
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isinf(value):
            return 'inf' if value > 0 else '-inf'
        return '{:.6f}'.format(float(value))
    return str(value)


# ------------------------------------------------------------------ evaluators
class BaseEvaluator(object):
    """Compute the metrics of every subject and write them to one CSV.

    :param app_param: the application's section (``[SEGMENTATION]``...)
    :param eval_param: the ``[EVALUATION]`` section (or a namespace with
        ``evaluations``); None or empty ``evaluations``: the default list
    """

    KIND = None
    APPLICATION = 'this application'

    def __init__(self, app_param=None, eval_param=None):
        self.app_param = app_param
        self.eval_param = eval_param
        names = split_names(getattr(eval_param, 'evaluations', None)) or \
            self.default_evaluation_list()
        self.evaluations = [cls(app_param, eval_param) for cls in
                            resolve_evaluations(names, self.KIND, self.APPLICATION)]

    def default_evaluation_list(self):
        """Metric names computed when ``evaluations`` is empty."""
        raise NotImplementedError

    @property
    def key_columns(self):
        """The columns that identify a row."""
        return ('subject_id',)

    @property
    def metric_columns(self):
        """The metric columns, in the order the metrics were asked for."""
        columns = []
        for evaluation in self.evaluations:
            columns.extend(c for c in evaluation.columns if c not in columns)
        return tuple(columns)

    def load_subject(self, subject_id, inferred_path, reference_path):
        """The data dictionary of one subject that :meth:`evaluate_next` uses."""
        raise NotImplementedError

    def evaluate_next(self, subject_id, data):
        """The rows (dicts: column -> value) of one subject."""
        raise NotImplementedError

    def evaluate(self, subjects):
        """Rows of every ``(subject_id, inferred_path, reference_path)``."""
        rows = []
        for subject_id, inferred_path, reference_path in subjects:
            data = self.load_subject(subject_id, inferred_path, reference_path)
            rows.extend(self.evaluate_next(subject_id, data))
        return rows

    def write_csv(self, rows, output_csv):
        """Write ``rows`` with a header to ``output_csv`` (folders created)."""
        os.makedirs(os.path.dirname(os.path.abspath(output_csv)), exist_ok=True)
        header = self.key_columns + self.metric_columns
        with open(output_csv, 'w', newline='') as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            for row in rows:
                writer.writerow([format_value(row[column]) for column in header])

    def run(self, subjects, output_csv):
        """Evaluate ``subjects``, write ``output_csv``, log the means; the rows."""
        subjects = list(subjects)
        rows = self.evaluate(subjects)
        self.write_csv(rows, output_csv)
        means = []
        for column in self.metric_columns:
            values = [float(row[column]) for row in rows
                      if np.isfinite(float(row[column]))]
            if values:
                means.append('{} {:.4f}'.format(column, np.mean(values)))
        LOGGER.info('Evaluation of %d subject(s) (%d rows) written to %s; means: %s',
                    len(subjects), len(rows), output_csv, ', '.join(means) or 'none')
        return rows
