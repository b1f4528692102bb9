"""Which subjects are for training, validation and inference.

``ImageSetsPartitioner`` gathers the files of every input section (see
:mod:`niftydrive.io.filename_matching`), joins the sections on the subject id,
and assigns each subject a phase, from a split file of ``subject_id,phase``
rows (no header) or, when asked, at random with given ratios (then written to
that split file).

Without any split, every phase (except validation) sees every subject: a
config without ``exclude_fraction_*`` trains and infers on all its data.
"""
import csv
import logging
import os
import random

from niftydrive.io.filename_matching import section_file_list
from niftydrive.utilities.errors import UserInputError

LOGGER = logging.getLogger(__name__)

TRAIN = 'Training'
VALID = 'Validation'
INFER = 'Inference'
ALL = 'All'
SUPPORTED_PHASES = {TRAIN, VALID, INFER, ALL}
COLUMN_UNIQ_ID = 'subject_id'
COLUMN_PHASE = 'phase'


def _phase_name(phase):
    """Normalise a phase name ('training', 'Train' ...) to one of SUPPORTED_PHASES."""
    for known in SUPPORTED_PHASES:
        if str(phase).strip().lower() in (known.lower(), known.lower()[:5]):
            return known
    raise UserInputError('Unknown phase "{}"; expected one of {}.'.format(
        phase, ', '.join(sorted(SUPPORTED_PHASES))))


