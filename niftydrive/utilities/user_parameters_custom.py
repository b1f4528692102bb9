# -*- coding: utf-8 -*-
"""Parameters of the applications' own configuration sections.

An application declares ``REQUIRED_CONFIG_SECTION`` (e.g. ``SEGMENTATION``);
its section's keys are declared here.  NiftyNet's application sections are
all declared, so NiftyNet configs parse even for applications niftydrive
does not have yet.  ``[CUSTOM]`` is the section of the toy application and
of user applications: for the toy application only its declared keys are
accepted (a misspelt key gets a did-you-mean error); for a user application
(a dotted import path) any other key too, its value parsed with the generic
literal syntax.
"""
from collections import OrderedDict

from niftydrive.utilities.user_parameters_default import (
    AT_LEAST_0, AT_LEAST_1, FRACTION, Param, make_section)
from niftydrive.utilities.user_parameters_helper import (
    Range, parse_literal, str2boolean, str_array, to_float, to_int, to_str)

# application short name -> its REQUIRED_CONFIG_SECTION
APP_SECTIONS = OrderedDict((
    ('net_segment', 'SEGMENTATION'),
    ('net_regress', 'REGRESSION'),
    ('net_gan', 'GAN'),
    ('net_autoencoder', 'AUTOENCODER'),
    ('net_classify', 'CLASSIFICATION'),
    ('net_reg', 'REGISTRATION'),
    ('toy', 'CUSTOM'),
))

# -1: not set.  More classes than this is a typo, not a segmentation.
MAX_CLASSES = 10000
# The toy GAN learns short vectors; longer ones than this are a typo.
MAX_VECTOR_SIZE = 100000


def _input_names(name, what):
    return Param(name, str_array, (),
                 'Input section(s) forming the {}, e.g. T1,T2'.format(what))


SEGMENTATION = make_section(
    _input_names('image', 'image (several: one channel each)'),
    _input_names('label', 'label map'),
    _input_names('weight', 'voxel-wise loss weights'),
    _input_names('inferred', 'inferred output (evaluation)'),
    _input_names('sampler', 'sampling weight/frequency map'),
    Param('num_classes', to_int, -1, 'Number of segmentation classes',
          check=Range(-1, MAX_CLASSES)),
    Param('output_prob', str2boolean, False,
          'Inference writes class probabilities instead of labels'),
    Param('label_normalisation', str2boolean, False,
          'Map label values to 0..num_classes-1 (mapping saved in model_dir)'),
    Param('min_sampling_ratio', to_float, 0.0,
          'Minimum fraction of a window covered by each label '
          '(balanced/weighted sampling)',
          check=FRACTION, supported=False),
    Param('min_numb_labels', to_int, 1,
          'Minimum number of labels a sampled window contains',
          check=AT_LEAST_1, supported=False),
    Param('rand_samples', to_int, 0,
          'Number of windows sampled at random positions',
          check=AT_LEAST_0, supported=False),
    Param('evaluation_units', to_str, 'foreground',
          'What each evaluation row measures, comma-separated: foreground '
          '(each non-zero label), label (each label, background included), '
          'cc (each connected component of the reference foreground with the '
          'segmentation components overlapping it)'),
)

REGRESSION = make_section(
    _input_names('image', 'image'),
    _input_names('output', 'regression target'),
    _input_names('weight', 'voxel-wise loss weights'),
    _input_names('sampler', 'sampling weight map'),
    _input_names('inferred', 'inferred output (evaluation)'),
    Param('loss_border', to_int, 0,
          'Border width excluded from the loss',
          check=AT_LEAST_0),
    Param('error_map', str2boolean, False,
          'Inference writes the error map'),
)

GAN = make_section(
    _input_names('image', 'real images'),
    _input_names('conditioning', 'conditioning inputs'),
    Param('noise_size', to_int, 100, 'Length of the generator noise vector',
          check=AT_LEAST_1),
    Param('n_interpolations', to_int, 10,
          'Number of interpolation steps in inference',
          check=AT_LEAST_1),
)

AUTOENCODER = make_section(
    _input_names('image', 'image'),
    _input_names('feature', 'encoded features'),
    Param('inference_type', to_str, 'encode',
          'encode, encode-decode, sample or linear_interpolation',
          choices=('encode', 'encode-decode', 'sample',
                   'linear_interpolation')),
    Param('noise_stddev', to_float, 1.0,
          'Noise standard deviation (inference_type = sample)',
          check=AT_LEAST_0),
    Param('n_interpolations', to_int, 10,
          'Interpolation steps (inference_type = linear_interpolation)',
          check=AT_LEAST_1),
)

