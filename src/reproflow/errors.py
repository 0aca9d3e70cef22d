"""User-facing errors: one clear message, no traceback wall."""

from __future__ import annotations

import enum
from typing import TypeVar

E = TypeVar("E", bound=enum.Enum)


class UserError(Exception):
    """An error the user can fix (bad config, missing data, corrupted file).

    The message must name the file or key involved and say what to do.
    The CLI layer prints it as one line and exits with status 2.
    """


def parse_choice(choices: type[E], name: object, what: str) -> E:
    """``choices(name)`` for a closed set of string names (an Enum); a UserError naming the ``what`` and the
    valid names otherwise (``parse_choice(AttackName, "spa", "attack")`` -> ``AttackName.SPA``)."""
    try:
        return choices(name)
    except ValueError:
        raise UserError(f"unknown {what} '{name}'; choose from {', '.join(str(c.value) for c in choices)}") from None