class ImageSetsPartitioner(object):
    """Subjects' files per input section and their train/validation/inference split."""

    def __init__(self):
        self.data_param = None
        self.data_split_file = None
        self._sections = ()
        self._file_list = []      # list of dicts: subject_id + section -> path
        self._partition = None    # dict subject_id -> phase, or None (no split)

    def initialise(self, data_param, new_partition=False, data_split_file=None,
                   ratios=None):
        """Find every section's files and set up the split.

        :param data_param: dict input section name -> namespace (csv_file,
            path_to_search, filename_contains, ...)
        :param new_partition: ignore an existing split file and draw a new split
        :param data_split_file: CSV of ``subject_id,phase`` rows
        :param ratios: ``(validation_fraction, inference_fraction)``; a new random
            split is drawn (and written to ``data_split_file``) when either is > 0
            and ``new_partition`` is set or the split file does not exist
        :return: self
        """
        self.reset()
        self.data_param = dict(data_param or {})
        self.data_split_file = data_split_file
        self._sections = tuple(self.data_param)
        self._file_list = self._load_file_lists()
        ratios = tuple(float(r or 0.0) for r in (ratios or (0.0, 0.0)))
        split_exists = bool(data_split_file) and os.path.isfile(data_split_file)
        if split_exists and not new_partition:
            self._partition = self._read_split_file(data_split_file)
        elif any(r > 0 for r in ratios):
            self._partition = self._random_split(*ratios)
            if data_split_file:
                self._write_split_file(data_split_file)
        return self

    def reset(self):
        """Forget the files and the split."""
        self.data_param = None
        self.data_split_file = None
        self._sections = ()
        self._file_list = []
        self._partition = None

    # ----------------------------------------------------------- file lists
    def _load_file_lists(self):
        merged = {}
        for section in self._sections:
            for subject_id, path in section_file_list(section, self.data_param[section]):
                merged.setdefault(subject_id, {COLUMN_UNIQ_ID: subject_id})[section] = path
        rows = [merged[key] for key in sorted(merged)]
        for row in rows:
            missing = [s for s in self._sections if s not in row]
            if missing:
                LOGGER.warning('Subject %s has no file in section(s) %s.',
                               row[COLUMN_UNIQ_ID], ', '.join(missing))
        return rows

    # ---------------------------------------------------------------- split
    def _random_split(self, valid_fraction, infer_fraction):
        if not (0 <= valid_fraction < 1 and 0 <= infer_fraction < 1
                and valid_fraction + infer_fraction < 1):
            raise UserInputError(
                'exclude_fraction_for_validation ({}) and exclude_fraction_for_inference '
                '({}) must each be in [0, 1) and sum to less than 1.'.format(
                    valid_fraction, infer_fraction))
        ids = [row[COLUMN_UNIQ_ID] for row in self._file_list]
        total = len(ids)

        def count(fraction):
            return 0 if fraction <= 0 else max(1, int(round(fraction * total)))
        n_valid, n_infer = count(valid_fraction), count(infer_fraction)
        if n_valid + n_infer >= total:
            raise UserInputError(
                'Cannot split {} subject(s) into training, {} validation and {} inference '
                'subject(s): lower exclude_fraction_for_validation/inference or add '
                'data.'.format(total, n_valid, n_infer))
        shuffled = list(ids)
        random.shuffle(shuffled)
        partition = {}
        for position, subject_id in enumerate(shuffled):
            if position < n_valid:
                partition[subject_id] = VALID
            elif position < n_valid + n_infer:
                partition[subject_id] = INFER
            else:
                partition[subject_id] = TRAIN
        return partition

    def _write_split_file(self, filename):
        folder = os.path.dirname(os.path.abspath(filename))
        os.makedirs(folder, exist_ok=True)
        with open(filename, 'w', newline='') as handle:
            writer = csv.writer(handle)
            for row in self._file_list:
                subject_id = row[COLUMN_UNIQ_ID]
                writer.writerow([subject_id, self._partition[subject_id]])
        LOGGER.info('Data split written to %s.', filename)

    def _read_split_file(self, filename):
        partition = {}
        with open(filename, newline='') as handle:
            for line_no, row in enumerate(csv.reader(handle), start=1):
                row = [cell.strip() for cell in row]
                if not any(row):
                    continue
                if len(row) != 2:
                    raise UserInputError(
                        'Data split file {} line {}: expected "subject_id,phase", '
                        'got {!r}.'.format(filename, line_no, ','.join(row)))
                try:
                    phase = _phase_name(row[1])
                except UserInputError:
                    raise UserInputError(
                        'Data split file {} line {}: unknown phase "{}" for subject {}; '
                        'expected {}, {} or {}.'.format(
                            filename, line_no, row[1], row[0], TRAIN, VALID, INFER)) from None
                partition[row[0]] = phase
        known = {row[COLUMN_UNIQ_ID] for row in self._file_list}
        unknown = sorted(set(partition) - known)
        if unknown:
            LOGGER.warning('Data split file %s names %d subject(s) without image files '
                           '(ignored): %s', filename, len(unknown), ', '.join(unknown[:5]))
        return partition

    # -------------------------------------------------------------- queries
    def get_file_list(self, phase=ALL, *sections):
        """Rows ``{'subject_id': id, section: path, ...}`` of a phase.

        With section names, only those columns are returned and only subjects
        that have a file in every one of them.
        """
        phase = _phase_name(phase)
        for section in sections:
            if section not in self._sections:
                raise UserInputError(
                    'No input section [{}] in the config (sections found: {}).'.format(
                        section, ', '.join(self._sections) or 'none'))
        columns = sections or self._sections
        rows = []
        for row in self._file_list:
            if not self._in_phase(row[COLUMN_UNIQ_ID], phase):
                continue
            if any(section not in row for section in columns):
                continue
            selected = {COLUMN_UNIQ_ID: row[COLUMN_UNIQ_ID]}
            selected.update((section, row[section]) for section in columns)
            rows.append(selected)
        return rows

    def _in_phase(self, subject_id, phase):
        if phase == ALL:
            return True
        if self._partition is None:
            return phase != VALID
        return self._partition.get(subject_id) == phase

    def number_of_subjects(self, phase=ALL):
        """How many subjects a phase has."""
        return len(self.get_file_list(phase))

    def has_phase(self, phase):
        """Whether a phase has at least one subject."""
        return self.number_of_subjects(phase) > 0

    @property
    def has_training(self):
        """Whether there are training subjects."""
        return self.has_phase(TRAIN)

    @property
    def has_validation(self):
        """Whether there are validation subjects (needs a split)."""
        return self.has_phase(VALID)

    @property
    def has_inference(self):
        """Whether there are inference subjects."""
        return self.has_phase(INFER)

    @property
    def train_files(self):
        """File rows of the training subjects."""
        return self.get_file_list(TRAIN)

    @property
    def validation_files(self):
        """File rows of the validation subjects."""
        return self.get_file_list(VALID)

    @property
    def inference_files(self):
        """File rows of the inference subjects."""
        return self.get_file_list(INFER)

    @property
    def all_files(self):
        """File rows of every subject."""
        return self.get_file_list(ALL)

    def __repr__(self):
        return 'ImageSetsPartitioner({} subjects, sections {}, split {})'.format(
            len(self._file_list), list(self._sections),
            self.data_split_file if self._partition is not None else 'none')
