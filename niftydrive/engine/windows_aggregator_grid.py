"""Stitch grid-sampled window outputs back into whole volumes and save them.

:class:`GridSamplesAggregator` receives batches of network outputs with the
windows' locations (from :class:`~niftydrive.engine.sampler_grid.GridSampler`,
in any order), crops ``border`` voxels from each side of every window and
writes the centre into the subject's volume. When all of a subject's
windows have arrived the volume is mapped back to the input image's voxel
grid (volume padding removed, resampling and reorientation undone with
``interp_order``), label indices are mapped back to the original label
values, and it is saved as NIfTI with the input image's affine, as
``<output_path>/<subject_id><postfix>.nii.gz``. ``inferred.csv`` in
``output_path`` lists ``subject_id,path`` of every saved file.

An output window may be smaller than the input window (networks with valid
convolutions): it is taken as centred in the input window.
"""
import csv
import logging
import os

import numpy as np

from niftydrive.engine.image_window import N_SPATIAL, grid_locations
from niftydrive.engine.sampler_grid import END_OF_DATA, as_border
from niftydrive.io.image_loader import save_nifti

LOGGER = logging.getLogger(__name__)

INFERRED_CSV = 'inferred.csv'


class GridSamplesAggregator(object):
    """Assemble window outputs into volumes and write them.

    :param image_reader: the reader the grid sampler read from
    :param output_path: folder for the outputs and ``inferred.csv``
    :param window_border: voxels cropped from each side of every window
    :param interp_order: spline order used to undo resampling (0 for labels)
    :param postfix: appended to the subject id to name output files
    :param fill_constant: value of voxels no window covered
    :param label_mapping: a :class:`~niftydrive.io.image_reader.LabelMapping`
        to map label indices back to label values (``None``: keep indices)
    :param is_label: whether outputs are label maps (integer file, mapping applied)
    """

    def __init__(self, image_reader, output_path='.', window_border=(0, 0, 0),
                 interp_order=0, postfix='_niftynet_out', fill_constant=0.0,
                 label_mapping=None, is_label=True):
        self.reader = image_reader
        self.output_path = os.path.abspath(output_path)
        self.border = as_border(window_border)
        self.interp_order = int(interp_order)
        self.postfix = postfix
        self.fill_constant = float(fill_constant)
        self.label_mapping = label_mapping
        self.is_label = is_label
        self._volumes = {}     # subject index -> assembled array
        self._pending = {}     # subject index -> windows still to come
        self.saved = []        # (subject_id, path) in the order written
        os.makedirs(self.output_path, exist_ok=True)
        self.csv_path = os.path.join(self.output_path, INFERRED_CSV)
        open(self.csv_path, 'w').close()

    def decode_batch(self, window, location):
        """Add a batch; ``False`` once the end-of-data window has been seen.

        :param window: network outputs ``[n, x, y, z, c]`` (or ``[n, x, y, z]``)
        :param location: int vectors ``[n, 7]``: subject index, start and end corners
        """
        window = np.asarray(window)
        location = np.asarray(location).astype(int)
        if window.ndim == N_SPATIAL + 1:
            window = window[..., np.newaxis]
        finished = False
        for output, loc in zip(window, location):
            if loc[0] == END_OF_DATA:
                finished = True
                continue
            self._add_window(output, loc)
        if finished:
            for idx in sorted(self._volumes):
                LOGGER.warning('Subject %s: %d window(s) never arrived; saving anyway.',
                               self.reader.subject_id(idx), self._pending[idx])
                self._save(idx)
            return False
        return True

    def _add_window(self, output, loc):
        idx = int(loc[0])
        start, end = loc[1:1 + N_SPATIAL], loc[1 + N_SPATIAL:]
        shape = self.reader.spatial_shape(idx)
        if idx not in self._volumes:
            self._volumes[idx] = np.full(tuple(shape) + (output.shape[-1],),
                                         self.fill_constant, dtype=np.float32)
            self._pending[idx] = len(grid_locations(shape, end - start, self.border))
        in_size = end - start
        out_size = np.asarray(output.shape[:N_SPATIAL])
        shrink = (in_size - out_size) // 2          # output centred in the input window
        border = np.array([b if n > 1 else 0 for b, n in zip(self.border, shape)])
        crop = np.maximum(border, shrink)
        lo = np.maximum(start + crop, 0)
        hi = np.minimum(end - crop, shape)
        if np.all(hi > lo):
            src_lo = lo - (start + shrink)
            src_hi = hi - (start + shrink)
            self._volumes[idx][lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]] = output[
                src_lo[0]:src_hi[0], src_lo[1]:src_hi[1], src_lo[2]:src_hi[2]]
        self._pending[idx] -= 1
        if self._pending[idx] <= 0:
            self._save(idx)

    def _save(self, idx):
        data = self._volumes.pop(idx)
        self._pending.pop(idx, None)
        reference = self.reader.reference_image(idx)
        data = self.reader.to_original(idx, data, self.interp_order)
        if self.is_label:
            data = np.round(data)
            if self.label_mapping is not None:
                data = self.label_mapping.backward(data)
            data = data.astype(np.int32 if np.all(np.mod(data, 1) == 0) else np.float32)
        else:
            data = data.astype(np.float32)
        original = reference.original_shape
        if data.shape[-1] == 1:
            data = data.reshape(original[:min(len(original), N_SPATIAL)])
        else:
            data = data.reshape(data.shape[:N_SPATIAL] + (1, data.shape[-1]))
        subject_id = self.reader.subject_id(idx)
        path = os.path.join(self.output_path, '{}{}.nii.gz'.format(subject_id, self.postfix))
        save_nifti(data, reference.original_affine, path, reference.header().header)
        with open(self.csv_path, 'a', newline='') as handle:
            csv.writer(handle).writerow([subject_id, path])
        self.saved.append((subject_id, path))
        LOGGER.info('Saved %s', path)
