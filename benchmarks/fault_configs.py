"""Fault injection, configuration part: mutated configs through ``net_run train``.

``python benchmarks/fault_configs.py [--count 200] [--jobs 2] [--seed 0]``

Builds 200 configs, each ``configs/toy.ini`` or a small segmentation config
on synthetic data with one or two mutations (a value out of range, a
non-finite number, a misspelt key, a bad encoding ...; some mutations are
valid and must still train), runs ``net_run train`` on each with a short
``max_iter`` and a timeout, and classifies the outcome:

- clean error: exit 1/2 with one ``net_run: error:`` line and no traceback
  (expected for a bad config);
- valid config trained: exit 0 (expected for a valid config);
- traceback: a Python traceback was printed;
- crash by signal: killed by a signal (SIGSEGV, SIGKILL ...);
- hang: still running at the timeout;
- accepted bad value: exit 0 for a bad config;
- valid config rejected: a non-zero exit for a valid config.

Prints each figure as "N of M"; the targets are 0 tracebacks, 0 crashes,
0 hangs and 0 bad values accepted.  ``run_config_faults`` is the function
``benchmarks/fault_injection.py`` calls.
"""
import argparse
import collections
import os
import random
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HUGE = '1' + '0' * 23   # 1e23 written as an integer

SEGMENTATION = """
[T1]
path_to_search = {data}
filename_contains = T1
spatial_window_size = (8, 8, 8)

[Label]
path_to_search = {data}
filename_contains = Label
spatial_window_size = (8, 8, 8)
interp_order = 0

[SYSTEM]
num_threads = 1
model_dir = {model}

[NETWORK]
name = toynet
batch_size = 2
queue_length = 4

[TRAINING]
lr = 0.01
max_iter = 2
save_every_n = 2
max_checkpoints = 3

[SEGMENTATION]
image = T1
label = Label
num_classes = 3
label_normalisation = True
"""

Mutation = collections.namedtuple('Mutation', 'base section key value valid')


def _values(base, section, key, *pairs):
    """Mutations of one key: pairs (value, valid)."""
    return [Mutation(base, section, key, value, valid) for value, valid in pairs]


