# -*- coding: utf-8 -*-
"""``net_run``: train or run inference from a configuration file.

::

    net_run train -c configs/toy.ini [-a APPLICATION] [--max_iter 20 ...]
    net_run inference -c configs/toy.ini
    net_run --help

``net_segment``, ``net_regress``, ``net_classify``, ``net_gan`` and
``net_autoencoder`` are ``net_run`` with their application chosen
(``net_segment train -c config.ini``).

Exit codes: 0 success; 1 a user mistake in the configuration or data (one
message, no traceback) or a failure (its traceback, then one summary line);
2 a command-line syntax mistake; 130 interrupted (Ctrl-C).
"""
import logging
import os
import sys
import traceback

from niftydrive import APPLICATION_SCRIPTS

LOGGER = logging.getLogger('niftydrive.net_run')

# NiftyNet networks niftydrive does not provide (yet): a clearer message
# than "unknown name" for configs written for NiftyNet.
NIFTYNET_NETWORKS_NOT_AVAILABLE = ('se_resnet', 'no_new_net')


OUT_OF_MEMORY = ('out of memory: {}. Reduce [NETWORK] batch_size, [NETWORK] '
                 'queue_length or the window size (spatial_window_size of the input '
                 'sections), or use a smaller network.')


def _first_line(text):
    return str(text).strip().splitlines()[0] if str(text).strip() else ''


def _error(message, prog='net_run'):
    sys.stderr.write('{}: error: {}\n'.format(prog, message))


def with_application(argv, application):
    """``argv`` plus ``-a application``, unless it already names an application."""
    argv = list(argv)
    if any(arg in ('-a', '--application_name') or arg.startswith('--application_name=')
           for arg in argv):
        return argv
    return argv + ['-a', application]


def check_names(system_param):
    """Fail early, with a clear message, on an unknown application or network.

    Uses the factories the driver will use, so the names accepted here are
    exactly those the driver can create.
    """
    from niftydrive.engine.application_factory import (
        ApplicationFactory, ApplicationNetFactory)
    from niftydrive.utilities.errors import UserInputError
    ApplicationFactory.create(system_param['CUSTOM'].name)
    net_name = system_param['NETWORK'].name
    if not net_name or system_param['CUSTOM'].name == 'toy':
        return  # the toy application builds its own network
    if net_name.lower() in NIFTYNET_NETWORKS_NOT_AVAILABLE:
        from niftydrive.engine.application_factory import SUPPORTED_NETWORK
        raise UserInputError(
            '[NETWORK] name = {}: NiftyNet\'s {} network is not available in '
            'niftydrive yet; available: {}'.format(
                net_name, net_name, ', '.join(sorted(SUPPORTED_NETWORK))))
    try:
        ApplicationNetFactory.create(net_name)
    except UserInputError as error:
        raise UserInputError('[NETWORK] name = {}: {}'.format(net_name, error))


def add_user_import_paths(config_file):
    """Put the config file's folder and the current folder first on the
    import path, so that ``-a mymodule.MyApp`` (or a network or handler
    named by dotted path) imports from there, as users expect."""
    for folder in (os.path.dirname(os.path.abspath(config_file)), os.getcwd()):
        if folder not in sys.path:
            sys.path.insert(0, folder)


def _prepare_model_dir(system_param):
    from niftydrive.io.misc_io import touch_folder
    from niftydrive.utilities.errors import UserInputError
    try:
        return touch_folder(system_param['SYSTEM'].model_dir)
    except UserInputError as error:
        raise UserInputError('[SYSTEM] model_dir: {}'.format(error))


def _run(argv, prog='net_run'):
    from niftydrive.application.base_application import TRAIN, \
        resolve_action
    from niftydrive.io.misc_io import is_writable_folder, set_logger
    from niftydrive.utilities.errors import UserInputError
    from niftydrive.utilities import user_parameters_parser
    from niftydrive.utilities import training_settings
    from niftydrive.utilities.util_common import print_save_input_parameters

    set_logger()  # console logging, so configuration warnings are seen
    system_param, input_data_param = user_parameters_parser.parse(argv, prog)
    add_user_import_paths(system_param['SYSTEM'].config_file)
    check_names(system_param)
    action = system_param['SYSTEM'].action
    role = None
    if system_param['SYSTEM'].local_workers > 0 and resolve_action(action) != TRAIN:
        raise UserInputError('[SYSTEM] local_workers = {}: a local cluster is for '
                             'training only; run {} without it'.format(
                                 system_param['SYSTEM'].local_workers, action))
    if resolve_action(action) == TRAIN:
        from niftydrive.engine import cluster, cluster_launcher
        if system_param['SYSTEM'].local_workers > 0:
            return cluster_launcher.launch_local_workers(
                argv, system_param['SYSTEM'].local_workers)
        role = cluster.cluster_role(system_param['SYSTEM'])
        if role is not None and role.is_ps:
            return cluster.run_parameter_server(role)
    no_file = 'no file (read-only model_dir)'
    if role is not None and not role.is_chief:
        settings_file = None  # only the chief writes files
        no_file = 'no file ({}: only the chief writes files)'.format(
            role.describe())
    elif is_writable_folder(_prepare_model_dir(system_param)):
        model_dir = system_param['SYSTEM'].model_dir
        set_logger(file_name=os.path.join(
            model_dir, '{}_niftydrive_log'.format(action)))
        settings_file = training_settings.settings_file(model_dir, action)
    elif resolve_action(action) == TRAIN:
        raise UserInputError(
            '[SYSTEM] model_dir {} is not writable: training saves '
            'checkpoints, logs and settings there; choose a writable '
            'model_dir'.format(system_param['SYSTEM'].model_dir))
    else:
        LOGGER.warning('model_dir %s is read-only: no log or settings file '
                       'is written there', system_param['SYSTEM'].model_dir)
        settings_file = None
    try:
        print_save_input_parameters(system_param, input_data_param,
                                    txt_file=settings_file)
    except OSError as error:
        raise UserInputError('cannot write {}: {}'.format(
            settings_file, error.strerror or error)) from None
    LOGGER.info('%s with application "%s"; parameters saved to %s',
                action, system_param['CUSTOM'].name,
                settings_file or no_file)

    from niftydrive.engine.application_driver import ApplicationDriver
    driver = ApplicationDriver()
    driver.initialise_application(system_param, input_data_param)
    driver.run_application()
    return 0


