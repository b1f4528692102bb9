"""The label-driven registration application (``net_reg``) end to end
through net_run, on synthetic pairs whose moving blob is the fixed blob
shifted by a few voxels; and its pairwise samplers on real queues."""
import csv
import os
import re

import nibabel as nib
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from niftydrive.contrib.demo_data import make_registration_dataset
from niftydrive.contrib.sampler_pairwise.sampler_pairwise_resize import \
    PairwiseResizeSampler
from niftydrive.contrib.sampler_pairwise.sampler_pairwise_uniform import \
    PairwiseUniformSampler
from niftydrive.io.image_reader import ImageReader
from niftydrive.net_run import main, net_reg
from niftydrive.utilities.util_common import ParserNamespace

from shared_data import niftynet_config

#: input section -> the file name part of its files
INPUTS = (('fixed_img', 'fixed_image'), ('fixed_lab', 'fixed_label'),
          ('moving_img', 'moving_image'), ('moving_lab', 'moving_label'))

CONFIG = ''.join("""
[{}]
path_to_search = {{data}}
filename_contains = {}
spatial_window_size = {{window}}
""".format(section, part) for section, part in INPUTS) + """
[SYSTEM]
num_threads = 1
model_dir = {model}

[NETWORK]
name = {net}
batch_size = 2
decay = {decay}
queue_length = 4

[TRAINING]
lr = 0.0003
loss_type = Dice_Dense
max_iter = {max_iter}
save_every_n = {max_iter}
exclude_fraction_for_inference = 0.25

[INFERENCE]
output_interp_order = 1

[REGISTRATION]
fixed_image = fixed_img
fixed_label = fixed_lab
moving_image = moving_img
moving_label = moving_lab
"""


@pytest.fixture(scope='module')
def pairs(tmp_path_factory):
    """Twelve 24^3 pairs: an ellipsoid and the same one shifted by (3, -2, 2)."""
    folder = tmp_path_factory.mktemp('registration_pairs')
    make_registration_dataset(str(folder), subjects=12, shape=(24, 24, 24), seed=3)
    return folder


def write_config(tmp_path, data, net='interventional_affine_net', window=(24, 24, 24),
                 max_iter=50, decay=0.0, edit=('', '')):
    """The config above, with the text ``edit[0]`` replaced by ``edit[1]``."""
    path = tmp_path / 'registration.ini'
    text = CONFIG.format(data=data, model=tmp_path / 'model', net=net, window=window,
                         max_iter=max_iter, decay=decay)
    path.write_text(text.replace(edit[0], edit[1], 1) if edit[0] else text)
    return str(path)


def dice(first, second):
    return 2.0 * np.sum(first & second) / float(np.sum(first) + np.sum(second))


def console_values(caplog, iteration):
    line = [r.getMessage() for r in caplog.records
            if 'Training iter {},'.format(iteration) in r.getMessage()][-1]
    return {key: float(value) for key, value in re.findall(r'(\w+)=([-\d.e]+)', line)}


def test_train_then_infer_warps_moving_onto_fixed(tmp_path, pairs, caplog):
    caplog.set_level('INFO', logger='niftydrive')
    config = write_config(tmp_path, pairs)
    assert main(['train', '-c', config]) == 0
    first, last = console_values(caplog, 1), console_values(caplog, 50)
    assert set(first) >= {'one_minus_data_loss', 'total_loss', 'ave_fg_dice'}
    assert 'bending_energy' not in first     # an affine network has no dense field
    assert last['total_loss'] == pytest.approx(1.0 - last['one_minus_data_loss'], abs=2e-3)
    assert (tmp_path / 'model' / 'models' / 'model.ckpt-50.index').exists()

    assert main(['inference', '-c', config]) == 0
    out = tmp_path / 'model' / 'inference'
    with open(str(out / 'inferred.csv')) as handle:
        rows = list(csv.reader(handle))
    subjects = sorted({subject for subject, _ in rows})
    assert len(subjects) == 3 and len(rows) == 6
    before, after = [], []
    for subject in subjects:
        fixed = nib.load(str(pairs / '{}_fixed_image.nii.gz'.format(subject)))
        fixed_label = nib.load(str(pairs / '{}_fixed_label.nii.gz'.format(subject)))
        moving_label = nib.load(str(pairs / '{}_moving_label.nii.gz'.format(subject)))
        warped_image = nib.load(str(out / '{}_niftynet_out.nii.gz'.format(subject)))
        warped_label = nib.load(str(out / '{}_label_niftynet_out.nii.gz'.format(subject)))
        for output in (warped_image, warped_label):
            assert output.shape == fixed.shape
            np.testing.assert_allclose(output.affine, fixed.affine)
            assert not np.allclose(output.affine, moving_label.affine)
        reference = fixed_label.get_fdata() > 0.5
        before.append(dice(moving_label.get_fdata() > 0.5, reference))
        after.append(dice(warped_label.get_fdata() >= 0.5, reference))
        # the warped moving image (inverted contrast) is dark where the fixed blob is
        image = warped_image.get_fdata()
        assert image[reference].mean() < image[~reference].mean() - 0.3
    # unwarped ~0.35, warped ~0.85 (0.74..0.97 over runs)
    assert all(a > b + 0.25 for a, b in zip(after, before)), (before, after)
    assert np.mean(after) > 0.7, (before, after)


