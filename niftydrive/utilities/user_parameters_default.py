# -*- coding: utf-8 -*-
"""niftydrive's configuration parameters: names, types, defaults and help.

Names follow NiftyNet's, so NiftyNet configuration files read unchanged.
Some parameters are declared because NiftyNet configs use them, although no
niftydrive component reads them yet (e.g. some pre-processing); their
help text says so.  Each section is an ordered dict ``key -> Param``.
"""
from collections import OrderedDict

from niftydrive.utilities.user_parameters_helper import (
    NUMERIC_PARSERS, TYPE_NAMES, Range, float_array, int_array,
    spatial_atleast3d, spatialnumarray, str2boolean, str_array,
    to_checkpoint_iter, to_float, to_int, to_str)

SYSTEM_SECTIONS = ('SYSTEM', 'NETWORK', 'TRAINING', 'INFERENCE', 'EVALUATION')
SUPPORTED_ACTIONS = ('train', 'inference', 'evaluation')

NOT_SUPPORTED_YET = ' [NiftyNet key not supported by niftydrive yet: a value ' \
    'other than the default is refused]'

# Ranges shared by several keys.
AT_LEAST_0 = Range(0)
AT_LEAST_1 = Range(1)
POSITIVE = Range(0, low_open=True)
FRACTION = Range(0, 1)
# Voxels along one axis of a window or padding: generous for any scanner.
MAX_VOXELS_PER_AXIS = 65535


# Names users bring from other tools, mapped to ours: suggested before any
# spelling-based guess ("did you mean `lr`?" for `learning_rate`).
KEY_ALIASES = {
    'learning_rate': 'lr', 'learningrate': 'lr', 'optimizer': 'optimiser',
    'iterations': 'max_iter', 'num_iterations': 'max_iter',
    'n_iterations': 'max_iter', 'max_iterations': 'max_iter',
    'num_steps': 'max_iter', 'steps': 'max_iter',
    'batchsize': 'batch_size', 'weight_decay': 'decay',
    'checkpoint_dir': 'model_dir', 'output_dir': 'model_dir',
    'num_workers': 'num_threads', 'gpus': 'num_gpus', 'n_gpus': 'num_gpus',
    'loss': 'loss_type', 'network': 'name', 'net_name': 'name',
    'resume': 'starting_iter', 'checkpoint_every_n': 'save_every_n',
}


class Param(object):
    """One configuration key: its parser, default value and help text.

    ``path`` is True for file or folder names: a relative path written in a
    config file resolves against the config file's folder (a relative path
    given on the command line, against the current directory).  ``choices``
    limits the accepted values; ``check``, a ``Range``, bounds a numeric
    value (every item of a tuple).  Numeric keys without a ``check`` still
    refuse ``inf``/``nan`` and integers beyond 32 bits.  ``supported=False``
    declares a NiftyNet key niftydrive does not implement yet: NiftyNet's
    configs that leave it at its default read unchanged, any other value is
    refused (never parsed and ignored).
    """

    def __init__(self, name, parse, default, help_text, path=False,
                 choices=None, check=None, supported=True):
        self.name = name
        self.parse = parse
        self.default = default
        self.supported = supported
        self.help = help_text + ('' if supported else NOT_SUPPORTED_YET)
        self.path = path
        self.choices = choices
        self.declared_check = check
        self.check = check if check is not None or parse not in \
            NUMERIC_PARSERS else Range()

    @property
    def type_name(self):
        """A short type description: INT, FLOAT, BOOL, STR, INT_TUPLE..."""
        return TYPE_NAMES.get(self.parse, 'VALUE')

    def __repr__(self):
        return 'Param({!r}, {}, default={!r})'.format(
            self.name, self.type_name, self.default)


def make_section(*params):
    """An ordered ``name -> Param`` dict from ``Param`` objects."""
    return OrderedDict((param.name, param) for param in params)


