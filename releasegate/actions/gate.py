"""Evaluating a gate (`check`), its reports and test comparisons; nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any, TypeVar

from releasegate.actions.common import (
    cached_state,
    check_env,
    fold_patch,
    load_patch,
)
from releasegate.core import clock
from releasegate.core.errors import (
    INTEGRITY,
    NotFoundError,
    ReleasegateError,
    RuleError,
    did_you_mean,
)
from releasegate.core.gates.evaluate import evaluate_gate
from releasegate.core.gates.gate_context import GateContext
from releasegate.core.gates.tests import failing_tests, matches
from releasegate.core.model import Condition, Pipeline, Verdict
from releasegate.core.regression import Comparison, SuiteResults, compare
from releasegate.core.state import PatchState
from releasegate.ledger.events import PATCHES
from releasegate.ledger.pipeline import load_pipeline
from releasegate.ledger.snapshot import Snapshot
from releasegate.ledger.transaction import Ledger

R = TypeVar("R")


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
    ids = {dep: snap.patch_id(dep) for dep in state.manifest.depends_on}
    pids = [pid for pid in ids.values() if pid is not None]
    # Only folders folded neither in this snapshot nor before need reading: one go.
    snap.prefetch([f"{PATCHES}/{pid}" for pid in pids
                   if pid not in snap.memo.get("states", {})
                   and not cached_state(snap, snap.patch_tree(pid) or "")])
    return {dep: None if pid is None else fold_patch(snap, pid) for dep, pid in ids.items()}


@dataclass(frozen=True)
class Loaded:
    """The per-test results a gate's tests conditions were evaluated with: `results`
    by (env, suite), and which of them the rules compare with a baseline (the others
    are loaded only to name their failing tests, without looking for a baseline)."""

    results: dict[tuple[str, str], SuiteResults]
    compared: frozenset[tuple[str, str]]


def gate_results(ledger: Ledger, snap: Snapshot, pipeline: Pipeline, state: PatchState,
                 target: str, now: datetime) -> Loaded:
    """Per-test outcomes and baselines for the suites the gate's rules must compare,
    and the outcomes alone of the other counted runs that have failures (a run with
    none is evaluated from its counts: nothing more is read)."""
    from releasegate.core.gates import tests
    from releasegate.evidence.baselines import results_against, suite_results

    ctx = GateContext(pipeline, state, pipeline.environment(target), now=now)
    results: dict[tuple[str, str], SuiteResults] = {}
    compared: set[tuple[str, str]] = set()
    for rule in ctx.target.gate.tests:
        compares = tests.needs_outcomes(ctx, rule)
        for recording in tests.counted_recordings(ctx, rule):
            key = (recording.env, recording.suite)
            if compares and key not in compared:
                results[key] = suite_results(ledger, snap, state, recording)
                compared.add(key)
            elif key not in results and tests.has_failures(recording):
                results[key] = results_against(snap, state, recording, None)
    return Loaded(results, frozenset(compared))


def already_in(pipeline: Pipeline, state: PatchState, to: str | None) -> Verdict | None:
    """When the patch's current digest is already in `to`: the verdict saying so (one
    passing row; `check` and `promote` of a re-run job then go on). Else None."""
    if to is None or state.env != check_env(pipeline, to, "--to"):
        return None
    return Verdict(state.id, state.env, to, state.digest, (
        Condition("order", "order", "pass",
                  f"already in {to} with this digest; nothing to check or promote"),))


def _evaluate(ledger: Ledger, snap: Snapshot, state: PatchState,
              target: str) -> tuple[Verdict, Loaded]:
    pipeline = load_pipeline(snap)
    return evaluate_then(ledger, snap, pipeline, state, target, clock.now())


def evaluate_then(ledger: Ledger, snap: Snapshot, pipeline: Pipeline, state: PatchState,
                  target: str, now: datetime) -> tuple[Verdict, Loaded]:
    """The verdict of `target`'s gate at `now`: signatures checked where the gate
    requires them (evidence without a valid one left out), then every condition."""
    from releasegate.evidence.proxies import check_proxy

    for signoff in state.signoffs:  # the evidence of each proxy, checked by its sha256
        if signoff.env == target and signoff.proxy is not None:
            check_proxy(snap, signoff.event)
    report = None
    if pipeline.environment(target).gate.signatures:
        from releasegate.actions.signed_acts import signed_state

        state, report = signed_state(snap, pipeline, state, target)
    config = None
    if pipeline.rules.signed_config and snap.head is not None:
        from releasegate.actions.signed_acts import config_signature

        config = config_signature(snap, pipeline)
    loaded = gate_results(ledger, snap, pipeline, state, target, now)
    verdict = evaluate_gate(pipeline, state, target, dependencies_of(ledger, snap, state),
                            loaded.results, now, report, config)
    return verdict, loaded


def at_next_gate(pipeline: Pipeline, state: PatchState,
                 evaluate: Callable[[str], R]) -> tuple[R | None, str | None]:
    """`evaluate` of the patch's next gate (given its environment): (None, None) in the
    last environment; (None, why) when the gate cannot be evaluated. Damaged records
    raise: they stop every read, like a broken chain."""
    following = pipeline.following(state.env)
    if following is None:
        return None, None
    try:
        return evaluate(following), None
    except ReleasegateError as exc:
        if exc.code in INTEGRITY:
            raise
        return None, str(exc)


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
class FailingTest:
    """A failed or errored test of a run the gate counted."""

    env: str
    suite: str
    test: str  # "classname::name", as `waive --test` takes it
    outcome: str  # failed | error

    def to_dict(self) -> dict[str, str]:
        return {"env": self.env, "suite": self.suite, "test": self.test,
                "outcome": self.outcome}


@dataclass(frozen=True)
class SuiteDiff(Comparison):
    """A suite's comparison with its baseline, with the run's failing tests named
    whether or not there is a baseline to classify them against."""

    failing: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        doc = super().to_dict()
        doc["failing"] = list(self.failing)
        doc["messages"] = {t: self.messages[t] for t in (*self.new_failures, *self.failing)
                           if t in self.messages}
        return doc


def suite_diff(results: SuiteResults) -> SuiteDiff:
    """`compare` of the results, with the failing tests of the run."""
    comparison = compare(results)
    return SuiteDiff(**{f.name: getattr(comparison, f.name) for f in fields(comparison)},
                     failing=tuple(failing_tests([results])))


@dataclass(frozen=True)
class GateReport:
    """A verdict with the regression comparisons behind its tests conditions, the
    failing tests of the runs it counted, and the environment the patch is already in
    when the gate checked is one it passed (then the verdict is a single passing row)."""

    verdict: Verdict
    comparisons: tuple[Comparison, ...]
    failing: tuple[FailingTest, ...] = ()
    already_in: str | None = None


def check_report(ledger: Ledger, patch: str, to: str | None = None) -> tuple[GateReport,
                                                                             list[str]]:
    """Like check_gate, with the comparisons and failing tests a CI report lists; a
    patch already in `to` is reported as such (nothing else is evaluated)."""
    snap = ledger.snapshot()
    state = load_patch(ledger, snap, patch)
    pipeline = load_pipeline(snap)
    done = already_in(pipeline, state, to)
    if done is not None:
        return GateReport(done, (), already_in=done.target), snap.warnings
    return report_for(ledger, snap, state, target_of(pipeline, state, to)), snap.warnings


def report_for(ledger: Ledger, snap: Snapshot, state: PatchState, target: str) -> GateReport:
    """The verdict for entering `target` now, with its regression comparisons."""
    verdict, loaded = _evaluate(ledger, snap, state, target)
    ordered = sorted(loaded.results.items())
    failing = tuple(FailingTest(r.env, r.suite, test, r.run.outcomes[test])
                    for _, r in ordered for test in failing_tests([r]))
    return GateReport(verdict, tuple(unwaived(compare(r), verdict)
                                     for key, r in ordered if key in loaded.compared),
                      failing)


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
    return [suite_diff(suite_results(ledger, snap, state, r)) for r in chosen], snap.warnings
