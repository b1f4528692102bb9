# -*- coding: utf-8 -*-
"""Mixtures of two subjects' data: NiftyNet's ``LinearInterpolateSampler``.

Used by the autoencoder's ``linear_interpolation`` inference: the reader
holds feature vectors (or images); the sampler takes the subjects in order
as ``x``, pairs each with another subject ``y`` drawn at random, and queues
``n_interpolations`` windows ``x * a + y * (1 - a)`` for ``a`` in
``linspace(0, 1, n_interpolations)``. Location rows are
``[x_index, y_index, 1, 1, 1, 1, 1]``. The sampler ends after the last
subject.

Different from NiftyNet: a ``y`` equal to ``x`` is drawn again (NiftyNet
skipped that ``x`` altogether); with a single subject, it is mixed with
itself.
"""
import numpy as np

from niftydrive.engine.image_window import (
    BUFFER_POSITION_DTYPE, LOCATION_LENGTH, ImageWindow, location_name)
from niftydrive.engine.image_window_buffer import InputBatchQueueRunner
from niftydrive.engine.sampler_uniform import number_of_subjects, read_subject
from niftydrive.layer.base_layer import Layer


class LinearInterpolateSampler(Layer, InputBatchQueueRunner):
    """Linear mixtures of pairs of subjects.

    :param reader: an :class:`~niftydrive.io.image_reader.ImageReader`
    :param data_param: dict input section -> namespace
    :param batch_size: windows per batch
    :param n_interpolations: mixtures per pair
    :param queue_length: queue capacity in windows
    """

    generator_shared = True

    def __init__(self, reader, data_param, batch_size=10, n_interpolations=10,
                 queue_length=10):
        self.reader = reader
        self.n_interpolations = max(int(n_interpolations), 1)
        Layer.__init__(self, name='input_buffer')
        InputBatchQueueRunner.__init__(
            self, capacity=max(int(queue_length), self.n_interpolations), shuffle=False)
        self.window = ImageWindow.from_data_reader_properties(
            reader.input_sources, reader.shapes, reader.tf_dtypes, data_param)
        # the whole image (of the first input) is the window
        self.window.set_spatial_shape(list(reader.shapes.values())[0][:3])
        self._create_queue_and_ops(self.window, enqueue_size=self.n_interpolations,
                                   dequeue_size=batch_size)

    def layer_op(self):
        """For each subject ``x`` in turn: its mixtures with a random other subject."""
        count = number_of_subjects(self.reader)
        mixtures = np.linspace(0.0, 1.0, self.n_interpolations)
        for id_x in range(count):
            id_x, data_x = read_subject(self.reader, idx=id_x, shuffle=False)
            if not data_x:
                break
            id_y = id_x
            while count > 1 and id_y == id_x:
                id_y = np.random.randint(count)
            id_y, data_y = read_subject(self.reader, idx=id_y, shuffle=False)
            locations = np.ones((self.n_interpolations, LOCATION_LENGTH),
                                dtype=BUFFER_POSITION_DTYPE.as_numpy_dtype)
            locations[:, 0], locations[:, 1] = id_x, id_y
            output = {}
            for name in self.window.names:
                x = np.asarray(data_x[name], dtype=np.float64)
                y = np.asarray(data_y[name], dtype=np.float64)
                weights = mixtures.reshape((-1,) + (1,) * x.ndim)
                output[name] = (x[np.newaxis] * weights + y[np.newaxis] * (1.0 - weights))
                output[location_name(name)] = locations
            yield output
