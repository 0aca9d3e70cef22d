"""User-facing errors: one clear message, no traceback wall."""


class UserError(Exception):
    """An error the user can fix (bad config, missing data, corrupted file).

    The message must name the file or key involved and say what to do.
    The CLI layer prints it as one line and exits with status 2.
    """
