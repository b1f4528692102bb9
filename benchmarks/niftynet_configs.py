"""NiftyNet's example configs, given data: does each one train?

``python benchmarks/niftynet_configs.py [--timeout 900] [--iterations 1] [NAME.ini ...]``

``tests/test_niftynet_configs.py`` checks that every config in
``../shared/niftynet-configs`` runs until it looks for its data.  This
script goes further (minutes, so not a test): it copies each config into a
temporary folder, writes small synthetic NIfTI files where each input
section looks for its data (one file per subject, named to match
``filename_contains``/``filename_not_contains``, in a temporary folder
for an absolute ``path_to_search``; labels hold 0 and 1, 2-D windows get 2-D
images), and runs ``net_run train`` with
``--max_iter 1 --batch_size 1`` (and small queues).  The configs' own
windows and networks are kept, so the large ones take a while on a CPU.

Prints one line per config (trained, or the error) and "N of M configs
trained"; configs of applications not registered yet are listed as such.
"""
import argparse
import configparser
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
CONFIGS = os.path.join(REPO, '..', 'shared', 'niftynet-configs')

from niftydrive.contrib.demo_data import write_nifti  # noqa: E402
from niftydrive.engine.application_factory import SUPPORTED_APP  # noqa: E402
from niftydrive.utilities.user_parameters_custom import app_of_section  # noqa: E402

SYSTEM_SECTIONS = {'SYSTEM', 'NETWORK', 'TRAINING', 'INFERENCE', 'EVALUATION'}
SUBJECTS = 2
SIZE = 16


def _values(text):
    return [item.strip() for item in (text or '').strip('()').split(',')
            if item.strip() and item.strip() != '()']


def _application(parser):
    for section in parser.sections():
        app = app_of_section(section.upper())
        if app:
            return app, section
    return None, None


def write_data(parser, folder, app_section):
    """One file per subject for every input section, where it searches (a
    folder of this machine's for an absolute path: then the returned
    command-line options point the section there)."""
    labels = {name for key, value in parser.items(app_section) if 'label' in key
              for name in _values(value)}
    rng = np.random.RandomState(0)
    options = []
    for section in parser.sections():
        if section.upper() in SYSTEM_SECTIONS or app_of_section(section.upper()):
            continue
        search = parser.get(section, 'path_to_search', fallback='')
        if not search:
            continue
        if os.path.isabs(search):
            search = os.path.join(folder, 'data', section.replace(' ', '_'))
            options += ['--{}.path_to_search'.format(section), search]
        window = _values(parser.get(section, 'spatial_window_size', fallback=''))
        shape = (SIZE, SIZE, 1) if len(window) == 3 and window[2] == '1' else (SIZE,) * 3
        name = '_'.join(_values(parser.get(section, 'filename_contains', fallback='')))
        for index in range(SUBJECTS):
            if section in labels:
                data = (rng.rand(*shape) > 0.5).astype(np.uint8)
            else:
                data = rng.rand(*shape).astype(np.float32)
            path = os.path.join(folder, search, 'subj{}_{}.nii.gz'.format(index, name))
            write_nifti(path, data, np.eye(4))
    return options


def run_config(name, timeout, iterations):
    """``(status, detail, seconds)`` of one config's training."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(os.path.join(CONFIGS, name))
    app, section = _application(parser)
    if app is None:
        return 'no application', 'not a net_run config', 0.0
    if app not in SUPPORTED_APP:
        return 'not registered', '{} not in the application factory yet'.format(app), 0.0
    folder = tempfile.mkdtemp(prefix='niftynet_config_')
    try:
        shutil.copy(os.path.join(CONFIGS, name), folder)
        options = write_data(parser, folder, section)
        command = [sys.executable, '-m', 'niftydrive.net_run', 'train',
                   '-c', os.path.join(folder, name), '--model_dir',
                   os.path.join(folder, 'model'), '--max_iter', str(iterations),
                   '--batch_size', '1', '--queue_length', '2', '--num_threads', '1',
                   '--sample_per_volume', '1'] + options
        env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
        start = time.time()
        try:
            result = subprocess.run(command, env=env, capture_output=True, text=True,
                                    timeout=timeout)
        except subprocess.TimeoutExpired:
            return 'timeout', 'still running after {} s'.format(timeout), timeout
        seconds = time.time() - start
        if result.returncode == 0:
            return 'trained', '', seconds
        errors = [line for line in result.stderr.splitlines() if 'error' in line.lower()]
        return 'failed', (errors or ['exit {}'.format(result.returncode)])[-1], seconds
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv=None):
    """Run the configs; print one line each and the summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('names', nargs='*', help='config file names (default: all)')
    parser.add_argument('--timeout', type=float, default=900.0, help='seconds per config')
    parser.add_argument('--iterations', type=int, default=1, help='training iterations')
    args = parser.parse_args(argv)
    if not os.path.isdir(CONFIGS):
        print('NiftyNet example configs not found: {}'.format(os.path.normpath(CONFIGS)))
        return 1
    names = args.names or sorted(n for n in os.listdir(CONFIGS) if n.endswith('.ini'))
    counts = {}
    for name in names:
        status, detail, seconds = run_config(name, args.timeout, args.iterations)
        counts[status] = counts.get(status, 0) + 1
        print('{:40s} {:15s} {:7.1f} s  {}'.format(name, status, seconds, detail),
              flush=True)
    runnable = len(names) - counts.get('not registered', 0) - counts.get('no application', 0)
    print('{} of {} configs of registered applications trained {} iteration(s) on '
          'synthetic data ({} not registered yet, {} not a net_run config)'.format(
              counts.get('trained', 0), runnable, args.iterations,
              counts.get('not registered', 0), counts.get('no application', 0)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
