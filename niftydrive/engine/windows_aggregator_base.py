"""The base of every windows aggregator: NiftyNet's ``ImageWindowsAggregator``.

An aggregator receives batches of network outputs (numpy arrays) with the
windows' location rows ``[image_id, x0, y0, z0, x1, y1, z1]`` in
``decode_batch``, builds image-level outputs with the help of the reader
that the sampler read from, and writes them. ``decode_batch`` returns False
once it sees a stopping-signal row (any value < 0), which ends inference.

Subclass it for a new way of assembling outputs (resizing, one value per
image ...): implement ``decode_batch``; :meth:`crop_batch` removes borders,
:meth:`write_image` undoes the reader's preprocessing and geometry and
writes an image-level array as NIfTI, and :meth:`log_inferred` records each
written file in ``inferred.csv``.
"""
import csv
import logging
import os

import numpy as np

from niftydrive.engine.image_window import N_SPATIAL
from niftydrive.io.image_loader import save_nifti

LOGGER = logging.getLogger(__name__)

INFERRED_CSV = 'inferred.csv'


def subject_name(reader, image_id):
    """The subject id of reader index ``image_id``."""
    get = getattr(reader, 'get_subject_id', None) or reader.subject_id
    return get(image_id)


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

    def write_image(self, image_id, data, filename, name=None, interp_order=0,
                    is_label=False, label_mapping=None):
        """Write an image-level output ``[x, y, z, channels]`` built in the reader's space.

        The reader's volume padding, resampling and reorientation are undone
        (``interp_order``), label outputs are rounded and mapped back to label
        values (``label_mapping``), and the result is saved as NIfTI with the
        input image's affine in ``output_path``; the file is logged in
        ``inferred.csv``.

        :param name: the input whose file gives the geometry (default: the first)
        :return: the path written
        """
        reference = self.reader.reference_image(image_id, name)
        data = self.reader.to_original(image_id, data, interp_order, name)
        if is_label:
            data = np.round(data)
            if label_mapping is not None:
                data = label_mapping.backward(data)
            data = data.astype(np.int32 if np.all(np.mod(data, 1) == 0) else np.float32)
        else:
            data = data.astype(np.float32)
        original = reference.original_shape
        if data.shape[-1] == 1:
            data = data.reshape(original[:min(len(original), N_SPATIAL)])
        else:
            data = data.reshape(data.shape[:N_SPATIAL] + (1, data.shape[-1]))
        path = os.path.join(self.output_path, filename)
        save_nifti(data, reference.original_affine, path, reference.header().header)
        self.log_inferred(subject_name(self.reader, image_id), filename)
        LOGGER.info('Saved %s', path)
        return path

    def log_inferred(self, subject_name, filename):  # pylint: disable=redefined-outer-name
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
