"""A NiftyNet 0.3-style application with its own samplers, trained and run through the driver."""
import csv

import numpy as np
import tensorflow.compat.v1 as tf

from engine_test_apps import make_params
from niftydrive.contrib.demo_data import write_nifti
from niftydrive.engine.application_driver import ApplicationDriver
from niftydrive.utilities.util_common import ParserNamespace

SHAPE = (6, 5, 4)
SUBJECTS = 3


def write_volumes(folder):
    rng = np.random.RandomState(1)
    for index in range(SUBJECTS):
        scale = rng.uniform(0.5, 2.0, size=SHAPE[2])        # each slice its own level
        data = rng.uniform(0.0, 1.0, size=SHAPE) * scale
        write_nifti(str(folder / 'sub{}_mri.nii.gz'.format(index)), data.astype(np.float32),
                    np.eye(4))
    return {'MRI': ParserNamespace(path_to_search=str(folder), filename_contains=('_mri',),
                                   filename_not_contains=(), csv_file='', interp_order=1,
                                   pixdim=None, axcodes=None, loader=None,
                                   spatial_window_size=SHAPE[:2] + (1,))}


def params_for(model_dir, action, **overrides):
    params = make_params(model_dir, action=action,
                         app='niftynet_style_sampler_app.SliceMeanApplication',
                         batch_size=4, queue_length=16, optimiser='adam', **overrides)
    params['CUSTOM'].image = ('MRI',)
    return params


def test_custom_samplers_train_and_infer_through_the_driver(tmp_path):
    data_param = write_volumes(tmp_path)
    model_dir = tmp_path / 'model'
    model_dir.mkdir()
    losses = []

    def record(msg):
        losses.append(float(msg.current_iter_output['niftynetconsole']['loss']))

    ApplicationDriver.post_train_iter.connect(record)
    try:
        driver = ApplicationDriver()
        driver.initialise_application(
            params_for(model_dir, 'train', max_iter=150, lr=0.02, save_every_n=150,
                       tensorboard_every_n=50), data_param)
        driver.run_application()
    finally:
        ApplicationDriver.post_train_iter.disconnect(record)
    assert len(losses) == 150
    assert np.mean(losses[-10:]) < 0.1 * np.mean(losses[:10])
    assert (model_dir / 'models' / 'model.ckpt-150.index').exists()

    driver = ApplicationDriver()
    driver.initialise_application(params_for(model_dir, 'inference'), data_param)
    driver.run_application()
    with open(str(model_dir / 'out' / 'slice_means.csv')) as handle:
        rows = list(csv.reader(handle))
    # every slice of every subject exactly once, then the stopping signal ended the run
    assert sorted((r[0], int(r[1])) for r in rows) == sorted(
        ('sub{}'.format(s), z) for s in range(SUBJECTS) for z in range(SHAPE[2]))
    predicted = np.array([float(r[2]) for r in rows])
    actual = np.array([float(r[3]) for r in rows])
    assert np.corrcoef(predicted, actual)[0, 1] > 0.9
    tf.reset_default_graph()
