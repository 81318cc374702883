"""Read-only views: patch list, patch detail, audit trail, environment board."""

from __future__ import annotations

from typing import Any

from releasegate.actions.common import cached_state, fold_patch, load_patch
from releasegate.actions.gate import at_next_gate, verdict_for
from releasegate.core.board import PatchView, board_doc
from releasegate.core.model import Pipeline, Verdict
from releasegate.core.state import PatchState
from releasegate.ledger.events import PATCHES
from releasegate.ledger.pipeline import load_pipeline
from releasegate.ledger.snapshot import Snapshot
from releasegate.ledger.transaction import Ledger


def all_states(ledger: Ledger, snap: Snapshot) -> list[PatchState]:
    """Every patch's state (each folded once per version of its folder)."""
    trees = snap.patch_trees()
    snap.memo["whole_ledger"] = True  # baselines then come from the index of every patch
    missing = [f"{PATCHES}/{pid}" for pid, tree in trees.items() if not cached_state(snap, tree)]
    snap.prefetch(missing)  # the patches not folded before: read in two git processes
    return [fold_patch(snap, pid) for pid in sorted(trees)]


def next_verdict(ledger: Ledger, snap: Snapshot, pipeline: Pipeline,
                 state: PatchState) -> tuple[Verdict | None, str | None]:
    return at_next_gate(pipeline, state,
                        lambda target: verdict_for(ledger, snap, state, target))


def list_patches(ledger: Ledger) -> tuple[list[dict[str, Any]], list[str]]:
    """Each patch's summary, from the board rows."""
    from releasegate.actions.board_rows import board_rows

    snap = ledger.snapshot()
    load_pipeline(snap)
    return [row.summary for row in board_rows(ledger, snap, verdicts=False)], snap.warnings


def show_patch(ledger: Ledger, patch: str) -> tuple[PatchView, list[str]]:
    snap = ledger.snapshot()
    state = load_patch(ledger, snap, patch)
    verdict, problem = next_verdict(ledger, snap, load_pipeline(snap), state)
    return PatchView(state, verdict, problem), snap.warnings


def patch_log(ledger: Ledger, patch: str) -> tuple[PatchState, list[str]]:
    snap = ledger.snapshot()
    return load_patch(ledger, snap, patch), snap.warnings


def status_board(ledger: Ledger) -> tuple[dict[str, Any], list[str]]:
    """Each environment and the patches in it, with what their next gate waits for
    (the board as `board_doc` gives it), from the board rows."""
    from releasegate.actions.board_rows import board_rows

    snap = ledger.snapshot()
    pipeline = load_pipeline(snap)
    rows = board_rows(ledger, snap, verdicts=True)
    return board_doc(pipeline.env_names, [(r.summary, r.gate.next if r.gate else None)
                                          for r in rows]), snap.warnings
