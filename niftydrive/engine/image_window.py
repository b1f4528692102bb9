"""The names, shapes and dtypes of the windows a sampler emits: NiftyNet's ``ImageWindow``.

A *window* of an input (``image``, ``label``, ...) is an array cut from a
subject's volume: its first three axes are spatial (``x, y, z``), the
remaining ones are those of the reader's arrays (NiftyNet's readers give
``[x, y, z, time, modality]``). With every window a sampler also emits
``<name>_location`` (see :data:`LOCATION_FORMAT`): an int32 row
``[subject_index, x0, y0, z0, x1, y1, z1]`` giving the window's corners in the
subject's voxel grid, end exclusive. A location row of -1 is the end-of-data
(stopping) signal.

A window size may be *dynamic*: an axis given as 0 or -1 in
``spatial_window_size`` (or not given) takes the full length of each image
along that axis (``None`` in :attr:`ImageWindow.shapes`); such windows are
queued one at a time.

Custom samplers use this class the way NiftyNet's did::

    window = ImageWindow.from_data_reader_properties(
        reader.input_sources, reader.shapes, reader.tf_dtypes, data_param)
    self._create_queue_and_ops(window, enqueue_size=4, dequeue_size=batch_size)
    ...
    yield {window.image_data_placeholder('image'): windows,
           window.coordinates_placeholder('image'): locations}
"""
import numpy as np
import tensorflow.compat.v1 as tf

from niftydrive.utilities.errors import UserInputError

N_SPATIAL = 3
LOCATION_FORMAT = '{}_location'
BUFFER_POSITION_DTYPE = tf.int32
LOCATION_LENGTH = 1 + 2 * N_SPATIAL


class WindowSizeError(UserInputError, TypeError):
    """A window size that is missing or not made of integers.

    A ``TypeError`` as in NiftyNet, and a ``UserInputError`` so that
    ``net_run`` prints it as one line.
    """


class WindowSectionError(UserInputError, KeyError):
    """An input name or section unknown to the window's parameters.

    A ``KeyError`` as in NiftyNet, and a ``UserInputError`` so that
    ``net_run`` prints it as one line.
    """

    def __str__(self):
        return Exception.__str__(self)


def location_name(name):
    """The name of the location entry of an input: ``'image'`` -> ``'image_location'``."""
    return LOCATION_FORMAT.format(name)


def _as_names(names):
    if isinstance(names, str):
        names = (names,)
    try:
        names = tuple(names)
    except TypeError:
        raise TypeError('window names must be a sequence of strings, got {!r}'.format(
            names)) from None
    if not names or not all(isinstance(name, str) for name in names):
        raise TypeError('window names must be a non-empty sequence of strings, got '
                        '{!r}'.format(names))
    return names


def _as_shape(name, shape):
    try:
        return tuple(None if dim is None else int(dim) for dim in shape)
    except (TypeError, ValueError):
        raise TypeError('the window shape of "{}" must be a sequence of integers '
                        '(None for a dynamic axis), got {!r}'.format(name, shape)) from None


