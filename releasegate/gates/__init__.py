"""Gate evaluation: pure functions from a pipeline and folded state to a verdict.

Nothing here reads git or files, so every condition is tested without a ledger.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from releasegate.model import Condition, Environment, Event, Pipeline, Verdict
from releasegate.state import PatchState


@dataclass(frozen=True)
class GateContext:
    pipeline: Pipeline
    state: PatchState
    target: Environment
    dependencies: Mapping[str, PatchState | None] = field(default_factory=dict)


def evaluate_gate(pipeline: Pipeline, state: PatchState, target: str,
                  dependencies: Mapping[str, PatchState | None] | None = None) -> Verdict:
    """The verdict for `state` entering `target`: one row per condition."""
    from releasegate.gates import checklists, depends, order, signoffs, tests

    ctx = GateContext(pipeline, state, pipeline.environment(target), dependencies or {})
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
    for rule in ctx.target.gate.tests:
        found += [r.event for r in tests.counted_recordings(ctx, rule)]
    return sorted(found, key=lambda e: e.seq)
