"""Passing a gate: `promote` records entry when the gate is open, then notifies."""

from __future__ import annotations

from dataclasses import dataclass

from releasegate.actions.board_rows import with_rows
from releasegate.actions.common import append_event, load_patch
from releasegate.actions.gate import already_in, verdict_at
from releasegate.actions.notify import notify
from releasegate.core.errors import ReleasegateError
from releasegate.core.model import Verdict
from releasegate.ledger.actor import resolve_actor
from releasegate.ledger.pipeline import load_pipeline
from releasegate.ledger.snapshot import Snapshot
from releasegate.ledger.transaction import Ledger, Write, unchanged


@dataclass(frozen=True)
class Promotion:
    verdict: Verdict
    recorded: bool
    already: bool = False


def promote(ledger: Ledger, claimed: str | None, patch: str,
            to: str | None = None) -> tuple[Promotion, list[str]]:
    """Check the gate and, when it is open, record that the patch entered `to`."""

    def operation(snap: Snapshot) -> Write[Promotion]:
        pipeline = load_pipeline(snap)
        actor = resolve_actor(pipeline, claimed, ledger.store)
        state = load_patch(ledger, snap, patch)
        done = already_in(pipeline, state, to)
        if done is not None:
            return unchanged(Promotion(done, recorded=False, already=True))
        verdict = verdict_at(ledger, snap, state.id, to)
        if not verdict.open:
            return unchanged(Promotion(verdict, recorded=False))
        # The commit number this promotion lands as orders promotions (and so
        # baselines) by the ledger's history, whatever the writers' clocks say.
        data = {"from": verdict.source, "verdict": [c.to_dict() for c in verdict.conditions],
                "evidence": list(verdict.evidence), "ledger_height": snap.height() + 1}
        return append_event(state, actor, "promoted", verdict.target, data,
                            f"promoted to {verdict.target} by {actor.id}",
                            result=Promotion(verdict, recorded=True))

    result, warnings = ledger.transact(with_rows(ledger, operation))
    if result.recorded:
        warnings += _notify_on_promote(ledger, claimed, result.verdict.patch)
    return result, warnings


def _notify_on_promote(ledger: Ledger, claimed: str | None, patch: str) -> list[str]:
    """Deliver due notices after a promotion when the pipeline asks for it; a failed
    delivery is reported and left in the outbox, never undoing the promotion."""
    try:
        if not load_pipeline(ledger.snapshot()).notice_settings().on_promote:
            return []
        attempts, _ = notify(ledger, claimed, patch)
    except ReleasegateError as exc:
        return [f"promoted, but notices were not delivered: {exc}"]
    return [f"notice to {a.due.label} not delivered ({a.detail}); it waits in the outbox "
            f"for `releasegate notify {patch}`" for a in attempts if not a.ok]