SYSTEM = make_section(
    Param('cuda_devices', to_str, '',
          'Set CUDA_VISIBLE_DEVICES, e.g. "0,1"; empty keeps the system '
          'default'),
    Param('num_threads', to_int, 2,
          'Number of threads filling the input queues (training)',
          check=Range(1, 256)),
    Param('num_gpus', to_int, 1,
          'Number of training towers (GPUs; on a machine without GPUs the '
          'towers run on CPU devices)',
          check=Range(0, 64)),
    Param('sampler_processes', to_int, 0,
          'Training samplers run in this many worker processes (each seeded '
          'differently; windows reach the queue through one thread) instead '
          'of num_threads threads: for augmentation-heavy pipelines, whose '
          'numpy work holds the GIL; 0: threads',
          check=Range(0, 64)),
    Param('model_dir', to_str, '',
          'Folder for checkpoints (models/), TensorBoard logs (logs/), '
          'settings and log files; empty: <config folder>/model',
          path=True),
    Param('dataset_split_file', to_str, '',
          'CSV file assigning subjects to Training/Validation/Inference; '
          'empty: <model_dir>/dataset_split.csv', path=True),
    Param('event_handler', str_array, (),
          'The run\'s event handlers, in the order they receive each signal: '
          'short names (model_restorer, sampler_threading, apply_gradients, '
          'output_interpreter, nan_guard, console_logger, '
          'tensorboard_logger, model_saver, best_model_saver, early_stopper) '
          'or dotted paths of handler classes; empty: all of these'),
    Param('console_every_n', to_int, 0,
          'Log a training line every n iterations (and the first and last), '
          'with iteration/total, steps/s, samples/s, elapsed time and ETA; '
          'validation: one line per round (every iteration when n = 1); '
          '0: n such that a run logs about 200 training lines. A terminal '
          'also gets a live progress bar', check=AT_LEAST_0),
    Param('random_seed', to_int, -1,
          'Seed of Python\'s and numpy\'s generators, TensorFlow\'s graph '
          'and every sampler thread (the queues then keep windows in '
          'order): two runs with the same seed and num_threads = 1 compute '
          'the same losses; < 0: not seeded', check=Range(-1)),
    Param('iteration_generator', to_str, 'iteration_generator',
          'The iteration generator class: iteration_generator (training '
          'with interleaved validation, or inference) or a dotted path'),
    Param('stall_warning_seconds', to_float, 60.0,
          'Warn when an iteration has waited this many seconds for its '
          'input batch (the input pipeline is stalled), and again every as '
          'many seconds until it arrives; <= 0: never'),
    Param('distributed_mode', to_str, 'async',
          'Training on a cluster (cluster_spec or TF_CONFIG): async (each '
          'worker applies its own updates) or sync (SyncReplicasOptimizer: '
          'every step aggregates the gradients of all workers)',
          choices=('async', 'sync')),
    Param('cluster_spec', to_str, '',
          'The TensorFlow cluster as JSON, as TF_CONFIG\'s "cluster": '
          '{"ps": ["host0:2222"], "worker": ["host1:2222", "host2:2222"]} '
          '(worker 0 is the chief, the only process writing files); empty: '
          'TF_CONFIG, or one process'),
    Param('job_name', to_str, '',
          'This process\'s job in the cluster: ps or worker; empty: '
          'TF_CONFIG\'s task type', choices=('', 'ps', 'worker')),
    Param('task_index', to_int, -1,
          'This process\'s index in its job; -1: TF_CONFIG\'s task index (0 '
          'without one)', check=Range(-1, 1024)),
    Param('local_workers', to_int, 0,
          'net_run train on one machine as a cluster: 1 parameter server and '
          'this many workers as subprocesses on loopback ports (signals are '
          'forwarded); 0: one process', check=Range(0, 64)),
)

