"""Write a small synthetic segmentation data set (NIfTI or PNG), for demos and tests.

``python -m niftydrive.contrib.demo_data --output DIR [--subjects N]`` (or the
console script ``net_segment_demo_data``) writes, per subject,
``subjXX_T1.nii.gz`` (a noisy image with a smooth bias field) and
``subjXX_Label.nii.gz`` (background 0 and two classes of ellipsoidal blobs:
1 bright, 2 brighter). Voxels are 1.2 mm and subjects are stored in
different on-disk orientations (RAS, LPS, PIR, a slightly oblique one ...),
with different data types and byte orders, as real scanners' files are.

``--kind gan`` writes the GAN demo's 2-D images and conditioning maps
(``subjXX_frame_img.nii.gz``, ``subjXX_frame_cond.nii.gz``); ``--kind
registration`` writes registration pairs
(``subjXX_{fixed,moving}_{image,label}.nii.gz``, see
:func:`make_registration_dataset`); ``--kind classification`` writes 2-D
images with their one-voxel class labels (``subjXX_img.nii.gz``,
``subjXX_class.nii.gz``, see :func:`make_classification_dataset`).

``--format png`` writes 2-D pictures instead (``subjXX_T1.png``, 8-bit grey,
and ``subjXX_Label.png`` holding the class indices); it needs pillow.
"""
import argparse
import os
import sys

import nibabel as nib
import numpy as np

#: on-disk orientations cycled through the subjects
ORIENTATIONS = ('RAS', 'LPS', 'PIR', 'LAS', 'ASL', 'RPI')
VOXEL_MM = 1.2
CLASS_INTENSITY = {1: 1.0, 2: 2.0}


def write_nifti(path, data, affine, dtype=None):
    """Save ``data`` (cast to ``dtype``, e.g. ``'>f4'`` for big-endian) with ``affine``."""
    data = np.asarray(data)
    if not dtype and data.dtype == np.int64:
        dtype = '<i4'     # nibabel refuses int64 without an explicit dtype
    header = None
    if dtype:
        data = data.astype(np.dtype(dtype).newbyteorder('='))
        header = nib.Nifti1Header(endianness=np.dtype(dtype).byteorder.replace('|', '='))
    image = nib.Nifti1Image(data, affine, header)
    if dtype:
        image.set_data_dtype(np.dtype(dtype))
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=1)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    nib.save(image, path)
    return path


