"""The GAN application end to end, through net_run and net_gan: train (two
optimisers, two towers, validation) then generate images, conditional and
unconditional, with simple_gan and the simulator GAN, on tiny synthetic
2-D images."""
import csv
import math
import os
import re

import nibabel as nib
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from niftydrive.contrib.demo_data import make_gan_dataset
from niftydrive.net_run import main, net_gan

CONFIG = """
[image]
path_to_search = {data}
filename_contains = frame,img
spatial_window_size = ({size}, {size}, 1)

[cond]
path_to_search = {data}
filename_contains = frame,cond
spatial_window_size = ({size}, {size}, 1)

[SYSTEM]
num_threads = 1
num_gpus = {num_gpus}
model_dir = {model}

[NETWORK]
name = {network}
batch_size = 3
queue_length = 6

[TRAINING]
lr = 0.001
loss_type = CrossEntropy
max_iter = {max_iter}
save_every_n = 1
max_checkpoints = 5
{training}

[INFERENCE]
save_seg_dir = {output}

[GAN]
image = image
{conditioning}
noise_size = 5
n_interpolations = {n_interpolations}
"""


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    """Four subjects: 16x16 images with their conditioning maps."""
    folder = tmp_path_factory.mktemp('gan_data')
    make_gan_dataset(str(folder), subjects=4, shape=(16, 16), seed=3)
    return folder


def write_config(tmp_path, data, network='simple_gan', conditioning='cond',
                 n_interpolations=2, max_iter=2, num_gpus=1, size=16, training=''):
    path = tmp_path / 'gan.ini'
    path.write_text(CONFIG.format(
        data=data, model=tmp_path / 'model', output=tmp_path / 'generated',
        network=network, size=size, num_gpus=num_gpus, max_iter=max_iter,
        training=training, n_interpolations=n_interpolations,
        conditioning='conditioning = {}'.format(conditioning) if conditioning else ''))
    return str(path)


def logged_losses(model_dir):
    """``[(iteration, lossD, lossG)]`` from the training log."""
    with open(os.path.join(str(model_dir), 'train_niftydrive_log')) as handle:
        text = handle.read()
    return [(int(it), float(d), float(g)) for it, d, g in re.findall(
        r'Training iter (\d+), lossD=([^,\s]+), lossG=([^,\s]+)', text)]


def checkpoint_values(model_dir, iteration, scope):
    """``{name: value}`` of the checkpoint's variables of a network scope
    (optimiser slots excluded)."""
    reader = tf.train.load_checkpoint(
        os.path.join(str(model_dir), 'models', 'model.ckpt-{}'.format(iteration)))
    return {name: reader.get_tensor(name)
            for name in reader.get_variable_to_shape_map()
            if name.startswith(scope + '/') and 'Adam' not in name}


def generated_images(folder):
    """``{file name: array}`` of the images inference wrote, checked
    against ``inferred.csv``."""
    names = sorted(name for name in os.listdir(str(folder))
                   if name.endswith('_niftynet_generated.nii.gz'))
    with open(os.path.join(str(folder), 'inferred.csv')) as handle:
        listed = sorted(os.path.basename(row[-1]) for row in csv.reader(handle) if row)
    assert listed == names
    return {name: np.asarray(nib.load(os.path.join(str(folder), name)).dataobj)
            for name in names}


