"""The autoencoder application end to end, through net_run and
net_autoencoder: train a tiny VAE on synthetic 2-D bumps, then each
inference type (encode, encode-decode, sample, linear_interpolation)."""
import csv
import os

import nibabel as nib
import numpy as np
import pytest

from niftydrive.contrib.demo_data import make_gan_dataset
from niftydrive.net_run import main, net_autoencoder
from niftydrive.network.vae import VAE

LATENT = 3
SUBJECTS = 4

CONFIG = """
[bumps]
path_to_search = {data}
filename_contains = frame,cond
spatial_window_size = (8, 8, 1)

[SYSTEM]
num_threads = 1
model_dir = {model}

[NETWORK]
name = test_autoencoder_application.TinyVAE
batch_size = 2
queue_length = 4
decay = 1e-6

[TRAINING]
lr = 0.01
loss_type = VariationalLowerBound
max_iter = 30
save_every_n = 30

[INFERENCE]
save_seg_dir = {output}

[AUTOENCODER]
image = bumps
inference_type = encode
noise_stddev = 1
n_interpolations = 2
"""


class TinyVAE(VAE):
    """The VAE with a few channels and units: two poolings by 2, 3 latent
    variables."""

    def __init__(self, **kwargs):
        super(TinyVAE, self).__init__(**kwargs)
        self.conv_output_channels = [2, 4]
        self.conv_kernel_sizes = [3, 3]
        self.conv_pooling_factors = [2, 2]
        self.acti_func_conv = ['selu', 'selu']
        self.layer_sizes_encoder = [8]
        self.acti_func_encoder = ['selu']
        self.number_of_latent_variables = LATENT
        self.number_of_samples_from_posterior = 2
        self.layer_sizes_decoder_shared = [8]
        self.acti_func_decoder_shared = ['selu']
        self.layer_sizes_decoder = [8]
        self.acti_func_decoder = ['selu', 'selu']
        self.trans_conv_output_channels_means = [2]
        self.trans_conv_kernel_sizes_means = [3, 3]
        self.trans_conv_unpooling_factors_means = [2, 2]
        self.acti_func_trans_conv_means = ['selu', 'sigmoid']
        self.trans_conv_output_channels_logvars = [2]
        self.trans_conv_kernel_sizes_logvars = [3, 3]
        self.trans_conv_unpooling_factors_logvars = [2, 2]
        self.acti_func_trans_conv_logvars = ['selu', None]


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    """Four subjects: 8x8 Gaussian bumps in [0, 1] (the GAN demo's
    conditioning maps)."""
    folder = tmp_path_factory.mktemp('autoencoder_data')
    make_gan_dataset(str(folder), subjects=SUBJECTS, shape=(8, 8), seed=5)
    return folder


# the codes written by an encode inference (every input section's files must
# exist when a config is read, so this section is added once they do)
CODES = """
[codes]
path_to_search = {codes}
filename_contains = niftynet_generated
spatial_window_size = (1, 1, 1)
"""


def write_config(tmp_path, data, codes=None):
    path = tmp_path / 'vae.ini'
    text = CONFIG.format(data=data, model=tmp_path / 'model', output=tmp_path / 'out')
    if codes:
        text = text.replace('image = bumps\n', 'image = bumps\nfeature = codes\n') + \
            CODES.format(codes=codes)
    path.write_text(text)
    return str(path)


def logged(model_dir, name):
    """The values of ``name=`` on the training log's iteration lines."""
    with open(os.path.join(str(model_dir), 'train_niftydrive_log')) as handle:
        return [float(line.split(name + '=')[1].split(',')[0])
                for line in handle if 'Training iter' in line]


def inferred(folder):
    """``{file name: image array}`` of the files listed in ``inferred.csv``."""
    with open(str(folder / 'inferred.csv')) as handle:
        names = [os.path.basename(row[1]) for row in csv.reader(handle)]
    return {name: nib.load(str(folder / name)).get_fdata() for name in names}


