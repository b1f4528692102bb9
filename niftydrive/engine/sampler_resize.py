# -*- coding: utf-8 -*-
"""Whole images resized to the window: NiftyNet's ``ResizeSampler``.

Each subject's inputs are resampled (voxel centres aligned, see
:func:`~niftydrive.layer.layer_util.resize_3d`) to the window size, each
with its interpolation order (nearest neighbours for labels). The location
row of a window is ``[subject, 0, 0, 0, x, y, z]``, the image's own spatial
shape, which :class:`~niftydrive.engine.windows_aggregator_resize.ResizeSamplesAggregator`
uses to resize outputs back.

With ``shuffle_buffer`` (training) subjects are drawn at random forever;
without it (inference) each subject is read once, in order, and the
sampler then ends (stopping-signal windows).
"""
import numpy as np

from niftydrive.engine.image_window import (
    BUFFER_POSITION_DTYPE, N_SPATIAL, ImageWindow, location_name, spatial_window_size_of)
from niftydrive.engine.image_window_buffer import InputBatchQueueRunner
from niftydrive.engine.sampler_uniform import number_of_subjects
from niftydrive.layer.base_layer import Layer
from niftydrive.layer.layer_util import resize_3d, transform_fields


def reader_interp_orders(reader, image_id, reader_orders=None):
    """``{input: interpolation orders}`` for resampling a subject's inputs.

    The reader's :meth:`interp_orders` when it has one (labels nearest),
    else the orders the reader returned, else cubic.
    """
    if hasattr(reader, 'interp_orders') and callable(reader.interp_orders):
        return reader.interp_orders(image_id)
    return reader_orders or {}


def dummy_coordinates(image_id, image_sizes):
    """Location rows ``[[image_id, 0, 0, 0, x, y, z]]`` covering each whole image."""
    rows = {}
    for name, size in image_sizes.items():
        spatial = list(size[:N_SPATIAL]) + [1] * (N_SPATIAL - len(size[:N_SPATIAL]))
        rows[name] = np.asarray([[image_id] + [0] * N_SPATIAL + spatial],
                                dtype=BUFFER_POSITION_DTYPE.as_numpy_dtype)
    return rows


class ResizeSampler(Layer, InputBatchQueueRunner):
    """One window per subject visit: the subject's inputs resized to the window.

    :param reader: an :class:`~niftydrive.io.image_reader.ImageReader`
    :param data_param: dict input section -> namespace with ``spatial_window_size``
    :param batch_size: windows per batch
    :param spatial_window_size: replaces the sections' window size when given
    :param windows_per_image: copies of each resized subject queued per visit
    :param shuffle_buffer: random subjects forever (training) or each once (inference)
    :param queue_length: queue capacity in windows
    """

    def __init__(self, reader, data_param, batch_size=1, spatial_window_size=(),
                 windows_per_image=1, shuffle_buffer=True, queue_length=10):
        self.reader = reader
        self.batch_size = int(batch_size)
        self.windows_per_image = max(int(windows_per_image), 1)
        self.shuffle = bool(shuffle_buffer)
        self.generator_shared = not self.shuffle   # one pass over the subjects, all threads
        Layer.__init__(self, name='input_buffer')
        InputBatchQueueRunner.__init__(
            self, capacity=max(int(queue_length), self.batch_size * 2), shuffle=self.shuffle)
        self.window = ImageWindow.from_data_reader_properties(
            reader.input_sources, reader.shapes, reader.tf_dtypes, data_param)
        if spatial_window_size:
            self.window.set_spatial_shape(spatial_window_size)
        self._create_queue_and_ops(self.window, enqueue_size=1, dequeue_size=self.batch_size)

    def _subject_indices(self):
        if self.shuffle:
            while True:
                yield None
        else:
            for idx in range(number_of_subjects(self.reader)):
                yield idx

    def layer_op(self):
        """Each visited subject's inputs, resized, with whole-image locations."""
        for idx in self._subject_indices():
            result = self.reader(idx=idx, shuffle=self.shuffle)
            image_id, data = result[0], result[1]
            if not data:
                break
            orders = reader_interp_orders(self.reader, image_id,
                                          result[2] if len(result) > 2 else None)
            image_shapes = {name: data[name].shape for name in self.window.names}
            window_shapes = self.window.match_image_shapes(image_shapes)
            locations = dummy_coordinates(image_id, image_shapes)
            output = {}
            for name in self.window.names:
                size = spatial_window_size_of(window_shapes[name])
                resized = transform_fields(
                    {name: data[name]}, {name: orders.get(name, (3,))},
                    lambda volume, order, size=size: resize_3d(volume, size, order))[name]
                output[name] = resized.reshape((1,) + tuple(window_shapes[name]))
                output[location_name(name)] = locations[name]
            for _ in range(self.windows_per_image):
                yield output