NETWORK = make_section(
    Param('name', to_str, '',
          'The network: a short name (e.g. toynet, highres3dnet, unet) or a '
          'dotted import path of a user network class'),
    Param('activation_function', to_str, 'relu',
          'Activation function of the network layers'),
    Param('batch_size', to_int, 2, 'Number of windows per batch (per tower)',
          check=AT_LEAST_1),
    Param('smaller_final_batch_mode', to_str, 'pad',
          'How a final incomplete batch is handled: pad, drop or dynamic',
          choices=('pad', 'drop', 'dynamic'), supported=False),
    Param('decay', to_float, 0.0, '[Training only] Weight decay factor',
          check=AT_LEAST_0),
    Param('reg_type', to_str, 'L2', '[Training only] Regulariser type'),
    Param('volume_padding_size', spatialnumarray, (0, 0, 0),
          'Padding added around each volume (one value: all dimensions)',
          check=Range(0, MAX_VOXELS_PER_AXIS)),
    Param('volume_padding_mode', to_str, 'minimum',
          'numpy.pad mode used for volume padding'),
    Param('window_sampling', to_str, 'uniform',
          'How training windows are sampled: uniform (anywhere), weighted '
          '(centres drawn in proportion to the application\'s sampler '
          'input), balanced (each class of the sampler input, default the '
          'label, equally often at the centre), resize (the whole image '
          'resized to the window; inference then resizes too); patch is '
          'not supported yet',
          choices=('uniform', 'resize', 'balanced', 'weighted', 'patch')),
    Param('queue_length', to_int, 5,
          'Capacity (in windows) of the input buffer queue',
          check=AT_LEAST_1),
    Param('multimod_foreground_type', to_str, 'and',
          'How the foreground masks of several modalities combine (with '
          'normalise_foreground_only): and (intersection), or (union), multi '
          '(each modality its own mask)', choices=('and', 'or', 'multi')),
    Param('histogram_ref_file', to_str, '',
          'File of the histogram normalisation landmarks and the label '
          'normalisation values (NiftyNet\'s standardisation_models.txt '
          'format): written by training when missing, read at inference; '
          'empty: <model_dir>/histogram_ref_file.txt', path=True),
    Param('norm_type', to_str, 'percentile',
          'Landmarks of histogram normalisation: percentile (11), quartile '
          '(5) or median (3)', choices=('percentile', 'quartile', 'median')),
    Param('cutoff', float_array, (0.01, 0.99),
          'Lowest and highest landmark percentiles (fractions) of histogram '
          'normalisation',
          check=FRACTION),
    Param('foreground_type', to_str, 'otsu_plus',
          'Foreground mask used by normalisation when '
          'normalise_foreground_only: otsu_plus/otsu_minus (above/below '
          'Otsu\'s threshold), threshold_plus/threshold_minus (above/below '
          '0), mean_plus (above the mean)',
          choices=('otsu_plus', 'otsu_minus', 'threshold_plus',
                   'threshold_minus', 'mean_plus', 'thresh_plus',
                   'thresh_minus')),
    Param('normalisation', str2boolean, False,
          'Histogram normalisation of the images: landmarks trained on the '
          'training subjects (saved to histogram_ref_file), applied before '
          'whitening at training and inference'),
    Param('rgb_normalisation', str2boolean, False,
          'Apply RGB histogram equalisation', supported=False),
    Param('whitening', str2boolean, False,
          'Whiten each image (zero mean, unit variance per modality; over '
          'the foreground when normalise_foreground_only)'),
    Param('normalise_foreground_only', str2boolean, False,
          'Compute the normalisation (histogram landmarks, whitening mean '
          'and variance) over the foreground_type mask only'),
    Param('weight_initializer', to_str, 'he_normal',
          'Initialiser of weight parameters'),
    Param('bias_initializer', to_str, 'zeros',
          'Initialiser of bias parameters'),
    Param('keep_prob', to_float, 1.0,
          'Dropout keep probability, for networks that support dropout',
          check=Range(0, 1, low_open=True), supported=False),
)

