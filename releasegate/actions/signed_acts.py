"""Signing an act as it is recorded, and checking the signatures a gate counts.

A sign-off, checklist or waiver for a gate with `signatures: required` must be signed
by its actor's registered key, or it is refused (nothing recorded). Where a key is
given for any other gate, the act is signed all the same. The gate counts only
evidence whose signature checks: anything else is left out, whatever way it got in.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from releasegate.actions.common import utc_now
from releasegate.core.errors import ReleasegateError, RuleError
from releasegate.core.gates.gate_context import GateContext, SignatureReport
from releasegate.core.gates.gate_evidence import gate_evidence
from releasegate.core.model import Event, Person, Pipeline
from releasegate.core.state import PatchState
from releasegate.ledger.cache import read_cache, write_cache
from releasegate.ledger.events import event_path
from releasegate.ledger.snapshot import Snapshot


@dataclass(frozen=True)
class SignedAct:
    """When the act happens and what its event and files gain from being signed."""

    at: str
    data: dict[str, Any]
    files: dict[str, bytes]


def sign_act(snap: Snapshot, pipeline: Pipeline, state: PatchState, actor: Person,
             kind: str, env: str, data: dict[str, Any], key: Path | None) -> SignedAct:
    """`data` signed by `actor` with `key` when a key is given or the gate requires it."""
    from releasegate.trust import signatures, statements
    from releasegate.trust.stored import signature_record

    at = utc_now()
    if key is None:
        if pipeline.environment(env).gate.signatures:
            raise RuleError(f"the {env} gate requires signatures, and no signing key is set",
                            code="unsigned",
                            hint="give --key FILE (your SSH private key, or its .pub when "
                                 "ssh-agent holds it), or set RELEASEGATE_SIGNING_KEY or "
                                 "git's user.signingKey")
        return SignedAct(at, data, {})
    seq = state.last_seq + 1
    ctx = GateContext(pipeline, state, pipeline.environment(env))
    seen = [{"path": e.path, "sha256": e.sha256} for e in gate_evidence(ctx)]
    decided = statements.decided(kind, data)
    statement = statements.build(kind, ledger=ledger_id(snap), patch=state.id,
                                 digest=state.digest, env=env, signer=actor.id, at=at,
                                 decided=decided, evidence=seen)
    signature = signatures.sign(pipeline, kind=kind, key=key, statement=statement,
                                signer=actor.id)
    event = Event(kind, state.id, seq, None, at, actor.id, state.digest, env, data,
                  event_path(state.id, seq, kind), "")
    checked = signatures.check(pipeline, kind=kind, event=event, ledger=ledger_id(snap),
                               decided=decided, statement=statement, signature=signature)
    if not checked.ok:
        raise RuleError(f"the signature would not count: {checked.reason}", code="wrong-key")
    record, files = signature_record(state.id, seq, kind, statement, signature,
                                     checked.fingerprint or "")
    return SignedAct(at, {**data, "signature": record}, files)


def ledger_id(snap: Snapshot) -> str:
    """The ledger's first commit, which every statement names."""
    if "ledger_id" not in snap.memo:
        snap.memo["ledger_id"] = (snap.store.root_commit(snap.head) if snap.head
                                  else "empty")
    found: str = snap.memo["ledger_id"]
    return found


def signed_state(snap: Snapshot, pipeline: Pipeline, state: PatchState,
                 target: str) -> tuple[PatchState, SignatureReport]:
    """The state with only the evidence for `target` whose signatures check, and what
    was left out and why. Used where the gate requires signatures."""
    def good(event: Event) -> bool:
        return event.env != target or verdicts.setdefault(
            event.path, check_event(snap, pipeline, event)).ok

    verdicts: dict[str, SignatureVerdict] = {}
    kept = replace(state, checklists=tuple(c for c in state.checklists if good(c.event)),
                   signoffs=tuple(s for s in state.signoffs if good(s.event)),
                   waivers=tuple(w for w in state.waivers if good(w.event)))
    ignored = tuple((path, v.reason) for path, v in verdicts.items() if not v.ok)
    return kept, SignatureReport(checked=len(verdicts), ignored=ignored)


@dataclass(frozen=True)
class SignatureVerdict:
    """Whether an event's signature counts, and why not; `file` names the statement or
    signature file found damaged or missing, where that is why."""

    ok: bool
    reason: str
    file: str | None = None