CLASSIFICATION = make_section(
    _input_names('image', 'image'),
    _input_names('label', 'class label'),
    _input_names('sampler', 'sampling map'),
    _input_names('inferred', 'inferred output (evaluation)'),
    Param('num_classes', to_int, -1, 'Number of classes',
          check=Range(-1, MAX_CLASSES)),
    Param('output_prob', str2boolean, False,
          'Inference writes class probabilities'),
    Param('label_normalisation', str2boolean, False,
          'Map label values to 0..num_classes-1'),
)

def _registration_input(name, what):
    return Param(name, str_array, (), 'The input section of the {}'.format(what))


REGISTRATION = make_section(
    _registration_input('fixed_image', 'fixed images (each subject\'s moving '
                        'image is registered to its fixed image)'),
    _registration_input('fixed_label', 'fixed labels (training)'),
    _registration_input('moving_image', 'moving images'),
    _registration_input('moving_label', 'moving labels (training; at inference '
                        'warped too when set)'),
    Param('label_normalisation', str2boolean, False,
          'Map label values to 0..n-1 (NiftyNet parsed it for registration '
          'but never used it)', supported=False),
)

CUSTOM = make_section(
    Param('name', to_str, '',
          'The application: a short name (toy, net_segment, ...) or the '
          'dotted import path of a BaseApplication subclass'),
    Param('vector_size', to_int, 100,
          '[toy] Length of the random vectors the toy GAN learns',
          check=Range(1, MAX_VECTOR_SIZE)),
    Param('mean', to_float, 0.0,
          '[toy] Mean of the real (normally distributed) vectors'),
    Param('stddev', to_float, 1.0,
          '[toy] Standard deviation of the real vectors',
          check=AT_LEAST_0),
    Param('n_interpolations', to_int, 10,
          '[toy] Vectors come in runs of this many, evenly spaced between two '
          'random end points',
          check=AT_LEAST_1),
    Param('inference_batches', to_int, 4,
          '[toy] Number of batches of generated vectors inference writes',
          check=AT_LEAST_1),
)

SUPPORTED_ARG_SECTIONS = OrderedDict((
    ('SEGMENTATION', SEGMENTATION),
    ('REGRESSION', REGRESSION),
    ('GAN', GAN),
    ('AUTOENCODER', AUTOENCODER),
    ('CLASSIFICATION', CLASSIFICATION),
    ('REGISTRATION', REGISTRATION),
    ('CUSTOM', CUSTOM),
))

# Sections accepting keys they do not declare when the application is a
# user application (not one of APP_SECTIONS).
OPEN_SECTIONS = frozenset(('CUSTOM',))

# NiftyNet 0.2's net_evaluate settings section (default_eval_config.ini):
# read and type-checked so such files parse, used by nothing.
LEGACY_SECTIONS = OrderedDict((
    ('SETTINGS', make_section(
        Param('application_type', to_str, 'segmentation',
              'NiftyNet 0.2 evaluation: application type'),
        Param('threshold', to_float, 0.5, 'Probability threshold'),
        Param('step', to_float, 0.5, 'Threshold step'),
        Param('ext', to_str, '.nii.gz', 'Image file extension'),
        Param('seg_type', to_str, 'discrete', 'prob, binary or discrete'),
        Param('save_csv_dir', to_str, '', 'Output folder', path=True),
        Param('save_name', to_str, '', 'Output name'),
        Param('save_discrete', str2boolean, False, 'Save discrete maps'),
        Param('save_maps', str2boolean, False, 'Save maps'),
    )),
))


def app_section_of(app_name):
    """The config section of a short application name, or None."""
    return APP_SECTIONS.get(app_name)


def app_of_section(section):
    """The short application name whose section is ``section``, or None."""
    for app_name, app_section in APP_SECTIONS.items():
        if app_section == section:
            return app_name
    return None


def custom_param(key):
    """A ``Param`` for an undeclared key of an open section (generic syntax)."""
    return Param(key, parse_literal, None,
                 'application-specific parameter (generic value syntax)')


def add_customised_args(parser, task_name):
    """Add the keys of application section ``task_name`` (e.g.
    ``'SEGMENTATION'``, any case) to the argparse ``parser`` (NiftyNet's helper).

    :raises NotImplementedError: no such application section (as NiftyNet)
    """
    from niftydrive.utilities.user_parameters_default import add_section_args
    section = str(task_name).upper()
    if section not in SUPPORTED_ARG_SECTIONS:
        raise NotImplementedError('no application section [{}]; known: {}'.format(
            section, ', '.join(SUPPORTED_ARG_SECTIONS)))
    return add_section_args(parser, SUPPORTED_ARG_SECTIONS[section])
