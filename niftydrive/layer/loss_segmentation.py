"""Segmentation losses.

``LossFunction(n_class, loss_type)`` is the layer applications use.  The
loss functions themselves work on ONE sample, flattened:
``prediction`` is ``[n_voxels, n_class]`` (probabilities, or logits for the
cross-entropy based ones), ``ground_truth`` is ``[n_voxels]`` integer labels
and ``weight_map`` (optional) is ``[n_voxels]`` voxel weights.
"""
import numpy as np
import tensorflow.compat.v1 as tf

from niftydrive.layer.base_layer import Layer
from niftydrive.utilities.errors import UserInputError
from niftydrive.utilities.util_common import look_up_operations

# Dice denominators get this added so that empty classes do not divide by 0
EPSILON = 1e-5


def labels_to_one_hot(ground_truth, num_classes):
    """``[n_voxels]`` integer labels -> ``[n_voxels, num_classes]`` floats."""
    return tf.one_hot(tf.cast(ground_truth, tf.int32), num_classes,
                      dtype=tf.float32)


def _class_weights(weight_map):
    # [n_voxels] -> [n_voxels, 1] so it broadcasts over the classes
    return tf.expand_dims(tf.cast(weight_map, tf.float32), -1)


def _weighted_sums(prediction, ground_truth, weight_map, pred_power):
    """Per-class sums of (weighted) ``one_hot * prediction``,
    ``prediction ** pred_power`` and ``one_hot``."""
    one_hot = labels_to_one_hot(ground_truth, tf.shape(prediction)[-1])
    pred_term = prediction if pred_power == 1 else tf.square(prediction)
    if weight_map is not None:
        weights = _class_weights(weight_map)
        one_hot_w, pred_w = one_hot * weights, pred_term * weights
    else:
        one_hot_w, pred_w = one_hot, pred_term
    intersection = tf.reduce_sum(one_hot_w * prediction, axis=0)
    return intersection, tf.reduce_sum(pred_w, axis=0), \
        tf.reduce_sum(one_hot_w, axis=0)


def dice(prediction, ground_truth, weight_map=None):
    """Soft Dice loss of Milletari et al. (V-Net), averaged over classes:
    ``1 - mean_c 2 sum(p g) / (sum(p^2) + sum(g) + eps)``.

    A class absent from both the prediction and the reference scores 0
    (so it adds 1 / n_class to the loss), as in NiftyNet.
    """
    intersection, pred_sum, ref_sum = _weighted_sums(
        prediction, ground_truth, weight_map, pred_power=2)
    score = 2.0 * intersection / (pred_sum + ref_sum + EPSILON)
    return 1.0 - tf.reduce_mean(score)


def dice_nosquare(prediction, ground_truth, weight_map=None):
    """Soft Dice loss with a linear denominator:
    ``1 - mean_c 2 sum(p g) / (sum(p) + sum(g) + eps)``."""
    intersection, pred_sum, ref_sum = _weighted_sums(
        prediction, ground_truth, weight_map, pred_power=1)
    score = 2.0 * intersection / (pred_sum + ref_sum + EPSILON)
    return 1.0 - tf.reduce_mean(score)


def cross_entropy(prediction, ground_truth, weight_map=None):
    """Mean softmax cross entropy of the logits ``prediction``; with a
    ``weight_map`` the weighted mean ``sum(w * xent) / sum(w)``."""
    entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(
        logits=tf.cast(prediction, tf.float32),
        labels=tf.cast(ground_truth, tf.int32))
    if weight_map is None:
        return tf.reduce_mean(entropy)
    weight_map = tf.cast(weight_map, tf.float32)
    weight_sum = tf.maximum(tf.reduce_sum(weight_map), 1e-6)
    return tf.reduce_sum(entropy * weight_map) / weight_sum


def dice_plus_xent_loss(prediction, ground_truth, weight_map=None):
    """Cross entropy plus negative soft Dice (Isensee et al., nnU-Net), on
    logits: ``xent - mean_c 2 sum(s g) / (sum(s) + sum(g) + eps)`` with
    ``s = softmax(prediction)``; its minimum is -1."""
    prediction = tf.cast(prediction, tf.float32)
    loss_xent = cross_entropy(prediction, ground_truth, weight_map)
    intersection, pred_sum, ref_sum = _weighted_sums(
        tf.nn.softmax(prediction), ground_truth, weight_map, pred_power=1)
    loss_dice = -tf.reduce_mean(
        2.0 * intersection / (pred_sum + ref_sum + EPSILON))
    return loss_dice + loss_xent