def run(argv=None, application=None):
    """Parse ``argv`` (default ``sys.argv[1:]``) and run the action; 0 when done.

    The application is ``application`` if given, else the program name when
    it is one of ``APPLICATION_SCRIPTS`` (``net_segment train -c x.ini``),
    else ``-a``/the config as for ``net_run``. ``--help``/``--version``
    print their text and return 0. Bad input raises (``UserInputError``, a
    ``ValueError``), as NiftyNet's ``main()`` did; :func:`main` turns that
    into one line and an exit code.
    """
    from niftydrive.utilities.user_parameters_parser import HelpRequested
    if argv is None:
        argv = sys.argv[1:]
        program = os.path.basename(sys.argv[0] or '')
        if application is None and program in APPLICATION_SCRIPTS:
            application = program
    if application:
        argv = with_application(argv, application)
    logger = logging.getLogger()
    saved_state = (list(logger.handlers), logger.level)
    try:
        return _run(argv, application if application in APPLICATION_SCRIPTS
                    else 'net_run')
    except HelpRequested as request:
        sys.stdout.write(request.text)
        return 0
    finally:
        _restore_logger(logger, *saved_state)


def main(argv=None, application=None, prog='net_run'):
    """Run ``net_run`` with ``argv`` (default ``sys.argv[1:]``); the exit code.

    A user mistake prints ``<prog>: error: <message>`` (no traceback) and
    returns 1; any other failure prints its traceback and a summary line.
    """
    code = _main(argv, application, prog)
    from niftydrive.engine.cluster import started_servers
    if started_servers():
        # a process of a cluster: gRPC can hold a normal exit for minutes
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _main(argv, application, prog):
    from niftydrive.utilities.errors import UserInputError
    try:
        return run(argv, application)
    except UserInputError as error:
        _error(error, prog)
        return getattr(error, 'exit_code', 1)
    except KeyboardInterrupt as interrupt:
        _error(str(interrupt) or 'interrupted', prog)
        return getattr(interrupt, 'exit_code', 130)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 1
    except MemoryError:
        _error(OUT_OF_MEMORY.format('a memory allocation failed'), prog)
        return 1
    except Exception as error:  # pylint: disable=broad-except
        if type(error).__name__ == 'UnavailableError':  # TF's: a lost cluster task
            _error('lost the connection to a task of the cluster (stopped or '
                   'killed?): {}'.format(_first_line(getattr(error, 'message', None)
                                                     or error)), prog)
            return 1
        if type(error).__name__ == 'ResourceExhaustedError':  # TF's, not imported here
            detail = _first_line(getattr(error, 'message', None) or error)
            _error('no space left on device: {}'.format(detail)
                   if 'space left on device' in detail.lower() else
                   OUT_OF_MEMORY.format('TensorFlow ran out of resources ({})'.format(detail)),
                   prog)
            return 1
        traceback.print_exc()
        _error('{}: {} (traceback above)'.format(type(error).__name__, error), prog)
        return 1


def net_reg(argv=None):
    """Console script ``net_reg``: ``net_run`` with the label-driven registration
    application (NiftyNet shipped no such script; ``net_run -a net_reg`` works too)."""
    return _application_script('net_reg', argv)


def _application_script(application, argv):
    return main(argv, application=application, prog=application)


def net_segment(argv=None):
    """Console script ``net_segment``: ``net_run`` with the segmentation application."""
    return _application_script('net_segment', argv)


def net_regress(argv=None):
    """Console script ``net_regress``: ``net_run`` with the regression application."""
    return _application_script('net_regress', argv)


def net_classify(argv=None):
    """Console script ``net_classify``: ``net_run`` with the classification application."""
    return _application_script('net_classify', argv)


def net_gan(argv=None):
    """Console script ``net_gan``: ``net_run`` with the GAN application."""
    return _application_script('net_gan', argv)


def net_autoencoder(argv=None):
    """Console script ``net_autoencoder``: ``net_run`` with the autoencoder application."""
    return _application_script('net_autoencoder', argv)


def _restore_logger(logger, handlers, level):
    """Remove and close the handlers a run added (main may run in-process
    several times: a notebook, a test suite)."""
    for handler in list(logger.handlers):
        if handler not in handlers:
            logger.removeHandler(handler)
            try:
                handler.close()
            except OSError:  # e.g. a log file on a full disk
                pass
    logger.setLevel(level)


if __name__ == '__main__':
    sys.exit(main())
