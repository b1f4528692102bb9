# -*- coding: utf-8 -*-
"""Read subjects' images as network-ready arrays (NiftyNet's ``ImageReader``).

An :class:`ImageReader` maps *fields* (what the application calls its inputs,
e.g. ``image``, ``label``, ``weight``) to one or more input sections of the
config (``image = T1, T2``). ``initialise`` turns every subject's files into
image objects (``output_list``: one dict field -> image object per subject,
see :mod:`niftydrive.io.image_type`), checking each header.

Calling the reader (``reader(idx)``, i.e. ``layer_op(idx, shuffle)``)
returns, as NiftyNet's did, ``(idx, {field: float32 array [x, y, z, time,
modality]}, {field: interp orders})`` after the preprocessing layers added
with :meth:`ImageReader.add_preprocessing_layers` (padding, normalisation,
augmentation), or ``(-1, None, None)`` past the last subject.

niftydrive additions: subjects' deterministic preprocessing is cached (up
to ``cache_bytes``; randomised layers run on every call), a failing file or
layer raises a ``UserInputError`` naming the subject and file, and
``get_subject``/``spatial_shape``/``to_original`` serve samplers that work
on ``[x, y, z, channels]`` arrays.
"""
import logging
import threading

import numpy as np

from niftydrive.io.filename_matching import as_tuple_of_str
from niftydrive.io.image_type import ImageFactory
from niftydrive.layer.base_layer import DataDependentLayer, Layer, RandomisedLayer
from niftydrive.layer.discrete_label_normalisation import DiscreteLabelNormalisationLayer
from niftydrive.layer.mean_variance_normalisation import MeanVarNormalisationLayer
from niftydrive.layer.binary_masking import BinaryMaskingLayer
from niftydrive.layer.pad import PadLayer
from niftydrive.utilities.errors import UserInputError

LOGGER = logging.getLogger(__name__)

COLUMN_UNIQ_ID = 'subject_id'
#: the fields a reader looks for when created with ``names=None``
DEFAULT_FIELDS = ('image', 'label', 'weight', 'sampler', 'inferred')


def infer_tf_dtypes(image_array):
    """The TensorFlow dtype of a field: float32 for every numeric input, as in NiftyNet."""
    import tensorflow.compat.v1 as tf
    del image_array
    return tf.float32


def fold_channels(data):
    """``[x, y, z, time, modality]`` -> ``[x, y, z, time * modality]``."""
    return data.reshape(data.shape[:3] + (-1,))


class LabelMapping(object):
    """Label values <-> indices 0..K-1 (what the aggregator needs to write
    outputs with the original label values).

    :param values: the label values, index k -> ``sorted(values)[k]``
    """

    def __init__(self, values):
        self.values = np.array(sorted(float(v) for v in values), dtype=np.float64)

    @classmethod
    def from_file(cls, path, key=None):
        """The mapping of line ``key`` of a histogram reference file (default:
        the only line whose key starts with ``label``)."""
        import niftydrive.utilities.histogram_standardisation as hs
        maps = hs.read_mapping_file(path)
        if key is None:
            keys = [k for k in maps if k.startswith('label')]
            if len(keys) != 1:
                raise UserInputError('{} has {} label mappings ({}); name the one to use.'
                                     .format(path, len(keys), ', '.join(keys) or 'none'))
            key = keys[0]
        if key not in maps:
            raise UserInputError('{} has no line "{}".'.format(path, key))
        return cls(maps[key])

    @property
    def num_labels(self):
        """K, the number of distinct labels."""
        return len(self.values)

    def backward(self, indices):
        """Indices 0..K-1 -> the original label values."""
        indices = np.clip(np.round(indices).astype(np.int64), 0, len(self.values) - 1)
        return self.values[indices]


def _rows(file_list):
    """A file list (rows of dicts, or a pandas DataFrame) as a list of dicts."""
    if file_list is None:
        return []
    if hasattr(file_list, 'to_dict'):
        return file_list.to_dict('records')
    return [dict(row) for row in file_list]


def _missing(value):
    return value is None or (isinstance(value, float) and np.isnan(value)) or \
        (isinstance(value, str) and not value.strip())


