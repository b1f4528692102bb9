"""The README's "Writing an image application" guide runs as written."""
import os
import re

from niftydrive.contrib.demo_data import make_dataset
from niftydrive.net_run import main

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      'README.md')


def guide_files():
    """``{file name: text}`` of the code blocks marked ``<!-- guide:NAME -->``."""
    text = open(README).read()
    return dict(re.findall(r'<!-- guide:(\S+) -->\n```\w*\n(.*?)```', text, re.S))


def test_the_guide_application_trains_and_infers(tmp_path, monkeypatch):
    files = guide_files()
    assert sorted(files) == ['my_app.ini', 'my_app.py']
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    make_dataset(str(tmp_path / 'data'), subjects=5, shape=(20, 20, 20), seed=1)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr('sys.path', list(__import__('sys').path))
    assert main(['train', '-c', 'my_app.ini', '--max_iter', '5']) == 0
    assert os.path.exists(tmp_path / 'my_model' / 'models' / 'model.ckpt-5.index')
    assert main(['inference', '-c', 'my_app.ini']) == 0
    written = [name for name in os.listdir(tmp_path / 'my_model' / 'segmented')
               if name.endswith('_niftynet_out.nii.gz')]
    assert len(written) == 1  # 20% of five subjects
