"""Each patch's board row, reused while what it was derived from holds, else derived again.

A row's summary and shipped results depend only on the patch's folder (its tree id).
Its next-gate verdict also depends on the pipeline, on the patches it depends on, on
the baselines it compared with and on the waivers it counted, so it is reused only
while all of those are as they were. `status` and `patch list` read rows; gates never
do (see releasegate.ledger.board_store).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from releasegate.actions.common import cached_state, fold_patch
from releasegate.core import clock
from releasegate.core.board import patch_summary, waiting_for
from releasegate.core.errors import ReleasegateError
from releasegate.core.model import Pipeline
from releasegate.core.regression import BaselineRef
from releasegate.core.state import PatchState
from releasegate.ledger.board_store import NextGate, Row, encode, keep_rows, path_of, stored_rows
from releasegate.ledger.events import PATCHES, patch_folders
from releasegate.ledger.pipeline import load_pipeline, pipeline_key
from releasegate.ledger.snapshot import Snapshot
from releasegate.ledger.transaction import Ledger, Write

T = TypeVar("T")


def board_rows(ledger: Ledger, snap: Snapshot, *, verdicts: bool,
               anew: bool = False) -> list[Row]:
    """Every patch's row, by patch id; with `verdicts`, each with its next gate's
    verdict as it stands now. With `anew`, no stored row is used."""
    trees = snap.patch_trees()
    rows, read = ({}, 0) if anew else stored_rows(snap, trees)
    derived = [p for p in trees if p not in rows]
    for part, view in _parts(snap, derived):
        rows.update((p, summary_row(view, p, trees[p], fold_patch(view, p))) for p in part)
    shipped = {p: (r.tree, r.system, r.shipped) for p, r in rows.items()}
    snap.memo["shipped"] = shipped
    stale: list[str] = []
    if verdicts:
        pipeline = load_pipeline(snap)
        config, now = config_key(snap, pipeline), clock.now()
        stale = [p for p in trees if not holds(ledger, snap, rows[p], config, now)]
        for part, view in _parts(snap, stale):
            view.memo["shipped"] = shipped
            rows.update((p, replace(rows[p], gate=next_gate(
                ledger, view, pipeline, config, fold_patch(view, p), now))) for p in part)
    if (read or derived or stale) and not snap.historical:
        keep_rows(snap, rows)
    return [rows[p] for p in sorted(trees)]


PART = 500  # patches folded at a time when rows are derived for many; then let go


def _parts(snap: Snapshot, patches: list[str]) -> Iterator[tuple[list[str], Snapshot]]:
    """`patches` in parts, each with its events read ahead in one go. A few are read
    into `snap` itself; many into a snapshot of the same head per part, let go after
    it, so memory stays that of one part (10,000 folded patches took 1 GB)."""
    for start in range(0, len(patches), PART):
        part = patches[start:start + PART]
        view = snap if len(patches) <= PART else snap.alike()
        _prefetch(view, part)
        yield part, view


def _prefetch(snap: Snapshot, patches: list[str]) -> None:
    # Patches folded neither in this snapshot nor before: read in two git processes.
    trees = snap.patch_trees()
    folded = snap.memo.get("states", {})
    snap.prefetch([f"{PATCHES}/{p}" for p in patches
                   if p not in folded and not cached_state(snap, trees[p])])


def summary_row(snap: Snapshot, patch: str, tree: str, state: PatchState) -> Row:
    """The part of a row its folder alone decides: summary and shipped results."""
    from releasegate.evidence.baselines import index_entry

    _, system, shipped = index_entry(patch, tree, {e.path: e for e in state.events})
    return Row(patch, tree, system, patch_summary(state), shipped)


def config_key(snap: Snapshot, pipeline: Pipeline) -> str:
    """The pipeline's key, with the configuration's signature where rules require one."""
    key = pipeline_key(snap)
    if pipeline.rules.signed_config and snap.head is not None:
        from releasegate.actions.signed_acts import config_signature

        commit, problem = config_signature(snap, pipeline)
        key += f":{commit}:{problem or ''}"
    return key


def next_gate(ledger: Ledger, snap: Snapshot, pipeline: Pipeline, config: str,
              state: PatchState, now: datetime) -> NextGate:
    """The verdict of the patch's next gate at `now`, with what it rested on. A gate
    that cannot be evaluated gives no verdict (and is evaluated again next time);
    damaged records stop the command, as they stop every read."""
    from releasegate.actions.gate import at_next_gate, evaluate_then

    found, problem = at_next_gate(pipeline, state, lambda target: evaluate_then(
        ledger, snap, pipeline, state, target, now))
    if found is None:
        return NextGate(config, None, until=None if problem is None else clock.stamp(now))
    verdict, loaded = found
    depends = tuple((named, pid, None if pid is None else snap.patch_tree(pid))
                    for named, pid in ((d, snap.patch_id(d)) for d in state.manifest.depends_on))
    baselines = tuple((env, suite, _ident(loaded.results[(env, suite)].baseline))
                      for env, suite in sorted(loaded.compared))
    expiries = [w.until for w in state.waivers if clock.parse_stamp(w.until) > now]
    until = min(expiries, key=clock.parse_stamp) if expiries else None
    shown = {"to": verdict.target, "open": verdict.open, "waiting_for": waiting_for(verdict)}
    return NextGate(config, shown, depends, baselines, until)


def _ident(ref: BaselineRef | None) -> str:
    return "" if ref is None else f"{ref.patch} {ref.tests_event} {ref.height}"


def holds(ledger: Ledger, snap: Snapshot, row: Row, config: str, now: datetime) -> bool:
    """Whether the row's verdict still stands: same pipeline, no waiver run out, the
    same folders of the patches it depends on, the same baselines."""
    from releasegate.evidence.baselines import find_baseline

    gate = row.gate
    if gate is None or gate.config != config:
        return False
    if gate.until is not None and clock.parse_stamp(gate.until) <= now:
        return False
    for named, pid, tree in gate.depends:  # found as the depends condition finds them
        if snap.patch_id(named) != pid or (pid is not None and snap.patch_tree(pid) != tree):
            return False
    return all(_ident(find_baseline(ledger, snap, row.system, env, suite, row.patch)) == ident
               for env, suite, ident in gate.baselines)


def with_rows(ledger: Ledger, operation: Callable[[Snapshot], Write[T]]) -> Callable[
        [Snapshot], Write[T]]:
    """`operation`, with the board row of each patch its write adds files to written
    in the same commit, derived from the patch as the write leaves it."""
    def work(snap: Snapshot) -> Write[T]:
        write = operation(snap)
        patches = sorted(patch_folders(write.files))
        if not patches:
            return write
        after = snap.with_write(write.files)
        rows = {path_of(row.patch, row.system): encode(row)
                for row in (row_after(ledger, after, p) for p in patches)}
        return replace(write, files={**write.files, **rows})
    return work


def row_after(ledger: Ledger, after: Snapshot, patch: str) -> Row:
    """The row of `patch` in the snapshot `after` (a head with a write's files added)."""
    from releasegate.evidence.baselines import NotAtHand

    folder = f"{PATCHES}/{patch}"
    tree = after.store.folder_id_after(after.head, folder, after.ids_under(folder))
    after.memo.setdefault("patch_tree", {})[patch] = tree
    if "patch_trees" in after.memo:
        after.memo["patch_trees"][patch] = tree
    state = fold_patch(after, patch)
    pipeline = load_pipeline(after)
    row = summary_row(after, patch, tree, state)
    # The verdict is the board's convenience: a write works it out from what is at
    # hand, never by walking a long ledger's history for a baseline (a fresh CI clone
    # of years of patches), which would cost the act more than the act itself.
    after.memo["at_hand_only"] = True
    try:  # as of the act itself (its event's time), as `status` would have shown it
        gate = next_gate(ledger, after, pipeline, config_key(after, pipeline), state,
                         clock.parse_stamp(state.events[-1].at))
    except (ReleasegateError, NotAtHand):
        # Damaged records elsewhere (a baseline's evidence) stop reads, not this act,
        # and a baseline not at hand is found by the next read: the row goes without a
        # verdict, and `status` works one out (or stops) itself.
        gate = None
    return replace(row, gate=gate)


def rows_recorded(count: int) -> str:
    """The message of a commit recording `count` board rows at once (`reindex`)."""
    return f"board rows of {count} patch(es) recorded"


def refresh_rows(ledger: Ledger) -> tuple[tuple[int, int], list[str]]:
    """Record the board row of every patch whose stored row is missing or no longer
    holds, in one commit (after an upgrade, or for a ledger older than rows): fresh
    clones then read rows instead of folding every patch. (rows written, patches)."""
    from releasegate.ledger.board_store import listed_rows
    from releasegate.ledger.transaction import unchanged

    def operation(snap: Snapshot) -> Write[tuple[int, int]]:
        rows = board_rows(ledger, snap, verdicts=True, anew=True)
        listing = listed_rows(snap)
        stored = snap.store.read_blobs(e.sha for e in listing.values())
        files: dict[str, bytes | Path] = {}
        for row in rows:
            path = path_of(row.patch, row.system)
            data, entry = encode(row), listing.get(path)
            if entry is None or stored.get(entry.sha) != data:
                files[path] = data
        if not files:
            return unchanged((0, len(rows)))
        return Write(files, rows_recorded(len(files)),
                     (len(files), len(rows)))

    return ledger.transact(operation)
