"""Read subjects' images as network-ready arrays.

An :class:`ImageReader` maps *fields* (what the application calls its inputs,
e.g. ``image``, ``label``, ``weight``) to one or more input sections of the
config (``image = T1, T2``): every section's file of a subject is read with
:class:`~niftydrive.io.image_loader.SpatialImage`, and a field's sections are
concatenated along the channel axis. ``reader(idx)`` returns
``(idx, {field: float32 array [x, y, z, channels]})`` after preprocessing
(volume padding, whitening, label normalisation), and
:meth:`ImageReader.to_original` undoes padding and geometry for outputs.
"""
import logging
import threading

import numpy as np

from niftydrive.io.filename_matching import as_tuple_of_str
from niftydrive.io.image_loader import SpatialImage
from niftydrive.utilities.errors import UserInputError

LOGGER = logging.getLogger(__name__)


def whiten(data, foreground_only=True):
    """Zero mean, unit variance per channel (over voxels above the mean if foreground_only)."""
    result = np.empty_like(data, dtype=np.float32)
    for c in range(data.shape[-1]):
        channel = data[..., c]
        voxels = channel
        if foreground_only:
            mask = channel > channel.mean()
            if mask.sum() > 1:
                voxels = channel[mask]
        std = float(voxels.std())
        result[..., c] = (channel - float(voxels.mean())) / (std if std > 1e-8 else 1.0)
    return result


class LabelMapping(object):
    """Map arbitrary label values to 0..K-1 and back.

    :param values: the sorted label values found in the training labels
    """

    def __init__(self, values):
        self.values = np.array(sorted(float(v) for v in values), dtype=np.float64)

    @classmethod
    def from_file(cls, path):
        """Read a mapping written by :meth:`save` (one label value a line)."""
        with open(path) as handle:
            return cls([float(line) for line in handle if line.strip()])

    def save(self, path):
        """Write the label values, one a line, in order of their index."""
        with open(path, 'w') as handle:
            handle.writelines('{:g}\n'.format(v) for v in self.values)

    @property
    def num_labels(self):
        """K, the number of distinct labels."""
        return len(self.values)

    def forward(self, data, where='labels'):
        """Label values -> indices 0..K-1; an unknown value is a UserInputError."""
        index = np.searchsorted(self.values, data)
        index = np.clip(index, 0, len(self.values) - 1)
        unknown = ~np.isclose(self.values[index], data)
        if np.any(unknown):
            raise UserInputError(
                'The {} contain label value(s) {} not seen in the training labels {}.'.format(
                    where, sorted(set(np.unique(data[unknown]).tolist()))[:10],
                    self.values.tolist()))
        return index.astype(np.float32)

    def backward(self, indices):
        """Indices 0..K-1 -> the original label values."""
        indices = np.clip(np.round(indices).astype(np.int64), 0, len(self.values) - 1)
        return self.values[indices]


