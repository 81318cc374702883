"""Release notices: which kind a patch's state calls for, and the gate report behind it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from releasegate.actions.common import load_patch
from releasegate.actions.gate import GateReport, report_for, unwaived
from releasegate.core.model import Condition, Event, Pipeline, Verdict
from releasegate.core.regression import SuiteResults, compare
from releasegate.core.state import PatchState, TestRecording
from releasegate.ledger.pipeline import load_pipeline
from releasegate.ledger.snapshot import Snapshot
from releasegate.ledger.transaction import Ledger
from releasegate.notices.context import default_kind

if TYPE_CHECKING:
    from releasegate.notices.render import RenderedNotice

TEMPLATES = "templates"


def notice_for(ledger: Ledger, patch: str, *, audience: str = "business",
               lang: str | None = None, kind: str | None = None,
               sender: str | None = None) -> tuple[RenderedNotice, list[str]]:
    """The notice about `patch` for `audience` in `lang` (default: the first of the
    pipeline's notice languages); `kind` defaults from the patch's state."""
    from releasegate.notices.context import check_choices, check_kind
    from releasegate.notices.render import render_notice

    snap = ledger.snapshot()
    state = load_patch(ledger, snap, patch)
    pipeline = load_pipeline(snap)
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
    return report_for(ledger, snap, state, following)


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
    from releasegate.evidence.baselines import find_baseline, results_against

    baseline = find_baseline(ledger, snap, state.manifest.system, recording.env,
                             recording.suite, exclude=state.id, before=promoted)
    return results_against(snap, state, recording, baseline)


def warn_uncommitted_templates(ledger: Ledger, snap: Snapshot) -> None:
    """Template overrides are read as committed; say so when the working tree differs."""
    from releasegate.ledger.pipeline import warn_uncommitted

    committed = sorted(p for p in snap.paths(TEMPLATES) if p.endswith(".j2"))
    warn_uncommitted(snap, committed, TEMPLATES, "*.j2")
