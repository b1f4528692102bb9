"""Exceptions that mean "the user asked for something wrong"."""


class UserInputError(ValueError):
    """A mistake in the user's configuration, command line or data.

    ``net_run`` prints only the message of this error (no traceback) and
    exits non-zero, so the message must name what is wrong (the key, the
    file, the value) and, where possible, how to fix it.
    """
