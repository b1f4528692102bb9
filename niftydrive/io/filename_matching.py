"""Find the image files of one input section and name their subjects.

An input section of a config (e.g. ``[T1]``) lists its files either with
``csv_file`` (rows ``subject_id,path``; a single column is a path) or with
``path_to_search`` + ``filename_contains`` / ``filename_not_contains``.
The subject id of a searched file is its file name with the extension and
the matched ``filename_contains`` keywords removed (then ``_``/``-``/space
trimmed), and with the regular expression ``filename_removefromid`` removed:
``subj01_T1.nii.gz`` with ``filename_contains = T1`` is subject ``subj01``.
"""
import csv
import logging
import os
import re

from niftydrive.io.misc_io import not_a_file_reason
from niftydrive.utilities.errors import UserInputError

LOGGER = logging.getLogger(__name__)

#: file name endings searched for images: NIfTI-1/2 (compressed or not) and the
#: formats of the other image loaders (pictures, MetaImage, NRRD, numpy arrays)
IMAGE_EXTENSIONS = ('.nii.gz', '.nii', '.mha', '.mhd', '.nrrd', '.png', '.jpg', '.jpeg',
                    '.tif', '.tiff', '.bmp', '.npy', '.npz')


def as_tuple_of_str(value):
    """A config value (None, '', 'a', 'a,b', ('a', 'b')) as a tuple of non-empty strings."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(',')
    return tuple(str(item).strip() for item in value
                 if item is not None and str(item).strip())


def strip_extension(filename):
    """``'a.nii.gz'`` -> ``('a', '.nii.gz')``; an unknown extension is kept in the name."""
    lower = filename.lower()
    for ext in IMAGE_EXTENSIONS:
        if lower.endswith(ext):
            return filename[:-len(ext)], filename[-len(ext):]
    return filename, ''


class KeywordsMatching(object):
    """The file-matching rules of one input section.

    :param list_paths: folders to search (not recursively)
    :param contain: keywords every matched file name must contain
    :param not_contain: keywords no matched file name may contain
    :param regex_remove: regular expression removed from subject ids
    """

    def __init__(self, list_paths=(), contain=(), not_contain=(),
                 regex_remove=()):
        self.path_to_search = as_tuple_of_str(list_paths)
        self.filename_contains = as_tuple_of_str(contain)
        self.filename_not_contains = as_tuple_of_str(not_contain)
        # a regular expression may contain commas: a string is one pattern
        self.filename_removefromid = ((regex_remove,) if isinstance(regex_remove, str)
                                      and regex_remove else as_tuple_of_str(regex_remove))

    @classmethod
    def from_section(cls, section_param):
        """Build the rules from an input section's namespace."""
        return cls(getattr(section_param, 'path_to_search', ()),
                   getattr(section_param, 'filename_contains', ()),
                   getattr(section_param, 'filename_not_contains', ()),
                   getattr(section_param, 'filename_removefromid', ()))

    def describe(self):
        """The search pattern in words, for error messages."""
        return 'path_to_search={}, filename_contains={}, filename_not_contains={}'.format(
            ','.join(self.path_to_search) or '(none)',
            ','.join(self.filename_contains) or '(any)',
            ','.join(self.filename_not_contains) or '(none)')

    def file_matches(self, filename):
        """Whether a file name is an image that satisfies the keywords."""
        stem, ext = strip_extension(filename)
        if not ext:
            return False
        if not all(key in stem for key in self.filename_contains):
            return False
        return not any(key in stem for key in self.filename_not_contains)

    def subject_id(self, filename):
        """The subject id of a matched file name (see the module docstring)."""
        stem, _ = strip_extension(os.path.basename(filename))
        for key in self.filename_contains:
            stem = stem.replace(key, '', 1)
        for pattern in self.filename_removefromid:
            stem = re.sub(pattern, '', stem)
        stem = re.sub(r'[_\-\s.]{2,}', '_', stem)
        return stem.strip('_- .')

    def matching_subjects_and_filenames(self, section_name='input'):
        """List of ``(subject_id, absolute path)`` sorted by subject id.

        :raises UserInputError: a folder that does not exist, or no file
            matching (both messages name the section and the pattern)
        """
        if not self.path_to_search:
            raise UserInputError(
                'Input section [{}] has neither csv_file nor path_to_search: '
                'say where its images are.'.format(section_name))
        found = []
        for folder in self.path_to_search:
            folder = os.path.abspath(os.path.expanduser(folder))
            if not os.path.isdir(folder):
                raise UserInputError(
                    'Input section [{}]: path_to_search folder {} does not exist '
                    '(pattern: {}).'.format(section_name, folder, self.describe()))
            for filename in sorted(os.listdir(folder)):
                full = os.path.join(folder, filename)
                if not self.file_matches(filename):
                    continue
                reason = not_a_file_reason(full)
                if reason:   # dropping it would hide the subject's image
                    raise UserInputError(
                        'Input section [{}]: {} (subject {}) {}; remove it or '
                        'exclude it with filename_not_contains.'.format(
                            section_name, full, self.subject_id(filename),
                            reason))
                found.append((self.subject_id(filename), full))
        if not found:
            raise UserInputError(
                'Input section [{}]: no image file ({}) matches {}.'.format(
                    section_name, '/'.join(IMAGE_EXTENSIONS), self.describe()))
        return _check_unique(found, section_name)


