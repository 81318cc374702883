"""`verify`: the auditor's re-check of the whole ledger, trusting nothing it reads.

Every patch's hash chain and sequence; every event against the shape of its type;
every piece of evidence, raw JUnit included, against the sha256 its event recorded;
every signature as of its time; git history against the events (each added once, by
one act, authored by its actor, never changed after); every promotion re-evaluated as
of its own time with the evidence then; and every change of releasegate.yaml.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from releasegate.actions.common import fold_patch
from releasegate.core.errors import ReleasegateError
from releasegate.core.model import Event, Pipeline
from releasegate.ledger.events import PATCHES
from releasegate.ledger.pipeline import CONFIG_FILE, load_pipeline
from releasegate.ledger.snapshot import Snapshot
from releasegate.ledger.store import Commit
from releasegate.ledger.transaction import Ledger
from releasegate.trust.history_rules import ERROR, NOTE, Finding, history_findings

SIGNED_KINDS = ("signoff", "checklist", "waiver")


@dataclass(frozen=True)
class ConfigChange:
    commit: str
    author: str
    email: str
    date: str
    subject: str

    def to_dict(self) -> dict[str, str]:
        return vars(self).copy()


@dataclass
class Audit:
    head: str | None
    ledger: str
    patches: int = 0
    events: int = 0
    signatures: int = 0
    promotions: int = 0
    findings: list[Finding] = field(default_factory=list)
    config_changes: list[ConfigChange] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(f.severity == ERROR for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "head": self.head, "ledger": self.ledger,
                "patches": self.patches, "events": self.events,
                "signatures": self.signatures, "promotions": self.promotions,
                "findings": [f.to_dict() for f in self.findings],
                "config_changes": [c.to_dict() for c in self.config_changes]}


def verify_ledger(ledger: Ledger, *, accept_rewrite: bool = False) -> tuple[Audit, list[str]]:
    """Re-check everything the ledger holds; the findings say what does not hold."""
    ledger.accept_rewrite = accept_rewrite
    snap = ledger.snapshot()
    head = snap.head
    audit = Audit(head, ledger.store.root_commit(head) if head else "empty")
    if head is None:
        return audit, snap.warnings
    pipeline = load_pipeline(snap)
    commits = ledger.store.history(head, [PATCHES + "/", CONFIG_FILE])
    events: dict[str, Event] = {}
    signed: list[Event] = []
    for pid in sorted(snap.patch_trees()):
        audit.patches += 1
        chain, folded = _audit_patch(ledger, snap, pipeline, pid, audit)
        events.update((e.path, e) for e in chain)
        signed += [e for e in chain if folded and e.type in SIGNED_KINDS]
    audit.findings += _signature_findings(snap, pipeline, signed, audit)
    audit.findings += _row_findings(ledger, snap, pipeline)
    audit.events = len(events)
    found, added = history_findings(commits, events, pipeline.people,
                                    lambda e: _signed_gate(pipeline, e))
    audit.findings += found
    audit.findings += _promotion_findings(ledger, snap, events, added, audit)
    audit.findings += _height_findings(ledger, head, events, added)
    audit.config_changes = [ConfigChange(c.sha, c.author, c.email, c.date, c.subject)
                            for c in commits if any(p == CONFIG_FILE for _, p in c.changes)]
    if pipeline.rules.signed_config:
        from releasegate.actions.signed_acts import config_signature

        _, problem = config_signature(snap, pipeline)
        if problem is not None:
            audit.findings.append(Finding(ERROR, f"{problem} (rules.signed_config)", None,
                                          CONFIG_FILE))
    return audit, snap.warnings


def _row_findings(ledger: Ledger, snap: Snapshot, pipeline: Pipeline) -> list[Finding]:
    """Board rows against the events of the folder each names: a row that matches its
    folder is what `status` shows, so one that disagrees with the events is an error."""
    from releasegate.actions.board_rows import config_key, holds, next_gate, summary_row
    from releasegate.core import clock
    from releasegate.ledger.board_store import listed_rows, patch_of_path, row_at

    trees, folded = snap.patch_trees(), snap.memo.get("states", {})
    listing = listed_rows(snap)
    blobs = snap.store.read_blobs(e.sha for e in listing.values())
    config, now = config_key(snap, pipeline), clock.now()
    findings = []
    for path, entry in sorted(listing.items()):
        pid = patch_of_path(path)
        row = row_at(path, blobs.get(entry.sha, b"")) if pid in trees else None
        if row is None:
            findings.append(Finding(NOTE, "not a board row of a patch the ledger holds; "
                                    "status ignores it", pid if pid in trees else None, path))
            continue
        if row.tree != trees[pid] or pid not in folded:
            continue  # out of date (status derives it again), or its events do not fold
        state = folded[pid]
        fresh = summary_row(snap, pid, row.tree, state)
        wrong = (row.summary, row.system, row.shipped) != (fresh.summary, fresh.system,
                                                           fresh.shipped)
        if not wrong and row.gate is not None and holds(ledger, snap, row, config, now):
            wrong = next_gate(ledger, snap, pipeline, config, state, now).next != row.gate.next
        if wrong:
            findings.append(Finding(ERROR, "the board row disagrees with the patch's events, "
                                    "so status shows the patch wrongly: it was edited, or "
                                    "written by a faulty releasegate; `releasegate reindex` "
                                    "records it again", pid, path))
    return findings


def _audit_patch(ledger: Ledger, snap: Snapshot, pipeline: Pipeline, pid: str,
                 audit: Audit) -> tuple[list[Event], bool]:
    """The patch's findings but its signatures'; its events, and whether they fold."""
    from releasegate.trust.event_rules import shape_problems

    snap.prefetch([f"{PATCHES}/{pid}"])
    try:
        chain = snap.events(pid)
    except ReleasegateError as exc:
        audit.findings.append(Finding(ERROR, exc.message, pid, exc.file))
        return [], False
    for event in chain:
        audit.findings += [Finding(ERROR, f"event does not have the shape of its type: {p}",
                                   pid, event.path) for p in shape_problems(event, pipeline, pid)]
    try:
        fold_patch(snap, pid)
    except ReleasegateError as exc:
        audit.findings.append(Finding(ERROR, exc.message, pid, exc.file))
        return chain, False
    audit.findings += _evidence_findings(ledger, snap, pid, chain)
    audit.findings += _proxy_findings(snap, chain)
    return chain, True


def _evidence_findings(ledger: Ledger, snap: Snapshot, pid: str,
                       chain: list[Event]) -> list[Finding]:
    from releasegate.core.regression import EvidenceOf
    from releasegate.evidence.baselines import load_runs

    findings = []
    for event in chain:
        if event.type != "tests":
            continue
        files = event.data.get("files") or []
        for item in files:
            path = f"{PATCHES}/{pid}/evidence/{item.get('sha256')}.xml"
            entry = snap.entry(path)
            if entry is None:
                findings.append(Finding(ERROR, "the raw JUnit file its event names is missing",
                                        pid, path))
            elif ledger.store.blob_sha256(entry.sha) != item.get("sha256"):
                findings.append(Finding(ERROR, "evidence damaged: the raw JUnit file's "
                                        f"sha256 is not the one {event.path} recorded",
                                        pid, path))
        try:
            load_runs(snap, pid, EvidenceOf.of(event.path, files, event.data.get("counts") or {}))
        except ReleasegateError as exc:
            findings.append(Finding(ERROR, exc.message, pid, exc.file))
    return findings


def _proxy_findings(snap: Snapshot, chain: list[Event]) -> list[Finding]:
    """Each proxy sign-off's evidence file against the sha256 its event recorded."""
    from releasegate.evidence.proxies import check_proxy

    findings = []
    for event in chain:
        if event.type == "signoff" and "proxy" in event.data:
            try:
                check_proxy(snap, event)
            except ReleasegateError as exc:
                findings.append(Finding(ERROR, exc.message, event.patch, exc.file))
    return findings


