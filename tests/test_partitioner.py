"""ImageSetsPartitioner: file discovery per input section, subject ids, data splits."""
import os

import numpy as np
import pytest

from niftydrive.contrib.demo_data import write_nifti
from niftydrive.io.image_sets_partitioner import (
    ALL, COLUMN_UNIQ_ID, INFER, SUPPORTED_PHASES, TRAIN, VALID, ImageSetsPartitioner)
from niftydrive.utilities.errors import UserInputError
from niftydrive.utilities.util_common import ParserNamespace


def section(path, contains=(), not_contains=(), **kwargs):
    return ParserNamespace(path_to_search=str(path), filename_contains=contains,
                           filename_not_contains=not_contains, csv_file='', **kwargs)


@pytest.fixture
def data_dir(tmp_path):
    volume = np.zeros((2, 2, 2), np.float32)
    for index in range(1, 11):
        write_nifti(str(tmp_path / 'subj{:02d}_T1.nii.gz'.format(index)), volume, np.eye(4))
        write_nifti(str(tmp_path / 'subj{:02d}_Label.nii'.format(index)), volume, np.eye(4))
    write_nifti(str(tmp_path / 'subj10_T1_mask.nii.gz'), volume, np.eye(4))
    (tmp_path / 'notes_T1.txt').write_text('not an image')
    return tmp_path


def test_constants():
    assert (TRAIN, VALID, INFER, ALL) == ('Training', 'Validation', 'Inference', 'All')
    assert SUPPORTED_PHASES == {TRAIN, VALID, INFER, ALL}
    assert COLUMN_UNIQ_ID == 'subject_id'


def test_sections_are_joined_on_the_subject_id(data_dir):
    partitioner = ImageSetsPartitioner().initialise(
        {'T1': section(data_dir, ('T1',), ('mask',)), 'label': section(data_dir, ('Label',))})
    rows = partitioner.get_file_list(ALL)
    assert len(rows) == 10
    assert rows[0] == {'subject_id': 'subj01', 'T1': str(data_dir / 'subj01_T1.nii.gz'),
                       'label': str(data_dir / 'subj01_Label.nii')}
    assert partitioner.get_file_list(ALL, 'label')[3] == {
        'subject_id': 'subj04', 'label': str(data_dir / 'subj04_Label.nii')}


def test_no_split_means_every_subject_trains_and_infers(data_dir):
    partitioner = ImageSetsPartitioner().initialise({'T1': section(data_dir, ('T1',), ('mask',))})
    assert partitioner.has_training and partitioner.has_inference
    assert not partitioner.has_validation
    assert partitioner.number_of_subjects(TRAIN) == 10 == len(partitioner.inference_files)
    assert partitioner.validation_files == []


def test_ratios_write_a_split_file_that_is_read_back(data_dir, tmp_path):
    split = str(tmp_path / 'split' / 'dataset_split.csv')
    params = {'T1': section(data_dir, ('T1',), ('mask',))}
    first = ImageSetsPartitioner().initialise(params, new_partition=True, data_split_file=split,
                                              ratios=(0.2, 0.3))
    assert (first.number_of_subjects(VALID), first.number_of_subjects(INFER),
            first.number_of_subjects(TRAIN)) == (2, 3, 5)
    lines = open(split).read().split()
    assert len(lines) == 10 and all(line.split(',')[1] in (TRAIN, VALID, INFER) for line in lines)
    second = ImageSetsPartitioner().initialise(params, data_split_file=split)
    for phase in (TRAIN, VALID, INFER):
        assert second.get_file_list(phase) == first.get_file_list(phase)
    assert len(second.all_files) == 10
    second.reset()
    assert second.all_files == []


def test_split_file_with_an_unknown_phase_is_named(data_dir, tmp_path):
    split = tmp_path / 'split.csv'
    split.write_text('subj01,Training\nsubj02,Testing\n')
    with pytest.raises(UserInputError, match=r'split.csv line 2: unknown phase "Testing"'):
        ImageSetsPartitioner().initialise({'T1': section(data_dir, ('T1',))},
                                          data_split_file=str(split))


def test_impossible_ratios_are_refused(data_dir):
    with pytest.raises(UserInputError, match='exclude_fraction'):
        ImageSetsPartitioner().initialise({'T1': section(data_dir, ('T1',))}, ratios=(0.6, 0.5))


def test_no_matching_file_names_the_section_and_the_pattern(data_dir):
    with pytest.raises(UserInputError) as error:
        ImageSetsPartitioner().initialise({'flair': section(data_dir, ('FLAIR',))})
    assert '[flair]' in str(error.value) and 'filename_contains=FLAIR' in str(error.value)
    assert str(data_dir) in str(error.value)


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(UserInputError, match=r'\[T1\].*nowhere.*does not exist'):
        ImageSetsPartitioner().initialise({'T1': section(tmp_path / 'nowhere', ('T1',))})


def test_duplicate_subject_ids_are_named(data_dir):
    write_nifti(str(data_dir / 'subj10_T1.nii'), np.zeros((2, 2, 2)), np.eye(4))
    with pytest.raises(UserInputError, match='both give subject id "subj10"'):
        ImageSetsPartitioner().initialise({'T1': section(data_dir, ('T1',))})


def test_csv_file_lists_subjects_with_paths_relative_to_it(data_dir, tmp_path):
    listing = tmp_path / 'lists' / 'images.csv'
    listing.parent.mkdir()
    listing.write_text('a,../subj01_T1.nii.gz\nb,{}\n'.format(data_dir / 'subj02_T1.nii.gz'))
    params = {'img': ParserNamespace(csv_file=str(listing), path_to_search='')}
    rows = ImageSetsPartitioner().initialise(params).all_files
    assert rows == [{'subject_id': 'a', 'img': str(data_dir / 'subj01_T1.nii.gz')},
                    {'subject_id': 'b', 'img': str(data_dir / 'subj02_T1.nii.gz')}]


def test_filename_removefromid_and_unknown_section(data_dir):
    params = {'T1': section(data_dir, ('T1',), ('mask',), filename_removefromid='subj0?')}
    partitioner = ImageSetsPartitioner().initialise(params)
    assert [r['subject_id'] for r in partitioner.all_files][:2] == ['1', '10']
    with pytest.raises(UserInputError, match=r'No input section \[label\]'):
        partitioner.get_file_list(TRAIN, 'label')
    assert os.path.basename(partitioner.all_files[0]['T1']) == 'subj01_T1.nii.gz'
