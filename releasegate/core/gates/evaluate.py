"""Gate evaluation: pure functions from a pipeline and folded state to a verdict.

Nothing here reads git or files, so every condition is tested without a ledger.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from releasegate.core.gates.gate_context import (
    GateContext,
    ResultsBySuite,
    SignatureReport,
    _now,
)
from releasegate.core.gates.gate_evidence import gate_evidence
from releasegate.core.model import Condition, Pipeline, Verdict
from releasegate.core.state import PatchState


def evaluate_gate(pipeline: Pipeline, state: PatchState, target: str,
                  dependencies: Mapping[str, PatchState | None] | None = None,
                  results: ResultsBySuite | None = None,
                  now: datetime | None = None,
                  signatures: SignatureReport | None = None,
                  config: tuple[str, str | None] | None = None) -> Verdict:
    """The verdict for `state` entering `target`: one row per condition.

    `results` holds per-test outcomes (with baselines) for the suites whose rules
    compare or that waivers touch; `now` decides which waivers have expired;
    `signatures` says how the signatures of the gate's evidence were checked, where
    the gate requires them (the state then holds only the evidence that counts);
    `config` is how the configuration's signature was found, under rules.signed_config.
    """
    from releasegate.core.gates import checklists, depends, order, signed, signoffs, tests

    ctx = GateContext(pipeline, state, pipeline.environment(target), dependencies or {},
                      results or {}, now or _now(), signatures, config)
    rows: list[Condition] = [*order.evaluate(ctx), *depends.evaluate(ctx),
                             *checklists.evaluate(ctx), *tests.evaluate(ctx),
                             *signoffs.evaluate(ctx), *signed.evaluate(ctx),
                             *signed.config_rows(ctx)]
    evidence = [e.path for e in gate_evidence(ctx)]
    evidence += [s.event.path for s in signoffs.counted(ctx)]
    return Verdict(patch=state.id, source=state.env, target=target, digest=state.digest,
                   conditions=tuple(rows), evidence=tuple(evidence))