def test_net_reg_script_trains_and_infers(tmp_path, pairs):
    config = write_config(tmp_path, pairs, window=(16, 16, 16), max_iter=2)
    assert net_reg(['train', '-c', config]) == 0
    assert (tmp_path / 'model' / 'models' / 'model.ckpt-2.index').exists()
    assert net_reg(['inference', '-c', config]) == 0
    with open(str(tmp_path / 'model' / 'inference' / 'inferred.csv')) as handle:
        assert len(list(csv.reader(handle))) == 6  # image and label of 3 pairs


def test_dense_network_adds_its_bending_energy(tmp_path, caplog):
    make_registration_dataset(str(tmp_path / 'data'), subjects=2, shape=(16, 16, 16))
    caplog.set_level('INFO', logger='niftydrive')
    config = write_config(tmp_path, tmp_path / 'data', net='interventional_dense_net',
                          window=(16, 16, 16), max_iter=1, decay=0.5)
    assert main(['train', '-c', config, '--exclude_fraction_for_inference', '0']) == 0
    values = console_values(caplog, 1)
    assert values['bending_energy'] > 0
    assert values['total_loss'] == pytest.approx(
        1.0 - values['one_minus_data_loss'] + 0.5 * values['bending_energy'], rel=2e-3)


def test_validation_pairs_and_inference_without_moving_label(tmp_path, caplog):
    make_registration_dataset(str(tmp_path / 'data'), subjects=5, shape=(16, 16, 16))
    caplog.set_level('INFO', logger='niftydrive')
    config = write_config(tmp_path, tmp_path / 'data', window=(16, 16, 16), max_iter=2)
    assert main(['train', '-c', config, '--validation_every_n', '1',
                 '--exclude_fraction_for_validation', '0.2',
                 '--exclude_fraction_for_inference', '0.2']) == 0
    validation = [r.getMessage() for r in caplog.records
                  if 'Validation iter' in r.getMessage()]
    assert len(validation) == 2 and all('ave_fg_dice=' in line for line in validation)
    config = write_config(tmp_path, tmp_path / 'data', window=(16, 16, 16), max_iter=2,
                          edit=('moving_label = moving_lab', ''))
    assert main(['inference', '-c', config]) == 0
    written = sorted(os.listdir(str(tmp_path / 'model' / 'inference')))
    assert len(written) == 2 and written[0] == 'inferred.csv'
    assert written[1].endswith('_niftynet_out.nii.gz') and '_label' not in written[1]


@pytest.mark.parametrize('args, edit, message', [
    (['evaluation'], ('', ''), 'no evaluation action'),
    (['train', '--loss_type', 'CrossEntropy'], ('', ''), 'loss_type = CrossEntropy'),
    (['train'], ('[NETWORK]', '[NETWORK]\nwhitening = True'), 'whitening'),
    (['train'], ('[TRAINING]', '[TRAINING]\nrotation_angle = (-10, 10)'),
     'rotation_angle'),
    (['inference'], ('[INFERENCE]', '[INFERENCE]\nborder = (2, 2, 2)'), 'border'),
    (['train'], ('[REGISTRATION]', '[REGISTRATION]\nlabel_normalisation = True'),
     'label_normalisation'),
    (['train'], ('moving_label = moving_lab', ''), 'moving_label'),
    (['train'], ('fixed_image = fixed_img', 'fixed_image = fixed_img, moving_img'),
     'one input section per field'),
    (['train'], ('name = interventional_affine_net', 'name ='), 'registration network'),
])
def test_bad_settings_are_refused(tmp_path, pairs, capsys, args, edit, message):
    config = write_config(tmp_path, pairs, edit=edit)
    assert main([args[0], '-c', config] + args[1:]) == 1
    err = capsys.readouterr().err
    assert message in err and 'Traceback' not in err, err


