"""A user's application with custom samplers, written the way NiftyNet 0.3 users wrote them.

Only the imports differ from NiftyNet 0.3 code (``niftynet`` -> ``niftydrive``,
``tensorflow`` -> ``tensorflow.compat.v1``): the samplers subclass ``Layer``
and ``InputBatchQueueRunner``, describe their windows with
``ImageWindow.from_data_reader_properties``, build the queue with
``_create_queue_and_ops(window, enqueue_size, dequeue_size)`` and yield dicts
keyed by the window's placeholders; the network flattens a batch with
``tf.reshape(x, [batch_size, -1])``.

The task: predict the mean intensity of an axial slice of an MR volume.
Training draws random slices (``RandomSliceSampler``, endless); inference
visits every slice once (``AllSlicesSampler``, finite), and the
stopping-signal rows that follow the last slice end the run.
"""
import os

import numpy as np
import tensorflow.compat.v1 as tf

from niftydrive.application.base_application import BaseApplication
from niftydrive.engine.application_variables import CONSOLE, NETWORK_OUTPUT, TF_SUMMARIES
from niftydrive.engine.image_window import ImageWindow, N_SPATIAL
from niftydrive.engine.image_window_buffer import InputBatchQueueRunner
from niftydrive.io.image_reader import ImageReader
from niftydrive.layer.base_layer import Layer
from niftydrive.layer.fully_connected import FullyConnectedLayer


class RandomSliceSampler(Layer, InputBatchQueueRunner):
    """Whole x-y planes, one voxel thick, at random depths of random subjects."""

    def __init__(self, reader, data_param, batch_size, slices_per_image=4, queue_length=16,
                 shuffle=True):
        self.reader = reader
        Layer.__init__(self, name='slice_sampler')
        InputBatchQueueRunner.__init__(self, capacity=queue_length, shuffle=shuffle)
        self.window = ImageWindow.from_data_reader_properties(
            self.reader.input_sources, self.reader.shapes, self.reader.tf_dtypes, data_param)
        self._create_queue_and_ops(self.window, enqueue_size=slices_per_image,
                                   dequeue_size=batch_size)

    def _slices(self, image_id, data, depths):
        output = {}
        for name in self.window.names:
            image = data[name]
            windows = np.stack([image[:, :, z:z + 1, ...] for z in depths])
            location = np.zeros((len(depths), 1 + 2 * N_SPATIAL), dtype=np.int32)
            location[:, 0] = image_id
            location[:, 3] = depths
            location[:, 4:6] = image.shape[:2]
            location[:, 6] = np.asarray(depths) + 1
            output[self.window.image_data_placeholder(name)] = windows
            output[self.window.coordinates_placeholder(name)] = location
        return output

    def layer_op(self):
        while True:
            image_id, data, _ = self.reader(idx=None, shuffle=True)
            if not data:
                break
            depth = data['image'].shape[2]
            yield self._slices(image_id, data,
                               np.random.randint(0, depth, self.window.n_samples))


class AllSlicesSampler(RandomSliceSampler):
    """Every slice of every subject once, in order; then NiftyNet's stopping signal."""

    generator_shared = True

    def __init__(self, reader, data_param, batch_size, queue_length=16):
        RandomSliceSampler.__init__(self, reader, data_param, batch_size,
                                    slices_per_image=1, queue_length=queue_length,
                                    shuffle=False)

    def layer_op(self):
        while True:
            image_id, data, _ = self.reader(idx=None, shuffle=False)
            if not data:
                break
            for z in range(data['image'].shape[2]):
                yield self._slices(image_id, data, [z])


class SliceMeanApplication(BaseApplication):
    """Regress the mean of each slice with one fully connected layer."""

    REQUIRED_CONFIG_SECTION = 'CUSTOM'

    def __init__(self, net_param, action_param, action):
        BaseApplication.__init__(self, net_param, action_param, action)
        self.data_param = None
        self.reader = None
        self.predictions = []

    def initialise_dataset_loader(self, data_param=None, task_param=None,
                                  data_partitioner=None):
        self.data_param = data_param
        file_list = data_partitioner.train_files if self.is_training \
            else data_partitioner.all_files
        self.reader = ImageReader(['image'])
        self.reader.initialise(data_param, task_param, file_list)

    def initialise_sampler(self):
        if self.is_training:
            self.sampler = [[RandomSliceSampler(self.reader, self.data_param,
                                                self.net_param.batch_size)]]
        else:
            self.sampler = [[AllSlicesSampler(self.reader, self.data_param,
                                              self.net_param.batch_size)]]

    def initialise_network(self):
        self.net = FullyConnectedLayer(n_output_chns=1, with_bn=False, acti_func=None,
                                       name='slice_mean')

    def connect_data_and_network(self, outputs_collector=None, gradients_collector=None):
        data = self.get_sampler()[0][0].pop_batch_op()
        batch_size = self.net_param.batch_size
        flat = tf.reshape(data['image'], [batch_size, -1])
        prediction = self.net(flat)
        if self.is_training:
            target = tf.reduce_mean(flat, axis=1, keepdims=True)
            loss = tf.reduce_mean(tf.square(prediction - target))
            self.optimiser = tf.train.AdamOptimizer(self.action_param.lr)
            gradients_collector.add_to_collection(self.optimiser.compute_gradients(loss))
            outputs_collector.add_to_collection(var=loss, name='loss',
                                                average_over_devices=True,
                                                collection=CONSOLE)
            outputs_collector.add_to_collection(var=loss, name='loss',
                                                average_over_devices=True,
                                                collection=TF_SUMMARIES)
        else:
            outputs_collector.add_to_collection(var=prediction, name='prediction',
                                                collection=NETWORK_OUTPUT)
            outputs_collector.add_to_collection(var=data['image_location'], name='location',
                                                collection=NETWORK_OUTPUT)
            outputs_collector.add_to_collection(var=tf.reduce_mean(flat, axis=1),
                                                name='slice_mean',
                                                collection=NETWORK_OUTPUT)

    def interpret_output(self, batch_output):
        if self.is_training:
            return True
        for prediction, location, mean in zip(batch_output['prediction'],
                                              batch_output['location'],
                                              batch_output['slice_mean']):
            if np.any(location < 0):          # the stopping signal: every slice is done
                self._save()
                return False
            self.predictions.append((self.reader.get_subject_id(location[0]),
                                     int(location[3]), float(prediction[0]), float(mean)))
        return True

    def _save(self):
        folder = self.action_param.save_seg_dir
        if not os.path.isdir(folder):
            os.makedirs(folder)
        with open(os.path.join(folder, 'slice_means.csv'), 'w') as handle:
            for subject, depth, prediction, mean in self.predictions:
                handle.write('{},{},{:.6f},{:.6f}\n'.format(subject, depth, prediction, mean))
