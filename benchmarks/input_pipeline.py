"""Input pipeline throughput: sampler threads against sampler processes.

Usage (from the repository root)::

    .venv/bin/python benchmarks/input_pipeline.py [--seconds 8] [--subjects 6]

Builds the segmentation demo's uniform sampler (32^3 windows of 48^3
synthetic subjects) with augmentation on (rotation, scaling, elastic
deformation), then measures the windows/s it delivers with 1..N feeding
threads and with 1..N worker processes (N = the machine's core count),
all in this one run, and prints each against the one-thread figure.
Augmentation is numpy/scipy work holding the GIL, so threads stay flat;
processes should scale with cores.
"""
import argparse
import os
import tempfile
import time


def build_sampler(data, tf):
    """A UniformSampler over ``data`` with whitening and augmentation."""
    from niftydrive.engine.sampler_uniform import UniformSampler
    from niftydrive.io.image_reader import ImageReader
    from niftydrive.io.image_sets_partitioner import ALL, ImageSetsPartitioner
    from niftydrive.layer.mean_variance_normalisation import MeanVarNormalisationLayer
    from niftydrive.layer.rand_elastic_deform import RandomElasticDeformationLayer
    from niftydrive.layer.rand_rotation import RandomRotationLayer
    from niftydrive.layer.rand_spatial_scaling import RandomSpatialScalingLayer
    from niftydrive.utilities.util_common import ParserNamespace

    def section(keyword, order):
        return ParserNamespace(path_to_search=data, filename_contains=(keyword,),
                               axcodes=('R', 'A', 'S'), interp_order=order,
                               spatial_window_size=(32, 32, 32))
    data_param = {'T1': section('T1', 1), 'Label': section('Label', 0)}
    rows = ImageSetsPartitioner().initialise(data_param).get_file_list(ALL)
    reader = ImageReader(['image', 'label']).initialise(
        data_param, ParserNamespace(image=('T1',), label=('Label',)), rows)
    rotation = RandomRotationLayer()
    rotation.init_uniform_angle((-10.0, 10.0))
    reader.add_preprocessing_layers([
        MeanVarNormalisationLayer(image_name='image'),
        RandomSpatialScalingLayer(min_percentage=-10.0, max_percentage=10.0),
        rotation,
        RandomElasticDeformationLayer(num_controlpoints=4, std_deformation_sigma=5.0,
                                      proportion_to_augment=1.0)])
    return UniformSampler(reader, data_param, batch_size=2, windows_per_image=2,
                          queue_length=8)


def windows_per_second(data, workers, use_processes, seconds):
    """Windows/s the sampler delivers with that many threads or processes."""
    import niftydrive  # noqa: F401  (TF 1.x mode)
    import tensorflow.compat.v1 as tf
    with tf.Graph().as_default():
        sampler = build_sampler(data, tf)
        batch = sampler.pop_batch_op()
        with tf.Session() as sess:
            coord = tf.train.Coordinator()
            if use_processes:
                sampler.run_processes(sess, coord, workers, seed=1)
            else:
                sampler.run_threads(sess, coord, workers)
            try:
                for _ in range(3):
                    sess.run(batch)  # warm up
                count, start = 0, time.time()
                while time.time() - start < seconds:
                    sess.run(batch)
                    count += 2
                return count / (time.time() - start)
            finally:
                sampler.close_all()


def main():
    """Measure and print windows/s for threads and processes."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seconds', type=float, default=8.0)
    parser.add_argument('--subjects', type=int, default=6)
    args = parser.parse_args()
    from niftydrive.contrib.demo_data import make_dataset
    data = tempfile.mkdtemp(prefix='niftydrive_pipeline_')
    make_dataset(data, subjects=args.subjects, shape=(48, 48, 48), seed=0)
    cores = os.cpu_count() or 1
    counts = sorted({1, 2, cores})
    print('cores: {}; 32^3 windows with rotation + scaling + elastic deformation'.format(
        cores))
    baseline = None
    for use_processes in (False, True):
        for workers in counts:
            rate = windows_per_second(data, workers, use_processes, args.seconds)
            baseline = baseline or rate
            print('{:>2} {:<9}: {:7.1f} windows/s = {:4.2f} x one thread'.format(
                workers, 'processes' if use_processes else 'threads', rate,
                rate / baseline))


if __name__ == '__main__':
    main()
