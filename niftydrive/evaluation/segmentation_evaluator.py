# -*- coding: utf-8 -*-
"""The evaluator of segmentations: metrics per subject and per unit of evaluation.

``[SEGMENTATION] evaluation_units`` (comma-separated) chooses the units:

- ``foreground``: each non-zero label value (one row per subject and value);
- ``label``: each label value, background 0 included;
- ``cc``: each connected component of the reference foreground (all
  non-zero labels), paired with the union of the segmentation's foreground
  components that overlap it (NiftyNet's pairing); its ``cc_id``
  ``r<ref component>_s<seg components joined by &>`` names the pair.

Label values are those found in either file, plus ``0..num_classes-1`` when
``num_classes`` is set and labels are not normalised (outputs are written
with the original label values).  A value absent from both files gets the
values of a perfect result (see ``pairwise_measures``).

Rows have ``subject_id`` and ``label`` (``foreground`` for ``cc`` rows) and,
when ``cc`` is among the units, ``cc_id`` (``all`` for label rows).
"""
import numpy as np

from niftydrive.evaluation.base_evaluations import SEGMENTATION
from niftydrive.evaluation.base_evaluator import BaseEvaluator, load_pair, split_names
from niftydrive.evaluation.pairwise_measures import PairwiseMeasures
from niftydrive.utilities.errors import UserInputError
from niftydrive.utilities.util_common import closest_match

EVALUATION_UNITS = ('foreground', 'label', 'cc')


def _param(namespace, name, default):
    value = getattr(namespace, name, None) if namespace is not None else None
    return default if value is None else value


class SegmentationEvaluator(BaseEvaluator):
    """Segmentation metrics of label maps against reference label maps."""

    KIND = SEGMENTATION
    APPLICATION = 'net_segment'

    def __init__(self, app_param=None, eval_param=None):
        super(SegmentationEvaluator, self).__init__(app_param, eval_param)
        self.units = self._units(_param(app_param, 'evaluation_units', 'foreground'))
        self.output_prob = bool(_param(app_param, 'output_prob', False))
        num_classes = int(_param(app_param, 'num_classes', -1))
        normalised = bool(_param(app_param, 'label_normalisation', False))
        self.class_values = tuple(range(num_classes)) if num_classes > 0 and \
            not normalised else ()
        #: maps probability argmax indices back to label values (label_normalisation)
        self.label_mapping = None

    @staticmethod
    def _units(value):
        units = split_names(value) or ['foreground']
        for unit in units:
            if unit not in EVALUATION_UNITS:
                suggestion = closest_match(unit, EVALUATION_UNITS)
                raise UserInputError(
                    '[SEGMENTATION] evaluation_units: unknown unit "{}";{} units are '
                    'foreground, label and cc.'.format(
                        unit, ' did you mean "{}"?'.format(suggestion) if suggestion else ''))
        if 'label' in units and 'foreground' in units:
            units.remove('foreground')   # label rows include every foreground row
        return tuple(dict.fromkeys(units))

    def default_evaluation_list(self):
        """NiftyNet's default: dice, jaccard, average_distance."""
        return ['dice', 'jaccard', 'average_distance']

    @property
    def key_columns(self):
        return ('subject_id', 'label') + (('cc_id',) if 'cc' in self.units else ())

    def load_subject(self, subject_id, inferred_path, reference_path):
        """``{'inferred', 'label'}`` integer label maps and ``pixdim`` (mm)."""
        inferred, reference = load_pair(inferred_path, reference_path, subject_id,
                                        'segmentation', 'reference label')
        if reference.num_components > 1:
            raise UserInputError(
                'Subject {}: reference label {} has shape {}: evaluation needs one 3-D '
                'label map per subject.'.format(subject_id, reference_path,
                                               reference.file_shape))
        seg = inferred.data
        if inferred.num_components > 1:
            if not self.output_prob:
                raise UserInputError(
                    'Subject {}: segmentation {} has shape {}: evaluation needs one 3-D '
                    'label map per subject (or [SEGMENTATION] output_prob = True for '
                    'class probabilities).'.format(subject_id, inferred_path,
                                                   inferred.file_shape))
            seg = np.argmax(seg, axis=-1)[..., np.newaxis]
            if self.label_mapping is not None:
                seg = self.label_mapping.backward(seg)
        return {'inferred': np.round(seg[..., 0]).astype(np.int64),
                'label': np.round(reference.data[..., 0]).astype(np.int64),
                'pixdim': reference.pixdim}

    def _label_values(self, seg, ref, with_background):
        values = set(np.unique(seg).tolist()) | set(np.unique(ref).tolist()) | \
            set(self.class_values)
        return sorted(v for v in values if with_background or v != 0)

    def _row(self, subject_id, label, cc_id, measures):
        row = {'subject_id': subject_id, 'label': label, 'cc_id': cc_id}
        for evaluation in self.evaluations:
            row.update(evaluation.metric_dict(measures))
        return row

    def evaluate_next(self, subject_id, data):
        seg, ref, pixdim = data['inferred'], data['label'], data['pixdim']
        rows = []
        for unit in self.units:
            if unit in ('foreground', 'label'):
                for value in self._label_values(seg, ref, unit == 'label'):
                    measures = PairwiseMeasures(seg == value, ref == value, pixdim=pixdim)
                    rows.append(self._row(subject_id, value, 'all', measures))
            else:
                rows.extend(self._component_rows(subject_id, seg > 0, ref > 0, pixdim))
        return rows

    def _component_rows(self, subject_id, seg, ref, pixdim):
        (ref_cc, n_ref), (seg_cc, _) = PairwiseMeasures(
            seg, ref, pixdim=pixdim).connected_components()
        rows = []
        for component in range(1, n_ref + 1):
            ref_mask = ref_cc == component
            touching = sorted(set(np.unique(seg_cc[ref_mask]).tolist()) - {0})
            seg_mask = np.isin(seg_cc, touching)
            cc_id = 'r{}_s{}'.format(component, '&'.join(str(t) for t in touching))
            rows.append(self._row(subject_id, 'foreground', cc_id,
                                  PairwiseMeasures(seg_mask, ref_mask, pixdim=pixdim)))
        return rows
