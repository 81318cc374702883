"""The evidence for a gate: what makes earlier sign-offs for it stale."""

from __future__ import annotations

from releasegate.core.gates.gate_context import GateContext
from releasegate.core.model import Event


def gate_evidence(ctx: GateContext) -> list[Event]:
    """The evidence whose arrival makes earlier sign-offs for this gate stale."""
    from releasegate.core.gates import checklists, tests

    found = [f.event for f in checklists.fillings(ctx)]
    found += [w.event for w in ctx.state.waivers if w.env == ctx.target.name]
    for rule in ctx.target.gate.tests:
        found += [r.event for r in tests.counted_recordings(ctx, rule)]
    return sorted(found, key=lambda e: e.seq)
