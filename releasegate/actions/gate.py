"""Evaluating a gate (`check`), its reports and test comparisons; nothing is written."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from releasegate.actions.common import (
    cached_state,
    check_env,
    fold_patch,
    load_patch,
)
from releasegate.core import clock
from releasegate.core.errors import NotFoundError, RuleError, did_you_mean
from releasegate.core.gates.evaluate import evaluate_gate
from releasegate.core.gates.gate_context import GateContext
from releasegate.core.gates.tests import matches
from releasegate.core.model import Pipeline, Verdict
from releasegate.core.regression import Comparison, SuiteResults, compare
from releasegate.core.state import PatchState
from releasegate.ledger.events import PATCHES
from releasegate.ledger.pipeline import load_pipeline
from releasegate.ledger.snapshot import Snapshot
from releasegate.ledger.transaction import Ledger


def target_of(pipeline: Pipeline, state: PatchState, to: str | None) -> str:
    """The environment to check: `to`, else the one after the patch's current one."""
    if to is not None:
        return check_env(pipeline, to, "--to")
    following = pipeline.following(state.env)
    if following is None:
        raise RuleError(f"{state.id} is in {state.env}, the last environment; there is no "
                        "next gate", code="no-next-gate")
    return following


def dependencies_of(ledger: Ledger, snap: Snapshot,
                    state: PatchState) -> dict[str, PatchState | None]:
    """The states of the patches `state` depends on; None for unknown ones."""
    known = snap.patch_dirs()
    trees = snap.patch_trees()
    pids = [known[d.lower()] for d in state.manifest.depends_on if d.lower() in known]
    # Only folders folded neither in this snapshot nor before need reading: one go.
    snap.prefetch([f"{PATCHES}/{pid}" for pid in pids
                   if pid not in snap.memo.get("states", {})
                   and not cached_state(snap, trees[pid])])
    found: dict[str, PatchState | None] = {}
    for dep in state.manifest.depends_on:
        pid = known.get(dep.lower())
        found[dep] = None if pid is None else fold_patch(snap, pid)
    return found


def gate_results(ledger: Ledger, snap: Snapshot, pipeline: Pipeline, state: PatchState,
                 target: str, now: datetime) -> dict[tuple[str, str], SuiteResults]:
    """Per-test outcomes and baselines for the suites the gate's rules must compare."""
    from releasegate.core.gates import tests
    from releasegate.evidence.baselines import suite_results

    ctx = GateContext(pipeline, state, pipeline.environment(target), now=now)
    results = {}
    for rule in ctx.target.gate.tests:
        if tests.needs_outcomes(ctx, rule):
            for recording in tests.counted_recordings(ctx, rule):
                results[(recording.env, recording.suite)] = suite_results(
                    ledger, snap, state, recording)
    return results


def _evaluate(ledger: Ledger, snap: Snapshot, state: PatchState,
              target: str) -> tuple[Verdict, dict[tuple[str, str], SuiteResults]]:
    pipeline = load_pipeline(snap)
    now = clock.now()
    results = gate_results(ledger, snap, pipeline, state, target, now)
    verdict = evaluate_gate(pipeline, state, target, dependencies_of(ledger, snap, state),
                            results, now)
    return verdict, results


def verdict_for(ledger: Ledger, snap: Snapshot, state: PatchState, target: str) -> Verdict:
    """The verdict with everything the gate needs loaded: dependencies, per-test results."""
    return _evaluate(ledger, snap, state, target)[0]


def verdict_at(ledger: Ledger, snap: Snapshot, patch: str, to: str | None) -> Verdict:
    state = load_patch(ledger, snap, patch)
    return verdict_for(ledger, snap, state, target_of(load_pipeline(snap), state, to))


def check_gate(ledger: Ledger, patch: str, to: str | None = None) -> tuple[Verdict, list[str]]:
    """The verdict for the patch entering `to` (default: its next environment)."""
    snap = ledger.snapshot()
    return verdict_at(ledger, snap, patch, to), snap.warnings


@dataclass(frozen=True)
class GateReport:
    """A verdict with the regression comparisons behind its tests conditions."""

    verdict: Verdict
    comparisons: tuple[Comparison, ...]


def check_report(ledger: Ledger, patch: str, to: str | None = None) -> tuple[GateReport,
                                                                             list[str]]:
    """Like check_gate, with the comparisons a CI report lists."""
    snap = ledger.snapshot()
    state = load_patch(ledger, snap, patch)
    return report_for(ledger, snap, state, target_of(load_pipeline(snap), state, to)), \
        snap.warnings


def report_for(ledger: Ledger, snap: Snapshot, state: PatchState, target: str) -> GateReport:
    """The verdict for entering `target` now, with its regression comparisons."""
    verdict, results = _evaluate(ledger, snap, state, target)
    return GateReport(verdict, tuple(unwaived(compare(r), verdict)
                                     for _, r in sorted(results.items())))


def unwaived(comparison: Comparison, verdict: Verdict) -> Comparison:
    """The comparison without the new failures the verdict's waivers cover: reports
    list those as waiver rows, not as failures that still block."""
    patterns = [c.name for c in verdict.conditions if c.kind == "waiver"
                and c.status == "waived"]
    kept = tuple(t for t in comparison.new_failures
                 if not any(matches(t, p) for p in patterns))
    return replace(comparison, new_failures=kept)


def diff_tests(ledger: Ledger, patch: str, env: str,
               suite: str | None = None) -> tuple[list[Comparison], list[str]]:
    """Each suite recorded in `env` for the current digest, compared with its baseline."""
    from releasegate.core.gates.tests import latest_by_suite
    from releasegate.evidence.baselines import suite_results

    snap = ledger.snapshot()
    state = load_patch(ledger, snap, patch)
    pipeline = load_pipeline(snap)
    check_env(pipeline, env)
    ctx = GateContext(pipeline, state, pipeline.environments[0])
    latest = latest_by_suite(ctx, env)
    if suite is not None and suite not in latest:
        raise NotFoundError(f"no results of suite '{suite}' recorded in {env} for this digest",
                            code="unknown-suite", hint=did_you_mean(suite, latest)
                            or f"recorded suites: {', '.join(latest) or 'none'}")
    if not latest:
        raise NotFoundError(f"no test results recorded in {env} for {state.id}'s current "
                            "digest", code="no-results")
    chosen = [latest[suite]] if suite else [latest[s] for s in sorted(latest)]
    return [compare(suite_results(ledger, snap, state, r)) for r in chosen], snap.warnings
