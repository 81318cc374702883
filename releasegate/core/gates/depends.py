"""depends: the patches a patch depends on are already in the target environment."""

from __future__ import annotations

from releasegate.core.gates.gate_context import GateContext
from releasegate.core.model import Condition


def evaluate(ctx: GateContext) -> list[Condition]:
    needs = ctx.state.manifest.depends_on
    target = ctx.target.name
    if not needs:
        return [Condition("depends", "depends", "pass", "no dependencies")]
    rows = []
    for dep in needs:
        other = ctx.dependencies.get(dep)
        if other is None:
            rows.append(Condition("depends", dep, "fail", f"depends on {dep}, which is not "
                                  "in the ledger"))
        elif ctx.pipeline.index(other.env) >= ctx.pipeline.index(target):
            rows.append(Condition("depends", dep, "pass", f"{dep} is in {other.env}"))
        else:
            rows.append(Condition("depends", dep, "fail", f"{dep} must be in {target} first; "
                                  f"it is in {other.env or 'no environment'}"))
    return rows