def catalogue():
    """Every single mutation: a key set to a value (None: the key removed),
    or a whole-file mutation (section ``FILE``), each valid or not."""
    both = []
    for base in ('toy', 'seg'):
        both += _values(base, 'TRAINING', 'lr', ('inf', False), ('-inf', False),
                        ('nan', False), ('0', False), ('-0.1', False),
                        ('fast', False), ('1e-4', True), ('0.05', True))
        both += _values(base, 'NETWORK', 'decay', ('-0.5', False), ('-inf', False),
                        ('nan', False), ('1e-4', True))
        both += _values(base, 'TRAINING', 'max_checkpoints', ('0', False),
                        ('-3', False), (HUGE, False), ('1', True), ('4', True))
        both += _values(base, 'SYSTEM', 'num_threads', ('-1', False), ('0', False),
                        (HUGE, False), ('1', True), ('3', True))
        both += _values(base, 'NETWORK', 'queue_length', (HUGE, False), ('0', False),
                        ('1', True), ('7', True))
        both += _values(base, 'SYSTEM', 'num_gpus', (HUGE, False), ('-1', False),
                        ('2', True))
        both += _values(base, 'NETWORK', 'batch_size', (HUGE, False), ('0', False),
                        ('-2', False), ('2.5', False), ('10000000', False),
                        ('1', True), ('3', True))
        both += _values(base, 'TRAINING', 'max_iter', ('-1', False), ('ten', False),
                        ('1', True), ('3', True))
        both += _values(base, 'TRAINING', 'starting_iter', ('-2', False))
        both += _values(base, 'TRAINING', 'save_every_n', ('0', True), ('-1', True),
                        ('1', True))
        both += _values(base, 'TRAINING', 'tensorboard_every_n', ('0', True),
                        ('1', True))
        both += _values(base, 'TRAINING', 'optimiser', ('adamm', False),
                        ('momentum', True), ('gradientdescent', True))
        both += _values(base, 'TRAINING', 'max_itr', ('3', False))
        both += _values(base, 'SYSTEM', 'num_thread', ('3', False))
        both += _values(base, 'TRAINING', 'exclude_fraction_for_inference',
                        ('1.5', False), ('-0.1', False))
        both += _values(base, 'NETWORK', 'keep_prob', ('0', False), ('1.5', False))
        both += _values(base, 'TRAINING', 'rotation_angle', ('(-10, inf)', False))
        both += _values(base, 'NETWORK', 'cutoff', ('(0.01, 1.5)', False))
        both += _values(base, 'INFERENCE', 'border', ('-1', False))
        both += _values(base, 'INFERENCE', 'inference_iter', ('-5', False))
        both += _values(base, 'SYSTEM', 'model_dir', ('/proc/no_such/model', False))
        both += _values(base, 'FILE', 'bom', ('', True))
        both += _values(base, 'FILE', 'binary', ('', False))
        both += _values(base, 'FILE', 'latin1', ('', False))
        both += _values(base, 'FILE', 'duplicate_key', ('', False))
        both += _values(base, 'FILE', 'no_section_header', ('', False))
        both += _values(base, 'FILE', 'empty', ('', False))
    toy = _values('toy', 'CUSTOM', 'stddev', ('nan', False), ('-inf', False),
                  ('inf', False), ('-1', False), ('0.5', True))
    toy += _values('toy', 'CUSTOM', 'vector_size', ('-7', False), ('1e8', False),
                   ('100000000', False), ('0', False), ('16', True))
    toy += _values('toy', 'CUSTOM', 'mean', ('inf', False), ('nan', False), ('2.5', True))
    toy += _values('toy', 'CUSTOM', 'n_inteprolations', ('4', False))
    toy += _values('toy', 'CUSTOM', 'n_interpolations', ('0', False), ('3', True))
    toy += _values('toy', 'CUSTOM', 'inference_batches', ('0', False), ('2', True))
    toy += _values('toy', 'TRAINING', 'validation_every_n', ('1', True))
    seg = _values('seg', 'SEGMENTATION', 'num_classes', (HUGE, False), ('0', False),
                  ('2', False), ('5', True))
    seg += _values('seg', 'SEGMENTATION', 'image', ('T2', False))
    seg += _values('seg', 'SEGMENTATION', 'num_clases', ('3', False))
    seg += _values('seg', 'TRAINING', 'loss_type', ('Dicee', False),
                   ('CrossEntropy', True), ('DicePlusXEnt', True))
    seg += _values('seg', 'TRAINING', 'sample_per_volume', ('0', False), ('2', True))
    seg += _values('seg', 'TRAINING', 'validation_every_n', ('1', False))
    seg += _values('seg', 'NETWORK', 'name', ('unett', False), ('vnet', False))
    seg += _values('seg', 'NETWORK', 'window_sampling', ('unifrom', False))
    seg += _values('seg', 'NETWORK', 'volume_padding_size', ('-2', False), ('2', True))
    seg += _values('seg', 'NETWORK', 'whitening', ('maybe', False), ('True', True))
    seg += _values('seg', 'T1', 'spatial_window_size', ('0, 8, 8', False),
                   ('-8, 8, 8', False), ('2000, 2000, 2000', False))
    seg += _values('seg', 'Label', 'spatial_window_size', ('2000, 2000, 2000', False),
                   ('16, 16, 16', False))
    seg += _values('seg', 'T1', 'interp_order', ('7', False), ('1', True))
    seg += _values('seg', 'T1', 'pixdim', ('1, -1, 1', False), ('(nan, 1, 1)', False))
    seg += _values('seg', 'T1', 'path_to_search', ('./no_such_folder', False))
    seg += _values('seg', 'T1', 'filename_contains', ('T9', False))
    seg += _values('seg', 'T1', 'axcodes', ('(L, P, S)', True))
    return both + toy + seg


def pick_mutations(count, seed):
    """``count`` lists of one or two mutations of the same base (one key or
    file mutation each); a list is valid only if every mutation is."""
    rng = random.Random(seed)
    single = catalogue()
    picked = list(single)
    rng.shuffle(picked)
    chosen = [[mutation] for mutation in picked[:count]]
    while len(chosen) < count:
        first = rng.choice(single)
        second = rng.choice([m for m in single if m.base == first.base
                             and m.key != first.key and 'FILE' not in
                             (m.section, first.section)])
        chosen.append([first, second])
    return chosen


def _base_text(base, data_dir, model_dir):
    if base == 'toy':
        with open(os.path.join(REPO, 'configs', 'toy.ini'), encoding='utf-8') as toy:
            return toy.read().replace('./toy_model', model_dir)
    return SEGMENTATION.format(data=data_dir, model=model_dir)


def _set_key(text, section, key, value):
    """``text`` with ``key = value`` in ``[section]`` (added, or replacing)."""
    lines, inside, done = [], False, False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith('['):
            if inside and not done:
                lines.append('{} = {}'.format(key, value))
                done = True
            inside = stripped.strip('[]') == section
        elif inside and stripped.split('=')[0].strip() == key:
            if not done:
                lines.append('{} = {}'.format(key, value))
                done = True
            continue
        lines.append(line)
    if not done:
        if not inside:
            lines.append('[{}]'.format(section))
        lines.append('{} = {}'.format(key, value))
    return '\n'.join(lines) + '\n'


