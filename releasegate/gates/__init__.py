"""Gate evaluation: pure functions from a pipeline and folded state to a verdict.

Nothing here reads git or files, so every condition is tested without a ledger.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from releasegate.model import Condition, Environment, Event, Pipeline, Verdict
from releasegate.regression import SuiteResults
from releasegate.state import PatchState

ResultsBySuite = Mapping[tuple[str, str], SuiteResults]  # (env, suite) -> results


@dataclass(frozen=True)
class GateContext:
    pipeline: Pipeline
    state: PatchState
    target: Environment
    dependencies: Mapping[str, PatchState | None] = field(default_factory=dict)
    results: ResultsBySuite = field(default_factory=dict)
    now: datetime = field(default_factory=lambda: _now())


def _now() -> datetime:
    from releasegate import clock

    return clock.now()


def evaluate_gate(pipeline: Pipeline, state: PatchState, target: str,
                  dependencies: Mapping[str, PatchState | None] | None = None,
                  results: ResultsBySuite | None = None,
                  now: datetime | None = None) -> Verdict:
    """The verdict for `state` entering `target`: one row per condition.

    `results` holds per-test outcomes (with baselines) for the suites whose rules
    compare or that waivers touch; `now` decides which waivers have expired.
    """
    from releasegate.gates import checklists, depends, order, signoffs, tests

    ctx = GateContext(pipeline, state, pipeline.environment(target), dependencies or {},
                      results or {}, now or _now())
    rows: list[Condition] = [*order.evaluate(ctx), *depends.evaluate(ctx),
                             *checklists.evaluate(ctx), *tests.evaluate(ctx),
                             *signoffs.evaluate(ctx)]
    evidence = [e.path for e in gate_evidence(ctx)]
    evidence += [s.event.path for s in signoffs.counted(ctx)]
    return Verdict(patch=state.id, source=state.env, target=target, digest=state.digest,
                   conditions=tuple(rows), evidence=tuple(evidence))


def gate_evidence(ctx: GateContext) -> list[Event]:
    """The evidence whose arrival makes earlier sign-offs for this gate stale."""
    from releasegate.gates import checklists, tests

    found = [f.event for f in checklists.fillings(ctx)]
    found += [w.event for w in ctx.state.waivers if w.env == ctx.target.name]
    for rule in ctx.target.gate.tests:
        found += [r.event for r in tests.counted_recordings(ctx, rule)]
    return sorted(found, key=lambda e: e.seq)
