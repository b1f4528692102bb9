# -*- coding: utf-8 -*-
"""``net_run``: train or run inference from a configuration file.

::

    net_run train -c configs/toy.ini [-a APPLICATION] [--max_iter 20 ...]
    net_run inference -c configs/toy.ini
    net_run --help

Exit codes: 0 success; 1 a user mistake in the configuration or data (one
message, no traceback) or a failure (its traceback, then one summary line);
2 a command-line syntax mistake; 130 interrupted (Ctrl-C).
"""
import logging
import os
import sys
import traceback

LOGGER = logging.getLogger('niftydrive.net_run')

# NiftyNet networks niftydrive does not provide (yet): a clearer message
# than "unknown name" for configs written for NiftyNet.
NIFTYNET_NETWORKS_NOT_AVAILABLE = ('se_resnet', 'no_new_net')


def _error(message):
    sys.stderr.write('net_run: error: {}\n'.format(message))


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


def _run(argv):
    from niftydrive.io.misc_io import set_logger
    from niftydrive.utilities import user_parameters_parser
    from niftydrive.utilities.util_common import print_save_input_parameters

    set_logger()  # console logging, so configuration warnings are seen
    system_param, input_data_param = user_parameters_parser.parse(argv)
    add_user_import_paths(system_param['SYSTEM'].config_file)
    check_names(system_param)
    model_dir = _prepare_model_dir(system_param)
    action = system_param['SYSTEM'].action
    set_logger(file_name=os.path.join(
        model_dir, '{}_niftydrive_log'.format(action)))
    settings_file = os.path.join(model_dir, 'settings_{}.txt'.format(action))
    print_save_input_parameters(system_param, input_data_param,
                                txt_file=settings_file)
    LOGGER.info('%s with application "%s"; parameters saved to %s',
                action, system_param['CUSTOM'].name, settings_file)

    from niftydrive.engine.application_driver import ApplicationDriver
    driver = ApplicationDriver()
    driver.initialise_application(system_param, input_data_param)
    driver.run_application()
    return 0


def main(argv=None):
    """Run ``net_run`` with ``argv`` (default ``sys.argv[1:]``); the exit code."""
    from niftydrive.utilities.errors import UserInputError
    from niftydrive.utilities.user_parameters_parser import HelpRequested
    logger = logging.getLogger()
    saved_state = (list(logger.handlers), logger.level)
    try:
        return _run(argv)
    except HelpRequested as request:
        sys.stdout.write(request.text)
        return 0
    except UserInputError as error:
        _error(error)
        return getattr(error, 'exit_code', 1)
    except KeyboardInterrupt as interrupt:
        _error(str(interrupt) or 'interrupted')
        return getattr(interrupt, 'exit_code', 130)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 1
    except Exception as error:  # pylint: disable=broad-except
        traceback.print_exc()
        _error('{}: {} (traceback above)'.format(type(error).__name__, error))
        return 1
    finally:
        _restore_logger(logger, *saved_state)


def _restore_logger(logger, handlers, level):
    """Remove and close the handlers a run added (main may run in-process
    several times: a notebook, a test suite)."""
    for handler in list(logger.handlers):
        if handler not in handlers:
            logger.removeHandler(handler)
            handler.close()
    logger.setLevel(level)


if __name__ == '__main__':
    sys.exit(main())
