"""configs/demo_classification.ini and configs/demo_autoencoder.ini run as the
Makefile runs them, on a few subjects of the demo data and a few iterations."""
import csv
import os

from niftydrive.contrib.demo_data import make_classification_dataset, make_gan_dataset
from niftydrive.net_run import net_autoencoder, net_classify

CONFIGS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))), 'configs')


def rows(path):
    with open(str(path)) as handle:
        return list(csv.reader(handle))


def test_classification_demo_config(tmp_path):
    data, model = tmp_path / 'data', tmp_path / 'model'
    make_classification_dataset(str(data), subjects=8, shape=(16, 16), seed=1)
    config = os.path.join(CONFIGS, 'demo_classification.ini')
    paths = ['--image.path_to_search', str(data), '--class.path_to_search', str(data),
             '--model_dir', str(model), '--save_seg_dir', str(model / 'inference'),
             '--save_csv_dir', str(model / 'evaluation')]
    assert net_classify(['train', '-c', config, '--max_iter', '2'] + paths) == 0
    assert net_classify(['inference', '-c', config] + paths) == 0
    assert len(rows(model / 'inference' / '_class.csv')) == 2   # a quarter held out
    assert net_classify(['evaluation', '-c', config] + paths) == 0
    evaluation = rows(model / 'evaluation' / 'evaluation.csv')
    assert evaluation[0][:2] == ['n_subjects', 'accuracy'] and evaluation[1][0] == '2'


def test_autoencoder_demo_config(tmp_path):
    data, model = tmp_path / 'data', tmp_path / 'model'
    make_gan_dataset(str(data), subjects=3, shape=(32, 32), seed=1)
    config = os.path.join(CONFIGS, 'demo_autoencoder.ini')
    paths = ['--bumps.path_to_search', str(data), '--model_dir', str(model),
             '--batch_size', '3']
    assert net_autoencoder(['train', '-c', config, '--max_iter', '2'] + paths) == 0
    for inference_type in ('encode-decode', 'sample'):
        out = tmp_path / inference_type
        assert net_autoencoder(['inference', '-c', config, '--inference_type', inference_type,
                                '--save_seg_dir', str(out)] + paths) == 0
        assert len(rows(out / 'inferred.csv')) == 3
