# -*- coding: utf-8 -*-
"""Piecewise-linear intensity standardisation of Nyúl, Udupa and Zhang (2000).

Training: for every training image (per modality, per time point) the
intensities at 13 landmark percentiles ``[cutoff[0], 10, 20, 25, 30, 40, 50,
60, 70, 75, 80, 90, cutoff[1]]`` (within the foreground mask) are mapped
linearly so that the outer two land on 0 and 100; the mapping is the average
of those landmarks over the images. Normalising an image maps its own
landmarks onto the average ones, linearly between consecutive landmarks
(``norm_type`` chooses which landmarks: ``percentile`` 11, ``quartile`` 5,
``median`` 3).

The models file (NiftyNet's ``standardisation_models.txt`` format) has one
line per key: the key (a modality, i.e. input section name, or a label key
such as ``label_parc``) then its numbers separated by spaces::

    T1 0.0 8.1 15.3 ... 100.0
    label_parc 0.0 1.0 4.0 5.0

Unlike NiftyNet, the same standardised cutoff is used for training and for
normalising (NiftyNet clamped it only when normalising), so the landmarks in
the file always describe the percentiles they are compared with.
"""
import logging
import os
import shutil

import numpy as np

from niftydrive.utilities.errors import UserInputError

LOGGER = logging.getLogger(__name__)

DEFAULT_CUTOFF = (0.01, 0.99)
#: norm_type -> indices of the 13 landmarks used
SUPPORTED_CUTPOINTS = {
    'percentile': (0, 1, 2, 4, 5, 6, 7, 8, 10, 11, 12),
    'quartile': (0, 3, 6, 9, 12),
    'median': (0, 6, 12),
}
INNER_PERCENTILES = (0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9)


def check_norm_type(norm_type):
    """``norm_type`` lower-cased; UserInputError naming the choices when unknown."""
    name = str(norm_type).strip().lower()
    if name not in SUPPORTED_CUTPOINTS:
        raise UserInputError('norm_type = {}: expected one of {}.'.format(
            norm_type, ', '.join(SUPPORTED_CUTPOINTS)))
    return name


def standardise_cutoff(cutoff, norm_type='quartile'):
    """``cutoff`` as a sorted pair within [0, 1] and outside the inner landmarks
    the norm type uses (``quartile``: below 0.25 and above 0.75; otherwise
    below 0.1 and above 0.9). None or fewer than two values: the default."""
    if cutoff is None or len(cutoff) < 2:
        return np.array(DEFAULT_CUTOFF)
    low, high = float(np.min(cutoff)), float(np.max(cutoff))
    low, high = max(0.0, low), min(1.0, high)
    if check_norm_type(norm_type) == 'quartile':
        return np.array([min(low, 0.24), max(high, 0.76)])
    return np.array([min(low, 0.09), max(high, 0.91)])


def compute_percentiles(img, mask, cutoff):
    """The 13 landmark intensities of ``img`` within ``mask`` (all voxels if
    the mask is empty)."""
    values = np.asarray(img)[np.asarray(mask, dtype=bool)] if mask is not None else img
    if values.size == 0:
        values = np.asarray(img)
    percentiles = (cutoff[0],) + INNER_PERCENTILES + (cutoff[1],)
    return np.percentile(np.ravel(values), 100.0 * np.array(percentiles))


def create_standard_range():
    """The standard intensity range the outer landmarks are mapped to."""
    return 0.0, 100.0


def _averaged_mapping(perc_database, low, high):
    """Average over images of each image's landmarks mapped linearly onto [low, high]."""
    span = perc_database[:, -1] - perc_database[:, 0]
    slope = np.where(span > 0, (high - low) / np.where(span > 0, span, 1.0), 0.0)
    intercept = low - slope * perc_database[:, 0]
    return np.mean(slope[:, None] * perc_database + intercept[:, None], axis=0)