def generalised_dice_loss(prediction, ground_truth, weight_map=None,
                          type_weight='Square'):
    """Generalised Dice loss (Sudre et al. 2017): classes are weighted by
    ``1 / ref_volume ** 2`` ('Square'), ``1 / ref_volume`` ('Simple') or 1
    ('Uniform'); a class absent from the reference gets the largest weight
    of the present classes.

    NiftyNet 0.3's convention: ``1 - 2 sum_c w_c I_c / (sum_c w_c (S_c +
    R_c) + 1e-6)``.  A class absent from both the prediction and the
    reference therefore adds nothing to the denominator, so a perfect
    prediction scores 0 even when a class is missing from the sample (later
    NiftyNet versions clamp each ``S_c + R_c`` to at least 1, which gives
    e.g. 0.333 for two classes with one missing).
    """
    weight_fns = {
        'Square': lambda vol: tf.reciprocal(tf.square(vol)),
        'Simple': tf.reciprocal,
        'Uniform': tf.ones_like}
    weight_fn = look_up_operations(type_weight, weight_fns)
    intersection, seg_vol, ref_vol = _weighted_sums(
        tf.cast(prediction, tf.float32), ground_truth, weight_map,
        pred_power=1)
    weights = weight_fn(ref_vol)
    finite = tf.where(tf.is_inf(weights), tf.zeros_like(weights), weights)
    weights = tf.where(tf.is_inf(weights),
                       tf.ones_like(weights) * tf.reduce_max(finite),
                       weights)
    numerator = 2.0 * tf.reduce_sum(weights * intersection)
    denominator = tf.reduce_sum(weights * (seg_vol + ref_vol)) + 1e-6
    return 1.0 - numerator / denominator


def sensitivity_specificity_loss(prediction, ground_truth, weight_map=None,
                                 r=0.05):
    """Sensitivity-specificity loss (Brosch et al. 2015), summed over
    classes: ``sum_c r * E_c(fg) + (1 - r) * E_c(bg)`` where ``E_c(fg)`` is
    the mean squared error ``(g - p)^2`` over the voxels of class ``c`` and
    ``E_c(bg)`` the one over the other voxels.  As in NiftyNet a weight map
    is not used (a warning is logged)."""
    if weight_map is not None:
        tf.logging.warning('SensSpec loss: the weight map is not used.')
    prediction = tf.cast(prediction, tf.float32)
    one_hot = labels_to_one_hot(ground_truth, tf.shape(prediction)[-1])
    others = 1.0 - one_hot
    squared_error = tf.square(one_hot - prediction)
    fg_error = tf.reduce_sum(squared_error * one_hot, 0) / (
        tf.reduce_sum(one_hot, 0) + EPSILON)
    bg_error = tf.reduce_sum(squared_error * others, 0) / (
        tf.reduce_sum(others, 0) + EPSILON)
    return tf.reduce_sum(r * fg_error + (1.0 - r) * bg_error)


def _dense_reference(prediction, ground_truth, weight_map, loss_name):
    if weight_map is not None:
        raise UserInputError(
            '{} loss does not support a weight map'.format(loss_name))
    prediction = tf.cast(prediction, tf.float32)
    ground_truth = tf.reshape(tf.cast(ground_truth, tf.float32),
                              tf.shape(prediction))
    return prediction, ground_truth


def dice_dense(prediction, ground_truth, weight_map=None):
    """Dice loss against a dense (one channel per class, e.g. one-hot or
    probabilistic) reference: ``1 - mean_c 2 sum(p g) / (sum(p^2) +
    sum(g^2) + eps)``; no weight map."""
    prediction, ground_truth = _dense_reference(
        prediction, ground_truth, weight_map, 'Dice_Dense')
    numerator = 2.0 * tf.reduce_sum(prediction * ground_truth, 0)
    denominator = tf.reduce_sum(tf.square(prediction), 0) + \
        tf.reduce_sum(tf.square(ground_truth), 0)
    return 1.0 - tf.reduce_mean(numerator / (denominator + EPSILON))


def dice_dense_nosquare(prediction, ground_truth, weight_map=None):
    """As ``dice_dense`` with linear terms in the denominator."""
    prediction, ground_truth = _dense_reference(
        prediction, ground_truth, weight_map, 'Dice_Dense_NS')
    numerator = 2.0 * tf.reduce_sum(prediction * ground_truth, 0)
    denominator = tf.reduce_sum(prediction, 0) + \
        tf.reduce_sum(ground_truth, 0)
    return 1.0 - tf.reduce_mean(numerator / (denominator + EPSILON))


