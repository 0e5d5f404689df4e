"""The one exception the CLI turns into a single error line and exit status 2, and the exit codes.

Exit codes of ``dendrite``: 0 success; 1 some tour runs failed; 2 a usage error (bad
arguments, unknown model or dataset); 3 ``dendrite train``: the run diverged (a loss became
NaN or infinite); 130 interrupted.
"""

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DIVERGED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class UsageError(Exception):
    """A mistake in what the user asked for (unknown model or dataset, incompatible choice).

    ``main`` prints it as one line on stderr and returns exit status 2.

    Example:
        >>> from dendrite.cli.main import main
        >>> main(["train", "mlp", "--data", "no-such-data"])   # stderr: dendrite: error: unknown dataset ...
        2
    """