def _signed_gate(pipeline: Pipeline, event: Event) -> bool:
    return (event.type in SIGNED_KINDS and event.env in pipeline.env_names
            and pipeline.environment(event.env).gate.signatures)


def _signature_findings(snap: Snapshot, pipeline: Pipeline, signed: list[Event],
                        audit: Audit) -> list[Finding]:
    """Every signature checked with ssh-keygen in this run, once each: the replayed
    promotions after it find the answers in the process's memory."""
    from releasegate.actions.signed_acts import check_events

    findings = []
    carrying = []
    for event in signed:
        if isinstance(event.data.get("signature"), Mapping):
            carrying.append(event)
        elif _signed_gate(pipeline, event):
            findings.append(Finding(ERROR, "unsigned, but the gate it serves requires "
                                    "signatures", event.patch, event.path))
    audit.signatures += len(carrying)
    verdicts = check_events(snap, pipeline, carrying, trust_cache=False)
    for event in carrying:
        verdict = verdicts[event.path]
        if verdict.file is not None:
            findings.append(Finding(ERROR, verdict.reason, event.patch, verdict.file))
        elif not verdict.ok:
            findings.append(Finding(ERROR, f"signature does not count: {verdict.reason}",
                                    event.patch, event.path))
    return findings


def _height_findings(ledger: Ledger, head: str, events: Mapping[str, Event],
                     added: Mapping[str, Commit]) -> list[Finding]:
    """Each commit's `Ledger-Height:` line, and each promotion's recorded height, against
    the commit's number on the branch: baselines are ordered by those heights."""
    from releasegate.ledger.height import TRAILER, said_height

    if ledger.store.shallow_commits():
        return [Finding(NOTE, "a shallow clone: commit numbers were not checked", None, None)]
    out = ledger.store.run("log", "--first-parent", "--reverse", "--format=%H%x00%B%x01", head)
    numbers: dict[str, int] = {}
    findings = []
    for record in out.decode("utf-8", "replace").split("\x01"):
        sha, _, message = record.lstrip("\n").partition("\x00")
        if not sha:
            continue
        numbers[sha] = number = len(numbers) + 1
        said = said_height(message)
        if said is not None and said != number:
            findings.append(Finding(ERROR, f"commit {sha[:12]} says '{TRAILER}: {said}' but "
                                    f"is commit {number} of the branch: a wrong height "
                                    "puts the promotions after it out of order for "
                                    "baselines", None, None))
    for path, event in sorted(events.items()):
        commit = added.get(path)
        recorded = event.data.get("ledger_height") if event.type == "promoted" else None
        if recorded and commit is not None and numbers.get(commit.sha) not in (None,
                                                                               int(recorded)):
            findings.append(Finding(NOTE, f"the promotion records ledger height {recorded} but "
                                    f"its commit is number {numbers[commit.sha]} (recorded "
                                    "in a shallow clone before heights were kept in "
                                    "commits?): baselines order it by the recorded one",
                                    event.patch, path))
    return findings


def _promotion_findings(ledger: Ledger, snap: Snapshot, events: Mapping[str, Event],
                        added: Mapping[str, Commit], audit: Audit) -> list[Finding]:
    from releasegate.actions.replay import replay_promotion

    findings = []
    for path, event in sorted(events.items()):
        if event.type != "promoted":
            continue
        audit.promotions += 1
        if not event.data.get("verdict"):
            findings.append(Finding(ERROR, "a promotion without its recorded verdict",
                                    event.patch, path))
            continue
        commit = added.get(path)
        if commit is None:
            continue
        problem, _ = replay_promotion(ledger, snap, commit, event)
        if problem:
            findings.append(Finding(ERROR, problem, event.patch, path))
    return findings


__all__ = ["NOTE", "Audit", "ConfigChange", "verify_ledger"]
