"""Datasets and weights known to the server: registered once by name, used by runs.

The registrations live in the run metadata database (tables ``datasets`` and ``weights``), so
every worker, API process and CLI sharing that database sees the same ones. Errors carry the
HTTP status an API answers with (:class:`AssetError`), and the CLI exits 2 with the message.
"""

from __future__ import annotations

import re

NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
_NAME = re.compile(NAME_PATTERN)


class AssetError(ValueError):
    """A registration or lookup that cannot be done; ``status`` is the HTTP status to answer."""

    status = 422


class AssetNotFoundError(AssetError):
    status = 404


class AssetConflictError(AssetError):
    status = 409


def check_name(name: str, kind: str) -> str:
    """``name`` when it is a valid registration name (lower case, digits, ``_.-``, <= 64)."""
    if not _NAME.match(name):
        raise AssetError(
            f"invalid {kind} name {name!r}: use 1-64 lower-case letters, digits, '_', '.' or "
            "'-', starting with a letter or digit"
        )
    return name