def test_train_then_every_inference_type(tmp_path, dataset):
    config = write_config(tmp_path, dataset)
    assert main(['train', '-c', config]) == 0   # [AUTOENCODER] selects it
    bound = logged(tmp_path / 'model', 'variational_lower_bound')
    total = logged(tmp_path / 'model', 'total_loss')
    assert len(bound) == len(total) == 30
    assert all(t >= b for t, b in zip(total, bound))   # plus weight decay
    assert np.mean(bound[-5:]) < np.mean(bound[:5])
    assert os.listdir(str(tmp_path / 'model' / 'logs'))

    # encode: one code of LATENT values per subject
    codes_dir = tmp_path / 'codes'
    assert main(['inference', '-c', config, '--save_seg_dir', str(codes_dir)]) == 0
    codes = inferred(codes_dir)
    assert sorted(codes) == ['0_subj{:02d}_niftynet_generated.nii.gz'.format(i + 1)
                             for i in range(SUBJECTS)]
    assert all(code.shape == (1, 1, 1, 1, LATENT) and np.all(np.isfinite(code))
               for code in codes.values())

    # encode-decode: one 8x8 reconstruction per subject, the sigmoid's range
    out = tmp_path / 'decoded'
    assert main(['inference', '-c', config, '--inference_type', 'encode-decode',
                 '--save_seg_dir', str(out)]) == 0
    images = inferred(out)
    assert len(images) == SUBJECTS
    for image in images.values():
        assert image.shape[:2] == (8, 8)
        assert 0.0 <= image.min() and image.max() <= 1.0

    # sample: one batch of images decoded from random codes
    out = tmp_path / 'samples'
    assert main(['inference', '-c', config, '--inference_type', 'sample',
                 '--save_seg_dir', str(out)]) == 0
    samples = inferred(out)
    assert len(samples) == 2 and all(name.startswith('0_') or name.startswith('1_')
                                      for name in samples)
    first, second = samples.values()
    assert first.shape[:2] == (8, 8) and not np.allclose(first, second)

    # linear_interpolation: each code mixed with another in 2 steps; the
    # first step (weight 0) is the other code, the last the code itself
    out = tmp_path / 'interpolated'
    config = write_config(tmp_path, dataset, codes=codes_dir)
    assert main(['inference', '-c', config, '--inference_type', 'linear_interpolation',
                 '--save_seg_dir', str(out)]) == 0
    mixed = inferred(out)
    assert len(mixed) == 2 * SUBJECTS
    steps = sorted(name.split('_')[0] for name in mixed)
    assert steps == ['0'] * SUBJECTS + ['1'] * SUBJECTS
    assert all(image.shape[:2] == (8, 8) for image in mixed.values())


def test_net_autoencoder_script_and_its_refusals(tmp_path, dataset, capsys):
    config = write_config(tmp_path, dataset)
    assert net_autoencoder(['train', '-c', config, '--max_iter', '2']) == 0
    out = tmp_path / 'decoded'
    assert net_autoencoder(['inference', '-c', config, '--inference_type', 'encode-decode',
                            '--save_seg_dir', str(out)]) == 0
    assert len(inferred(out)) == SUBJECTS
    capsys.readouterr()

    assert net_autoencoder(['evaluation', '-c', config]) == 1
    err = capsys.readouterr().err
    assert 'net_autoencoder has no evaluation action' in err and 'Traceback' not in err
    assert net_autoencoder(['inference', '-c', config, '--inference_type', 'decode']) == 1
    err = capsys.readouterr().err
    assert 'inference_type' in err and 'Traceback' not in err
    assert net_autoencoder(['train', '-c', config, '--window_sampling', 'uniform',
                            '--bumps.spatial_window_size', '6,6,1',
                            '--overwrite_checkpoints', 'True']) == 1
    err = capsys.readouterr().err
    assert 'multiple' in err and 'Traceback' not in err
