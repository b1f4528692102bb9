"""The classification application end to end through net_run: train -> infer
-> evaluate on synthetic images whose class is their brightness (dark 0,
bright 1), the labels 1x1x1 NIfTI images."""
import csv
import os

import nibabel as nib
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from niftydrive.net_run import main, net_classify
from niftydrive.network.base_net import BaseNet

CONFIG = """
[T1]
path_to_search = {data}
filename_contains = T1
spatial_window_size = (6, 6, 6)

[Class]
path_to_search = {data}
filename_contains = Class

[SYSTEM]
num_threads = 1
model_dir = {model}
dataset_split_file = {split}

[NETWORK]
name = test_classification_application.TinyClassifier
batch_size = 4
queue_length = 8
window_sampling = resize

[TRAINING]
lr = 0.1
loss_type = CrossEntropy
max_iter = 40
save_every_n = 40

[INFERENCE]
output_postfix = _class

[CLASSIFICATION]
image = T1
label = Class
num_classes = 2
output_prob = {output_prob}
"""

# subjects 0..11: even ones dark (class 0), odd ones bright (class 1)
INFERENCE_SUBJECTS = ('s08', 's09', 's10', 's11')


class TinyClassifier(BaseNet):
    """Mean and standard deviation of the image -> a linear layer -> logits
    ``[batch, num_classes]``."""

    def layer_op(self, images, is_training=True, **unused_kwargs):
        """The logits of ``images`` ``[batch, x, y, z, channels]``."""
        axes = list(range(1, images.shape.ndims))
        mean, variance = tf.nn.moments(images, axes=axes)
        features = tf.stack([mean, tf.sqrt(variance + 1e-6)], axis=1)
        weights = tf.get_variable('w', shape=[2, self.num_classes],
                                  initializer=tf.zeros_initializer())
        bias = tf.get_variable('b', shape=[self.num_classes],
                               initializer=tf.zeros_initializer())
        return tf.matmul(features, weights) + bias


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    """Twelve 8x7x6 images (dark or bright noise) with their one-voxel labels,
    and a split file putting s08..s11 into inference."""
    folder = tmp_path_factory.mktemp('classification_data')
    rng = np.random.RandomState(3)
    affine = np.diag([2.0, 1.0, 1.5, 1.0])
    split = []
    for index in range(12):
        subject = 's{:02d}'.format(index)
        label = index % 2
        image = rng.normal(2.0 * label - 1.0, 0.3, (8, 7, 6)).astype(np.float32)
        nib.save(nib.Nifti1Image(image, affine), str(folder / '{}_T1.nii.gz'.format(subject)))
        nib.save(nib.Nifti1Image(np.full((1, 1, 1), label, np.uint8), affine),
                 str(folder / '{}_Class.nii.gz'.format(subject)))
        nib.save(nib.Nifti1Image(np.full((1, 1, 1), 3 + 4 * label, np.int16), affine),
                 str(folder / '{}_Grade.nii.gz'.format(subject)))
        split.append('{},{}'.format(subject, 'inference' if subject in INFERENCE_SUBJECTS
                                    else 'training'))
    (folder / 'split.csv').write_text('\n'.join(split) + '\n')
    return folder


def write_config(tmp_path, data, output_prob=False):
    path = tmp_path / 'classify.ini'
    path.write_text(CONFIG.format(data=data, model=tmp_path / 'model',
                                  split=data / 'split.csv', output_prob=output_prob))
    return str(path)


def read_rows(path):
    with open(str(path)) as handle:
        return list(csv.reader(handle))


