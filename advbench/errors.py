"""Exceptions that the command line turns into a one-line message: exit 2 for bad input, 1 for a failed run."""


class AdvbenchError(Exception):
    """A problem with the user's input (a file, a folder, a flag), not a bug: exit status 2.

    The message must name the file or flag and say what is wrong, in one line.
    """


class DataError(AdvbenchError):
    """A data file or folder is missing, unreadable or malformed."""


class RunError(Exception):
    """A run that could not finish although its input was good (a worker process died): exit status 1."""