class ImageReader(Layer):
    """Read the images of a list of subjects, field by field.

    :param names: the fields to output, e.g. ``('image', 'label')``; fields
        the task section does not set are left out (as in NiftyNet); ``None``:
        every one of ``DEFAULT_FIELDS`` that is set
    """

    numpy_op = True

    def __init__(self, names=None):
        self._names = None
        self.names = names
        self._input_sources = None
        self._shapes = None
        self._dtypes = None
        self._file_list = []
        self.output_list = None
        self.current_id = -1
        self.preprocessors = []
        self.data_param = None
        self.label_fields = ()
        # Fields allowed a spatial shape of their own (set before initialise):
        # a classification label is one voxel per subject, its image is not.
        self.shape_independent_fields = ()
        self.num_classes = None
        self.cache_bytes = 2 << 30   # keep preprocessed subjects up to ~2 GB
        self._cache = {}
        self._lock = threading.Lock()
        self._augment_lock = threading.Lock()
        super(ImageReader, self).__init__(name='image_reader')

    # -------------------------------------------------------------- set-up
    def initialise(self, data_param, task_param, file_list):
        """Create the image objects of every subject, checking each header.

        :param data_param: dict section name -> namespace (``interp_order``,
            ``pixdim``, ``axcodes``, ``loader`` ...)
        :param task_param: namespace whose attributes named like the fields
            list section names (``task_param.image = ('T1',)``)
        :param file_list: the partitioner's rows (``get_file_list``) or a
            pandas DataFrame with a ``subject_id`` column and one per section
        :return: the reader
        :raises UserInputError: no field set, an unknown section, no subject
            with every file, a bad file, or one subject's images of different
            spatial shapes
        """
        wanted = self._names or DEFAULT_FIELDS
        task = vars(task_param) if task_param is not None else {}
        names = tuple(name for name in wanted if as_tuple_of_str(task.get(name)))
        if not names:
            raise UserInputError('The application needs {} = <input section(s)> in its '
                                 'config section.'.format(' / '.join(wanted)))
        self._names = names
        self._input_sources = {name: as_tuple_of_str(task.get(name)) for name in names}
        for name, sections in self._input_sources.items():
            for section in sections:
                if section not in data_param:
                    raise UserInputError(
                        '{} = {}: there is no input section [{}] in the config (input '
                        'sections: {}).'.format(name, ','.join(sections), section,
                                                ', '.join(data_param) or 'none'))
        self.data_param = data_param
        self._file_list, self.output_list = [], []
        skipped = []
        for row in _rows(file_list):
            images = self._create_images(row)
            if images is None:
                skipped.append(str(row.get(COLUMN_UNIQ_ID)))
                continue
            self._file_list.append(row)
            self.output_list.append(images)
        if skipped:
            LOGGER.warning('Skipped %d subject(s) missing a file of %s: %s', len(skipped),
                           ', '.join(s for n in names for s in self._input_sources[n]),
                           ', '.join(skipped[:10]))
        if not self.output_list:
            raise UserInputError('No subject has files for all of: {}.'.format(
                ', '.join(s for n in names for s in self._input_sources[n])))
        self._shapes = self._dtypes = None
        self._cache.clear()
        for idx in range(self.num_subjects):
            self.spatial_shape(idx)   # shapes checked now, not in a sampler thread
        self._check_channels()
        for name in names:
            LOGGER.info('Image reader: loading [%s] from %s (%d subjects)', name,
                        ', '.join(self._input_sources[name]), len(self.output_list))
        return self

    def _create_images(self, row):
        subject_id = row.get(COLUMN_UNIQ_ID)
        images = {}
        for name in self._names:
            sections = self._input_sources[name]
            paths = tuple(row.get(section) for section in sections)
            if any(_missing(path) for path in paths):
                return None
            params = [self.data_param[section] for section in sections]
            images[name] = ImageFactory.create_instance(
                file_path=paths, name=sections,
                interp_order=tuple(getattr(p, 'interp_order', 3) for p in params),
                output_pixdim=tuple(getattr(p, 'pixdim', None) or None for p in params),
                output_axcodes=tuple(getattr(p, 'axcodes', None) or None for p in params),
                loader=tuple(getattr(p, 'loader', None) or None for p in params),
                subject_id=subject_id)
        return images

    def prepare_preprocessors(self):
        """Train the data-dependent layers (histogram landmarks, label values)
        on this reader's subjects; those already trained are left as they are."""
        for layer in self.preprocessors:
            if isinstance(layer, DataDependentLayer):
                layer.train(self.output_list)
        self._cache.clear()

    def add_preprocessing_layers(self, layers):
        """Append a layer or a list of layers to the preprocessing, then
        prepare (train) the data-dependent ones.

        :raises AssertionError: the reader is not initialised yet (NiftyNet's error)
        """
        assert self.output_list is not None, \
            'Please initialise the reader first, before adding preprocessors.'
        if isinstance(layers, Layer):
            self.preprocessors.append(layers)
        else:
            self.preprocessors.extend(layer for layer in layers if layer is not None)
        self.prepare_preprocessors()

    # ------------------------------------------------------ NiftyNet's API
    def layer_op(self, idx=None, shuffle=True):
        """``(idx, {field: array [x, y, z, t, m]}, {field: interp orders})`` of
        subject ``idx``; a random subject when ``idx`` is None and ``shuffle``,
        else the next one in turn; ``(-1, None, None)`` past the last subject."""
        if idx is None:
            if shuffle:
                idx = np.random.randint(len(self.output_list))
            else:
                idx = self.current_id + 1
                self.current_id = idx
        try:
            idx = int(idx)
            if idx < 0 or idx >= len(self.output_list):
                raise IndexError(idx)
        except (IndexError, TypeError, ValueError):
            return -1, None, None
        data = self._preprocessed(idx)
        interp_orders = {name: image.interp_order
                         for name, image in self.output_list[idx].items()}
        return idx, data, interp_orders

    @property
    def shapes(self):
        """``{field: 5-D shape}`` of the first subject, before preprocessing."""
        self._check_initialised()
        if not self._shapes:
            first = self.output_list[0]
            self._shapes = {name: first[name].shape for name in self.names}
        return self._shapes

    @property
    def tf_dtypes(self):
        """``{field: tf dtype}`` (float32 for every field, as in NiftyNet)."""
        self._check_initialised()
        if not self._dtypes:
            self._dtypes = {name: infer_tf_dtypes(self.output_list[0][name])
                            for name in self.names}
        return self._dtypes

    @property
    def spatial_ranks(self):
        """``{field: spatial rank}`` (2 for pictures) of the first subject."""
        self._check_initialised()
        return {name: self.output_list[0][name].spatial_rank for name in self.names}

    @property
    def input_sources(self):
        """``{field: tuple of input sections}``, e.g. ``{'image': ('T1', 'T2')}``."""
        self._check_initialised()
        return self._input_sources

    @property
    def names(self):
        """The fields this reader outputs."""
        return self._names

    @names.setter
    def names(self, fields_tuple):
        if fields_tuple is None:
            self._names = None
        elif isinstance(fields_tuple, str):
            self._names = (fields_tuple,)
        else:
            self._names = tuple(fields_tuple)

    def get_subject_id(self, image_index):
        """The subject id of subject number ``image_index``."""
        return self._file_list[image_index].get(COLUMN_UNIQ_ID, str(image_index))

    def get_image_index(self, subject_id):
        """The index of subject ``subject_id`` (ValueError when unknown)."""
        for index, row in enumerate(self._file_list):
            if row.get(COLUMN_UNIQ_ID) == subject_id:
                return index
        raise ValueError('unknown subject id {}'.format(subject_id))

    def _check_initialised(self):
        if not self.output_list:
            raise RuntimeError('Please initialise the reader first.')

    # ------------------------------------------------- niftydrive helpers
    @property
    def file_list(self):
        """The rows (dicts) of the subjects read, in index order."""
        return self._file_list

    @property
    def num_subjects(self):
        """Number of subjects."""
        return len(self.output_list or ())

    def subject_id(self, idx):
        """Same as :meth:`get_subject_id`."""
        return self.get_subject_id(idx)

    @property
    def subjects(self):
        """Per subject ``{field: [per-file SpatialImage]}``."""
        return [{name: image.file_images for name, image in subject.items()}
                for subject in self.output_list]

    def reference_image(self, idx, field=None):
        """The first file (a ``SpatialImage``) of a field (default: the first) of ``idx``."""
        return self.output_list[idx][field or self.names[0]].file_images[0]

    def _padding(self):
        """Total voxels added per side on each spatial axis by PadLayers."""
        total = np.zeros(3, dtype=int)
        for layer in self.preprocessors:
            if isinstance(layer, PadLayer):
                total += np.array(layer.border)
        return total

    @property
    def padding(self):
        """Voxels added on each side of each spatial axis by volume padding."""
        return tuple(int(p) for p in self._padding())

    def spatial_shape(self, idx):
        """Spatial shape of subject ``idx`` in network space (padding included).

        Fields in ``shape_independent_fields`` are left out of the comparison.

        :raises UserInputError: the subject's images differ in spatial shape
        """
        shapes = {(name, image.file_path[0]): image.shape[:3]
                  for name, image in self.output_list[idx].items()
                  if name not in self.shape_independent_fields}
        distinct = set(shapes.values())
        if len(distinct) > 1:
            detail = '; '.join('{} {} has shape {}'.format(n, p, s)
                               for (n, p), s in shapes.items())
            raise UserInputError('Subject {}: the images do not have the same spatial shape '
                                 '(after reorientation/resampling): {}.'.format(
                                     self.subject_id(idx), detail))
        shape = distinct.pop()
        return tuple(int(s + 2 * p) if s > 1 else int(s)
                     for s, p in zip(shape, self._padding()))

    def _check_channels(self):
        """Every subject's field has the first subject's time points and
        modalities (a 4-D image among 3-D ones would fail in a sampler)."""
        first = self.output_list[0]
        for idx, subject in enumerate(self.output_list[1:], start=1):
            for name, image in subject.items():
                if tuple(image.shape[3:]) != tuple(first[name].shape[3:]):
                    raise UserInputError(
                        'Subject {}: {} {} has shape {} but {} of subject {} '
                        'has {}: every subject\'s {} needs the same number of '
                        'time points/channels (3-D vs 4-D?).'.format(
                            self.subject_id(idx), name, image.file_path[0],
                            tuple(image.shape), first[name].file_path[0],
                            self.subject_id(0), tuple(first[name].shape), name))

    def num_channels(self, name):
        """Channels of a field, ``time x modalities`` (from the first subject)."""
        shape = self.output_list[0][name].shape
        return int(shape[3] * shape[4])

    def _split_layers(self):
        """The preprocessors before the first randomised one (cacheable) and the rest."""
        for position, layer in enumerate(self.preprocessors):
            if isinstance(layer, RandomisedLayer):
                return self.preprocessors[:position], self.preprocessors[position:]
        return list(self.preprocessors), []

    def _describe(self, idx):
        files = ', '.join(path for image in self.output_list[idx].values()
                          for path in image.file_path)
        return 'subject {} ({})'.format(self.subject_id(idx), files)

    def _deterministic(self, idx):
        """Subject ``idx`` after the cacheable preprocessing (read-only arrays)."""
        with self._lock:
            cached = self._cache.get(idx)
        if cached is not None:
            return cached
        data = {name: image.get_data() for name, image in self.output_list[idx].items()}
        mask = None
        try:
            for layer in self._split_layers()[0]:
                data, mask = layer(data, mask)
            self._check_labels(idx, data)
        except UserInputError as error:
            raise UserInputError('{}: {}'.format(self._describe(idx), error)) from error
        for array in data.values():
            array.flags.writeable = False
        with self._lock:
            self._cache[idx] = data
            while len(self._cache) > 1 and self._cached_bytes() > self.cache_bytes:
                self._cache.pop(next(iter(self._cache)))
        return data

    def _preprocessed(self, idx):
        data = self._deterministic(idx)
        randomised = self._split_layers()[1]
        if not randomised:
            return dict(data)
        data = {name: np.array(array) for name, array in data.items()}
        interp_orders = self.interp_orders(idx)
        mask = None
        # A randomised layer keeps what randomise() drew until it is called, so
        # sampler threads take turns. (A copy per call would not do: a copy of
        # a seeded layer's random stream draws the same parameters every time.)
        with self._augment_lock:
            for layer in randomised:
                if isinstance(layer, RandomisedLayer):
                    layer.randomise()
                    data = layer(data, interp_orders)
                else:
                    data, mask = layer(data, mask)
        return data

    def interp_orders(self, idx=0):
        """``{field: interpolation order per section}`` of subject ``idx``, as the
        randomised (augmentation) layers use them: label fields are always
        resampled with nearest neighbours (0), other fields with their
        sections' ``interp_order``."""
        return {name: (0,) * len(image.interp_order) if name in self.label_fields
                else tuple(image.interp_order)
                for name, image in self.output_list[idx].items()}

    def _check_labels(self, idx, data):
        """Without label normalisation, labels must lie in 0..num_classes-1."""
        if not self.num_classes:
            return
        normalised = {layer.image_name for layer in self.preprocessors
                      if isinstance(layer, DiscreteLabelNormalisationLayer)}
        for field in self.label_fields:
            if field not in data or field in normalised:
                continue
            labels = np.round(data[field])
            if labels.min() < 0 or labels.max() >= self.num_classes:
                raise UserInputError(
                    'num_classes = {} but the labels have values {:g}..{:g}: raise '
                    'num_classes or set label_normalisation = True.'.format(
                        self.num_classes, labels.min(), labels.max()))
            data[field] = labels

    def _cached_bytes(self):
        return sum(a.nbytes for d in self._cache.values() for a in d.values())

    def get_subject(self, idx):
        """``{field: float32 array [x, y, z, channels]}`` of subject ``idx``."""
        return {name: fold_channels(array).astype(np.float32, copy=False)
                for name, array in self._preprocessed(idx).items()}

    def preload(self):
        """Read subjects now (checks their voxels early) while the cache has room."""
        for idx in range(self.num_subjects):
            self._deterministic(idx)
            with self._lock:
                if self._cached_bytes() >= self.cache_bytes:
                    break
        return self

    def to_original(self, idx, data, interp_order=0, field=None):
        """Network-space array ``[x, y, z, c]`` -> the reference file's voxel grid.

        Undoes the padding layers, then resampling and reorientation.
        """
        for layer in reversed(self.preprocessors):
            if isinstance(layer, PadLayer):
                data, _ = layer.inverse_op(data)
        return self.reference_image(idx, field).to_original(data, interp_order)

    # ------------------------------------------------ shortcut set-up
    def set_preprocessing(self, padding=None, whitening=False, foreground_only=False,
                          label_fields=(), num_classes=None, label_normalisation=False,
                          mapping_file=None, padding_mode='edge', foreground_type='otsu_plus',
                          multimod_foreground_type='and'):
        """niftydrive's shortcut for the usual preprocessing layers.

        Replaces the preprocessing with: volume padding (images with
        ``padding_mode``, other fields with zeros), whitening of ``image``
        (over the ``foreground_type`` mask when ``foreground_only``), label
        normalisation of ``label_fields`` kept in ``mapping_file`` (its values
        are collected from this reader's subjects when the file lacks them),
        and, for labels, the check that they fit ``num_classes``.

        :raises UserInputError: more distinct labels than ``num_classes``
        """
        self.preprocessors = []
        self.label_fields = tuple(f for f in label_fields if f in self.names)
        self.num_classes = int(num_classes) if num_classes else None
        layers = []
        if padding is not None and any(np.atleast_1d(padding)):
            layers.append(PadLayer(('image',), padding, mode=padding_mode))
            others = [name for name in self.names if name != 'image']
            if others:
                layers.append(PadLayer(others, padding, name='pad_zero', mode='constant'))
        if whitening and 'image' in self.names:
            masking = BinaryMaskingLayer(foreground_type, multimod_foreground_type) \
                if foreground_only else None
            layers.append(MeanVarNormalisationLayer('image', masking))
        if label_normalisation:
            layers.extend(DiscreteLabelNormalisationLayer(
                field, self.input_sources[field], mapping_file)
                for field in self.label_fields)
        self.add_preprocessing_layers(layers)
        self.check_num_classes()
        return self

    def check_num_classes(self):
        """Label normalisation: the mapping must not hold more than ``num_classes`` values.

        :raises UserInputError: naming num_classes, the label sections and values
        """
        for layer in self.preprocessors:
            if isinstance(layer, DiscreteLabelNormalisationLayer) and self.num_classes \
                    and layer.is_ready() and len(layer.mapping) > self.num_classes:
                raise UserInputError(
                    'num_classes = {} but the labels ({}) have {} distinct values {}{}: '
                    'raise num_classes in the config, or fix the label file.'.format(
                        self.num_classes, ','.join(layer.modalities), len(layer.mapping),
                        layer.mapping.tolist()[:20], self._rarest_label_files(
                            layer.image_name)))

    def _rarest_label_files(self, field):
        """``'; value 7 only in FILE (subject S)'``: where the label values found
        in the fewest subjects are, the likely culprits of too many classes."""
        owners = {}
        for idx, subject in enumerate(self.output_list):
            for value in np.unique(subject[field].get_data()):
                owners.setdefault(float(value), []).append(idx)
        fewest = min(len(subjects) for subjects in owners.values())
        if fewest * 2 > self.num_subjects:
            return ''   # no outlier: every value is common
        rare = [(value, subjects) for value, subjects in sorted(owners.items())
                if len(subjects) == fewest]
        return ''.join(
            '; value {:g} only in {}'.format(value, ', '.join(
                '{} (subject {})'.format(self.output_list[idx][field].file_path[0],
                                         self.subject_id(idx)) for idx in subjects[:3]))
            for value, subjects in rare[:3]) + ('; ...' if len(rare) > 3 else '')

    @property
    def label_mapping(self):
        """The :class:`LabelMapping` of the first label-normalisation layer (or None)."""
        for layer in self.preprocessors:
            if isinstance(layer, DiscreteLabelNormalisationLayer) and layer.is_ready():
                return LabelMapping(layer.mapping)
        return None