def test_niftynet_config_reaches_its_data_lookup(tmp_path, capsys):
    config = niftynet_config('label_driven_registration.ini')
    for action in ('train', 'inference'):
        assert main([action, '-c', config, '--model_dir', str(tmp_path / 'm')]) == 1
        err = capsys.readouterr().err
        # the config's own data folder (an absolute path on NiftyNet's machine)
        assert 'does not exist' in err and os.path.join('wenqi', 'reg_data') in err, err


# ------------------------------------------------------------------ samplers
def _readers(folder, fixed_shape, moving_shape):
    """One pair: fixed 'ramp' volumes and moving ones of another shape."""
    sections = {}
    for name, shape in (('fixed_image', fixed_shape), ('fixed_label', fixed_shape),
                        ('moving_image', moving_shape), ('moving_label', moving_shape)):
        ramp = np.fromfunction(lambda x, y, z: x + 0 * y + 0 * z, shape, dtype=np.float32)
        nib.save(nib.Nifti1Image(ramp / (shape[0] - 1), np.eye(4)),
                 os.path.join(folder, 's1_{}.nii.gz'.format(name)))
        sections[name] = ParserNamespace(spatial_window_size=(4, 4, 4), interp_order=1)
    row = [dict([('subject_id', 's1')] + [
        (name, os.path.join(folder, 's1_{}.nii.gz'.format(name))) for name in sections])]
    task = ParserNamespace(**{name: (name,) for name in sections})
    fixed = ImageReader(('fixed_image', 'fixed_label')).initialise(sections, task, row)
    moving = ImageReader(('moving_image', 'moving_label')).initialise(sections, task, row)
    return fixed, moving, sections


def _batches(sampler, count, threads=1):
    """``count`` batches dequeued while the sampler's threads run."""
    batch = sampler.pop_batch_op()
    with tf.Session() as session:
        sampler.run_threads(session, tf.train.Coordinator(), threads)
        values = [session.run(batch) for _ in range(count)]
        sampler.close_all()
    return values


def test_uniform_pairs_are_cut_at_one_place_after_resizing(tmp_path, graph):
    fixed, moving, sections = _readers(str(tmp_path), (10, 6, 6), (20, 12, 12))
    values, = _batches(PairwiseUniformSampler(fixed, moving, sections, batch_size=3), 1)
    assert values['fixed_image'].shape == (3, 4, 4, 4, 1)
    for name in ('fixed_label', 'moving_image', 'moving_label'):
        # the moving ramp, resized to the fixed grid, equals the fixed ramp
        np.testing.assert_allclose(values[name], values['fixed_image'], atol=0.03)
    rows = values['fixed_image_location']
    for window, row in zip(values['fixed_image'], rows):
        assert row[0] == 0 and np.all(row[4:] - row[1:4] == 4)
        np.testing.assert_allclose(window[:, 0, 0, 0], np.arange(row[1], row[4]) / 9.0,
                                   atol=1e-5)


def test_resize_pairs_come_once_then_the_stopping_signal(tmp_path, graph):
    fixed, moving, sections = _readers(str(tmp_path), (10, 6, 6), (20, 12, 12))
    first, second = _batches(PairwiseResizeSampler(fixed, moving, sections, batch_size=1),
                             2, threads=2)
    assert list(first['fixed_image_location'][0]) == [0, 0, 0, 0, 10, 6, 6]
    assert first['moving_image'].shape == (1, 4, 4, 4, 1)
    np.testing.assert_allclose(first['moving_image'], first['fixed_image'], atol=0.03)
    assert np.all(second['fixed_image_location'] == -1)
