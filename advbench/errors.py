"""Exceptions that the command line turns into a one-line message and exit code 2."""


class AdvbenchError(Exception):
    """A problem with the user's input (a file, a folder, a flag), not a bug.

    The message must name the file or flag and say what is wrong, in one line.
    """


class DataError(AdvbenchError):
    """A data file or folder is missing, unreadable or malformed."""
