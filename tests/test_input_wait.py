"""``input_wait``: the fraction of each iteration's wall time spent waiting
for its batch, on the console line and in TensorBoard."""
import glob
import logging
import os

import tensorflow.compat.v1 as tf

from engine_test_apps import make_params
from niftydrive.engine.application_driver import ApplicationDriver
from niftydrive.engine.application_variables import CONSOLE


def test_a_stalled_sampler_shows_as_input_wait(tmp_path, caplog):
    # 4 windows (2 batches) at once, then the sampler stalls for 0.6 s
    params = make_params(tmp_path, max_iter=4, stall_after=4, stall_seconds=0.6)
    waits = {}

    def record(iter_msg):
        waits[iter_msg.current_iter] = \
            iter_msg.current_iter_output[CONSOLE]['input_wait']

    driver = ApplicationDriver()
    driver.initialise_application(params, {})
    ApplicationDriver.post_train_iter.connect(record)
    try:
        with caplog.at_level(logging.INFO):
            driver.run_application()
    finally:
        ApplicationDriver.post_train_iter.disconnect(record)
    assert sorted(waits) == [1, 2, 3, 4]
    assert all(0.0 <= value <= 1.0 for value in waits.values())
    # iteration 3 waited ~0.6 s for its batch: nearly all of its time
    assert waits[3] > 0.8
    assert waits[2] < 0.5  # its batch was in the queue
    lines = [r.getMessage() for r in caplog.records if 'Training iter 3' in r.getMessage()]
    assert lines and 'input_wait=0.' in lines[0]

    events = glob.glob(os.path.join(str(tmp_path), 'logs', '*', 'Training', 'events.*'))
    tensorboard = {}
    for event in tf.train.summary_iterator(events[0]):
        for value in event.summary.value:
            if value.tag == 'input_wait':
                tensorboard[event.step] = value.simple_value
    assert sorted(tensorboard) == [1, 2, 3, 4]
    assert abs(tensorboard[3] - waits[3]) < 1e-6
