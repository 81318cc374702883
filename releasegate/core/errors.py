"""The one family of expected failures; each carries its exit status and a stable code.

Exit statuses follow the CLI contract: 2 bad usage or input (nothing recorded),
3 transient (a retry may succeed), 4 a bug. Errors carry where they happened as
data (file, line, column, key) so that tests and JSON consumers need not parse text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

EXIT_OK = 0
EXIT_GATE_CLOSED = 1
EXIT_BAD_INPUT = 2
EXIT_TRANSIENT = 3
EXIT_BUG = 4

# Codes of errors that say the ledger's records themselves are damaged: they stop every
# command that reads them, never shown as one row of a view among others.
INTEGRITY = frozenset({"ledger-corrupt", "evidence-damaged"})


class ReleasegateError(Exception):
    """Base of every failure releasegate expects; never shown with a traceback."""

    exit_status = EXIT_BAD_INPUT
    code = "error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.hint = hint

    def location(self) -> str:
        """`file:line:column: key: ` for whatever of those is known."""
        parts = []
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            parts.append(where)
        if self.key:
            parts.append(self.key)
        return "".join(p + ": " for p in parts)

    def __str__(self) -> str:
        text = self.location() + self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"code": self.code, "exit_status": self.exit_status,
                               "message": self.message}
        for name in ("file", "line", "column", "key", "hint"):
            value = getattr(self, name)
            if value is not None:
                doc[name] = value
        return doc


class UsageError(ReleasegateError):
    code = "usage"


class InputError(ReleasegateError):
    code = "bad-input"


class ConfigError(InputError):
    code = "config"


class NotFoundError(InputError):
    code = "not-found"


class RuleError(InputError):
    """A rule of the pipeline (four eyes, order, roles) refuses the act."""

    code = "refused"


class VerificationError(ReleasegateError):
    """What releasegate holds does not verify (a rewritten history): exit 1, as an
    audit that found problems; a person must look before anything goes on."""

    exit_status = EXIT_GATE_CLOSED
    code = "unverified"


class TransientError(ReleasegateError):
    exit_status = EXIT_TRANSIENT
    code = "transient"


class ContentionError(TransientError):
    code = "contended"


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A hint naming the closest of `choices` to `word`, if any is close."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None