TRAINING = make_section(
    Param('optimiser', to_str, 'adam',
          'Optimiser: adam, gradientdescent, momentum, nesterov, adagrad, '
          'rmsprop'),
    Param('sample_per_volume', to_int, 1,
          'Number of windows sampled from each image in turn',
          check=AT_LEAST_1),
    Param('rotation_angle', float_array, (),
          'Augmentation (training subjects only): rotate each subject about '
          'its centre by angles drawn uniformly from (min, max) degrees about '
          'each of the three axes, e.g. (-10.0, 10.0); empty: no rotation '
          '(unless rotation_angle_x/y/z are set)'),
    Param('rotation_angle_x', float_array, (),
          'Augmentation: (min, max) degrees of rotation about the first '
          'array axis (x); used when rotation_angle is empty'),
    Param('rotation_angle_y', float_array, (),
          'Augmentation: (min, max) degrees of rotation about the second '
          'array axis (y); used when rotation_angle is empty'),
    Param('rotation_angle_z', float_array, (),
          'Augmentation: (min, max) degrees of rotation about the third '
          'array axis (z); used when rotation_angle is empty'),
    Param('scaling_percentage', float_array, (),
          'Augmentation: zoom each training subject along each axis by '
          '1 + p/100, p drawn uniformly from (min, max), e.g. (-10.0, 10.0); '
          'the volume changes size; empty: no scaling'),
    Param('isotropic_scaling', str2boolean, False,
          'Augmentation: draw one scaling_percentage for all axes'),
    Param('antialiasing', str2boolean, True,
          'Augmentation: Gaussian-smooth images (not labels) before a '
          'scaling that shrinks every axis'),
    Param('bias_field_range', float_array, (),
          'Augmentation: multiply the training image by exp(P), P a '
          'polynomial of degree bf_order in the voxel coordinates (-1..1) '
          'with coefficients drawn uniformly from (min, max), e.g. '
          '(-0.5, 0.5); empty: no bias field'),
    Param('bf_order', to_int, 3,
          'Augmentation: maximum degree of the bias field polynomial',
          check=AT_LEAST_0),
    Param('random_flipping_axes', int_array, (),
          'Augmentation: spatial axes (0, 1, 2) each flipped with '
          'probability 0.5, e.g. (0, 1); empty or -1: no flipping'),
    Param('do_elastic_deformation', str2boolean, False,
          'Augmentation: warp training subjects with a random cubic '
          'B-spline displacement field'),
    Param('num_ctrl_points', to_int, 4,
          'Elastic deformation: mesh intervals of the B-spline per axis '
          '(fewer than 2 count as 2)', check=AT_LEAST_1),
    Param('deformation_sigma', to_float, 15.0,
          'Elastic deformation: standard deviation, in voxels, of the '
          'B-spline coefficients (below 1 counts as 1)', check=AT_LEAST_0),
    Param('proportion_to_deform', to_float, 0.5,
          'Elastic deformation: fraction (0..1) of subject reads deformed',
          check=FRACTION),
    Param('lr', to_float, 0.01, 'Learning rate (the peak rate under '
          'lr_schedule)',
          check=POSITIVE),
    Param('lr_schedule', to_str, 'constant',
          'Learning rate over the iterations (n = updates so far): constant; '
          'step (lr * lr_decay_rate ^ floor(n / lr_decay_steps)); exponential '
          '(lr * lr_decay_rate ^ (n / lr_decay_steps)); cosine (from lr to 0 '
          'over lr_decay_steps, or max_iter when 0); warmup (constant after '
          'lr_warmup_steps). Shown on the console and in TensorBoard',
          choices=('constant', 'step', 'exponential', 'cosine', 'warmup')),
    Param('lr_decay_steps', to_int, 0,
          'Iterations per decay of the step/exponential schedules; the span '
          'of cosine (0: max_iter)', check=AT_LEAST_0),
    Param('lr_decay_rate', to_float, 0.1,
          'Factor per lr_decay_steps of the step/exponential schedules',
          check=POSITIVE),
    Param('lr_warmup_steps', to_int, 0,
          'Linear warm-up over the first n iterations (from lr/n to lr), '
          'before any lr_schedule; 0: none', check=AT_LEAST_0),
    Param('gradient_clipping', to_float, 0.0,
          'Clip each optimiser\'s gradients to this global norm; 0: no '
          'clipping', check=AT_LEAST_0),
    Param('loss_type', to_str, 'Dice', 'Loss function name'),
    Param('starting_iter', to_int, 0,
          'Resume from this iteration: 0 starts afresh, N restores '
          'model.ckpt-N, -1 restores the latest checkpoint',
          check=Range(-1)),
    Param('save_every_n', to_int, 500,
          'Save a checkpoint every n iterations (<= 0: only at the end)'),
    Param('tensorboard_every_n', to_int, 20,
          'Write TensorBoard summaries every n iterations (<= 0: never)'),
    Param('overwrite_checkpoints', str2boolean, False,
          'Training from scratch (starting_iter = 0) in a model_dir that '
          'holds checkpoints deletes them (False: refuse, with a message)'),
    Param('nan_guard', str2boolean, True,
          'Stop training with an error when the loss or another console '
          'value is NaN or infinite, and never save non-finite weights '
          '(False: train on)'),
    Param('max_iter', to_int, 10000, 'Last training iteration',
          check=AT_LEAST_0),
    Param('max_checkpoints', to_int, 100,
          'Number of recent checkpoints kept (1 keeps 2, as in NiftyNet)',
          check=AT_LEAST_1),
    Param('validation_every_n', to_int, -1,
          'Run validation after every n training iterations (<= 0: never); '
          'needs a validation split (exclude_fraction_for_validation > 0 or '
          'a dataset_split_file with Validation rows)'),
    Param('validation_max_iter', to_int, 1,
          'Number of validation iterations each time validation runs',
          check=AT_LEAST_1),
    Param('exclude_fraction_for_validation', to_float, 0.0,
          'Fraction of subjects held out for validation (new split only)',
          check=Range(0, 1, high_open=True)),
    Param('exclude_fraction_for_inference', to_float, 0.0,
          'Fraction of subjects held out for inference (new split only)',
          check=Range(0, 1, high_open=True)),
    Param('vars_to_restore', to_str, '',
          'Fine-tuning: regular expression (searched in variable names); '
          'only matching variables are read from the checkpoint '
          '(model.ckpt-<starting_iter>, or restore_from), the others are '
          'initialised afresh; empty: all'),
    Param('restore_from', to_str, '',
          'Fine-tuning from another run: a checkpoint prefix (e.g. '
          '../pretrained/models/model.ckpt-1000) or a model folder (its '
          'latest checkpoint) read when starting_iter = 0 (the variables '
          'vars_to_restore matches; empty: all it holds); empty: none',
          path=True),
    Param('vars_to_freeze', to_str, '',
          'Regular expression (searched in variable names): matching '
          'variables get no gradient update in training'),
    Param('validation_metric', to_str, '',
          'Console value judging the model after each validation round '
          '(its mean over the round\'s validation_max_iter iterations), for '
          'the best model and early stopping; empty: total_loss or loss'),
    Param('validation_metric_goal', to_str, 'min',
          'Whether a lower (min) or higher (max) validation_metric is better',
          choices=('min', 'max')),
    Param('patience', to_int, 0,
          'Early stopping: the number of validation rounds '
          'early_stopping_mode judges (the last one against those before '
          'it); 0: no early stopping (NiftyNet\'s default 100 applied only '
          'with its early_stopper handler listed)',
          check=AT_LEAST_0),
    Param('early_stopping_mode', to_str, 'mean',
          'Early stopping criterion over the last patience rounds: mean, '
          'robust_mean, median (last above the mean/robust mean/median of '
          'the others), generalisation_loss ((last-min)/(max-min) > 0.2), '
          'median_smoothing (the median-smoothed curve mostly rising), '
          'validation_up (rising in each of 5 strips)',
          choices=('mean', 'robust_mean', 'median', 'generalisation_loss',
                   'median_smoothing', 'validation_up')),
)

