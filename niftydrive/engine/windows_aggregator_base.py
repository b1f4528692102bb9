"""The base of every windows aggregator: NiftyNet's ``ImageWindowsAggregator``.

An aggregator receives batches of network outputs (numpy arrays) with the
windows' location rows ``[image_id, x0, y0, z0, x1, y1, z1]`` in
``decode_batch``, builds image-level outputs with the help of the reader
that the sampler read from, and writes them. ``decode_batch`` returns False
once it sees a stopping-signal row (any value < 0), which ends inference.

Subclass it for a new way of assembling outputs (resizing, one value per
image ...): implement ``decode_batch``; :meth:`crop_batch` removes borders
and :meth:`log_inferred` records each written file in ``inferred.csv``.
"""
import csv
import logging
import os

import numpy as np

from niftydrive.engine.image_window import N_SPATIAL

LOGGER = logging.getLogger(__name__)

INFERRED_CSV = 'inferred.csv'


class ImageWindowsAggregator(object):
    """Caches window outputs and writes image-level results.

    :param image_reader: the reader the sampler read from (image geometry,
        subject ids, preprocessing to undo)
    :param output_path: folder of the outputs and of ``inferred.csv``
    """

    def __init__(self, image_reader=None, output_path='.'):
        self.reader = image_reader
        self._image_id = None
        self.postfix = ''
        self.output_path = os.path.abspath(output_path)
        self.inferred_cleared = False

    @property
    def input_image(self):
        """The reader's image objects (dict name -> image) of the current ``image_id``.

        ``None`` before the first window or when the reader keeps no
        ``output_list``.
        """
        output_list = getattr(self.reader, 'output_list', None)
        if self.image_id is None or not output_list:
            return None
        return output_list[self.image_id]

    @property
    def image_id(self):
        """Index (in the reader) of the image being assembled, or None."""
        return self._image_id

    @image_id.setter
    def image_id(self, current_id):
        try:
            self._image_id = int(current_id)
        except (TypeError, ValueError):
            raise ValueError('an image id must be an integer index into the reader, got '
                             '{!r}'.format(current_id)) from None

    def decode_batch(self, *args, **kwargs):
        """Take one batch of outputs; return False when no more are expected."""
        raise NotImplementedError('{} must implement decode_batch()'.format(
            type(self).__name__))

    @staticmethod
    def _is_stopping_signal(location_vector):
        return np.any(np.asarray(location_vector) < 0)

    @staticmethod
    def crop_batch(window, location, border=None):
        """Remove ``border`` voxels from both sides of every window's spatial axes.

        :param window: outputs ``[batch, x, (y, (z,)) channels]``
        :param location: rows ``[batch, 7]``; returned with the corners moved
            inwards by the border
        :param border: voxels per side (one value per spatial axis; a
            shorter tuple repeats its last value)
        :return: ``(cropped window, adjusted location)``; a stopping-signal
            batch is returned unchanged
        :raises ValueError: an output window smaller than the cropped location
        """
        if not border:
            return window, location
        if not isinstance(border, (list, tuple)):
            raise TypeError('border must be a list or tuple of ints, got {!r}'.format(border))
        border = (tuple(border) + (tuple(border[-1:]) * N_SPATIAL))[:N_SPATIAL]
        location = np.asarray(location).astype(np.int64)
        window = np.asarray(window)
        spatial = np.asarray(window.shape[1:-1])
        n_spatial = len(spatial)
        for axis in range(N_SPATIAL):
            location[:, 1 + axis] += border[axis]
            location[:, 1 + N_SPATIAL + axis] -= border[axis]
        if np.any(location < 0):
            return window, location
        cropped = np.max(location[:, 1 + N_SPATIAL:] - location[:, 1:1 + N_SPATIAL], axis=0)
        left = np.floor((spatial - cropped[:n_spatial]) / 2.0).astype(int)
        if np.any(left < 0):
            raise ValueError(
                'the network output window {} is smaller than the window location size {} '
                '(input window minus the border {}): use a larger border'.format(
                    tuple(spatial), tuple(cropped[:n_spatial]), border))
        index = [slice(None)] + [slice(l, l + c) for l, c in zip(left, cropped[:n_spatial])]
        window = window[tuple(index)]
        if n_spatial < N_SPATIAL:   # keep three spatial axes
            window = window.reshape(window.shape[:1 + n_spatial] +
                                    (1,) * (N_SPATIAL - n_spatial) + window.shape[-1:])
        return window, location

    def log_inferred(self, subject_name, filename):
        """Append ``subject_name,<output_path>/filename`` to ``inferred.csv``.

        The file is emptied the first time a run logs to it.
        """
        inferred_csv = os.path.join(self.output_path, INFERRED_CSV)
        if not self.inferred_cleared:
            os.makedirs(self.output_path, exist_ok=True)
            if os.path.exists(inferred_csv):
                os.remove(inferred_csv)
            self.inferred_cleared = True
        with open(inferred_csv, 'a', newline='') as handle:
            csv.writer(handle).writerow(
                [subject_name, os.path.join(self.output_path, filename)])
