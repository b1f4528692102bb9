"""The engine: driver, collectors, iteration messages, queues and samplers.

Nothing in this package knows about images; applications do.
"""