def create_mapping_from_multimod_arrayfiles(array_files, image_name, modalities,
                                            mod_to_train, cutoff, masking_function,
                                            norm_type='percentile'):
    """Average landmarks of each modality in ``mod_to_train``.

    :param array_files: the reader's ``output_list`` (dicts field -> image object)
    :param image_name: the field holding the modalities (``'image'``)
    :param modalities: input section names, in the order of the modality axis
    :param cutoff: the outer landmark percentiles (fractions)
    :param masking_function: a 3-D array -> boolean mask callable, or None
    :return: ``{modality: tuple of 13 landmarks}``
    """
    cutoff = standardise_cutoff(cutoff, norm_type)
    database = {name: [] for name in mod_to_train}
    for subject in array_files:
        data = subject[image_name].get_data()
        if data.shape[4] != len(modalities):
            raise UserInputError(
                'histogram normalisation: {} has {} modalities but the config names {} '
                '({}).'.format(', '.join(subject[image_name].file_path), data.shape[4],
                               len(modalities), ', '.join(modalities)))
        for mod_index, name in enumerate(modalities):
            if name not in database:
                continue
            for time in range(data.shape[3]):
                volume = data[..., time, mod_index]
                mask = masking_function(volume) if masking_function is not None else None
                database[name].append(compute_percentiles(volume, mask, cutoff))
    low, high = create_standard_range()
    return {name: tuple(_averaged_mapping(np.vstack(rows), low, high))
            for name, rows in database.items() if rows}


def transform_by_mapping(img, mask, mapping, cutoff, type_hist='quartile'):
    """``img`` with its landmarks (within ``mask``) mapped piecewise-linearly
    onto ``mapping`` (the 13 average landmarks)."""
    indices = list(SUPPORTED_CUTPOINTS[check_norm_type(type_hist)])
    mapping = np.asarray(mapping, dtype=np.float64)
    if len(mapping) < 13:
        raise UserInputError('a histogram mapping has {} landmarks, expected 13: check the '
                             'histogram reference file.'.format(len(mapping)))
    shape = np.shape(img)
    flat = np.asarray(img, dtype=np.float64).ravel()
    perc = compute_percentiles(flat, None if mask is None else np.ravel(mask),
                               standardise_cutoff(cutoff, type_hist))
    target, source = mapping[indices], perc[indices]
    source_step = np.diff(source)
    source_step[source_step == 0] = np.inf   # equal landmarks: a flat piece
    slopes = np.diff(target) / source_step
    intercepts = target[:-1] - slopes * source[:-1]
    piece = np.digitize(flat, source[1:-1], right=False)
    return (slopes[piece] * flat + intercepts[piece]).reshape(shape)


def read_mapping_file(mapping_file):
    """``{key: tuple of floats}`` from a models file ({} when it does not exist).

    :raises UserInputError: a line whose values are not numbers
    """
    mapping = {}
    if not mapping_file or not os.path.isfile(mapping_file):
        return mapping
    with open(mapping_file) as handle:
        for line_no, line in enumerate(handle, start=1):
            items = line.split()
            if len(items) < 2:
                continue
            try:
                mapping[items[0]] = tuple(float(value) for value in items[1:])
            except ValueError:
                raise UserInputError('{} line {}: expected "<key> <numbers...>", got '
                                     '"{}".'.format(mapping_file, line_no, line.strip()))
    return mapping


def write_all_mod_mapping(hist_model_file, mapping):
    """Write every key of ``mapping`` to ``hist_model_file``; an existing file
    is first copied to ``<file>.backup``."""
    if os.path.exists(hist_model_file):
        backup = '{}.backup'.format(hist_model_file)
        shutil.copyfile(hist_model_file, backup)
        LOGGER.info('copied the existing histogram reference file %s to %s',
                    hist_model_file, backup)
    folder = os.path.dirname(os.path.abspath(hist_model_file))
    os.makedirs(folder, exist_ok=True)
    with open(hist_model_file, 'w') as handle:
        for key, values in mapping.items():
            handle.write('{} {}\n'.format(key, ' '.join(repr(float(v)) for v in values)))