def test_conditional_gan_trains_two_networks_on_two_towers_then_generates(
        tmp_path, dataset):
    config = write_config(tmp_path, dataset, num_gpus=2, max_iter=3, training=(
        'exclude_fraction_for_validation = 0.25\nvalidation_every_n = 2\n'
        'validation_max_iter = 1'))
    assert main(['train', '-c', config, '-a', 'net_gan']) == 0
    model = tmp_path / 'model'
    losses = logged_losses(model)
    assert [it for it, _, _ in losses] == [1, 2, 3]
    assert all(math.isfinite(d) and math.isfinite(g) and d > 0 and g > 0
               for _, d, g in losses)
    # the generator's optimiser moved every generator weight, the
    # discriminator's every discriminator weight
    for scope in ('generator', 'discriminator'):
        before = checkpoint_values(model, 2, scope)
        after = checkpoint_values(model, 3, scope)
        assert before and set(before) == set(after)
        moved = [name for name in before if not np.allclose(before[name], after[name])]
        assert len(moved) == len(before), set(before) - set(moved)
    with open(str(model / 'dataset_split.csv')) as handle:
        assert sum(1 for row in csv.reader(handle) if row[1:] == ['Validation']) == 1

    assert main(['inference', '-c', config, '-a', 'net_gan']) == 0
    images = generated_images(tmp_path / 'generated')
    # every subject's conditioning, n_interpolations (2) images each
    assert sorted(images) == ['{}_subj0{}_niftynet_generated.nii.gz'.format(k, s)
                              for k in (0, 1) for s in (1, 2, 3, 4)]
    for image in images.values():
        assert image.shape == (16, 16, 1)
        assert np.all(np.isfinite(image)) and np.all(np.abs(image) <= 1.0)
    # one run of interpolated noise per subject: its two images differ
    assert not np.allclose(images['0_subj01_niftynet_generated.nii.gz'],
                           images['1_subj01_niftynet_generated.nii.gz'])


def test_unconditional_gan_through_net_gan(tmp_path, dataset):
    config = write_config(tmp_path, dataset, conditioning='', n_interpolations=4)
    assert net_gan(['train', '-c', config]) == 0
    assert len(logged_losses(tmp_path / 'model')) == 2
    assert net_gan(['inference', '-c', config]) == 0
    images = generated_images(tmp_path / 'generated')
    # no conditioning: one run of n_interpolations images from random noise
    assert len(images) == 4
    assert all(re.match(r'0_[0-9a-f]{32}_niftynet_generated\.nii\.gz$', name)
               for name in images)
    assert all(image.shape == (16, 16, 1) and np.all(np.isfinite(image))
               for image in images.values())


def test_simulator_gan_with_several_conditioning_sections(tmp_path, dataset):
    # the ultrasound simulator demo's layout: conditioning from several
    # sections (here the same maps twice), 32x32 windows (multiples of 32)
    config = write_config(tmp_path, dataset, network='gan_test_nets.SmallSimulatorGAN',
                          conditioning='cond,cond', size=32, max_iter=1)
    assert net_gan(['train', '-c', config]) == 0
    assert len(logged_losses(tmp_path / 'model')) == 1
    assert net_gan(['inference', '-c', config]) == 0
    images = generated_images(tmp_path / 'generated')
    assert len(images) == 8
    # the simulator's generator ends with 2 tanh
    assert all(image.shape == (32, 32, 1) and np.all(np.abs(image) <= 2.0)
               for image in images.values())


def test_weight_decay_adds_to_each_loss(tmp_path, dataset):
    config = write_config(tmp_path, dataset, conditioning='', max_iter=1)
    assert net_gan(['train', '-c', config, '--decay', '10', '--reg_type', 'L1']) == 0
    (_, loss_d, loss_g), = logged_losses(tmp_path / 'model')
    # the first iteration's cross entropies are about 0.7 to 2 (see the
    # other tests); ten times the L1 norm of hundreds of weights is far more
    assert loss_d > 10 and loss_g > 10


@pytest.mark.parametrize('argv, message', [
    (['evaluation'], 'net_gan has no evaluation action'),
    (['train', '--name', 'toynet'], 'NETWORK name = toynet: net_gan needs a GAN network'),
    (['train', '--GAN.image='], '[GAN] image = <input section(s)> is not set'),
    (['train', '--noise_size', '0'], 'noise_size'),
    (['train', '--window_sampling', 'weighted'],
     'window_sampling = weighted: net_gan resizes each whole image'),
])
def test_mistakes_are_one_line(tmp_path, dataset, capsys, argv, message):
    config = write_config(tmp_path, dataset)
    assert net_gan(argv[:1] + ['-c', config] + argv[1:]) == 1
    err = capsys.readouterr().err
    assert message in err and 'Traceback' not in err
