"""The train/validation/inference split of a run."""
import os

from niftydrive.io.image_sets_partitioner import ImageSetsPartitioner
from niftydrive.utilities.errors import UserInputError


def partition_data(system_param, train_param, data_param, is_training,
                   initial_iter, validation_every_n):
    """The run's ``ImageSetsPartitioner``: the split file is read, or
    written when training starts from iteration 0 with an exclusion
    fraction > 0; validation without validation subjects is refused."""
    partitioner = ImageSetsPartitioner()
    partitioner.reset()
    if not data_param:
        return partitioner
    split_file = getattr(system_param, 'dataset_split_file', None)
    ratios = None
    new_partition = False
    if is_training and initial_iter == 0 and \
            not (split_file and os.path.isfile(split_file)):
        fractions = (train_param.exclude_fraction_for_validation,
                     train_param.exclude_fraction_for_inference)
        if validation_every_n > 0 and fractions[0] <= 0:
            raise UserInputError(
                'validation_every_n is {} but no validation split is '
                'possible: set exclude_fraction_for_validation > 0 '
                '[TRAINING] (now {}), or validation_every_n = -1'.format(
                    validation_every_n, fractions[0]))
        if any(fraction > 0 for fraction in fractions):
            new_partition, ratios = True, fractions
    partitioner.initialise(data_param=data_param, new_partition=new_partition,
                           data_split_file=split_file, ratios=ratios)
    if is_training and validation_every_n > 0 and \
            not partitioner.has_validation:
        raise UserInputError(
            'validation_every_n is {} but the dataset split {} has no '
            'validation subjects: remove that file to make a new split '
            '(with exclude_fraction_for_validation > 0), or set '
            'validation_every_n = -1'.format(validation_every_n,
                                             split_file))
    return partitioner
