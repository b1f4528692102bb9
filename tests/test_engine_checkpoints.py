"""Checkpoints that are damaged, left half-written or about to be
overwritten: a clear message naming the file, never a silent success."""
import os

import pytest

from engine_test_apps import LinearApplication, make_params, read_variable
from niftydrive.engine.application_driver import ApplicationDriver
from niftydrive.utilities.errors import UserInputError

DATA = 'model.ckpt-{}.data-00000-of-00001'


def run_driver(params):
    LinearApplication.seen_outputs = []
    driver = ApplicationDriver()
    driver.initialise_application(params, {})
    driver.run_application()
    return driver


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A model_dir with checkpoints 2 and 4 (4 the latest)."""
    model_dir = tmp_path_factory.mktemp('trained')
    run_driver(make_params(model_dir, max_iter=4, save_every_n=2))
    return model_dir


def _copy(source, target):
    models = target / 'models'
    models.mkdir(parents=True)
    for name in os.listdir(source / 'models'):
        (models / name).write_bytes((source / 'models' / name).read_bytes())
    return models


def _truncate(path):
    with open(path, 'r+b') as handle:
        handle.truncate(os.path.getsize(path) // 2)


def _zero(path):
    size = os.path.getsize(path)
    with open(path, 'r+b') as handle:
        handle.write(b'\0' * size)


DAMAGES = {
    'truncated data': (lambda m: _truncate(m / DATA.format(4)), DATA.format(4),
                       'truncated'),
    'zeroed data': (lambda m: _zero(m / DATA.format(4)), DATA.format(4),
                    'checksum mismatch'),
    'missing data': (lambda m: os.remove(m / DATA.format(4)), DATA.format(4),
                     'missing'),
    'empty state file': (lambda m: (m / 'checkpoint').write_bytes(b''),
                         'checkpoint', 'empty'),
    'garbage state file': (
        lambda m: (m / 'checkpoint').write_bytes(b'\x00\xffnot a state{'),
        'checkpoint', 'unreadable'),
}


@pytest.mark.parametrize('action', ['train', 'inference'])
@pytest.mark.parametrize('damage', sorted(DAMAGES))
def test_damaged_checkpoint_is_a_clear_error_naming_the_file(
        trained, tmp_path, damage, action):
    models = _copy(trained, tmp_path)
    make_damage, file_name, state = DAMAGES[damage]
    make_damage(models)
    params = make_params(tmp_path, action=action, starting_iter=-1,
                         max_iter=6, limit=8)
    key = 'starting_iter' if action == 'train' else 'inference_iter'
    LinearApplication.seen_outputs = []
    driver = ApplicationDriver()
    driver.initialise_application(params, {})
    with pytest.raises(UserInputError) as raised:
        driver.run_application()
    message = str(raised.value)
    assert os.path.join(str(models), file_name) in message
    assert state in message
    # what to do: the other checkpoint, with the right key
    assert '--{} N (available: 2'.format(key) in message
    assert '\n' not in message
    assert LinearApplication.seen_outputs == []  # nothing ran
    assert not os.path.exists(models / 'model.ckpt-6.index')


def test_the_suggested_iteration_restores(trained, tmp_path):
    models = _copy(trained, tmp_path)
    _truncate(models / DATA.format(4))
    run_driver(make_params(tmp_path, starting_iter=2, max_iter=3))
    assert os.path.exists(models / 'model.ckpt-3.index')


def test_training_from_scratch_refuses_to_overwrite_checkpoints(trained,
                                                                tmp_path):
    models = _copy(trained, tmp_path)
    before = read_variable(tmp_path, iteration=4)
    state_before = (models / 'checkpoint').read_bytes()
    with pytest.raises(UserInputError, match=r'overwrite the checkpoints in '
                       r'.*models \(iterations 2, 4\).*--starting_iter -1.*'
                       r'overwrite_checkpoints'):
        ApplicationDriver().initialise_application(
            make_params(tmp_path, max_iter=4), {})
    assert (models / 'checkpoint').read_bytes() == state_before
    assert read_variable(tmp_path, iteration=4) == before


def test_overwrite_checkpoints_deletes_the_old_ones(trained, tmp_path):
    models = _copy(trained, tmp_path)
    run_driver(make_params(tmp_path, max_iter=3, save_every_n=0,
                           overwrite_checkpoints=True))
    assert sorted(name for name in os.listdir(models)
                  if name.endswith('.index')) == ['model.ckpt-3.index']
    assert read_variable(tmp_path).item() == pytest.approx(
        read_variable(tmp_path, iteration=3).item())


def test_finite_sampler_running_out_warns_that_training_stopped_early(
        tmp_path, caplog):
    caplog.set_level('INFO', logger='niftydrive')
    run_driver(make_params(tmp_path, max_iter=100, save_every_n=0, limit=6))
    warnings = [rec.getMessage() for rec in caplog.records
                if rec.levelname == 'WARNING']
    assert any('training stopped early after iteration 3 of 100' in line and
               'ran out of windows' in line for line in warnings), warnings


def test_leftovers_of_an_interrupted_save_are_removed_at_the_next_start(
        trained, tmp_path):
    models = _copy(trained, tmp_path)
    leftovers = [DATA.format(6) + '.tempstate1234567890',
                 'model.ckpt-6.index.tempstate42', 'checkpoint.tmp7f3a']
    for name in leftovers:
        (models / name).write_bytes(b'partial')
    (models / 'model.ckpt-6_temp').mkdir()
    run_driver(make_params(tmp_path, starting_iter=-1, max_iter=5))
    names = os.listdir(models)
    assert not [name for name in names if 'temp' in name or '.tmp' in name]
    assert 'model.ckpt-4.index' in names and 'model.ckpt-5.index' in names
