# -*- coding: utf-8 -*-
"""The interface of one evaluation metric, as the evaluators use it.

An evaluation is a class named like the metric (``dice``, ``mse``...),
created with the application's and the ``[EVALUATION]`` parameters.  It
says which evaluator can compute it (``KIND``: ``segmentation``,
``regression``, ``classification``) and which CSV columns it fills
(``columns``: by default one, the metric's name).  Each kind's module
defines how the value is computed; a user's own metric is a subclass named
by its dotted import path in ``[EVALUATION] evaluations``.
"""
SEGMENTATION = 'segmentation'
REGRESSION = 'regression'
CLASSIFICATION = 'classification'


class BaseEvaluation(object):
    """One metric an evaluator computes per subject (and per unit).

    :param app_param: the application's section (``[SEGMENTATION]``...)
    :param eval_param: the ``[EVALUATION]`` section (may be None)
    """

    KIND = None

    def __init__(self, app_param=None, eval_param=None):
        self.app_param = app_param
        self.eval_param = eval_param

    @property
    def metric_name(self):
        """The metric's name: the class name."""
        return type(self).__name__

    @property
    def columns(self):
        """Names of the CSV columns this metric fills."""
        return (self.metric_name,)
