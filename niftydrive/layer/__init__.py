"""Neural-network layers built from ``tf.get_variable`` and ``tf.nn`` ops.

Every trainable layer wraps its ``layer_op`` in ``tf.make_template`` so that
the same layer object called in several towers (``worker_0``, ``worker_1`` ...)
creates its variables once and shares them.
"""