INFERENCE = make_section(
    Param('spatial_window_size', spatial_atleast3d, (),
          'Window size for inference (padded with 1s to 3D; a 0 keeps that '
          'axis of the input sections\' size); empty: the input sections\' '
          'spatial_window_size',
          check=Range(0, MAX_VOXELS_PER_AXIS)),
    Param('inference_iter', to_checkpoint_iter, -1,
          'Checkpoint iteration to restore for inference (-1: the latest; '
          'best or -2: the best model kept by validation in models/best)',
          check=Range(-2)),
    Param('dataset_to_infer', to_str, '',
          'Subjects to run inference on: Training, Validation, Inference, '
          'All; empty: the inference split if there is one, else all',
          choices=('', 'Training', 'Validation', 'Inference', 'All')),
    Param('save_seg_dir', to_str, '',
          'Folder for inference outputs; empty: <model_dir>/inference',
          path=True),
    Param('output_postfix', to_str, '_niftynet_out',
          'Suffix of output file names'),
    Param('output_interp_order', to_int, 0,
          'Interpolation order used to resample outputs',
          check=Range(0, 5)),
    Param('border', spatialnumarray, (0, 0, 0),
          'Width cropped from each side of every output window (one value: '
          'all dimensions)',
          check=Range(0, MAX_VOXELS_PER_AXIS)),
    Param('fill_constant', to_float, 0.0,
          'Value filling output voxels no window covered',
          check=Range(finite=False)),
)

