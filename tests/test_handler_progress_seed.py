"""Progress lines (console_every_n, rate, ETA), the terminal progress bar,
and random_seed: the same seed gives the same losses."""
import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios

from engine_test_apps import make_params
from niftydrive.engine.application_driver import ApplicationDriver
from niftydrive.engine.handler_console import auto_every_n
from niftydrive.net_run import main

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROGRESS = re.compile(r'\[(\d+)/(\d+), [\d.e+]+ steps/s, [\d.e+]+ samples/s, '
                      r'elapsed \d+:\d\d:\d\d, ETA \d+:\d\d:\d\d\]$')


def run(params):
    driver = ApplicationDriver()
    driver.initialise_application(params, {})
    driver.run_application()


def training_lines(caplog):
    return [rec.getMessage() for rec in caplog.records
            if rec.getMessage().startswith('Training iter')]


def test_console_every_n_and_progress_fields(tmp_path, caplog):
    caplog.set_level('INFO', logger='niftydrive')
    params = make_params(tmp_path, max_iter=7, save_every_n=0)
    params['SYSTEM'].console_every_n = 3
    run(params)
    lines = training_lines(caplog)
    assert [line.split(',')[0] for line in lines] == [
        'Training iter 1', 'Training iter 3', 'Training iter 6',
        'Training iter 7']
    for line, number in zip(lines, (1, 3, 6, 7)):
        match = PROGRESS.search(line)
        assert match and match.groups() == (str(number), '7'), line


def test_default_prints_a_few_hundred_lines_at_most():
    assert auto_every_n(0, 100) == 1
    assert auto_every_n(0, 1000) == 5
    assert auto_every_n(0, 100000) == 500
    assert auto_every_n(500, 1000) == 3


def test_validation_round_gives_one_mean_line(tmp_path, caplog):
    caplog.set_level('INFO', logger='niftydrive')
    params = make_params(tmp_path, max_iter=4, save_every_n=0,
                         validation_every_n=2, validation_max_iter=3,
                         exclude_fraction_for_validation=0.5,
                         app='handler_test_apps.ScriptedValidationApplication')
    params['CUSTOM'].valid_losses = [1, 2, 6, 4, 4, 7]
    params['SYSTEM'].console_every_n = 2
    run(params)
    lines = [rec.getMessage() for rec in caplog.records
             if 'Validation iter' in rec.getMessage()]
    # (the console also shows input_wait, the seconds spent waiting for a batch)
    assert [line.split(', input_wait')[0] for line in lines] == [
        '    Validation iter 2, mean of 3 iterations: loss=3',
        '    Validation iter 4, mean of 3 iterations: loss=5']


TOY = """
[SYSTEM]
num_threads = 1
model_dir = ./{dir}
random_seed = {seed}
[NETWORK]
batch_size = 4
queue_length = 8
[TRAINING]
max_iter = 50
save_every_n = 0
tensorboard_every_n = -1
lr = 0.01
[INFERENCE]
[CUSTOM]
name = toy
vector_size = 8
"""


def losses(err):
    """The console values of every training line (but input_wait, a
    time)."""
    return [line.split(', ', 1)[1].split(', input_wait')[0].split(' (')[0]
            for line in err.splitlines() if 'Training iter' in line]


def test_same_seed_same_losses_through_net_run(tmp_path, capsys):
    runs = []
    for name, seed in (('a', 7), ('b', 7), ('c', 8)):
        config = tmp_path / '{}.ini'.format(name)
        config.write_text(TOY.format(dir=name, seed=seed))
        assert main(['train', '-c', str(config), '--console_every_n', '1']) == 0
        runs.append(losses(capsys.readouterr().err))
    assert len(runs[0]) == 50
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_a_terminal_gets_a_progress_bar_a_pipe_plain_lines(tmp_path):
    config = tmp_path / 'toy.ini'
    config.write_text(TOY.format(dir='tty', seed=1).replace(
        'max_iter = 50', 'max_iter = 4'))
    command = [sys.executable, '-m', 'niftydrive.net_run', 'train', '-c',
               str(config)]
    env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL='3')
    master, slave = pty.openpty()
    # a terminal of 24 rows and 80 columns (a fresh pty has no size)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', 24, 80, 0, 0))
    process = subprocess.Popen(command, stdout=slave, stderr=slave, env=env,
                               cwd=str(tmp_path))
    os.close(slave)
    output = b''
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    assert process.wait(timeout=300) == 0
    text = output.decode('utf-8', 'replace')
    assert 'Training iter 4' in text
    assert re.search(r'\d+/4 \[', text)  # tqdm's bar
    piped = subprocess.run(command + ['--model_dir', str(tmp_path / 'piped')],
                           capture_output=True, text=True, env=env,
                           cwd=str(tmp_path), timeout=300)
    assert piped.returncode == 0 and 'Training iter 4' in piped.stderr
    assert not re.search(r'\d+/4 \[', piped.stderr)


def test_same_seed_same_losses_through_the_driver(tmp_path):
    """The README's script way: parameters parsed, a driver per run, the
    losses read by a receiver of ITER_FINISHED."""
    from niftydrive.engine.signal import ITER_FINISHED
    from niftydrive.utilities import user_parameters_parser

    def losses(name, seed):
        config = tmp_path / '{}.ini'.format(name)
        config.write_text(TOY.format(dir=name, seed=seed))
        system_param, data_param = user_parameters_parser.run(
            ['train', '-c', str(config), '--max_iter', '20'])
        seen = []

        def on_iteration(_sender, iter_msg=None, **_unused):
            values = iter_msg.current_iter_output['niftynetconsole']
            seen.append((float(values['d_loss']), float(values['g_loss'])))

        ITER_FINISHED.connect(on_iteration)
        try:
            driver = ApplicationDriver()
            driver.initialise_application(system_param, data_param)
            driver.run_application()
        finally:
            ITER_FINISHED.disconnect(on_iteration)
        return seen

    first, second, other = losses('a', 3), losses('b', 3), losses('c', 4)
    assert len(first) == 20 and first == second and first != other
