"""Checking one signed statement of the ledger, and making one.

A signature counts only when every step holds, in this order: it is an SSHSIG with a
sha256 or sha512 hash, made in the statement kind's own namespace, by a key in the
ledger's registry that is not revoked and belongs to the person the event names;
`ssh-keygen -Y verify` accepts the stored statement bytes with that key, valid at the
event's time; and only then are those same bytes parsed and found to name this
ledger, patch, digest, environment, signer, time and decision. Identity comes from the
key, never from a name in the statement.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from releasegate.core.clock import parse_stamp
from releasegate.core.errors import InputError, RuleError
from releasegate.core.model import Event, Pipeline
from releasegate.core.sshsig import HASHES, Signature, read_signature
from releasegate.trust import ssh_keygen, statements
from releasegate.trust.keys import (
    NAMESPACES,
    allowed_signers,
    owner,
    registry,
    revoked_blobs,
    revoked_lines,
)


@dataclass(frozen=True)
class Checked:
    ok: bool
    reason: str  # why it does not count, or who signed with which key
    fingerprint: str | None = None


def check(pipeline: Pipeline, *, kind: str, event: Event, ledger: str,
          decided: Mapping[str, Any], statement: bytes, signature: bytes) -> Checked:
    """Whether the stored `statement` and `signature` prove `event`."""
    namespace = NAMESPACES[kind]
    try:
        sig = read_signature(signature, event.path)
    except InputError as exc:
        return Checked(False, exc.message)
    refusal = _refusal(pipeline, sig, namespace, event.actor)
    if refusal:
        return Checked(False, refusal, sig.fingerprint)
    key = owner(registry(pipeline), sig.key_blob)
    assert key is not None
    outcome = ssh_keygen.verify(statement, signature,
                                allowed_signers=allowed_signers(key, namespace),
                                principal=key.person, namespace=namespace,
                                at=parse_stamp(event.at), revoked=revoked_lines(pipeline))
    if not outcome.ok:
        return Checked(False, f"ssh-keygen refused the signature: {outcome.detail}",
                       sig.fingerprint)
    try:
        doc = statements.parse(statement, event.path)
    except InputError as exc:
        return Checked(False, f"a good signature over a statement that {exc.message}",
                       sig.fingerprint)
    wrong = statements.mismatches(doc, event, kind=kind, ledger=ledger, decided=decided)
    if wrong:
        return Checked(False, "the signed statement is not this event's: " + "; ".join(wrong),
                       sig.fingerprint)
    return Checked(True, f"signed by {key.person} with {sig.key_type} key {sig.fingerprint}",
                   sig.fingerprint)


def _refusal(pipeline: Pipeline, sig: Signature, namespace: str, signer: str) -> str | None:
    if sig.hash_algorithm not in HASHES:
        return f"made with hash {sig.hash_algorithm}; only sha256 or sha512 are accepted"
    if sig.namespace != namespace:
        return f"made for namespace '{sig.namespace}', not '{namespace}'"
    key = owner(registry(pipeline), sig.key_blob)
    if key is None:
        return f"made with key {sig.fingerprint}, which no person of the ledger holds"
    if sig.key_blob in revoked_blobs(pipeline):
        return f"made with key {sig.fingerprint}, which is revoked"
    if key.person != signer:
        return f"made with {key.person}'s key {sig.fingerprint}, not {signer}'s"
    return None


def sign(pipeline: Pipeline, *, kind: str, key: Path, statement: bytes, signer: str) -> bytes:
    """Sign `statement` for `signer` with `key`, refusing (nothing recorded) a key that
    is not one of the signer's registered, unrevoked keys."""
    signature = ssh_keygen.sign(statement, key, NAMESPACES[kind])
    sig = read_signature(signature, str(key))
    refusal = _refusal(pipeline, sig, NAMESPACES[kind], signer)
    if refusal:
        raise RuleError(f"the signature was {refusal}", code="wrong-key",
                        hint=f"sign with one of {signer}'s keys listed under people.{signer}."
                             "keys in releasegate.yaml")
    return signature
