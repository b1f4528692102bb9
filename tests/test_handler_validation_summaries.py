"""A validation round writes one TensorBoard point: its scalars' mean."""
import glob
import os

import pytest
import tensorflow.compat.v1 as tf

from test_handler_best_model_early_stopping import run, scripted_params


def scalar_points(event_dir, tag):
    """[(step, value)] of a scalar tag in a folder's event files."""
    points = []
    for path in sorted(glob.glob(os.path.join(event_dir, 'events.*'))):
        for event in tf.train.summary_iterator(path):
            for value in event.summary.value:
                if value.tag == tag:
                    points.append((event.step, value.simple_value))
    return points


def test_one_validation_point_per_round_with_the_round_mean(tmp_path):
    # rounds after iterations 2 and 4, three validation iterations each
    run(scripted_params(tmp_path, [1, 2, 6, 4, 4, 7], max_iter=4,
                        validation_every_n=2, validation_max_iter=3,
                        tensorboard_every_n=3))
    logs = glob.glob(os.path.join(str(tmp_path), 'logs', '*'))[0]
    assert scalar_points(os.path.join(logs, 'Validation'), 'loss') == [
        (2, pytest.approx(3.0)), (4, pytest.approx(5.0))]
    # training keeps tensorboard_every_n; validation rounds are always written
    assert [step for step, _ in scalar_points(os.path.join(logs, 'Training'),
                                              'loss')] == [3]
