"""Packaging for niftydrive: a graph-mode TensorFlow training driver for medical imaging."""
from setuptools import find_packages, setup

setup(
    name='niftydrive',
    version='0.1.0',
    description='NiftyNet-compatible, graph-mode TensorFlow training driver '
                'for medical image analysis',
    long_description=open('README.md').read() if __import__('os').path.exists('README.md') else '',
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.9',
    packages=find_packages(exclude=('tests', 'tests.*', 'benchmarks')),
    install_requires=[
        'blinker>=1.6,<2',
        'numpy>=1.26,<3',
        'six>=1.16,<2',
        'nibabel>=5.0,<6',
        'scipy>=1.11,<2',
        'tensorboard>=2.16,<2.22',  # the viewer for the event files we write
        'tqdm>=4.60,<5',  # the progress bar on a terminal
    ],
    extras_require={
        'cpu': ['tensorflow-cpu>=2.16,<2.22'],
        'gpu': ['tensorflow>=2.16,<2.22'],
        # optional image loaders (NIfTI needs none of them: nibabel is required)
        'io': ['pillow>=10,<14', 'SimpleITK>=2.3,<3'],
        'opencv': ['opencv-python-headless>=4.8,<6'],
        'skimage': ['scikit-image>=0.21,<1'],
        'test': ['pytest>=7,<10', 'pytest-timeout>=2.1,<3', 'pytest-xdist>=3.3,<4',
                 'pillow>=10,<14'],
    },
    entry_points={
        'console_scripts': [
            'net_run=niftydrive.net_run:main',
            'net_segment=niftydrive.net_run:net_segment',
            'net_regress=niftydrive.net_run:net_regress',
            'net_classify=niftydrive.net_run:net_classify',
            'net_gan=niftydrive.net_run:net_gan',
            'net_autoencoder=niftydrive.net_run:net_autoencoder',
            'net_reg=niftydrive.net_run:net_reg',
            'net_segment_demo_data=niftydrive.contrib.demo_data:main',
        ],
    },
)
