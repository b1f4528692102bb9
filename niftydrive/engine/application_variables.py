"""Collectors that merge what every tower (device) contributes to the graph.

``OutputsCollector`` gathers tensors an application wants to see: printed on
the console, returned to ``interpret_output`` or written to TensorBoard.
``GradientsCollector`` gathers each tower's gradients and averages them.
"""
import tensorflow.compat.v1 as tf

from niftydrive.utilities.util_common import average_gradients

NETWORK_OUTPUT = 'niftynetout'
CONSOLE = 'niftynetconsole'
TF_SUMMARIES = tf.GraphKeys.SUMMARIES
RESTORABLE = 'NiftyNetObjectsToRestore'


# Summaries are built from the raw ops so that the TensorBoard tag is
# exactly the name the application gave, whatever the enclosing name scope.
def _scalar_summary(name, tensor):
    return tf.raw_ops.ScalarSummary(tags=name, values=tf.cast(tensor, tf.float32))


def _histogram_summary(name, tensor):
    return tf.raw_ops.HistogramSummary(tag=name, values=tensor)


def _image_summary(name, tensor, max_images=3):
    return tf.raw_ops.ImageSummary(tag=name, tensor=tf.cast(tensor, tf.float32),
                                   max_images=max_images)


def _slice_summary(axis):
    """An image summary of the middle slice of a 5-D ``[b, x, y, z, c]`` tensor.

    ``axis`` is the spatial axis (1, 2 or 3) that is cut through.
    """
    def summary(name, tensor):
        tensor = tf.convert_to_tensor(tensor)
        if tensor.shape.ndims == 4:  # [b, x, y, z]: add a channel axis
            tensor = tensor[..., tf.newaxis]
        middle = tf.shape(tensor)[axis] // 2
        image = tf.gather(tensor, middle, axis=axis)
        image = image[..., :1] if image.shape[-1] not in (1, 3, 4) else image
        return _image_summary(name, image)
    return summary


SUPPORTED_SUMMARY = {
    'scalar': _scalar_summary,
    'histogram': _histogram_summary,
    'image': _image_summary,
    'image3_sagittal': _slice_summary(1),
    'image3_coronal': _slice_summary(2),
    'image3_axial': _slice_summary(3),
}