def write_config(mutations, folder, data_dir):
    """Write the mutated config into ``folder``; its path."""
    base = mutations[0].base
    text = _base_text(base, data_dir, os.path.join(folder, 'model'))
    if base == 'toy':
        text = _set_key(text, 'TRAINING', 'max_iter', '2')
        text = _set_key(text, 'TRAINING', 'validation_every_n', '-1')
        text = _set_key(text, 'NETWORK', 'batch_size', '4')
        text = _set_key(text, 'NETWORK', 'queue_length', '8')
    raw = None
    for mutation in mutations:
        if mutation.section != 'FILE':
            text = _set_key(text, mutation.section, mutation.key, mutation.value)
        elif mutation.key == 'bom':
            raw = b'\xef\xbb\xbf' + text.encode('utf-8')
        elif mutation.key == 'binary':
            raw = bytes(random.Random(len(text)).getrandbits(8) for _ in range(2000))
        elif mutation.key == 'latin1':
            raw = text.replace('[SYSTEM]', '# r\xe9glages\n[SYSTEM]').encode('latin-1')
        elif mutation.key == 'duplicate_key':
            text = text.replace('[TRAINING]', '[TRAINING]\nlr = 0.01\nlr = 0.02', 1)
        elif mutation.key == 'no_section_header':
            text = 'lr = 0.01\n' + text
        elif mutation.key == 'empty':
            text = ''
    path = os.path.join(folder, 'config.ini')
    with open(path, 'wb') as config_file:
        config_file.write(raw if raw is not None else text.encode('utf-8'))
    return path


OUTCOMES = ('clean error', 'valid config trained', 'traceback', 'crash by signal',
            'hang', 'accepted bad value', 'valid config rejected')


def classify(valid, returncode, stderr):
    """One of ``OUTCOMES`` for a run."""
    if returncode is None:
        return 'hang'
    if returncode < 0:
        return 'crash by signal'
    if 'Traceback (most recent call last)' in stderr:
        return 'traceback'
    if returncode == 0:
        return 'valid config trained' if valid else 'accepted bad value'
    errors = [line for line in stderr.splitlines() if line.startswith('net_run: error:')]
    if len(errors) != 1:
        return 'crash by signal' if returncode > 128 else 'traceback'
    return 'valid config rejected' if valid else 'clean error'


def run_one(mutations, data_dir, timeout):
    """``(outcome, last stderr line)`` of ``net_run train`` on one mutated config."""
    folder = tempfile.mkdtemp(prefix='fault_config_')
    try:
        config = write_config(mutations, folder, data_dir)
        env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL='3')
        try:
            result = subprocess.run(
                [sys.executable, '-m', 'niftydrive.net_run', 'train', '-c', config],
                capture_output=True, text=True, timeout=timeout, env=env, cwd=folder,
                stdin=subprocess.DEVNULL)
            returncode, stderr = result.returncode, result.stderr
        except subprocess.TimeoutExpired as expired:
            returncode = None
            stderr = (expired.stderr or b'').decode('utf-8', 'replace') \
                if isinstance(expired.stderr, bytes) else (expired.stderr or '')
        valid = all(mutation.valid for mutation in mutations)
        last = stderr.strip().splitlines()[-1] if stderr.strip() else ''
        return classify(valid, returncode, stderr), last
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def describe(mutations):
    """``toy [TRAINING] lr = inf + ...`` for the report."""
    return mutations[0].base + ' ' + ' + '.join(
        'file:{}'.format(m.key) if m.section == 'FILE' else '[{}] {} = {}'.format(
            m.section, m.key, m.value if len(m.value) < 30 else m.value[:27] + '...')
        for m in mutations)


def run_config_faults(count=200, jobs=2, seed=0, timeout=180, out=sys.stdout):
    """Run ``count`` mutated configs; print "N of M" per outcome; return the
    ``Counter`` of outcomes."""
    sys.path.insert(0, REPO)
    from niftydrive.contrib.demo_data import make_dataset
    data_dir = tempfile.mkdtemp(prefix='fault_config_data_')
    make_dataset(data_dir, subjects=4, shape=(16, 16, 16), seed=seed)
    chosen = pick_mutations(count, seed)
    start = time.time()
    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(lambda m: run_one(m, data_dir, timeout), chosen))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    counts = collections.Counter(outcome for outcome, _ in results)
    valid_total = sum(all(m.valid for m in muts) for muts in chosen)
    out.write('{} mutated configs ({} valid, {} bad) through `net_run train` in '
              '{:.0f} s\n'.format(count, valid_total, count - valid_total,
                                  time.time() - start))
    for outcome in OUTCOMES:
        out.write('  {:<22} {} of {}\n'.format(outcome + ':', counts[outcome], count))
    for (outcome, last), mutations in zip(results, chosen):
        if outcome not in ('clean error', 'valid config trained'):
            out.write('  {}: {}\n      {}\n'.format(outcome, describe(mutations), last))
    return counts


def main(argv=None):
    """Command line: ``--count``, ``--jobs``, ``--seed``, ``--timeout``."""
    parser = argparse.ArgumentParser(description=textwrap.dedent(__doc__).split('\n')[0])
    parser.add_argument('--count', type=int, default=200)
    parser.add_argument('--jobs', type=int, default=2)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--timeout', type=float, default=180)
    args = parser.parse_args(argv)
    counts = run_config_faults(args.count, args.jobs, args.seed, args.timeout)
    failures = sum(counts[o] for o in OUTCOMES[2:])
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
