"""The part shared by the pairwise samplers: pairs of subjects read from a
fixed-image reader and a moving-image reader.

Subject ``i`` of the fixed reader (``fixed_image``, ``fixed_label``) is
registered with subject ``i`` of the moving reader (``moving_image``,
``moving_label``): both readers are built from the same rows of the data
split. The moving volumes are resized (linearly, voxel centres aligned) to
the fixed image's voxel grid, so that the four volumes of a pair can be cut
or resized together; every window holds one channel per field.
"""
import numpy as np
import tensorflow.compat.v1 as tf

from niftydrive.engine.image_window import (
    BUFFER_POSITION_DTYPE, N_SPATIAL, ImageWindow, location_name)
from niftydrive.engine.image_window_buffer import InputBatchQueueRunner
from niftydrive.engine.sampler_uniform import number_of_subjects
from niftydrive.layer.base_layer import Layer
from niftydrive.layer.layer_util import resize_3d
from niftydrive.utilities.errors import UserInputError

#: the fields of a registration pair, in NiftyNet's channel order
PAIRED_FIELDS = ('fixed_image', 'fixed_label', 'moving_image', 'moving_label')


def pair_window_size(reader, data_param, field='fixed_image'):
    """The spatial window size (three ints) of ``field``'s input sections."""
    sections = reader.input_sources[field]
    size = ()
    for section in sections:
        size = tuple(getattr(data_param.get(section), 'spatial_window_size', ()) or ())
        if size:
            break
    if not size or any(int(s) <= 0 for s in size):
        raise UserInputError(
            'spatial_window_size of [{}] must be set, every axis > 0 (the {} '
            'windows the registration network sees), got {}'.format(
                sections[0], field, size or 'nothing'))
    return tuple(int(s) for s in (tuple(size) + (1,) * N_SPATIAL)[:N_SPATIAL])


def _check_pairing(reader_0, reader_1):
    if number_of_subjects(reader_0) != number_of_subjects(reader_1):
        raise UserInputError(
            'the fixed reader has {} subjects and the moving reader {}: build both '
            'from the same subjects'.format(number_of_subjects(reader_0),
                                            number_of_subjects(reader_1)))
    for reader in (reader_0, reader_1):
        for name in reader.names:
            if reader.num_channels(name) != 1:
                raise UserInputError(
                    '{} of subject {} has {} channels: registration takes one '
                    'volume per field (one input section each)'.format(
                        name, reader.subject_id(0), reader.num_channels(name)))


class PairwiseSampler(Layer, InputBatchQueueRunner):
    """Base of the pairwise samplers: a queue of windows of the fields of
    ``reader_0`` (fixed) and ``reader_1`` (moving), each
    ``spatial window + (1,)`` float32, with ``<field>_location`` rows.

    :param reader_0: the reader of ``fixed_image`` (and ``fixed_label``)
    :param reader_1: the reader of ``moving_image`` (and ``moving_label``)
    :param data_param: dict input section -> namespace with ``spatial_window_size``
        (the window is that of the ``fixed_image`` sections)
    :param batch_size: pairs per batch
    :param shuffle: a shuffling queue (training) or first in, first out
    :param queue_length: queue capacity in windows
    """

    def __init__(self, reader_0, reader_1, data_param, batch_size=1, shuffle=True,
                 queue_length=10, name='pairwise_sampler'):
        self.reader_0 = reader_0
        self.reader_1 = reader_1
        self.batch_size = int(batch_size)
        if self.batch_size < 1:
            raise UserInputError('batch size must be at least 1, got {}'.format(batch_size))
        _check_pairing(reader_0, reader_1)
        self.window_size = pair_window_size(reader_0, data_param or {})
        Layer.__init__(self, name=name)
        InputBatchQueueRunner.__init__(
            self, capacity=max(int(queue_length), self.batch_size * 2), shuffle=shuffle)
        self.fields = tuple(reader_0.names) + tuple(reader_1.names)
        window = ImageWindow(
            names=self.fields,
            shapes={name: self.window_size + (1,) for name in self.fields},
            dtypes={name: tf.float32 for name in self.fields})
        self._create_queue_and_ops(window, enqueue_size=1, dequeue_size=self.batch_size)

    @property
    def num_subjects(self):
        """Number of (fixed, moving) pairs."""
        return number_of_subjects(self.reader_0)

    def get_pairwise_inputs(self, image_id):
        """``{field: float32 [x, y, z, 1]}`` of pair ``image_id``, the moving
        volumes resized to the fixed image's spatial shape."""
        fixed = self.reader_0.get_subject(image_id)
        moving = self.reader_1.get_subject(image_id)
        shape = fixed['fixed_image'].shape[:N_SPATIAL]
        pair = dict(fixed)
        for name, volume in moving.items():
            pair[name] = resize_3d(volume[..., 0], shape, 1)[..., np.newaxis]
        return {name: pair[name].astype(np.float32, copy=False) for name in self.fields}

    def pair_windows(self, windows, location):
        """A queue item: each field's window with one location row for all."""
        row = np.asarray([location], dtype=BUFFER_POSITION_DTYPE.as_numpy_dtype)
        item = {}
        for name in self.fields:
            item[name] = windows[name][np.newaxis]
            item[location_name(name)] = row
        return item

    def layer_op(self):
        """Generate queue items; subclasses implement it."""
        raise NotImplementedError
