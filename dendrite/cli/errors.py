"""The one exception the CLI turns into a single error line and exit status 2."""


class UsageError(Exception):
    """A mistake in what the user asked for (unknown model or dataset, incompatible choice).

    ``main`` prints it as one line on stderr and returns exit status 2.

    Example:
        >>> from dendrite.cli.main import main
        >>> main(["train", "mlp", "--data", "no-such-data"])   # stderr: dendrite: error: unknown dataset ...
        2
    """
