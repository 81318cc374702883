"""Evaluating a gate (`check`) and passing it (`promote`)."""

from __future__ import annotations

from dataclasses import dataclass

from releasegate.actions.common import append_event, check_env, fold_patch, load_patch
from releasegate.errors import RuleError
from releasegate.events import PATCHES
from releasegate.gates import evaluate_gate
from releasegate.identity import resolve_actor
from releasegate.ledger import Ledger, Snapshot, Write, unchanged
from releasegate.model import Pipeline, Verdict
from releasegate.state import PatchState


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
    found: dict[str, PatchState | None] = {}
    snap.prefetch([f"{PATCHES}/{known[d.lower()]}" for d in state.manifest.depends_on
                   if d.lower() in known])
    for dep in state.manifest.depends_on:
        found[dep] = fold_patch(snap, known[dep.lower()]) if dep.lower() in known else None
    return found


def verdict_at(ledger: Ledger, snap: Snapshot, patch: str, to: str | None) -> Verdict:
    state = load_patch(ledger, snap, patch)
    pipeline = snap.pipeline()
    target = target_of(pipeline, state, to)
    return evaluate_gate(pipeline, state, target, dependencies_of(ledger, snap, state))


def check_gate(ledger: Ledger, patch: str, to: str | None = None) -> tuple[Verdict, list[str]]:
    """The verdict for the patch entering `to` (default: its next environment)."""
    snap = ledger.snapshot()
    return verdict_at(ledger, snap, patch, to), snap.warnings


@dataclass(frozen=True)
class Promotion:
    verdict: Verdict
    recorded: bool
    already: bool = False


def promote(ledger: Ledger, claimed: str | None, patch: str,
            to: str | None = None) -> tuple[Promotion, list[str]]:
    """Check the gate and, when it is open, record that the patch entered `to`."""

    def operation(snap: Snapshot) -> Write[Promotion]:
        pipeline = snap.pipeline()
        actor = resolve_actor(pipeline, claimed, ledger.store)
        state = load_patch(ledger, snap, patch)
        if to is not None and state.env == check_env(pipeline, to, "--to"):
            verdict = Verdict(state.id, state.env, to, state.digest, ())
            return unchanged(Promotion(verdict, recorded=False, already=True))
        verdict = verdict_at(ledger, snap, state.id, to)
        if not verdict.open:
            return unchanged(Promotion(verdict, recorded=False))
        data = {"from": verdict.source, "verdict": [c.to_dict() for c in verdict.conditions],
                "evidence": list(verdict.evidence)}
        return append_event(state, actor, "promoted", verdict.target, data,
                            f"promoted to {verdict.target} by {actor.id}",
                            result=Promotion(verdict, recorded=True))

    return ledger.transact(operation)
