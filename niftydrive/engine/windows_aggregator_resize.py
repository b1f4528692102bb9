# -*- coding: utf-8 -*-
"""Outputs of resized windows resized back to their images: NiftyNet's
``ResizeSamplesAggregator``.

Each output window (from :class:`~niftydrive.engine.sampler_resize.ResizeSampler`)
is one whole subject: its ``border`` voxels (invalid margins of the network)
are replaced by the nearest valid ones, it is resized to the subject's
network-space shape with ``interp_order`` and written as the grid
aggregator writes (volume padding removed, resampling and reorientation
undone, label indices mapped back, ``inferred.csv``).
"""
import os

import numpy as np

from niftydrive.engine.image_window import N_SPATIAL
from niftydrive.engine.windows_aggregator_grid import GridSamplesAggregator
from niftydrive.layer.layer_util import resize_3d, transform_fields


class ResizeSamplesAggregator(GridSamplesAggregator):
    """Resize each output window to its subject's image and save it.

    Arguments as :class:`~niftydrive.engine.windows_aggregator_grid.GridSamplesAggregator`.
    """

    def __init__(self, image_reader, name='image', output_path=os.path.join('.', 'output'),
                 window_border=(), interp_order=0, prefix='_niftynet_out',
                 fill_constant=0.0, label_mapping=None, is_label=True):
        GridSamplesAggregator.__init__(
            self, image_reader=image_reader, name=name, output_path=output_path,
            window_border=window_border, interp_order=interp_order, prefix=prefix,
            fill_constant=fill_constant, label_mapping=label_mapping, is_label=is_label)

    def decode_batch(self, window, location):
        """Save every window of the batch; False at the stopping signal.

        :param window: outputs ``[n, x, y, z, c]`` (or ``[n, x, y, z]``)
        :param location: rows ``[n, 7]``; the first entry is the subject index
        """
        window = np.asarray(window)
        if window.ndim == N_SPATIAL + 1:
            window = window[..., np.newaxis]
        window = window.reshape(window.shape[:1 + N_SPATIAL] + (-1,))
        for output, loc in zip(window, np.asarray(location).astype(np.int64)):
            if self._is_stopping_signal(loc):
                return False
            self.image_id = int(loc[0])
            self._volumes[self.image_id] = self._resized(output, self.image_id)
            self._save(self.image_id)
        return True

    def _resized(self, output, idx):
        border = [min(int(b), (n - 1) // 2)
                  for b, n in zip(self.window_border, output.shape[:N_SPATIAL])]
        if any(border):
            inner = tuple(slice(b, n - b) for b, n in zip(border, output.shape[:N_SPATIAL]))
            output = np.pad(output[inner], [(b, b) for b in border] + [(0, 0)], mode='edge')
        shape = self._image_shape(idx)
        return transform_fields(
            {'out': output}, {'out': (self.output_interp_order,)},
            lambda volume, interp: resize_3d(volume, shape, interp))['out'].astype(np.float32)