class ImageWindow(object):
    """Window names, shapes and TF dtypes, and the placeholders that feed a queue.

    :param names: the input names, e.g. ``('image', 'label')``
    :param shapes: dict name -> shape of one window (``None`` for an axis
        whose length comes from each image)
    :param dtypes: dict name -> TF dtype
    :raises TypeError: names or shapes of the wrong type
    """

    def __init__(self, names, shapes, dtypes):
        self.names = _as_names(names)
        try:
            self.shapes = {name: _as_shape(name, shapes[name]) for name in self.names}
            self.dtypes = {name: tf.as_dtype(dtypes[name]) for name in self.names}
        except KeyError as missing:
            raise WindowSectionError('no window shape or dtype given for input {}'.format(
                missing)) from None
        except TypeError as error:
            if isinstance(shapes, dict) and isinstance(dtypes, dict):
                raise
            raise TypeError('window shapes and dtypes must be dicts keyed by name') from error
        self.n_samples = 1
        self.has_dynamic_shapes = self._check_dynamic_shapes()
        self._placeholders_dict = None

    @property
    def tf_dtypes(self):
        """dict name -> TF dtype (the name later NiftyNet versions used)."""
        return self.dtypes

    @classmethod
    def from_data_reader_properties(cls, source_names, image_shapes, image_dtypes,
                                    data_param):
        """A window for a reader's inputs, sized by the input sections' ``spatial_window_size``.

        :param source_names: dict input name -> its input sections
            (``reader.input_sources``: ``{'image': ('T1', 'T2')}``)
        :param image_shapes: dict input name -> the reader's image shape
            (``reader.shapes``); axes after the spatial ones are copied
        :param image_dtypes: dict input name -> TF dtype (``reader.tf_dtypes``)
        :param data_param: dict section -> namespace with ``spatial_window_size``
        :raises KeyError: a section missing from ``data_param``, or an input
            missing from ``image_shapes``
        :raises TypeError: a missing or non-integer window size
        """
        try:
            items = list(source_names.items())
        except AttributeError:
            raise TypeError('source_names must be a dict input name -> section names, '
                            'got {!r}'.format(source_names)) from None
        shapes = {}
        for name, sections in items:
            spatial = _read_window_sizes(name, sections, data_param)
            try:
                image_shape = image_shapes[name]
            except (KeyError, TypeError):
                raise WindowSectionError('the reader gives no image shape for input "{}" '
                                         '(shapes: {})'.format(name, image_shapes)) from None
            shapes[name] = _complete_partial_window_sizes(spatial, image_shape)
        try:
            dtypes = {name: image_dtypes[name] for name, _ in items}
        except (KeyError, TypeError):
            raise TypeError('image_dtypes must give a TF dtype for every input {}, got '
                            '{!r}'.format([name for name, _ in items], image_dtypes)) from None
        return cls(names=[name for name, _ in items], shapes=shapes, dtypes=dtypes)

    def set_spatial_shape(self, spatial_window):
        """Replace the spatial window size of every input (e.g. a larger inference window).

        :param spatial_window: integers; 0 or -1 make that axis dynamic
        """
        try:
            spatial_window = tuple(int(size) for size in spatial_window)
        except (TypeError, ValueError):
            raise WindowSizeError('a spatial window size must be integers, got {!r}'.format(
                spatial_window)) from None
        self.shapes = {name: _complete_partial_window_sizes(spatial_window, self.shapes[name])
                       for name in self.names}
        self.has_dynamic_shapes = self._check_dynamic_shapes()
        if self._placeholders_dict is not None:
            self._update_placeholders_dict(self.n_samples)

    def placeholders_dict(self, n_samples=1):
        """dict name -> placeholder ``[n_samples] + shape``, plus ``<name>_location`` ones.

        Created on the first call (later calls return the same dict);
        ``n_samples`` is 1 when the window is dynamic.
        """
        if self._placeholders_dict is None:
            self._update_placeholders_dict(n_samples)
        return self._placeholders_dict

    def _update_placeholders_dict(self, n_samples):
        self.n_samples = 1 if self.has_dynamic_shapes else max(int(n_samples), 1)
        placeholders = {}
        for name in self.names:
            placeholders[name] = tf.placeholder(
                dtype=self.dtypes[name], shape=[self.n_samples] + list(self.shapes[name]),
                name=name)
        for name in self.names:
            placeholders[location_name(name)] = tf.placeholder(
                dtype=BUFFER_POSITION_DTYPE, shape=[self.n_samples, LOCATION_LENGTH],
                name=location_name(name))
        self._placeholders_dict = placeholders

    def _placeholder(self, key):
        if self._placeholders_dict is None:
            raise RuntimeError('call placeholders_dict() (or _create_queue_and_ops) before '
                               'asking for the placeholder of "{}"'.format(key))
        try:
            return self._placeholders_dict[key]
        except KeyError:
            raise WindowSectionError('"{}" is not one of the window entries {}'.format(
                key, sorted(self._placeholders_dict))) from None

    def coordinates_placeholder(self, name):
        """The placeholder of ``name``'s location rows (``[n_samples, 7]`` int32)."""
        return self._placeholder(location_name(name))

    def image_data_placeholder(self, name):
        """The placeholder of ``name``'s window data."""
        return self._placeholder(name)

    def _check_dynamic_shapes(self):
        return any(dim is None for shape in self.shapes.values() for dim in shape)

    def match_image_shapes(self, image_shapes):
        """The window shapes with every dynamic axis set from ``image_shapes``.

        :param image_shapes: dict name -> the shape of the current image
        :return: dict name -> fully specified window shape
        """
        if not self.has_dynamic_shapes:
            return self.shapes
        return {name: tuple(win if win is not None else img
                            for win, img in zip(self.shapes[name], image_shapes[name]))
                for name in self.names}

    def spatial_size(self, name=None):
        """The spatial window size (three ints or ``None``s) of ``name`` (default: the first)."""
        return self.shapes[name or self.names[0]][:N_SPATIAL]

    def empty_windows(self, image_shapes=None, n_samples=None):
        """Zero arrays for one enqueue: dict name -> ``[n] + window shape`` (locations too).

        :param image_shapes: the current images' shapes (needed when dynamic)
        """
        shapes = self.match_image_shapes(image_shapes) if self.has_dynamic_shapes \
            else self.shapes
        count = n_samples or self.n_samples
        windows = {}
        for name in self.names:
            windows[name] = np.zeros((count,) + tuple(shapes[name]),
                                     dtype=self.dtypes[name].as_numpy_dtype)
            windows[location_name(name)] = np.zeros(
                (count, LOCATION_LENGTH), dtype=BUFFER_POSITION_DTYPE.as_numpy_dtype)
        return windows


