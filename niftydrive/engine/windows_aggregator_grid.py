"""Stitch grid-sampled window outputs into whole images: NiftyNet's ``GridSamplesAggregator``.

:meth:`GridSamplesAggregator.decode_batch` receives batches of network
outputs with the windows' locations (from
:class:`~niftydrive.engine.sampler_grid.GridSampler`), drops ``border``
voxels from both sides of every window and writes the rest into the
subject's image. A subject is saved when all its windows have arrived (or
at the stopping signal): the volume padding is removed, resampling and
reorientation are undone with ``interp_order``, label indices are mapped
back to label values, and the result is written as NIfTI with the input
image's affine to ``<output_path>/<subject_id><prefix>.nii.gz``, listed in
``inferred.csv``.

Better than NiftyNet: a window side lying on the image's edge keeps its
border (NiftyNet cropped it too and left the outermost ``border`` voxels
empty unless the volume was padded); subjects may arrive interleaved
(several sampler threads); an output smaller than its input window (valid
convolutions) is taken as centred in it.
"""
import logging
import os

import numpy as np

from niftydrive.engine.image_window import N_SPATIAL
from niftydrive.engine.sampler_grid import as_border, grid_spatial_coordinates
from niftydrive.engine.windows_aggregator_base import INFERRED_CSV, ImageWindowsAggregator, \
    subject_name

LOGGER = logging.getLogger(__name__)

__all__ = ['GridSamplesAggregator', 'INFERRED_CSV']


class GridSamplesAggregator(ImageWindowsAggregator):
    """Assemble window outputs into images and write them.

    :param image_reader: the reader the grid sampler read from
    :param name: the input whose image gives the output's geometry
    :param output_path: folder of the outputs and ``inferred.csv``
    :param window_border: voxels dropped from each side of every window
    :param interp_order: spline order used to undo resampling (0 for labels)
    :param prefix: appended to the subject id to name output files
    :param fill_constant: value of voxels no window covered
    :param label_mapping: a :class:`~niftydrive.io.image_reader.LabelMapping`
        mapping label indices back to label values (``None``: keep indices)
    :param is_label: outputs are label maps (rounded, integer file, mapping applied)
    """

    def __init__(self, image_reader, name='image', output_path=os.path.join('.', 'output'),
                 window_border=(), interp_order=0, prefix='_niftynet_out',
                 fill_constant=0.0, label_mapping=None, is_label=True):
        ImageWindowsAggregator.__init__(self, image_reader=image_reader,
                                        output_path=output_path)
        self.name = name
        self.window_border = as_border(window_border)
        self.output_interp_order = int(interp_order)
        self.prefix = self.postfix = prefix
        self.fill_constant = float(fill_constant)
        self.label_mapping = label_mapping
        self.is_label = is_label
        self.image_out = None
        self._volumes = {}     # image id -> assembled array
        self._pending = {}     # image id -> windows still to come
        self.saved = []        # (subject_id, path) in the order written

    @property
    def csv_path(self):
        """The ``inferred.csv`` this aggregator writes."""
        return os.path.join(self.output_path, INFERRED_CSV)

    def decode_batch(self, window, location):
        """Add a batch; False once the stopping signal has been seen.

        :param window: outputs ``[n, x, y, z, c]`` (``[n, x, y, z]`` and 2-D
            ``[n, x, y, c]`` windows are accepted)
        :param location: int rows ``[n, 7]``: image id, start and end corners
        """
        window = np.asarray(window)
        location = np.asarray(location).astype(np.int64)
        if window.ndim == N_SPATIAL + 1 and location.shape[0] and np.all(
                location[:, 3] == location[:, 6] - 1) and window.shape[3] != 1:
            window = window[:, :, :, np.newaxis, :]       # 2-D [n, x, y, c]
        elif window.ndim == N_SPATIAL + 1:
            window = window[..., np.newaxis]
        elif window.ndim == N_SPATIAL + 3:                 # [n, x, y, z, 1, c]
            window = window.reshape(window.shape[:1 + N_SPATIAL] + window.shape[-1:])
        for output, loc in zip(window, location):
            if self._is_stopping_signal(loc):
                self._finish()
                return False
            self._add_window(output, loc)
        return True

    def _finish(self):
        for idx in sorted(self._volumes):
            LOGGER.warning('Subject %s: %d window(s) never arrived; saving anyway.',
                           subject_name(self.reader, idx), self._pending[idx])
            self._save(idx)

    def _image_shape(self, idx):
        return tuple(int(s) for s in self.reader.spatial_shape(idx))

    def _add_window(self, output, loc):
        idx = int(loc[0])
        self.image_id = idx
        start, end = loc[1:1 + N_SPATIAL], loc[1 + N_SPATIAL:]
        shape = np.asarray(self._image_shape(idx))
        if idx not in self._volumes:
            self._volumes[idx] = np.full(tuple(shape) + (output.shape[-1],),
                                         self.fill_constant, dtype=np.float32)
            size = tuple(int(e - s) for s, e in zip(start, end))
            grid = tuple(max(int(n), w) for n, w in zip(shape, size))
            self._pending[idx] = len(grid_spatial_coordinates(
                idx, {'w': grid}, {'w': size}, self.window_border)['w'])
        self.image_out = self._volumes[idx]
        out_size = np.asarray(output.shape[:N_SPATIAL])
        shrink = ((end - start) - out_size) // 2      # output centred in its input window
        crop = np.maximum(np.asarray(self.window_border), shrink)
        lo = np.where(start <= 0, start + shrink, start + crop)
        hi = np.where(end >= shape, end - shrink, end - crop)
        lo, hi = np.maximum(lo, 0), np.minimum(hi, shape)
        if np.all(hi > lo):
            src_lo, src_hi = lo - (start + shrink), hi - (start + shrink)
            self._volumes[idx][lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]] = output[
                src_lo[0]:src_hi[0], src_lo[1]:src_hi[1], src_lo[2]:src_hi[2]]
        self._pending[idx] -= 1
        if self._pending[idx] <= 0:
            self._save(idx)

    def _save(self, idx):
        data = self._volumes.pop(idx)
        self._pending.pop(idx, None)
        subject_id = subject_name(self.reader, idx)
        path = self.write_image(idx, data, '{}{}.nii.gz'.format(subject_id, self.prefix),
                                name=self.name, interp_order=self.output_interp_order,
                                is_label=self.is_label, label_mapping=self.label_mapping)
        self.saved.append((subject_id, path))