def rotation_z(degrees):
    """A 4x4 rotation about the z axis."""
    angle = np.deg2rad(degrees)
    rot = np.eye(4)
    rot[:2, :2] = [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    return rot


def synthetic_subject(shape=(48, 48, 48), rng=None, noise=0.3, n_blobs=(2, 2)):
    """``(image, label)`` arrays in RAS voxel order.

    :param shape: volume shape
    :param rng: a ``numpy.random.RandomState``
    :param noise: standard deviation of the Gaussian noise (class 1 contrast is 1)
    :param n_blobs: number of blobs of class 1 and of class 2
    """
    rng = rng or np.random.RandomState()
    shape = tuple(shape)
    grid = np.stack(np.meshgrid(*[np.arange(n, dtype=np.float32) for n in shape],
                                indexing='ij'), axis=-1)
    label = np.zeros(shape, dtype=np.int16)
    margin = 7
    for cls, count in zip((1, 2), n_blobs):
        for _ in range(count):
            centre = np.array([rng.uniform(margin, n - margin) if n > 2 * margin else n / 2.0
                               for n in shape])
            radii = rng.uniform(4.0, 8.0, size=3)
            inside = (((grid - centre) / radii) ** 2).sum(axis=-1) <= 1.0
            label[inside] = cls
    image = np.zeros(shape, dtype=np.float32)
    for cls, value in CLASS_INTENSITY.items():
        image[label == cls] = value
    bias = 1.0 + 0.15 * np.sin(grid[..., 0] / shape[0] * np.pi) * np.cos(
        grid[..., 1] / max(shape[1], 1) * np.pi)
    image = image * bias + rng.normal(0.0, noise, size=shape).astype(np.float32)
    image = image * rng.uniform(80.0, 120.0) + rng.uniform(0.0, 50.0)   # scanner units
    return image.astype(np.float32), label


def _affine(shape, orientation_index):
    """A 1.2 mm affine in RAS centred on the volume, oblique for one of the subjects."""
    affine = np.diag([VOXEL_MM, VOXEL_MM, VOXEL_MM, 1.0])
    affine[:3, 3] = -VOXEL_MM * (np.array(shape) - 1) / 2.0
    if orientation_index % len(ORIENTATIONS) == 3:
        affine = rotation_z(6.0).dot(affine)
    return affine


def write_subject(folder, subject_id, image, label, orientation_index=0):
    """Write one subject's image and label in an orientation of :data:`ORIENTATIONS`."""
    codes = ORIENTATIONS[orientation_index % len(ORIENTATIONS)]
    ras_image = nib.Nifti1Image(image, _affine(image.shape, orientation_index))
    transform = nib.orientations.ornt_transform(
        nib.orientations.axcodes2ornt('RAS'), nib.orientations.axcodes2ornt(tuple(codes)))
    disk_image = ras_image.as_reoriented(transform)
    disk_label = np.asarray(nib.Nifti1Image(label, ras_image.affine).as_reoriented(
        transform).dataobj)
    # different storage per subject: float32, big-endian float32, native float64
    dtype = ('<f4', '>f4', '<f8')[orientation_index % 3]
    image_path = write_nifti(os.path.join(folder, '{}_T1.nii.gz'.format(subject_id)),
                             np.asarray(disk_image.dataobj), disk_image.affine, dtype)
    label_path = write_nifti(os.path.join(folder, '{}_Label.nii.gz'.format(subject_id)),
                             disk_label, disk_image.affine,
                             '>i2' if orientation_index % 2 else '<u1')
    return image_path, label_path


def make_dataset(output, subjects=10, shape=(48, 48, 48), seed=0, noise=0.3):
    """Write ``subjects`` subjects into ``output``; returns the list of (image, label) paths."""
    rng = np.random.RandomState(seed)
    os.makedirs(output, exist_ok=True)
    paths = []
    for index in range(subjects):
        image, label = synthetic_subject(shape, rng, noise)
        paths.append(write_subject(output, 'subj{:02d}'.format(index + 1), image, label, index))
    return paths


def _blob(grid, centre, radii):
    return ((((grid - centre) / radii) ** 2).sum(axis=-1) <= 1.0).astype(np.uint8)


#: the translation (voxels) from the fixed blob to the moving one
REGISTRATION_SHIFT = (3, -2, 2)


def registration_pair(shape=(32, 32, 32), rng=None, shift=REGISTRATION_SHIFT, noise=0.1):
    """``(fixed_image, fixed_label, moving_image, moving_label)``: an
    ellipsoidal blob of random size and position, and the same blob
    translated by ``shift`` voxels; the moving image has the opposite
    contrast (a second modality), both have Gaussian noise."""
    rng = rng or np.random.RandomState()
    shape = tuple(shape)
    grid = np.stack(np.meshgrid(*[np.arange(n, dtype=np.float32) for n in shape],
                                indexing='ij'), axis=-1)
    radii = rng.uniform(0.15, 0.25, size=3) * np.array(shape)
    centre = np.array(shape) / 2.0 + rng.uniform(-0.1, 0.1, size=3) * np.array(shape)
    fixed_label = _blob(grid, centre, radii)
    moving_label = _blob(grid, centre + np.asarray(shift), radii)
    fixed_image = fixed_label + rng.normal(0.0, noise, size=shape)
    moving_image = 1.0 - moving_label + rng.normal(0.0, noise, size=shape)
    return (fixed_image.astype(np.float32), fixed_label,
            moving_image.astype(np.float32), moving_label)


def make_registration_dataset(output, subjects=4, shape=(32, 32, 32), seed=0,
                              shift=REGISTRATION_SHIFT):
    """Write ``subjects`` registration pairs into ``output``:
    ``subjXX_{fixed,moving}_{image,label}.nii.gz`` (1.5 mm voxels; the moving
    files have another origin, so outputs in the fixed geometry can be told
    apart). Returns one ``(fixed_image, fixed_label, moving_image,
    moving_label)`` path tuple per subject."""
    rng = np.random.RandomState(seed)
    fixed_affine = np.diag([1.5, 1.5, 1.5, 1.0])
    moving_affine = fixed_affine.copy()
    moving_affine[:3, 3] = [10.0, -5.0, 2.5]
    names = ('fixed_image', 'fixed_label', 'moving_image', 'moving_label')
    affines = (fixed_affine, fixed_affine, moving_affine, moving_affine)
    paths = []
    for index in range(subjects):
        volumes = registration_pair(shape, rng, shift)
        paths.append(tuple(
            write_nifti(os.path.join(output, 'subj{:02d}_{}.nii.gz'.format(index + 1, name)),
                        volume, affine, None if 'image' in name else '<u1')
            for name, volume, affine in zip(names, volumes, affines)))
    return paths


def write_png(path, data):
    """Save a 2-D array as an 8-bit (values clipped to 0..255) PNG with pillow."""
    from niftydrive.utilities.util_import import require_module
    try:
        pil = require_module('PIL.Image', mandatory=True)
    except ImportError:
        raise ImportError('writing PNG files needs pillow: pip install pillow')
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    pil.fromarray(np.clip(np.round(data), 0, 255).astype(np.uint8)).save(path)
    return path


def make_png_dataset(output, subjects=10, shape=(48, 48), seed=0, noise=0.3):
    """Write ``subjects`` 2-D subjects (PNG image and label) into ``output``;
    returns the list of (image, label) paths."""
    rng = np.random.RandomState(seed)
    paths = []
    for index in range(subjects):
        image, label = synthetic_subject(tuple(shape) + (1,), rng, noise, n_blobs=(1, 1))
        image, label = image[..., 0], label[..., 0]
        image = (image - image.min()) / max(float(np.ptp(image)), 1e-6) * 255.0
        subject = 'subj{:02d}'.format(index + 1)
        paths.append((write_png(os.path.join(output, subject + '_T1.png'), image),
                      write_png(os.path.join(output, subject + '_Label.png'), label)))
    return paths


def gan_subject(shape=(32, 32), rng=None, noise=0.05):
    """``(image, conditioning)`` 2-D arrays of a conditional GAN example.

    The image is a bright disc (random centre and radius) on a dark, noisy
    background, values in about [-1, 1]; the conditioning is a smooth bump
    (a Gaussian of the disc's radius) at the disc's centre, values in [0, 1]:
    a generator conditioned on it should put the disc there.
    """
    rng = rng or np.random.RandomState()
    grid = np.stack(np.meshgrid(*[np.arange(n, dtype=np.float32) for n in shape],
                                indexing='ij'), axis=-1)
    radius = rng.uniform(0.12, 0.25) * min(shape)
    centre = np.array([rng.uniform(radius, n - radius) for n in shape])
    distance = np.sqrt(((grid - centre) ** 2).sum(axis=-1))
    image = np.where(distance <= radius, 0.8, -0.8) + rng.normal(0.0, noise, size=shape)
    conditioning = np.exp(-0.5 * (distance / radius) ** 2)
    return image.astype(np.float32), conditioning.astype(np.float32)


def make_gan_dataset(output, subjects=10, shape=(32, 32), seed=0):
    """Write ``subjects`` 2-D subjects for the GAN demo into ``output``:
    ``subjXX_frame_img.nii.gz`` and ``subjXX_frame_cond.nii.gz`` (see
    :func:`gan_subject`); returns the list of (image, conditioning) paths."""
    rng = np.random.RandomState(seed)
    affine = np.eye(4)
    paths = []
    for index in range(subjects):
        image, conditioning = gan_subject(tuple(shape), rng)
        prefix = os.path.join(output, 'subj{:02d}_frame_'.format(index + 1))
        paths.append((write_nifti(prefix + 'img.nii.gz', image, affine),
                      write_nifti(prefix + 'cond.nii.gz', conditioning, affine)))
    return paths


def make_classification_dataset(output, subjects=10, shape=(32, 32), seed=0):
    """Write ``subjects`` 2-D subjects for the classification demo into
    ``output``: ``subjXX_img.nii.gz``, noise with (class 1, odd subjects) or
    without (class 0) a bright disc, and ``subjXX_class.nii.gz``, its class
    as a 1x1x1 image; returns the list of (image, class) paths."""
    rng = np.random.RandomState(seed)
    affine = np.eye(4)
    paths = []
    for index in range(subjects):
        label = (index + 1) % 2
        disc, _ = gan_subject(tuple(shape), rng, noise=0.3)   # disc 0.8, background -0.8
        image = disc if label else rng.normal(-0.8, 0.3, size=shape).astype(np.float32)
        prefix = os.path.join(output, 'subj{:02d}_'.format(index + 1))
        paths.append((write_nifti(prefix + 'img.nii.gz', image, affine),
                      write_nifti(prefix + 'class.nii.gz',
                                  np.full((1, 1, 1), label, np.uint8), affine)))
    return paths


def main(argv=None):
    """Command line entry point (``net_segment_demo_data``)."""
    parser = argparse.ArgumentParser(
        prog='net_segment_demo_data',
        description='Write a small synthetic NIfTI segmentation data set '
                    '(subjXX_T1.nii.gz images, subjXX_Label.nii.gz labels), or '
                    'another --kind of data.')
    parser.add_argument('--output', '-o', required=True, help='folder to write into')
    parser.add_argument('--subjects', '-n', type=int, default=10, help='number of subjects')
    parser.add_argument('--size', type=int, default=48, help='volume edge length in voxels')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument('--format', choices=('nifti', 'png'), default='nifti',
                        help='3-D NIfTI volumes (default) or 2-D PNG pictures')
    parser.add_argument('--kind', choices=('segmentation', 'gan', 'registration',
                                           'classification'),
                        default='segmentation',
                        help='segmentation images and labels (default); 2-D NIfTI '
                             'images (subjXX_frame_img) with their conditioning maps '
                             '(subjXX_frame_cond) for the GAN demo; or registration '
                             'pairs (subjXX_{{fixed,moving}}_{{image,label}}: a blob and '
                             'the same blob shifted by {} voxels)'.format(
                                 REGISTRATION_SHIFT) +
                             '; or 2-D classification images (subjXX_img, a disc or '
                             'none) with their 1x1x1 class labels (subjXX_class)')
    args = parser.parse_args(argv)
    if args.subjects < 1 or args.size < 16:
        parser.error('--subjects must be >= 1 and --size >= 16')
    if args.kind == 'gan':
        paths = make_gan_dataset(args.output, args.subjects, (args.size,) * 2, args.seed)
        print('Wrote {} GAN subjects ({}^2 pixels: images and conditioning maps) to '
              '{}'.format(len(paths), args.size, os.path.abspath(args.output)))
        return 0
    if args.kind == 'classification':
        paths = make_classification_dataset(args.output, args.subjects,
                                            (args.size,) * 2, args.seed)
        print('Wrote {} classification subjects ({}^2 pixels, half with a disc: class 1) '
              'to {}'.format(len(paths), args.size, os.path.abspath(args.output)))
        return 0
    if args.kind == 'registration':
        if args.format != 'nifti':
            parser.error('registration pairs are written as NIfTI only')
        paths = make_registration_dataset(args.output, args.subjects, (args.size,) * 3,
                                          args.seed)
        print('Wrote {} registration pairs ({}^3 voxels) to {}'.format(
            len(paths), args.size, os.path.abspath(args.output)))
        return 0
    if args.format == 'png':
        try:
            paths = make_png_dataset(args.output, args.subjects, (args.size,) * 2, args.seed)
        except ImportError as error:
            parser.error(str(error))
        print('Wrote {} subjects ({}^2 PNG pixels) to {}'.format(
            len(paths), args.size, os.path.abspath(args.output)))
        return 0
    paths = make_dataset(args.output, args.subjects, (args.size,) * 3, args.seed)
    print('Wrote {} subjects ({}^3 voxels of {} mm) to {}'.format(
        len(paths), args.size, VOXEL_MM, os.path.abspath(args.output)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