EVALUATION = make_section(
    Param('evaluations', to_str, '',
          'Comma-separated metrics `net_run evaluation` writes to '
          '<save_csv_dir>/evaluation.csv, one row per subject and unit '
          '(segmentation: [SEGMENTATION] evaluation_units). Segmentation: '
          'dice, jaccard (intersection_over_union, IoU), sensitivity '
          '(recall), specificity, positive_predictive_values (precision, '
          'ppv), negative_predictive_values (npv), accuracy, '
          'false_positive_rate (fpr), false_negative_rate (fnr), vol_diff, '
          'tp, fp, tn, fn, n_pos_ref, n_neg_ref, n_pos_seg, n_neg_seg, '
          'n_intersection, n_union, informedness, markedness, '
          'average_distance (ave_dist), hausdorff_distance (haus_dist), '
          'hausdorff95_distance (hausdorff95) (distances in mm, from the '
          'voxel size), connected_elements (TPc, FPc, FNc component '
          'counts); regression: mse, rmse, mae; classification (one row over '
          'all subjects): accuracy, confusion_matrix, roc_auc (two classes); '
          'or the dotted path of a '
          'BaseEvaluation subclass. Names in any case. Empty masks give no '
          'NaN: ratios take their perfect value, vol_diff inf for an empty '
          'reference, distances to an empty mask the image diagonal. '
          'Empty: dice, jaccard, average_distance (segmentation), mse, '
          'rmse, mae (regression), accuracy, confusion_matrix and, for two '
          'classes, roc_auc (classification)'),
    Param('save_csv_dir', to_str, '',
          'Folder of the evaluation CSV (evaluation.csv); empty: '
          '<model_dir>/evaluation',
          path=True),
)

SUPPORTED_DEFAULT_SECTIONS = OrderedDict((
    ('SYSTEM', SYSTEM),
    ('NETWORK', NETWORK),
    ('TRAINING', TRAINING),
    ('INFERENCE', INFERENCE),
    ('EVALUATION', EVALUATION),
))

