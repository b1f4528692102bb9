"""configs/fine_tuning_demo.ini end to end through net_run, tiny: pretrain
with configs/segmentation_demo.ini, fine-tune (restored and frozen input
layer, warm-up and cosine schedule, clipping, validation rounds keeping the
best model, early stopping), then infer with the best model."""
import os

import numpy as np
import tensorflow.compat.v1 as tf

from niftydrive.contrib.demo_data import make_dataset
from niftydrive.net_run import main

CONFIGS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))), 'configs')


def tiny(data, model_dir):
    """Overrides making a demo config fast on the tiny data set."""
    return ['--model_dir', str(model_dir), '--num_threads', '1',
            '--T1.path_to_search', str(data), '--T1.spatial_window_size', '8,8,8',
            '--Label.path_to_search', str(data),
            '--Label.spatial_window_size', '8,8,8', '--batch_size', '2',
            '--queue_length', '8', '--sample_per_volume', '2']


def variables(checkpoint, pattern):
    reader = tf.train.load_checkpoint(checkpoint)
    return {name: reader.get_tensor(name)
            for name in reader.get_variable_to_shape_map()
            if pattern in name and 'Adam' not in name and 'moving' not in name}


def test_fine_tuning_demo_config(tmp_path, capsys):
    data = tmp_path / 'data'
    make_dataset(str(data), subjects=5, shape=(16, 16, 16), seed=3)
    pre, tuned = tmp_path / 'pretrained', tmp_path / 'tuned'
    assert main(['train', '-c', os.path.join(CONFIGS, 'segmentation_demo.ini'),
                 '--max_iter', '2', '--validation_every_n', '-1',
                 '--exclude_fraction_for_validation', '0.2',
                 '--exclude_fraction_for_inference', '0.2'] +
                tiny(data, pre)) == 0
    capsys.readouterr()

    config = os.path.join(CONFIGS, 'fine_tuning_demo.ini')
    assert main(['train', '-c', config, '--max_iter', '8',
                 '--validation_every_n', '2', '--patience', '2',
                 '--lr_warmup_steps', '2', '--console_every_n', '1',
                 '--restore_from', str(pre / 'models'),
                 '--dataset_split_file', str(pre / 'dataset_split.csv')] +
                tiny(data, tuned)) == 0
    err = capsys.readouterr().err
    # the schedule: warm-up to lr, then cosine decay towards 0
    rates = [float(line.split(' lr=')[1].split(',')[0])
             for line in err.splitlines() if 'Training iter' in line]
    assert rates[0] < rates[1] and rates[1] > rates[-1] > 0, rates
    assert 'best model so far' in err
    # the input layer came from the pretrained model and its weights stayed
    # frozen (batch-norm moving averages are not weights: they still update)
    pretrained = variables(str(pre / 'models' / 'model.ckpt-2'), 'conv_input')
    final = tf.train.latest_checkpoint(str(tuned / 'models'))
    assert pretrained and all(
        np.array_equal(value, variables(final, 'conv_input')[name])
        for name, value in pretrained.items())
    # the output layer trained
    trained, start = variables(final, 'conv_output'), variables(
        str(pre / 'models' / 'model.ckpt-2'), 'conv_output')
    assert any(not np.array_equal(trained[name], start[name]) for name in start)
    assert os.listdir(str(tuned / 'models' / 'best'))

    assert main(['inference', '-c', config, '--INFERENCE.spatial_window_size',
                 '16,16,16', '--border', '2,2,2',
                 '--dataset_split_file', str(pre / 'dataset_split.csv')] +
                tiny(data, tuned)) == 0
    err = capsys.readouterr().err
    assert 'inference with the best model' in err
    written = [name for name in os.listdir(str(tuned / 'inference'))
               if name.endswith('_niftynet_out.nii.gz')]
    assert len(written) == 1