class ImageReader(object):
    """Read the images of a list of subjects, field by field.

    :param names: the fields to output (``('image', 'label')``); ``None`` = all
        fields given to :meth:`initialise`
    """

    def __init__(self, names=None):
        self.names = tuple(names) if names else None
        self.fields = {}          # field -> tuple of section names
        self.file_list = []
        self.subjects = []        # list of {field: [SpatialImage per section]}
        self.padding = (0, 0, 0)
        self.whitening = False
        self.foreground_only = True
        self.label_fields = ()
        self.label_mapping = None
        self.num_classes = None
        self.padding_mode = 'edge'
        self.cache_bytes = 2 << 30   # keep preprocessed subjects up to ~2 GB
        self._cache = {}
        self._lock = threading.Lock()
        self.preprocessors = []
        self._augment_lock = threading.Lock()

    # -------------------------------------------------------------- set-up
    def initialise(self, data_param, task_param, file_list):
        """Set the fields and subjects and check every file's header.

        :param data_param: dict section name -> namespace (axcodes, pixdim,
            interp_order, spatial_window_size ...)
        :param task_param: namespace whose attributes named like the fields
            list section names (``task_param.image = ('T1',)``)
        :param file_list: rows from ``ImageSetsPartitioner.get_file_list``
        :raises UserInputError: an unknown section, a field without sections,
            a subject missing a file, a bad file, or sections of one subject
            with different spatial shapes
        """
        names = self.names or tuple(
            n for n in ('image', 'label', 'weight', 'inferred')
            if as_tuple_of_str(getattr(task_param, n, None)))
        self.names = names
        for name in names:
            sections = as_tuple_of_str(getattr(task_param, name, None))
            if not sections:
                raise UserInputError('The application needs "{}" = <input section(s)> in its '
                                     'config section.'.format(name))
            for section in sections:
                if section not in data_param:
                    raise UserInputError(
                        '{} = {}: there is no input section [{}] in the config (input '
                        'sections: {}).'.format(name, ','.join(sections), section,
                                                ', '.join(data_param) or 'none'))
            self.fields[name] = sections
        self.data_param = data_param
        self.file_list = list(file_list)
        if not self.file_list:
            raise UserInputError('No subject has files for all of: {}.'.format(
                ', '.join(s for n in names for s in self.fields[n])))
        self.subjects = [self._subject_images(row) for row in self.file_list]
        for idx in range(len(self.subjects)):
            self.spatial_shape(idx)   # checks headers and shapes now, not in a thread
        return self

    def _subject_images(self, row):
        subject_id = row.get('subject_id')
        images = {}
        for name in self.names:
            images[name] = []
            for section in self.fields[name]:
                if section not in row:
                    raise UserInputError('Subject {} has no file in input section [{}].'.format(
                        subject_id, section))
                param = self.data_param[section]
                images[name].append(SpatialImage(
                    row[section], subject_id,
                    axcodes=getattr(param, 'axcodes', None),
                    pixdim=getattr(param, 'pixdim', None),
                    interp_order=getattr(param, 'interp_order', 3)))
        return images

    def set_preprocessing(self, padding=None, whitening=False, foreground_only=True,
                          label_fields=(), num_classes=None, label_normalisation=False,
                          mapping_file=None, padding_mode='edge'):
        """Configure volume padding, whitening and label handling.

        Volume padding adds ``padding`` voxels to each side of every volume
        (images with ``numpy.pad`` mode ``padding_mode``, other fields with 0).

        Label normalisation: the mapping comes from ``mapping_file`` when it
        exists, else from every subject's labels (then saved there).
        :raises UserInputError: more distinct labels than ``num_classes``
        """
        padding = tuple(int(p) for p in (padding or (0,)))
        self.padding = (padding * 3)[:3] if len(padding) == 1 else tuple(padding[:3])
        self.padding_mode = padding_mode or 'edge'
        self.whitening = bool(whitening)
        self.foreground_only = bool(foreground_only)
        self.label_fields = tuple(f for f in label_fields if f in self.names)
        self.num_classes = int(num_classes) if num_classes else None
        self._cache.clear()
        if not self.label_fields:
            return self
        import os
        if label_normalisation:
            if mapping_file and os.path.isfile(mapping_file):
                self.label_mapping = LabelMapping.from_file(mapping_file)
            else:
                values = set()
                for idx in range(self.num_subjects):
                    for field in self.label_fields:
                        values.update(np.unique(self._raw(idx, field)).tolist())
                self.label_mapping = LabelMapping(values)
                if mapping_file:
                    os.makedirs(os.path.dirname(os.path.abspath(mapping_file)), exist_ok=True)
                    self.label_mapping.save(mapping_file)
            if self.num_classes and self.label_mapping.num_labels > self.num_classes:
                raise UserInputError(
                    'num_classes = {} but the labels ({}) have {} distinct values {}: '
                    'raise num_classes in the config.'.format(
                        self.num_classes, ','.join(self.fields[self.label_fields[0]]),
                        self.label_mapping.num_labels,
                        self.label_mapping.values.tolist()[:20]))
        return self

    def add_preprocessing_layers(self, layers):
        """Append layers run on every read of a subject (NiftyNet's reader API).

        Only randomised layers (data augmentation, see
        :class:`~niftydrive.layer.base_layer.RandomisedLayer`) are supported:
        on each read they draw new parameters (``randomise()``) and transform
        a copy of the cached, preprocessed subject, all fields alike, with
        :attr:`interp_orders`.
        :raises TypeError: a layer that is not randomised
        """
        from niftydrive.layer.base_layer import RandomisedLayer
        layers = list(layers) if isinstance(layers, (list, tuple)) else [layers]
        for layer in layers:
            if not isinstance(layer, RandomisedLayer):
                raise TypeError('ImageReader.add_preprocessing_layers supports randomised '
                                '(augmentation) layers only, got {!r}'.format(layer))
        self.preprocessors.extend(layers)
        return self

    @property
    def interp_orders(self):
        """dict field -> interpolation order of each of its sections (0 for labels)."""
        orders = {}
        for name in self.names:
            if name in self.label_fields:
                orders[name] = (0,) * len(self.fields[name])
            else:
                configured = [getattr(self.data_param[s], 'interp_order', None)
                              for s in self.fields[name]]
                orders[name] = tuple(3 if o is None else int(o) for o in configured)
        return orders

    def _augment(self, data):
        if not self.preprocessors:
            return data
        data = {name: array.copy() for name, array in data.items()}
        orders = self.interp_orders
        # the layers keep their drawn parameters between randomise() and the
        # call: sampler threads take turns
        with self._augment_lock:
            for layer in self.preprocessors:
                layer.randomise()
                data = layer(data, orders)
        return {name: np.asarray(array, dtype=np.float32) for name, array in data.items()}

    # ------------------------------------------------------------- queries
    @property
    def num_subjects(self):
        """Number of subjects."""
        return len(self.subjects)

    def subject_id(self, idx):
        """The subject id of subject ``idx``."""
        return self.file_list[idx].get('subject_id', str(idx))

    def reference_image(self, idx, field=None):
        """The first file of a field (default: the first field) of subject ``idx``."""
        return self.subjects[idx][field or self.names[0]][0]

    def spatial_shape(self, idx):
        """Spatial shape of subject ``idx`` in network space (padding included)."""
        shapes = {}
        for name in self.names:
            for image in self.subjects[idx][name]:
                shapes[(name, image.path)] = image.spatial_shape
        distinct = set(shapes.values())
        if len(distinct) > 1:
            detail = '; '.join('{} {} has shape {}'.format(n, p, s)
                               for (n, p), s in shapes.items())
            raise UserInputError('Subject {}: the images do not have the same spatial shape '
                                 '(after reorientation/resampling): {}.'.format(
                                     self.subject_id(idx), detail))
        shape = distinct.pop()
        return tuple(s + 2 * p if s > 1 else s for s, p in zip(shape, self.padding))

    def num_channels(self, name):
        """Channels of a field (sum over its sections, from the first subject)."""
        return sum(image.num_channels for image in self.subjects[0][name])

    # ---------------------------------------------------------------- data
    def _raw(self, idx, name):
        arrays = [image.get_data() for image in self.subjects[idx][name]]
        return arrays[0] if len(arrays) == 1 else np.concatenate(arrays, axis=-1)

    def _preprocess(self, idx, name, data):
        if name in self.label_fields:
            where = 'labels of subject {} ({})'.format(
                self.subject_id(idx), ', '.join(i.path for i in self.subjects[idx][name]))
            if self.label_mapping is not None:
                data = self.label_mapping.forward(data, where)
            elif self.num_classes:
                data = np.round(data)
                if data.min() < 0 or data.max() >= self.num_classes:
                    raise UserInputError(
                        'num_classes = {} but the {} have values {}..{}: raise num_classes '
                        'or set label_normalisation = True.'.format(
                            self.num_classes, where, data.min(), data.max()))
        elif name == 'image' and self.whitening:
            data = whiten(data, self.foreground_only)
        if any(self.padding):
            pad = [(p, p) if s > 1 else (0, 0) for p, s in zip(self.padding, data.shape[:3])]
            data = np.pad(data, pad + [(0, 0)], mode=self.padding_mode if name == 'image' else 'constant')
        return data.astype(np.float32)

    def get_subject(self, idx):
        """``{field: array [x, y, z, c]}`` of subject ``idx`` (cached)."""
        with self._lock:
            cached = self._cache.get(idx)
        if cached is not None:
            return cached
        data = {name: self._preprocess(idx, name, self._raw(idx, name)) for name in self.names}
        shapes = {name: array.shape[:3] for name, array in data.items()}
        if len(set(shapes.values())) > 1:
            raise UserInputError('Subject {}: fields have different spatial shapes {}.'.format(
                self.subject_id(idx), shapes))
        with self._lock:
            self._cache[idx] = data
            while len(self._cache) > 1 and self._cached_bytes() > self.cache_bytes:
                self._cache.pop(next(iter(self._cache)))
        return data

    def _cached_bytes(self):
        return sum(a.nbytes for d in self._cache.values() for a in d.values())

    def preload(self):
        """Read subjects now (checks their voxels early) while the cache has room."""
        for idx in range(self.num_subjects):
            self.get_subject(idx)
            with self._lock:
                if self._cached_bytes() >= self.cache_bytes:
                    break
        return self

    def __call__(self, idx=None, shuffle=True):
        """``(idx, data)`` of subject ``idx``, or of a random subject when idx is None.

        ``data`` has been through the preprocessing layers (augmentation),
        drawn anew on each call.
        """
        if idx is None:
            idx = np.random.randint(self.num_subjects) if shuffle else 0
        return idx, self._augment(self.get_subject(idx))

    def to_original(self, idx, data, interp_order=0, field=None):
        """Network-space array ``[x, y, z, c]`` -> the reference file's voxel grid.

        Crops the volume padding, then undoes resampling and reorientation.
        """
        crop = tuple(slice(p, s - p) if s > 1 and p else slice(None)
                     for p, s in zip(self.padding, data.shape[:3]))
        data = data[crop]
        return self.reference_image(idx, field).to_original(data, interp_order)