def cross_entropy_dense(prediction, ground_truth, weight_map=None):
    """Mean softmax cross entropy of the logits ``prediction`` against a
    dense reference (one probability per class); no weight map."""
    prediction, ground_truth = _dense_reference(
        prediction, ground_truth, weight_map, 'CrossEntropy_Dense')
    return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(
        labels=tf.stop_gradient(ground_truth), logits=prediction))


def tversky(prediction, ground_truth, weight_map=None, alpha=0.5, beta=0.5):
    """Tversky loss (Salehi et al. 2017) over all classes and voxels:
    ``1 - TP / (TP + alpha FP + beta FN + eps)`` with ``TP = sum(p g)``,
    ``FP = sum(p (1 - g))``, ``FN = sum((1 - p) g)`` (weighted by the
    weight map when given); alpha = beta = 0.5 is the Dice loss."""
    prediction = tf.cast(prediction, tf.float32)
    one_hot = labels_to_one_hot(ground_truth, tf.shape(prediction)[-1])
    weights = 1.0 if weight_map is None else _class_weights(weight_map)
    true_pos = tf.reduce_sum(weights * prediction * one_hot)
    false_pos = tf.reduce_sum(weights * prediction * (1.0 - one_hot))
    false_neg = tf.reduce_sum(weights * (1.0 - prediction) * one_hot)
    return 1.0 - true_pos / (
        true_pos + alpha * false_pos + beta * false_neg + EPSILON)


# label-space distances of the BraTS tree (background, necrotic core,
# oedema, non-enhancing and enhancing tumour) used by Fidon et al. 2017
M_tree = np.array([[0.0, 1.0, 1.0, 1.0, 1.0],
                   [1.0, 0.0, 0.6, 0.2, 0.5],
                   [1.0, 0.6, 0.0, 0.6, 0.7],
                   [1.0, 0.2, 0.6, 0.0, 0.5],
                   [1.0, 0.5, 0.7, 0.5, 0.0]], dtype=np.float64)


def wasserstein_disagreement_map(prediction, ground_truth, weight_map=None,
                                 M=None):
    """Per-voxel Wasserstein distance between the predicted probabilities
    and the dense reference ``ground_truth`` for the label-space distance
    matrix ``M``: ``sum_ij M_ij p_i g_j``."""
    if M is None:
        raise ValueError('wasserstein_disagreement_map needs a distance '
                         'matrix M')
    if weight_map is not None:
        tf.logging.warning('WGDL loss: the weight map is not used.')
    n_classes = tf.compat.dimension_value(prediction.shape[-1])
    distances = tf.constant(np.asarray(M)[:n_classes, :n_classes],
                            dtype=tf.float64)
    pred = tf.cast(prediction, tf.float64)
    ref = tf.cast(ground_truth, tf.float64)
    return tf.reduce_sum(tf.matmul(pred, distances) * ref, axis=-1)


def generalised_wasserstein_dice_loss(prediction, ground_truth,
                                      weight_map=None):
    """Generalised Wasserstein Dice loss (Fidon et al. 2017) with the
    BraTS label tree ``M_tree`` (at most 5 classes):
    ``1 - 2 TP / (2 TP + sum(delta))`` where ``delta`` is the Wasserstein
    disagreement map and ``TP = sum_voxels M[0, g] (1 - delta)``."""
    n_classes = tf.compat.dimension_value(prediction.shape[-1])
    if n_classes is None or n_classes > M_tree.shape[0]:
        raise UserInputError(
            'WGDL loss uses the 5-class BraTS label tree: it needs at most '
            '5 classes, got {}'.format(n_classes))
    one_hot = labels_to_one_hot(ground_truth, n_classes)
    delta = wasserstein_disagreement_map(
        tf.cast(prediction, tf.float32), one_hot, weight_map, M=M_tree)
    all_error = tf.reduce_sum(delta)
    class_weight = tf.constant(M_tree[0, :n_classes], dtype=tf.float64)
    true_pos = tf.reduce_sum(
        tf.reduce_sum(tf.cast(one_hot, tf.float64) * class_weight, axis=1) *
        (1.0 - delta))
    loss = 1.0 - (2.0 * true_pos) / (2.0 * true_pos + all_error)
    return tf.cast(loss, tf.float32)


