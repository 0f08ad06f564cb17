"""The one exception type that means "the user asked for something impossible"."""


class MathlensError(ValueError):
    """Bad input from a user: the CLI prints the message on one line and exits with code 2."""