def test_train_infer_evaluate(tmp_path, dataset, caplog):
    caplog.set_level('INFO', logger='niftydrive')
    config = write_config(tmp_path, dataset)
    assert main(['train', '-c', config, '-a', 'net_classify']) == 0
    messages = [rec.getMessage() for rec in caplog.records if 'Training iter' in rec.getMessage()]
    assert len(messages) == 40
    accuracies = [float(m.split('accuracy=')[1].split(',')[0]) for m in messages]
    losses = [float(m.split('loss=')[1].split(',')[0]) for m in messages]
    assert losses[0] == pytest.approx(np.log(2.0), abs=1e-3)   # zero weights: 50/50
    assert np.mean(losses[-5:]) < 0.3 and np.mean(accuracies[-5:]) == 1.0
    assert os.listdir(str(tmp_path / 'model' / 'logs'))   # TensorBoard events

    assert main(['inference', '-c', config]) == 0     # [CLASSIFICATION] selects it
    out_dir = tmp_path / 'model' / 'inference'
    rows = sorted(read_rows(out_dir / '_class.csv'))
    assert rows == [['s08', '0'], ['s09', '1'], ['s10', '0'], ['s11', '1']]
    image = nib.load(str(out_dir / 's09_class.nii.gz'))
    assert image.get_fdata().reshape(-1).tolist() == [1.0]
    assert np.allclose(image.affine, np.diag([2.0, 1.0, 1.5, 1.0]))
    evaluation = read_rows(out_dir / 'evaluation.csv')
    assert evaluation[0] == ['n_subjects', 'accuracy', 'confusion_0_0', 'confusion_0_1',
                             'confusion_1_0', 'confusion_1_1', 'roc_auc']
    assert evaluation[1] == ['4', '1.000000', '2', '0', '0', '2', '1.000000']

    assert main(['evaluation', '-c', config, '--evaluations', 'accuracy,confusion_matrix']) == 0
    evaluation = read_rows(tmp_path / 'model' / 'evaluation' / 'evaluation.csv')
    assert evaluation == [['n_subjects', 'accuracy', 'confusion_0_0', 'confusion_0_1',
                           'confusion_1_0', 'confusion_1_1'],
                          ['4', '1.000000', '2', '0', '0', '2']]

    # probabilities: one row of two per subject; evaluation takes the most likely class
    prob_dir = tmp_path / 'prob'
    assert main(['inference', '-c', config, '--output_prob', 'True',
                 '--save_seg_dir', str(prob_dir)]) == 0
    rows = {row[0]: [float(v) for v in row[1:]] for row in read_rows(prob_dir / '_class.csv')}
    assert sorted(rows) == list(INFERENCE_SUBJECTS)
    for subject, probabilities in rows.items():
        assert sum(probabilities) == pytest.approx(1.0, abs=1e-4)
        assert int(np.argmax(probabilities)) == int(subject[1:]) % 2
    assert main(['evaluation', '-c', config, '--output_prob', 'True',
                 '--save_seg_dir', str(prob_dir), '--evaluations', 'roc_auc,accuracy']) == 0
    evaluation = read_rows(tmp_path / 'model' / 'evaluation' / 'evaluation.csv')
    assert evaluation == [['n_subjects', 'roc_auc', 'accuracy'], ['4', '1.000000', '1.000000']]


def test_net_classify_script_trains_infers_and_evaluates(tmp_path, dataset):
    config = write_config(tmp_path, dataset)
    assert net_classify(['train', '-c', config, '--max_iter', '20']) == 0
    assert net_classify(['inference', '-c', config]) == 0
    out_dir = tmp_path / 'model' / 'inference'
    assert sorted(row[0] for row in read_rows(out_dir / '_class.csv')) == \
        list(INFERENCE_SUBJECTS)
    assert net_classify(['evaluation', '-c', config, '--evaluations', 'accuracy']) == 0
    evaluation = read_rows(tmp_path / 'model' / 'evaluation' / 'evaluation.csv')
    assert evaluation[0] == ['n_subjects', 'accuracy'] and evaluation[1][0] == '4'


def test_loss_type_left_at_its_default_means_cross_entropy(tmp_path, dataset, caplog):
    # the declared default (Dice) is a segmentation loss: classification uses CrossEntropy
    caplog.set_level('INFO', logger='niftydrive')
    config = write_config(tmp_path, dataset)
    text = open(config).read()
    assert 'loss_type = CrossEntropy\n' in text
    open(config, 'w').write(text.replace('loss_type = CrossEntropy\n', ''))
    assert main(['train', '-c', config, '--max_iter', '2']) == 0
    assert 'classification uses CrossEntropy' in caplog.text


def test_label_normalisation_writes_the_label_values(tmp_path, dataset):
    config = write_config(tmp_path, dataset)
    text = open(config).read().replace('filename_contains = Class', 'filename_contains = Grade')
    open(config, 'w').write(text + 'label_normalisation = True\n')
    assert main(['train', '-c', config]) == 0
    assert main(['inference', '-c', config]) == 0
    out_dir = tmp_path / 'model' / 'inference'
    assert sorted(read_rows(out_dir / '_class.csv')) == \
        [['s08', '3'], ['s09', '7'], ['s10', '3'], ['s11', '7']]
    evaluation = read_rows(out_dir / 'evaluation.csv')
    assert evaluation[0][2:6] == ['confusion_3_3', 'confusion_3_7', 'confusion_7_3',
                                  'confusion_7_7']
    assert evaluation[1] == ['4', '1.000000', '2', '0', '0', '2', '1.000000']


@pytest.mark.parametrize('edit, message', [
    (('label = Class\n', ''), 'Training needs [CLASSIFICATION] label = <input section>.'),
    (('num_classes = 2\n', ''), '[CLASSIFICATION] num_classes must be set'),
    (('window_sampling = resize\n', ''), 'window_sampling = uniform is not supported by '
                                          'net_classify; set window_sampling = resize'),
])
def test_bad_config_is_one_clear_line(tmp_path, dataset, capsys, edit, message):
    config = write_config(tmp_path, dataset)
    text = open(config).read().replace(*edit)
    open(config, 'w').write(text)
    assert main(['train', '-c', config]) == 1
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if 'error' in line.lower()]
    assert 'Traceback' not in err and len(errors) == 1 and message in errors[0]


def test_evaluation_without_label_section_is_refused(tmp_path, dataset, capsys):
    config = write_config(tmp_path, dataset)
    text = open(config).read().replace('label = Class\n', '')
    open(config, 'w').write(text)
    assert main(['evaluation', '-c', config]) == 1
    assert 'Evaluation needs [CLASSIFICATION] label = <input section>.' in \
        capsys.readouterr().err
