"""Fold a patch's events into its state. State is never stored, only derived."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from releasegate.core.model import Artifact, Event, Manifest


@dataclass(frozen=True)
class ChecklistFilling:
    template: str
    env: str
    person: str
    answers: Mapping[str, Mapping[str, str]]
    event: Event


@dataclass(frozen=True)
class TestRecording:
    env: str
    suite: str
    counts: Mapping[str, int]
    files: tuple[Mapping[str, Any], ...]
    event: Event


@dataclass(frozen=True)
class Proxy:
    """How a proxy sign-off came to be: who recorded it (the event's actor) and the
    evidence of the approver's decision (an e-mail, a PDF...), stored in the ledger at
    `evidence` and bound by its sha256."""

    recorded_by: str
    evidence: str
    evidence_sha256: str
    evidence_name: str


@dataclass(frozen=True)
class Signoff:
    """A decision for a gate in a role. `person` is whose decision it is: the event's
    actor, or for a proxy sign-off the person it was recorded for (`proxy.for`), while
    `proxy.recorded_by` is the actor who recorded it."""

    env: str
    role: str
    person: str
    approve: bool
    comment: str | None
    event: Event
    proxy: Proxy | None = None


@dataclass(frozen=True)
class Waiver:
    env: str
    pattern: str
    reason: str
    until: str
    person: str
    event: Event


@dataclass(frozen=True)
class PatchState:
    """Where a patch stands: its digest, environment and evidence for that digest."""

    id: str
    manifest: Manifest
    submitter: str
    digest: str
    artifacts: tuple[Artifact, ...]
    env: str | None
    entered: Mapping[str, Event]
    checklists: tuple[ChecklistFilling, ...]
    tests: tuple[TestRecording, ...]
    signoffs: tuple[Signoff, ...]
    events: tuple[Event, ...] = field(repr=False, default=())
    waivers: tuple[Waiver, ...] = ()

    @property
    def deliverers(self) -> frozenset[str]:
        """Whoever registered artifacts of this patch: never a signer (four eyes)."""
        return frozenset(e.actor for e in self.events if e.type in ("submitted", "revised"))

    @property
    def last_seq(self) -> int:
        return self.events[-1].seq if self.events else 0


COUNT_KEYS = ("tests", "passed", "flaky", "failed", "errors", "skipped")


def fold(manifest: Manifest, events: list[Event]) -> PatchState:
    """The state after `events`; evidence for an earlier digest is left out."""
    submitted = events[0]
    digest = submitted.digest
    artifacts = _artifacts(submitted)
    env: str | None = None
    entered: dict[str, Event] = {}
    checklists: list[ChecklistFilling] = []
    tests: list[TestRecording] = []
    signoffs: list[Signoff] = []
    waivers: list[Waiver] = []
    for event in events[1:]:
        if event.type == "revised":
            digest, artifacts, env, entered = event.digest, _artifacts(event), None, {}
            checklists, tests, signoffs, waivers = [], [], [], []
        elif event.digest != digest:
            continue
        elif event.type == "promoted" and event.env:
            env = event.env
            entered[event.env] = event
        elif event.type == "checklist" and event.env:
            checklists.append(ChecklistFilling(event.data["template"], event.env, event.actor,
                                               event.data.get("answers") or {}, event))
        elif event.type == "tests" and event.env:
            counts = {k: int(event.data["counts"][k]) for k in COUNT_KEYS}
            tests.append(TestRecording(event.env, event.data["suite"], counts,
                                       tuple(event.data.get("files") or ()), event))
        elif event.type == "signoff" and event.env:
            proxy = _proxy(event)
            signoffs.append(Signoff(event.env, event.data["role"],
                                    event.actor if proxy is None else _for(event),
                                    event.data["decision"] == "approve",
                                    event.data.get("comment"), event, proxy))
        elif event.type == "waiver" and event.env:
            waivers.append(Waiver(event.env, event.data["test"], event.data["reason"],
                                  event.data["until"], event.actor, event))
    return PatchState(id=submitted.patch, manifest=manifest, submitter=submitted.actor,
                      digest=digest, artifacts=artifacts, env=env, entered=entered,
                      checklists=tuple(checklists), tests=tuple(tests),
                      signoffs=tuple(signoffs), events=tuple(events),
                      waivers=tuple(waivers))


def _proxy(event: Event) -> Proxy | None:
    """The proxy of a sign-off recorded on someone's behalf; None for a plain one. The
    recorder is the event's actor, whatever the data says (the evidence check and the
    audit report a `recorded_by` that differs)."""
    if "proxy" not in event.data:
        return None
    raw = event.data["proxy"]
    found = raw if isinstance(raw, Mapping) else {}
    return Proxy(event.actor, str(found.get("evidence") or ""),
                 str(found.get("evidence_sha256") or ""), str(found.get("evidence_name") or ""))


def _for(event: Event) -> str:
    raw = event.data["proxy"]
    return str(raw.get("for") or "") if isinstance(raw, Mapping) else ""


def _artifacts(event: Event) -> tuple[Artifact, ...]:
    return tuple(Artifact(a["name"], int(a["size"]), a["sha256"])
                 for a in event.data.get("artifacts") or ())
