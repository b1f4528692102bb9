"""Package-level behaviour: TF 1.x mode, quiet import, missing TensorFlow."""
import subprocess
import sys

import tensorflow.compat.v1 as tf


def test_reference_variables_read_by_tensor_name(graph):
    with tf.variable_scope('G'):
        tf.get_variable('w', initializer=[1.0, 2.0])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(graph.get_tensor_by_name('G/w:0')).tolist() == [1.0, 2.0]


def test_import_is_quiet():
    result = subprocess.run([sys.executable, '-c', 'import niftydrive'],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    assert result.stderr == '' and result.stdout == ''


def test_missing_tensorflow_says_how_to_install():
    script = ("import sys; sys.modules['tensorflow'] = None\n"
              "try:\n    import niftydrive\n"
              "except ImportError as error:\n    print(error)\n")
    result = subprocess.run([sys.executable, '-c', script], capture_output=True,
                            text=True, timeout=60)
    assert 'niftydrive needs TensorFlow 2.x' in result.stdout
    assert 'pip install "niftydrive[cpu]"' in result.stdout


def test_no_machine_specific_absolute_path_in_code_or_tests():
    import glob
    import os
    import re
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    pattern = re.compile(r"""['"](/work|/home|/Users|/root|/mnt)/""")
    offenders = [
        path for folder in ('niftydrive', 'tests', 'benchmarks')
        for path in glob.glob(os.path.join(repo, folder, '**', '*.py'),
                              recursive=True)
        if pattern.search(open(path, encoding='utf-8').read())]
    assert offenders == []


def test_every_demo_target_trains_again_into_its_own_model_dir():
    """`make demo` run a second time retrains: a demo's training from scratch
    would otherwise be refused for the first run's checkpoints."""
    import os
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(repo, 'Makefile'), encoding='utf-8') as handle:
        commands = handle.read().replace('\\\n', ' ').splitlines()
    trainings = [line for line in commands if ' train -c configs/' in line]
    assert len(trainings) >= 7  # toy, segmentation and each further demo
    assert [line for line in trainings if '--overwrite_checkpoints True' not in line] == []
