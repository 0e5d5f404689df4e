"""The one exception the CLI turns into a single error line and exit status 2."""


class UsageError(Exception):
    """A mistake in what the user asked for (unknown model or dataset, incompatible choice)."""
