"""The ledger's key registry: whose key is which, when it may sign, which are revoked.

Built from the people in `releasegate.yaml`. The allowed-signers text for a check is
written from it, one principal (the person's id, never a pattern) per key, with the
key's validity window and the one namespace being checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from releasegate.core.model import Person, Pipeline
from releasegate.core.sshsig import key_blob

KINDS = ("signoff", "checklist", "waiver")
NAMESPACES = {kind: f"{kind}.v1@releasegate" for kind in KINDS}


@dataclass(frozen=True)
class Key:
    person: str
    line: str  # type and base64, without the comment
    blob: bytes
    valid_after: datetime | None
    valid_before: datetime | None


def registry(pipeline: Pipeline) -> list[Key]:
    """Every key of every person in the pipeline."""
    return [key for person in pipeline.people.values() for key in _keys_of(person)]


def _keys_of(person: Person) -> Iterator[Key]:
    for entry in person.keys:
        blob = key_blob(entry.line)
        if blob is None:
            continue  # the configuration check refuses such lines
        kind, data = entry.line.split()[:2]
        yield Key(person.id, f"{kind} {data}", blob, moment(entry.valid_after),
                  moment(entry.valid_before))


def moment(text: str | None) -> datetime | None:
    """A validity bound: a date (its start, UTC) or an ISO 8601 time with its offset."""
    if not text:
        return None
    if len(text) == 10:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def owner(keys: list[Key], blob: bytes) -> Key | None:
    """The registered key whose blob this is."""
    return next((key for key in keys if key.blob == blob), None)


def revoked_blobs(pipeline: Pipeline) -> set[bytes]:
    return {blob for line in pipeline.revoked_keys if (blob := key_blob(line)) is not None}


def revoked_lines(pipeline: Pipeline) -> list[str]:
    return [" ".join(line.split()[:2]) for line in pipeline.revoked_keys
            if key_blob(line) is not None]


def allowed_signers(key: Key, namespace: str) -> str:
    """One allowed-signers line: this key, for its person, in `namespace`, in its window."""
    options = [f'namespaces="{namespace}"']
    if key.valid_after is not None:
        options.append(f'valid-after="{key.valid_after:%Y%m%d%H%M%S}Z"')
    if key.valid_before is not None:
        options.append(f'valid-before="{key.valid_before:%Y%m%d%H%M%S}Z"')
    return f"{key.person} {','.join(options)} {key.line}\n"
