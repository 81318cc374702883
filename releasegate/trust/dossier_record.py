"""What a patch's audit dossier records (`verify --dossier`): its event files, signed
events, promotions and the audit's findings, gathered by `actions.dossier` and turned
into the dossier's files by the renderers that import these types."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from releasegate.core.model import Event, Pipeline, Verdict
from releasegate.trust.history_rules import ERROR, Finding

# Names a dossier lists as they are in SHA256SUMS and in sh: no control characters, no
# backslash, no quote (what releasegate itself names is letters, digits, . _ -).
SAFE_PATH = re.compile(r"[^\x00-\x1f\x7f-\x9f\\'\"`$]+")


@dataclass(frozen=True)
class EventRow:
    """One event file of the patch, in order, read on its own (a broken chain or a file
    that is no event is shown, not fatal)."""

    path: str  # in the dossier: events/0001-submitted.yaml
    sha256: str
    event: Event | None
    problem: str | None  # why the file cannot be read as an event
    chained: bool  # its prev is the sha256 of the file before it (null for the first)


@dataclass(frozen=True)
class SignedRow:
    """One signed event's statement and signature, and whether the signature counts."""

    event: str  # dossier path of the event
    statement: str | None  # dossier paths; None when not stored with the patch
    signature: str | None
    signer: str
    kind: str
    namespace: str
    at: str
    fingerprint: str | None
    key_type: str | None
    ok: bool
    reason: str  # who signed with which key, or why it does not count

    @property
    def verify_time(self) -> str:
        """The event's time as ssh-keygen's verify-time takes it (releasegate's check)."""
        from releasegate.core.clock import parse_stamp

        try:
            return f"{parse_stamp(self.at):%Y%m%d%H%M%S}Z"
        except ValueError:
            return "00000000000000Z"


@dataclass(frozen=True)
class PromotionRow:
    event: str
    seq: int
    source: str | None
    target: str | None
    at: str
    actor: str
    digest: str
    commit: str | None
    recorded: list[dict[str, Any]] | None
    replayed: Verdict | None
    problem: str | None  # what the audit's replay found wrong; None: the gate was open

    @property
    def recorded_open(self) -> bool | None:
        if self.recorded is None:
            return None
        return all(isinstance(c, Mapping) and c.get("status") != "fail" for c in self.recorded)

    @property
    def agrees(self) -> bool:
        return (self.problem is None and self.replayed is not None
                and self.replayed.open == self.recorded_open)

    def to_dict(self) -> dict[str, Any]:
        return {"event": self.event, "seq": self.seq, "from": self.source,
                "to": self.target, "at": self.at, "actor": self.actor,
                "digest": self.digest, "commit": self.commit,
                "recorded": None if self.recorded is None else
                {"open": self.recorded_open, "conditions": self.recorded},
                "replayed": None if self.replayed is None else
                {"open": self.replayed.open,
                 "conditions": [c.to_dict() for c in self.replayed.conditions]},
                "replay_problem": self.problem, "agrees": self.agrees}


@dataclass
class Record:
    """Everything the dossier's own files are made from."""

    patch: str
    ledger: str
    head: str
    written_at: str
    pipeline: Pipeline
    files: dict[str, bytes]  # the patch's files by dossier path
    events: list[EventRow]
    signed: list[SignedRow]
    promotions: list[PromotionRow]
    findings: list[Finding]
    allowed_signers: str
    revoked_keys: str
    manifest: dict[str, Any]
    digest: str | None
    artifacts: list[dict[str, Any]]
    env: str | None

    @property
    def ok(self) -> bool:
        return not any(f.severity == ERROR for f in self.findings)

