"""order: a patch enters environments one after another, never skipping one."""

from __future__ import annotations

from releasegate.core.gates.gate_context import GateContext
from releasegate.core.model import Condition


def evaluate(ctx: GateContext) -> list[Condition]:
    pipeline, state, target = ctx.pipeline, ctx.state, ctx.target.name
    needed = pipeline.previous(target)
    here = state.env or "no environment"
    if state.env == target:
        return [_row("fail", f"already in {target}")]
    if pipeline.index(state.env) > pipeline.index(target):
        return [_row("fail", f"already past {target} (in {state.env}); patches never go back")]
    if state.env != needed:
        wanted = needed or "no environment yet"
        return [_row("fail", f"must come from {wanted}; it is in {here}, and no environment "
                             "may be skipped")]
    return [_row("pass", f"in {here}, next in order is {target}")]


def _row(status: str, detail: str) -> Condition:
    return Condition(kind="order", name="order", status=status, detail=detail)
