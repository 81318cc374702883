"""Release notices: which kind a patch's state calls for, and the gate report behind it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from releasegate.actions.common import load_patch
from releasegate.actions.gate import GateReport, dependencies_of, gate_results
from releasegate.gates.tests import matches
from releasegate.ledger import Ledger, Snapshot, git_blob_id
from releasegate.model import Condition, Event, Pipeline, Verdict
from releasegate.regression import BaselineRef, Comparison, SuiteResults, compare
from releasegate.state import PatchState, TestRecording

if TYPE_CHECKING:
    from releasegate.notices.render import RenderedNotice

TEMPLATES = "templates"


def default_kind(pipeline: Pipeline, state: PatchState) -> str:
    """`released` once the patch is in the last environment, `upcoming` before."""
    return "released" if state.env == pipeline.env_names[-1] else "upcoming"


def notice_for(ledger: Ledger, patch: str, *, audience: str = "business",
               lang: str | None = None, kind: str | None = None,
               sender: str | None = None) -> tuple[RenderedNotice, list[str]]:
    """The notice about `patch` for `audience` in `lang` (default: the first of the
    pipeline's notice languages); `kind` defaults from the patch's state."""
    from releasegate.notices.context import check_choices, check_kind
    from releasegate.notices.render import render_notice

    snap = ledger.snapshot()
    state = load_patch(ledger, snap, patch)
    pipeline = snap.pipeline()
    kind = kind or default_kind(pipeline, state)
    lang = lang or pipeline.notice_settings().languages[0]
    check_choices(audience, lang, kind)
    check_kind(pipeline, state, kind)
    report = (notice_report(ledger, snap, pipeline, state, kind)
              if audience == "technical" else None)
    warn_uncommitted_templates(ledger, snap)
    notice = render_notice(snap, pipeline, state, report, audience=audience, lang=lang,
                           kind=kind, sender=sender)
    return notice, snap.warnings


def notice_report(ledger: Ledger, snap: Snapshot, pipeline: Pipeline, state: PatchState,
                  kind: str) -> GateReport | None:
    """The gate a notice shows: for a released (or rolled-back) patch its promotion into
    the last environment as recorded, else the current verdict of its next gate."""
    promoted = state.entered.get(pipeline.env_names[-1])
    if kind != "upcoming" and promoted is not None:
        return promotion_report(ledger, snap, state, promoted)
    following = pipeline.following(state.env)
    if following is None:
        return None
    return current_report(ledger, snap, pipeline, state, following)


def current_report(ledger: Ledger, snap: Snapshot, pipeline: Pipeline, state: PatchState,
                   target: str) -> GateReport:
    """The verdict for entering `target` now, with its regression comparisons."""
    from releasegate import clock
    from releasegate.gates import evaluate_gate

    now = clock.now()
    results = gate_results(ledger, snap, pipeline, state, target, now)
    verdict = evaluate_gate(pipeline, state, target, dependencies_of(ledger, snap, state),
                            results, now)
    return GateReport(verdict, tuple(unwaived(compare(r), verdict)
                                     for _, r in sorted(results.items())))


def promotion_report(ledger: Ledger, snap: Snapshot, state: PatchState,
                     promoted: Event) -> GateReport:
    """The verdict a promotion recorded, and its test results compared with the baseline
    that was current then (a later release must not rewrite what this one was against)."""
    data = promoted.data
    verdict = Verdict(
        patch=state.id, source=data.get("from"), target=promoted.env or "",
        digest=promoted.digest,
        conditions=tuple(Condition(str(c["kind"]), str(c["name"]), str(c["status"]),
                                   str(c.get("detail", ""))) for c in data.get("verdict") or ()),
        evidence=tuple(str(p) for p in data.get("evidence") or ()))
    counted = sorted((r for r in state.tests if r.event.path in verdict.evidence),
                     key=lambda r: (r.env, r.suite))
    return GateReport(verdict, tuple(
        unwaived(compare(_results_then(ledger, snap, state, r, promoted)), verdict)
        for r in counted))


def _results_then(ledger: Ledger, snap: Snapshot, state: PatchState, recording: TestRecording,
                  promoted: Event) -> SuiteResults:
    from releasegate.baselines import load_runs, recording_files

    run = load_runs(snap, state.id, recording_files(recording))
    baseline = _baseline_before(ledger, snap, state, recording, promoted)
    baseline_run = load_runs(snap, baseline.patch, baseline.files) if baseline else None
    return SuiteResults(recording.env, recording.suite, run, recording.event.path, baseline,
                        baseline_run)


def _baseline_before(ledger: Ledger, snap: Snapshot, state: PatchState,
                     recording: TestRecording, promoted: Event) -> BaselineRef | None:
    from releasegate.baselines import shipped_index

    height = int(promoted.data.get("ledger_height") or 0)
    found = [ref for patch, (_, system, shipped) in shipped_index(ledger, snap).items()
             if patch != state.id and system == state.manifest.system
             for ref in shipped
             if ref.env == recording.env and ref.suite == recording.suite
             and (ref.height < height if ref.height and height
                  else ref.promoted_at < promoted.at)]
    return max(found, key=lambda r: (r.height, r.promoted_at, r.patch, r.tests_event),
               default=None)


def unwaived(comparison: Comparison, verdict: Verdict) -> Comparison:
    """The comparison without the new failures the verdict's waivers cover: those are
    shown as waivers, as `check` reports do."""
    from dataclasses import replace

    patterns = [c.name for c in verdict.conditions
                if c.kind == "waiver" and c.status == "waived"]
    kept = tuple(t for t in comparison.new_failures
                 if not any(matches(t, p) for p in patterns))
    return replace(comparison, new_failures=kept)


def warn_uncommitted_templates(ledger: Ledger, snap: Snapshot) -> None:
    """Template overrides are read as committed; say so when the working tree differs."""
    folder = ledger.root / TEMPLATES
    on_disk = {f"{TEMPLATES}/{p.name}" for p in folder.glob("*.j2")} if folder.is_dir() else set()
    committed = {p for p in snap.paths(TEMPLATES) if p.endswith(".j2")}
    for path in sorted(on_disk | committed):
        entry = snap.entry(path)
        try:
            current: str | None = git_blob_id((ledger.root / path).read_bytes())
        except OSError:
            current = None
        if entry is None or current != entry.sha:
            snap.warnings.append(f"uncommitted changes in {path} are ignored; commit them to "
                                 "apply")