SUPPORTED_LOSS = {
    'Dice': dice,
    'Dice_NS': dice_nosquare,
    'CrossEntropy': cross_entropy,
    'DicePlusXEnt': dice_plus_xent_loss,
    'GDSC': generalised_dice_loss,
    'SensSpec': sensitivity_specificity_loss,
    'Dice_Dense': dice_dense,
    'Dice_Dense_NS': dice_dense_nosquare,
    'CrossEntropy_Dense': cross_entropy_dense,
    'Tversky': tversky,
    'WGDL': generalised_wasserstein_dice_loss,
}

# these take logits and apply the softmax themselves
_LOSSES_ON_LOGITS = (cross_entropy, dice_plus_xent_loss,
                     cross_entropy_dense)
# these compare with a dense reference (one channel per class)
_DENSE_LOSSES = (dice_dense, dice_dense_nosquare, cross_entropy_dense)


class LossFunction(Layer):
    """The segmentation loss as a layer.

    ``loss(prediction, ground_truth, weight_map=None)``: ``prediction`` is
    logits ``[batch, spatial..., n_class]`` (or a list of them, whose losses
    are averaged); ``ground_truth`` is integer labels ``[batch, spatial...,
    1]`` or ``[batch, spatial...]`` (for the '_Dense' losses: one channel
    per class, ``[batch, spatial..., n_class]``); ``weight_map`` has the
    shape of the labels.  The loss is computed per sample and averaged over the
    batch.  With ``softmax=True`` the logits go through a softmax first,
    except for the losses that take logits ('CrossEntropy',
    'DicePlusXEnt').  ``loss_func_params`` are extra keyword arguments of the
    loss function (e.g. ``{'type_weight': 'Simple'}`` for 'GDSC').
    """

    def __init__(self, n_class, loss_type='Dice', softmax=True,
                 loss_func_params=None, name='loss_function'):
        super(LossFunction, self).__init__(name=name)
        if int(n_class) < 1:
            raise UserInputError(
                'number of classes must be positive, got {}'.format(n_class))
        self._num_classes = int(n_class)
        self._data_loss_func = look_up_operations(
            loss_type, SUPPORTED_LOSS, 'segmentation loss_type')
        self._loss_func_params = dict(loss_func_params or {})
        self._softmax = bool(softmax) and \
            self._data_loss_func not in _LOSSES_ON_LOGITS

    @property
    def num_classes(self):
        """Number of classes the predictions are expected to have."""
        return self._num_classes

    def layer_op(self, prediction, ground_truth, weight_map=None):
        """The mean loss (a scalar tensor); see the class docstring."""
        predictions = (list(prediction)
                       if isinstance(prediction, (list, tuple))
                       else [prediction])
        losses = [self._single_scale_loss(pred, ground_truth, weight_map)
                  for pred in predictions]
        return tf.reduce_mean(tf.stack(losses))

    def _single_scale_loss(self, prediction, ground_truth, weight_map):
        n_pred_chns = tf.compat.dimension_value(prediction.shape[-1])
        if n_pred_chns is not None and int(n_pred_chns) != self._num_classes:
            raise UserInputError(
                'the loss expects {} classes but the prediction has {} '
                'channels (shape {})'.format(self._num_classes, n_pred_chns,
                                             prediction.shape))
        static_batch = tf.compat.dimension_value(prediction.shape[0])
        batch = tf.shape(prediction)[0]
        prediction = tf.reshape(tf.cast(prediction, tf.float32),
                                tf.stack([batch, -1, self._num_classes]))
        if self._data_loss_func in _DENSE_LOSSES:
            # one reference channel per class
            ground_truth = tf.reshape(
                ground_truth, tf.stack([batch, -1, self._num_classes]))
        else:
            ground_truth = tf.reshape(ground_truth, tf.stack([batch, -1]))
        elems = [prediction, ground_truth]
        if weight_map is not None:
            elems.append(tf.reshape(tf.cast(weight_map, tf.float32),
                                    tf.stack([batch, -1])))

        def _per_sample(sample):
            pred_b, gt_b = sample[0], sample[1]
            weight_b = sample[2] if len(sample) > 2 else None
            if self._softmax:
                pred_b = tf.nn.softmax(pred_b)
            return self._data_loss_func(
                prediction=pred_b, ground_truth=gt_b, weight_map=weight_b,
                **self._loss_func_params)

        if static_batch is not None:
            # a known batch size: a plain Python loop builds a simpler graph
            samples = zip(*[tf.unstack(elem, num=int(static_batch))
                            for elem in elems])
            return tf.reduce_mean(tf.stack(
                [_per_sample(sample) for sample in samples]))
        per_sample = tf.map_fn(_per_sample, tuple(elems),
                               fn_output_signature=tf.float32)
        return tf.reduce_mean(per_sample)