def _check_unique(pairs, section_name):
    seen = {}
    for subject_id, path in pairs:
        if not subject_id:
            raise UserInputError(
                'Input section [{}]: file {} gives an empty subject id; keep part '
                'of the file name outside filename_contains.'.format(section_name, path))
        if subject_id in seen:
            raise UserInputError(
                'Input section [{}]: files {} and {} both give subject id "{}"; '
                'make filename_contains/filename_not_contains more specific.'.format(
                    section_name, seen[subject_id], path, subject_id))
        seen[subject_id] = path
    return sorted(pairs)


def read_section_csv(csv_file, section_name='input'):
    """``(subject_id, path)`` pairs from a section's ``csv_file``.

    Rows are ``subject_id,path`` or just ``path`` (the id is then the file
    name without extension). Relative paths resolve against the CSV's folder.
    """
    csv_file = os.path.abspath(os.path.expanduser(csv_file))
    if not os.path.isfile(csv_file):
        raise UserInputError('Input section [{}]: csv_file {} does not exist.'.format(
            section_name, csv_file))
    base = os.path.dirname(csv_file)
    pairs = []
    with open(csv_file, newline='') as handle:
        for line_no, row in enumerate(csv.reader(handle), start=1):
            row = [cell.strip() for cell in row if cell.strip()]
            if not row:
                continue
            if len(row) == 1:
                path = row[0]
                subject_id = strip_extension(os.path.basename(path))[0]
            elif len(row) == 2:
                subject_id, path = row
            else:
                raise UserInputError(
                    'Input section [{}]: {} line {} has {} columns; expected '
                    '"subject_id,path".'.format(section_name, csv_file, line_no, len(row)))
            pairs.append((subject_id, os.path.normpath(os.path.join(base, path))))
    if not pairs:
        raise UserInputError('Input section [{}]: csv_file {} lists no files.'.format(
            section_name, csv_file))
    return _check_unique(pairs, section_name)


def section_file_list(section_name, section_param):
    """``(subject_id, path)`` pairs of one input section (csv_file first, else search)."""
    csv_file = getattr(section_param, 'csv_file', None)
    if csv_file and os.path.isfile(os.path.expanduser(str(csv_file))):
        return read_section_csv(csv_file, section_name)
    matcher = KeywordsMatching.from_section(section_param)
    if csv_file and not matcher.path_to_search:
        return read_section_csv(csv_file, section_name)  # raises: missing file
    return matcher.matching_subjects_and_filenames(section_name)
