"""The evidence of a proxy sign-off: the e-mail, PDF or screenshot by which an approval
reached the person who recorded it on the approver's behalf.

It is read from disk as a regular file only (`artifacts.read_regular`, at most
`MAX_BYTES`), stored in the ledger content-addressed at
`patches/<ID>/evidence/<sha256>.<ext>` and bound to its sign-off event by that sha256.
Every read checks the stored bytes against it: a mismatch is damaged evidence (exit 2,
`evidence-damaged`) for every command, as for test summaries (`baselines.load_runs`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from releasegate.core.errors import InputError
from releasegate.core.model import Event
from releasegate.evidence.artifacts import read_regular
from releasegate.ledger.events import PATCHES
from releasegate.ledger.snapshot import Snapshot

MAX_BYTES = 10 * 1024 * 1024
_EXTENSION = re.compile(r"[a-z0-9]{1,10}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
FIELDS = ("for", "recorded_by", "evidence", "evidence_sha256", "evidence_name")


@dataclass(frozen=True)
class ProxyEvidence:
    """A proxy sign-off's evidence as read from disk, and where the ledger keeps it."""

    name: str  # the file's own name, as given
    sha256: str
    data: bytes

    def path(self, patch: str) -> str:
        return stored_path(patch, self.sha256, self.name)


def read_evidence(path: Path) -> ProxyEvidence:
    """The evidence file at `path`, if it is a regular file of at most MAX_BYTES."""
    data = read_regular(path, "proxy evidence", MAX_BYTES)
    return ProxyEvidence(path.name, hashlib.sha256(data).hexdigest(), data)


def stored_path(patch: str, sha256: str, name: str) -> str:
    """patches/<patch>/evidence/<sha256>.<ext>: the extension of `name` in lower case
    when it is 1-10 letters and digits, else `bin`."""
    suffix = Path(name).suffix[1:].lower()
    extension = suffix if _EXTENSION.fullmatch(suffix) else "bin"
    return f"{PATCHES}/{patch}/evidence/{sha256}.{extension}"


def proxy_record(person: str, recorder: str, patch: str,
                 evidence: ProxyEvidence) -> dict[str, str]:
    """The `proxy` field of a sign-off event."""
    return {"for": person, "recorded_by": recorder, "evidence": evidence.path(patch),
            "evidence_sha256": evidence.sha256, "evidence_name": evidence.name}


def check_proxy(snap: Snapshot, event: Event) -> None:
    """Raise unless the proxy sign-off `event` is well formed and its stored evidence
    has the sha256 it recorded."""
    raw: Any = event.data.get("proxy")
    if not isinstance(raw, Mapping) or not all(isinstance(raw.get(k), str) and raw.get(k)
                                               for k in FIELDS):
        raise _corrupt(event, "its proxy lacks one of " + ", ".join(FIELDS))
    if raw["recorded_by"] != event.actor:
        raise _corrupt(event, f"its proxy was recorded by {raw['recorded_by']!r}, but the "
                              f"event's actor is {event.actor!r}")
    sha = raw["evidence_sha256"]
    if not _SHA256.fullmatch(sha) or raw["evidence"] != stored_path(event.patch, sha,
                                                                    raw["evidence_name"]):
        raise _corrupt(event, "its proxy evidence is not stored with the patch by its sha256")
    path = raw["evidence"]
    entry = snap.entry(path)
    if entry is None:
        raise InputError(f"the proxy evidence file is missing (recorded by {event.path})",
                         file=path, code="evidence-damaged",
                         hint=f"restore it from the git history (`git log -- {path}`)")
    checked: set[tuple[str, str]] = snap.memo.setdefault("proxy_evidence", set())
    if (entry.sha, sha) in checked:  # this blob checked against this sha256 already
        return
    if snap.store.blob_sha256(entry.sha) != sha:
        raise InputError(f"evidence damaged: its sha256 is not the one {event.path} recorded",
                         file=path, code="evidence-damaged",
                         hint="it was changed after it was recorded; restore it from the git "
                              f"history (`git log -- {path}`) or record the sign-off again")
    checked.add((entry.sha, sha))


def _corrupt(event: Event, why: str) -> InputError:
    return InputError(f"the sign-off is damaged: {why}", file=event.path, code="ledger-corrupt")