class OutputsCollector(object):
    """Collects tensors from every tower for the console, outputs and summaries.

    A name added without averaging gets a numbered suffix when it repeats
    (``image``, ``image_1``, ...); a name added with
    ``average_over_devices=True`` collects one tensor per device and becomes
    their mean in ``finalise_output_op()``.
    """

    def __init__(self, n_devices=1):
        self.n_devices = max(int(n_devices), 1)
        self.console_vars = {}
        self.output_vars = {}
        self.summary_vars = {}
        self._summary_types = {}
        self._merged_summaries = None

    def _add_to_dict(self, var_dict, var, name, do_averaging):
        # AssertionError as in NiftyNet (raised explicitly: kept under python -O)
        if not isinstance(var, (tf.Tensor, tf.Variable)):
            raise AssertionError('add_to_collection takes one tf.Tensor at a time; "{}" '
                                 'received {!r}'.format(name, var))
        if name is None:
            raise AssertionError('add_to_collection needs a name for {}'.format(var))
        if do_averaging and self.n_devices > 1:
            collected = var_dict.setdefault(name, [])
            if not isinstance(collected, list) or len(collected) >= self.n_devices:
                raise ValueError(
                    'output "{}" is averaged over {} device(s) but was added '
                    'more often (or also without averaging)'.format(
                        name, self.n_devices))
            collected.append(var)
            return name
        new_name, index = name, 0
        while new_name in var_dict:
            index += 1
            new_name = '{}_{}'.format(name, index)
        var_dict[new_name] = var
        return new_name

    def add_to_collection(self, var, name, average_over_devices=False,
                          collection=CONSOLE, summary_type='scalar'):
        """Add ``var`` under ``name`` to ``collection``.

        :param collection: ``CONSOLE``, ``NETWORK_OUTPUT`` or ``TF_SUMMARIES``
        :param summary_type: one of ``SUPPORTED_SUMMARY`` (TF_SUMMARIES only)
        :return: the name the tensor was stored under
        """
        if collection == CONSOLE:
            return self._add_to_dict(self.console_vars, var, name,
                                     average_over_devices)
        if collection == NETWORK_OUTPUT:
            return self._add_to_dict(self.output_vars, var, name,
                                     average_over_devices)
        if collection == TF_SUMMARIES:
            if summary_type not in SUPPORTED_SUMMARY:
                raise ValueError('summary type "{}" of "{}" is not one of {}'.format(
                    summary_type, name, sorted(SUPPORTED_SUMMARY)))
            stored = self._add_to_dict(self.summary_vars, var, name,
                                       average_over_devices)
            self._summary_types[stored] = summary_type
            return stored
        raise ValueError('unknown collection "{}": use CONSOLE, NETWORK_OUTPUT '
                         'or TF_SUMMARIES'.format(collection))

    def variables(self, collection=CONSOLE):
        """The collected tensors: a dict for CONSOLE/NETWORK_OUTPUT; for
        TF_SUMMARIES the merged summary op (``{}`` when there is none)."""
        if collection == CONSOLE:
            return self.console_vars
        if collection == NETWORK_OUTPUT:
            return self.output_vars
        if collection == TF_SUMMARIES:
            return self._merged_summaries if self._merged_summaries is not None else {}
        raise ValueError('unknown collection "{}"'.format(collection))

    @staticmethod
    def _average(var_dict):
        for name, value in var_dict.items():
            if not isinstance(value, list):
                continue
            if len(value) == 1:
                var_dict[name] = tf.identity(value[0], name=name)
            else:
                stacked = tf.stack([tf.cast(v, tf.float32) if v.dtype.is_integer
                                    else v for v in value], axis=0)
                var_dict[name] = tf.reduce_mean(stacked, axis=0, name=name)

    def finalise_output_op(self):
        """Turn per-device lists into means and build the merged summary op."""
        self._average(self.console_vars)
        self._average(self.output_vars)
        self._average(self.summary_vars)
        for name, tensor in self.summary_vars.items():
            tf.add_to_collection(
                TF_SUMMARIES,
                SUPPORTED_SUMMARY[self._summary_types[name]](name, tensor))
        self._merged_summaries = tf.summary.merge_all(key=TF_SUMMARIES)


class GradientsCollector(object):
    """Collects gradients from each tower and averages them.

    Each tower adds what ``optimiser.compute_gradients`` returned, or a list
    of such lists when the application has several optimisers.
    """

    def __init__(self, n_devices=1):
        self.n_devices = max(int(n_devices), 1)
        self._gradients = []
        self._averaged = None

    def add_to_collection(self, gradients):
        """Add one tower's gradients (one call per device)."""
        assert len(self._gradients) < self.n_devices, \
            'gradients were already collected from all {} device(s)'.format(
                self.n_devices)
        self._gradients.append(gradients)
        self._averaged = None

    @property
    def gradients(self):
        """The tower-averaged gradients (built once, on first access)."""
        if not self._gradients:
            return None
        if self._averaged is None:
            # built in the caller's scope (the driver's ``ApplyGradients``),
            # named ``AveOverDevices`` as NiftyNet's
            self._averaged = average_gradients(self._gradients)
        return self._averaged


def global_vars_init_or_restore(var_list=None):
    """An op initialising the global variables.

    Entries of the ``RESTORABLE`` collection, tuples ``(scope_in_graph,
    checkpoint_path, scope_in_checkpoint)``, make the variables of that
    scope start from the checkpoint instead of their random initialisers
    (fine-tuning a part of a network).
    """
    for graph_scope, checkpoint, checkpoint_scope in tf.get_collection(RESTORABLE):
        tf.train.init_from_checkpoint(
            checkpoint,
            {checkpoint_scope.rstrip('/') + '/': graph_scope.rstrip('/') + '/'})
    if var_list is None:
        var_list = tf.global_variables()
    return tf.variables_initializer(var_list, name='init_or_restore')
