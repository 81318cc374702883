"""What a delivery is given (a rendered notice) and what it comes to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class NoticeContent(Protocol):
    """One notice rendered for one audience and language. Read-only members, so that
    frozen dataclasses satisfy it."""

    @property
    def patch(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def audience(self) -> str: ...
    @property
    def lang(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def markdown(self) -> str: ...
    @property
    def html(self) -> str: ...


@dataclass(frozen=True)
class Outcome:
    ok: bool
    permanent: bool  # retrying will not fix it: a person must change something first
    detail: str
    attempts: int
    refused: tuple[str, ...] = ()  # e-mail recipients the server refused


@dataclass(frozen=True)
class Attempt:
    """What one try came to; `retry_after` is the wait the server asked for, if any."""

    ok: bool
    permanent: bool
    detail: str
    refused: tuple[str, ...] = ()
    retry_after: float | None = None


