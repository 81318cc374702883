"""Identifiers that become parts of paths: checked before any path is built."""

from __future__ import annotations

import re

from releasegate.core.errors import InputError

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def id_problem(value: object) -> str | None:
    """Why `value` is not a valid identifier, or None when it is."""
    if not isinstance(value, str):
        return "must be a string"
    if not _ID.fullmatch(value):
        return ("must be 1-64 ASCII letters, digits, '.', '_' or '-', starting with a "
                "letter or digit")
    if ".." in value:
        return "may not contain '..'"
    return None


def check_id(kind: str, value: str) -> str:
    """Return `value` when it is a valid identifier of `kind`, else raise InputError."""
    problem = id_problem(value)
    if problem:
        raise InputError(f"invalid {kind} {value!r}: {problem}",
                         code="invalid-id", hint=f"use an id such as 'CBS-2026-0042' for a {kind}"
                         if kind == "patch id" else None)
    return value