def check_event(snap: Snapshot, pipeline: Pipeline, event: Event) -> SignatureVerdict:
    """Whether the signed event's signature counts, and why not."""
    return check_events(snap, pipeline, [event])[event.path]


def check_events(snap: Snapshot, pipeline: Pipeline, events: Sequence[Event], *,
                 trust_cache: bool = True) -> dict[str, SignatureVerdict]:
    """Whether each signed event's signature counts, and why not, by event path.

    Each answer is kept for the process and cached under .git by everything it depends
    on (the event's bytes, statement, signature, the registry, the ledger), so no
    signature is checked twice; `trust_cache=False` (the audit) ignores what earlier
    processes cached. The ssh-keygen runs that remain go side by side, one per core.
    """
    from releasegate.trust.statements import decided

    found: dict[str, SignatureVerdict] = {}
    todo: list[tuple[Event, str, bytes, bytes]] = []
    for event in events:
        prepared = _prepared(snap, pipeline, event)
        if isinstance(prepared, SignatureVerdict):
            found[event.path] = prepared
            continue
        ident, statement, signature = prepared
        cached = _CHECKED.get(ident)
        if cached is None and trust_cache:
            stored = read_cache(_cache_path(snap, ident))
            cached = SignatureVerdict(bool(stored[0]), str(stored[1])) \
                if isinstance(stored, tuple) else None
        if cached is not None:
            _CHECKED[ident] = found[event.path] = cached
        else:
            todo.append((event, ident, statement, signature))

    def run(job: tuple[Event, str, bytes, bytes]) -> SignatureVerdict:
        from releasegate.trust.signatures import check

        event, _, statement, signature = job
        checked = check(pipeline, kind=event.type, event=event, ledger=ledger_id(snap),
                        decided=decided(event.type, event.data), statement=statement,
                        signature=signature)
        return SignatureVerdict(checked.ok, checked.reason)

    for job, verdict in zip(todo, _side_by_side(run, todo), strict=True):
        write_cache(_cache_path(snap, job[1]), (verdict.ok, verdict.reason))
        _CHECKED[job[1]] = found[job[0].path] = verdict
    return found


_CHECKED: dict[str, SignatureVerdict] = {}  # answers of this process, by what they depend on


def _prepared(snap: Snapshot, pipeline: Pipeline,
              event: Event) -> SignatureVerdict | tuple[str, bytes, bytes]:
    """The verdict on an event whose signature cannot count before any check; else
    what the answer depends on, and the statement and signature to check."""
    from releasegate.trust.stored import read_signed

    if not isinstance(event.data.get("signature"), Mapping):
        return SignatureVerdict(False, "unsigned")
    try:
        statement, signature = read_signed(snap, event)
    except ReleasegateError as exc:
        return SignatureVerdict(False, exc.message, exc.file or event.path)
    if "registry_key" not in snap.memo or snap.memo["registry_pipeline"] is not pipeline:
        snap.memo["registry_pipeline"] = pipeline
        snap.memo["registry_key"] = repr((
            sorted((p.id, k.line, k.valid_after or "", k.valid_before or "")
                   for p in pipeline.people.values() for k in p.keys),
            sorted(pipeline.revoked_keys), ledger_id(snap)))
    ident = hashlib.sha256(repr((event.sha256, statement, signature,
                                 snap.memo["registry_key"])).encode()).hexdigest()
    return ident, statement, signature


def _side_by_side(run: Callable[[Any], SignatureVerdict],
                  jobs: Sequence[Any]) -> list[SignatureVerdict]:
    """`run` over `jobs`, as many at once as there are cores (each waits on its own
    ssh-keygen), in order."""
    if len(jobs) < 2:
        return [run(job) for job in jobs]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1, 8)) as pool:
        return list(pool.map(run, jobs))


def _cache_path(snap: Snapshot, key: str) -> Path | None:
    git_dir = snap.store.root / ".git"
    return git_dir / "releasegate" / "signatures" / f"{key}.pickle" if git_dir.is_dir() \
        else None


def config_signature(snap: Snapshot, pipeline: Pipeline) -> tuple[str, str | None]:
    """Under rules.signed_config: the commit that last changed releasegate.yaml and why
    it does not count (None: an admin signed it), once per snapshot."""
    from releasegate.trust.config_signature import config_problem

    if "signed_config" not in snap.memo:
        assert snap.head is not None
        snap.memo["signed_config"] = config_problem(snap.store, pipeline, snap.head)
    found: tuple[str, str | None] = snap.memo["signed_config"]
    return found