# Keys of every section that is not a system or application section: one
# input data source each (the section name is the source's name).
INPUT_DATA = make_section(
    Param('csv_file', to_str, '',
          'CSV file listing this source\'s images (subject_id,path per row)',
          path=True),
    Param('path_to_search', to_str, '',
          'Folder(s), comma-separated, searched for image files', path=True),
    Param('filename_contains', str_array, (),
          'Keywords every matched file name contains'),
    Param('filename_not_contains', str_array, (),
          'Keywords excluding file names'),
    Param('filename_removefromid', to_str, '',
          'Regular expression removed from file names to form subject ids'),
    Param('interp_order', to_int, 3,
          'Interpolation order used when resampling this source (0-3)',
          choices=(0, 1, 2, 3)),
    Param('pixdim', float_array, (),
          'Voxel size to resample to, e.g. (1.0, 1.0, 1.0); empty: keep',
          check=POSITIVE),
    Param('axcodes', str_array, (),
          'Orientation to reorient to, e.g. (A, R, S); empty: keep'),
    Param('spatial_window_size', spatial_atleast3d, (),
          'Size of the windows sampled from this source (padded with 1s to '
          '3D)',
          check=Range(1, MAX_VOXELS_PER_AXIS)),
    Param('loader', to_str, '',
          'Image loader: nibabel, opencv, skimage, pillow, simpleitk, numpy '
          'or dummy; empty: try the installed ones in that order'),
    Param('csv_data_file', to_str, '',
          'CSV of per-subject values (labels, features)', path=True,
          supported=False),
    Param('to_ohe', str2boolean, False,
          'One-hot encode csv_data_file values', supported=False),
)

# Keys NiftyNet configs put in a section that is not their home.  They are
# accepted there with a warning and moved: (section, key) -> home section
# ('APPLICATION' stands for the application's own section).
LEGACY_LOCATIONS = {
    ('SYSTEM', 'queue_length'): 'NETWORK',
    ('INFERENCE', 'output_prob'): 'APPLICATION',
}


# --------------------------------------------------------------------------
# NiftyNet's argparse helpers, generated from the declarations above (so a
# key declared there is an argument here, with the same parser, default,
# choices and help text).
def add_section_args(parser, section):
    """Add one ``--<key>`` argument per ``Param`` of ``section`` (a
    ``name -> Param`` dict) to the argparse ``parser``; returns the parser."""
    for param in section.values():
        kwargs = dict(type=param.parse, default=param.default, metavar='',
                      help='{} (default: {!r})'.format(param.help, param.default)
                      .replace('%', '%%'))
        if param.choices is not None:
            kwargs['choices'] = list(param.choices)
        parser.add_argument('--' + param.name, **kwargs)
    return parser


def add_application_args(parser):
    """The ``[SYSTEM]`` keys as argparse arguments (NiftyNet's name)."""
    return add_section_args(parser, SYSTEM)


def add_network_args(parser):
    """The ``[NETWORK]`` keys as argparse arguments."""
    return add_section_args(parser, NETWORK)


def add_training_args(parser):
    """The ``[TRAINING]`` keys as argparse arguments."""
    return add_section_args(parser, TRAINING)


def add_inference_args(parser):
    """The ``[INFERENCE]`` keys as argparse arguments."""
    return add_section_args(parser, INFERENCE)


def add_evaluation_args(parser):
    """The ``[EVALUATION]`` keys as argparse arguments."""
    return add_section_args(parser, EVALUATION)


def add_input_data_args(parser):
    """The keys of an input data section as argparse arguments."""
    return add_section_args(parser, INPUT_DATA)


#: section name -> its ``add_*_args`` function (NiftyNet's
#: ``SUPPORTED_DEFAULT_SECTIONS`` held these; ours holds the declarations)
SECTION_ARG_ADDERS = OrderedDict((
    ('SYSTEM', add_application_args),
    ('NETWORK', add_network_args),
    ('TRAINING', add_training_args),
    ('INFERENCE', add_inference_args),
    ('EVALUATION', add_evaluation_args),
))
