"""Where a signed event keeps its statement and signature, bound to it by hash.

A signed event records, under `signature`, the paths of its statement (canonical
JSON) and of its armored SSH signature, each with its sha256, beside the event in
`patches/<ID>/signatures/`. Reading them checks both hashes first: a statement or
signature file changed after it was recorded is damaged evidence.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from releasegate.core.errors import InputError
from releasegate.core.model import Event
from releasegate.ledger.events import PATCHES
from releasegate.ledger.snapshot import Snapshot


def signature_paths(patch: str, seq: int, kind: str) -> tuple[str, str]:
    base = f"{PATCHES}/{patch}/signatures/{seq:04d}-{kind}"
    return base + ".json", base + ".sig"


def signature_record(patch: str, seq: int, kind: str, statement: bytes,
                     signature: bytes, fingerprint: str) -> tuple[dict[str, Any],
                                                                dict[str, bytes]]:
    """The event's `signature` field and the files to store beside the event."""
    statement_path, signature_path = signature_paths(patch, seq, kind)
    record = {"statement": statement_path,
              "statement_sha256": hashlib.sha256(statement).hexdigest(),
              "signature": signature_path,
              "signature_sha256": hashlib.sha256(signature).hexdigest(),
              "key": fingerprint}
    return record, {statement_path: statement, signature_path: signature}


def read_signed(snap: Snapshot, event: Event) -> tuple[bytes, bytes]:
    """The statement and signature bytes of a signed event, each checked against the
    sha256 the event recorded."""
    record = event.data.get("signature")
    if not isinstance(record, Mapping):
        raise InputError("the event carries no signature", file=event.path,
                         code="bad-signature")
    found = []
    for name in ("statement", "signature"):
        path = str(record.get(name) or "")
        if not path.startswith(f"{PATCHES}/{event.patch}/signatures/"):
            raise InputError(f"its {name} is not stored with the patch", file=event.path,
                             code="evidence-damaged")
        data = snap.read(path)
        if data is None:
            raise InputError(f"its {name} file is missing", file=path, code="evidence-damaged")
        if hashlib.sha256(data).hexdigest() != record.get(f"{name}_sha256"):
            raise InputError(f"evidence damaged: its sha256 is not the one {event.path} "
                             "recorded", file=path, code="evidence-damaged")
        found.append(data)
    return found[0], found[1]