def _read_window_sizes(name, sections, data_param):
    """The one spatial window size of an input's sections (they must agree).

    Sections without a size are ignored; a missing or non-integer size is a
    ``TypeError`` (``WindowSizeError``), a section missing from
    ``data_param`` a ``KeyError`` (``WindowSectionError``).
    """
    if isinstance(sections, str):
        sections = (sections,)
    sizes = []
    for section in sections:
        try:
            param = data_param[section]
        except (KeyError, TypeError):
            raise WindowSectionError(
                'input "{}" uses section [{}], which is not among the input sections {}'
                .format(name, section, sorted(data_param or ()))) from None
        size = getattr(param, 'spatial_window_size', None)
        if isinstance(param, dict):
            size = param.get('spatial_window_size')
        if size is None or size == () or size == []:
            continue
        if not isinstance(size, (tuple, list)):
            size = (size,)
        try:
            sizes.append(tuple(int(s) for s in size))
        except (TypeError, ValueError):
            raise WindowSizeError('[{}] spatial_window_size must be integers, got {!r}'.format(
                section, size)) from None
    if not sizes:
        raise WindowSizeError(
            'spatial_window_size is not set for input "{}": give it in the input section(s) '
            '[{}], e.g. spatial_window_size = (32, 32, 32)'.format(name, '], ['.join(sections)))
    if len(set(sizes)) > 1:
        raise UserInputError('input "{}" combines sections with different '
                             'spatial_window_size: {}'.format(
                                 name, ', '.join('[{}] {}'.format(s, z)
                                                 for s, z in zip(sections, sizes))))
    return sizes[0]


def _complete_partial_window_sizes(win_size, img_size):
    """A window shape with as many axes as ``img_size``.

    Missing spatial axes are dynamic (``None``), axes after the spatial ones
    are copied from the image, and 0 or -1 make an axis dynamic.
    """
    img_ndims = len(img_size)
    size = list(win_size)[:img_ndims]
    size += [-1] * (min(N_SPATIAL, img_ndims) - len(size))
    size += list(img_size[len(size):])
    return tuple(s if s is not None and s > 0 else None for s in size)


def spatial_window_size_of(window, image_shape=None):
    """Three spatial window lengths (dynamic axes from ``image_shape``)."""
    size = list(window[:N_SPATIAL])
    for axis, length in enumerate(size):
        if length is None:
            size[axis] = image_shape[axis] if image_shape is not None else 1
    return tuple(int(s) for s in size + [1] * (N_SPATIAL - len(size)))


def crop_window(volume, start, size):
    """``volume[start:start + size]`` along the spatial axes; outside the volume is zero."""
    start = np.asarray(start, dtype=int)
    size = np.asarray(size, dtype=int)
    shape = np.asarray(volume.shape[:N_SPATIAL])
    lo = np.maximum(start, 0)
    hi = np.minimum(start + size, shape)
    if np.all(lo == start) and np.all(hi == start + size):
        return volume[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
    window = np.zeros(tuple(size) + volume.shape[N_SPATIAL:], dtype=volume.dtype)
    if np.all(hi > lo):
        dst = tuple(slice(l - s, h - s) for l, h, s in zip(lo, hi, start))
        window[dst] = volume[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
    return window


def crop_windows(data, coordinates, window_shapes):
    """The windows at ``coordinates`` of each input, ready to enqueue.

    :param data: dict name -> image array (spatial axes first)
    :param coordinates: dict name -> int rows ``[n, 7]`` (subject index,
        start and end corners); windows reaching outside the image are
        zero-padded
    :param window_shapes: dict name -> fully specified window shape
    :return: dict name -> ``[n] + window shape`` and ``<name>_location`` -> rows
    """
    output = {}
    for name, rows in coordinates.items():
        rows = np.asarray(rows, dtype=BUFFER_POSITION_DTYPE.as_numpy_dtype)
        spatial = spatial_window_size_of(window_shapes[name])
        windows = [crop_window(data[name], row[1:1 + N_SPATIAL], spatial) for row in rows]
        output[name] = np.stack(windows).reshape((len(rows),) + tuple(window_shapes[name]))
        output[location_name(name)] = rows
    return output
