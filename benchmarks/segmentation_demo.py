"""Benchmark of the segmentation demo: sampler windows/s, training steps/s, Dice, wall time.

Usage (from the repository root)::

    .venv/bin/python benchmarks/segmentation_demo.py [--model_dir DIR] [--threads 2]

Writes the demo data to ``demo_data/segmentation`` if it is not there, then runs
exactly what ``make demo`` runs (``net_run train/inference/evaluation -c
configs/segmentation_demo.ini``, each a separate process) with ``--model_dir``
set to a scratch folder, and prints:

- the uniform sampler's throughput alone (windows/s, queue threads as in the config);
- training speed (steps/s from the per-iteration times the driver logs, and
  the windows/s that speed consumes: steps/s x batch_size);
- the mean Dice of the inference subjects and the wall time of each command.

Measured on the development machine (2 CPU cores, TensorFlow 2.21 CPU), 10
subjects of 48^3 voxels, ToyNet, 1000 iterations of batch 4 (32^3 windows)::

    sampler alone        :    967.2 windows/s (32^3 windows, 2 threads)
    training             :     13.5 steps/s = 54.1 windows/s consumed (batch 4), 1000 iterations
    net_run train        :   84.2 s
    net_run inference    :    4.2 s
    net_run evaluation   :    3.9 s
    mean Dice            : 0.9840 (2 inference subjects x labels 1, 2)
    wall time (commands) :   92.3 s

The sampler delivers ~18x the windows training consumes, so training is
never starved. The inference subjects are drawn at random when the split is
made, so the Dice varies a little from run to run (0.98-0.99 in our runs;
300 iterations gave 0.90-0.93).
"""
import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, 'configs', 'segmentation_demo.ini')
DATA = os.path.join(ROOT, 'demo_data', 'segmentation')


def timed(command):
    """Run a command; return (seconds, combined output). Exit on failure."""
    start = time.time()
    result = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True)
    seconds = time.time() - start
    if result.returncode != 0:
        sys.stdout.write(result.stdout[-4000:])
        sys.exit('command failed: {}'.format(' '.join(command)))
    return seconds, result.stdout


def sampler_windows_per_second(threads, seconds=5.0):
    """Windows/s of the demo's UniformSampler alone (its own TF session)."""
    import niftydrive  # noqa: F401  (TF 1.x mode)
    import tensorflow.compat.v1 as tf
    from niftydrive.engine.sampler_uniform import UniformSampler
    from niftydrive.io.image_reader import ImageReader
    from niftydrive.io.image_sets_partitioner import ALL, ImageSetsPartitioner
    from niftydrive.utilities.util_common import ParserNamespace

    def section(keyword, order):
        return ParserNamespace(path_to_search=DATA, filename_contains=(keyword,),
                               axcodes=('R', 'A', 'S'), interp_order=order,
                               spatial_window_size=(32, 32, 32))
    data_param = {'T1': section('T1', 1), 'Label': section('Label', 0)}
    rows = ImageSetsPartitioner().initialise(data_param).get_file_list(ALL)
    reader = ImageReader(['image', 'label']).initialise(
        data_param, ParserNamespace(image=('T1',), label=('Label',)), rows)
    reader.set_preprocessing(whitening=True, label_fields=('label',), num_classes=3,
                             label_normalisation=True)
    reader.preload()
    with tf.Graph().as_default():
        sampler = UniformSampler(reader, data_param, batch_size=4, windows_per_image=8,
                                 queue_length=64)
        batch = sampler.pop_batch_op()
        with tf.Session() as sess:
            sampler.run_threads(sess, tf.train.Coordinator(), threads)
            for _ in range(10):
                sess.run(batch)   # warm up: queue filled once
            count, start = 0, time.time()
            while time.time() - start < seconds:
                sess.run(batch)
                count += 4
            rate = count / (time.time() - start)
            sampler.close_all()
    return rate


def main():
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--model_dir', default=None, help='scratch model folder')
    parser.add_argument('--threads', type=int, default=2, help='sampler threads')
    args = parser.parse_args()
    model_dir = args.model_dir or tempfile.mkdtemp(prefix='niftydrive_seg_demo_')
    python = sys.executable
    total = 0.0
    if not os.path.isdir(DATA):
        seconds, _ = timed([python, '-m', 'niftydrive.contrib.demo_data', '--output', DATA])
        total += seconds
        print('demo data            : {:6.1f} s -> {}'.format(seconds, DATA))
    print('sampler alone        : {:8.1f} windows/s (32^3 windows, {} threads)'.format(
        sampler_windows_per_second(args.threads), args.threads))
    times = {}
    for action in ('train', 'inference', 'evaluation'):
        # every iteration's line: its time is measured from them
        seconds, output = timed([python, '-m', 'niftydrive.net_run', action, '-c', CONFIG,
                                 '--model_dir', model_dir, '--console_every_n', '1'])
        times[action] = (seconds, output)
        total += seconds
    iteration_times = [float(t) for t in re.findall(
        r'^\S*\s*Training iter \d+,.*\(([\d.]+)s\)', times['train'][1], re.M)]
    steady = iteration_times[len(iteration_times) // 10:] or iteration_times
    steps = 1.0 / (sum(steady) / len(steady)) if steady else float('nan')
    print('training             : {:8.1f} steps/s = {:.1f} windows/s consumed (batch 4), '
          '{} iterations'.format(steps, 4 * steps, len(iteration_times)))
    with open(os.path.join(model_dir, 'evaluation', 'evaluation.csv')) as handle:
        rows = list(csv.DictReader(handle))
    dice = sum(float(r['dice']) for r in rows) / len(rows)
    for action, (seconds, _) in times.items():
        print('net_run {:12s} : {:6.1f} s'.format(action, seconds))
    print('mean Dice            : {:.4f} ({} subject-label pairs: {})'.format(
        dice, len(rows), ', '.join('{}/{}={:.3f}'.format(r['subject_id'], r['label'],
                                                          float(r['dice'])) for r in rows)))
    print('wall time (commands) : {:6.1f} s; outputs in {}'.format(total, model_dir))


if __name__ == '__main__':
    main()
