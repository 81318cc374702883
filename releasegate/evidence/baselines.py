"""Finding baselines and loading per-test results from the ledger.

Whole-ledger questions ("which promotion out of test last shipped this suite?") are
answered from an index of what each patch's promotions counted, cached per version
of the patch's folder, so a lookup reads only the patches that changed since.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from releasegate.core.errors import InputError
from releasegate.core.model import Event
from releasegate.core.regression import BaselineRef, EvidenceOf, SuiteResults
from releasegate.core.state import PatchState, TestRecording
from releasegate.ledger.board_store import stored_rows
from releasegate.ledger.cache import read_cache, write_cache
from releasegate.ledger.events import PATCHES, parse_event
from releasegate.ledger.snapshot import Snapshot
from releasegate.ledger.transaction import Ledger

if TYPE_CHECKING:
    from releasegate.core.regression import JUnitRun

_INDEX = "baselines.pickle"

Index = dict[str, tuple[str, str, tuple[BaselineRef, ...]]]  # patch -> (tree, system, shipped)


def _summary_paths(patch: str, files: Sequence[str]) -> list[str]:
    return [f"{PATCHES}/{patch}/evidence/{sha}.json" for sha in files]


def load_runs(snap: Snapshot, patch: str, evidence: EvidenceOf,
              found: dict[str, bytes] | None = None) -> JUnitRun:
    """The merged per-test outcomes stored for one recording, each summary checked
    against the sha256 its event recorded and the merged counts against the event's
    own; anything else stops the command as damaged evidence."""
    from releasegate.evidence.runs import merge_runs, run_from_json

    paths = _summary_paths(patch, evidence.files)
    if found is None:
        found = snap.read_many(paths)
    runs = []
    for path, expected in zip(paths, evidence.summaries, strict=True):
        if path not in found:
            raise InputError("the stored test summary is missing", file=path,
                             code="ledger-corrupt")
        if expected is not None and hashlib.sha256(found[path]).hexdigest() != expected:
            raise _damaged(path, f"its sha256 is not the one {evidence.event} recorded")
        try:
            runs.append(run_from_json(found[path]))
        except InputError as exc:
            raise InputError(exc.message, file=path, code="ledger-corrupt") from None
    merged = merge_runs(runs)
    counts = _counts_of(merged)
    wrong = {k: (counts.get(k), v) for k, v in evidence.counts if counts.get(k) != v}
    if wrong:
        said = ", ".join(f"{k} {got} (the event says {want})" for k, (got, want) in wrong.items())
        raise _damaged(paths[0] if len(paths) == 1 else f"{PATCHES}/{patch}/evidence",
                       f"its counts disagree with {evidence.event}: {said}")
    return merged


def _counts_of(run: JUnitRun) -> dict[str, int]:
    return {"tests": run.tests, "passed": run.passed, "flaky": run.flaky,
            "failed": run.failed, "errors": run.errors, "skipped": run.skipped}


def _damaged(path: str, why: str) -> InputError:
    return InputError(f"evidence damaged: {why}", file=path, code="evidence-damaged",
                      hint="it was changed after it was recorded; restore it from the git "
                           f"history (`git log -- {path}`) or record the results again")


def evidence_of(recording: TestRecording) -> EvidenceOf:
    """What a recording relies on, as its event recorded it."""
    return EvidenceOf.of(recording.event.path, recording.files, recording.counts)


def recording_files(recording: TestRecording) -> tuple[str, ...]:
    return evidence_of(recording).files


def suite_results(ledger: Ledger, snap: Snapshot, state: PatchState,
                  recording: TestRecording) -> SuiteResults:
    """A recording's outcomes, with the baseline of its suite and that baseline's outcomes."""
    baseline = find_baseline(ledger, snap, state.manifest.system, recording.env,
                             recording.suite, exclude=state.id)
    return results_against(snap, state, recording, baseline)


def results_against(snap: Snapshot, state: PatchState, recording: TestRecording,
                    baseline: BaselineRef | None) -> SuiteResults:
    """A recording's outcomes and those of the given baseline, read together."""
    evidence = evidence_of(recording)
    wanted = _summary_paths(state.id, evidence.files)  # both runs' summaries, one process
    if baseline is not None:
        wanted += _summary_paths(baseline.patch, baseline.evidence.files)
    found = snap.read_many(wanted)
    run = load_runs(snap, state.id, evidence, found)
    baseline_run = (load_runs(snap, baseline.patch, baseline.evidence, found)
                    if baseline is not None else None)
    return SuiteResults(recording.env, recording.suite, run, recording.event.path, baseline,
                        baseline_run)


def find_baseline(ledger: Ledger, snap: Snapshot, system: str, env: str, suite: str,
                  exclude: str, before: Event | None = None) -> BaselineRef | None:
    """The suite's results counted by the latest promotion out of `env` of another
    patch of `system`; None when no such promotion exists yet. With `before` (a
    promoted event), only promotions recorded before that one count: the baseline
    that was current when it was made."""
    if before is None and snap.replaying is not None:
        # A replayed promotion: the present index, cut at that promotion, holds what
        # the ledger's index held then, without indexing every past head again.
        snap, before = snap.replaying
    if before is None:
        if not _whole(ledger, snap):
            if snap.memo.get("at_hand_only") and _long(snap):
                raise NotAtHand
            if not snap.store.shallow_commits():
                known, found = _newest_shipped(snap, system, env, suite, exclude)
                if known:
                    return found
        return next((r for r in _newest(ledger, snap, (system, env, suite))
                     if r.patch != exclude), None)
    best: BaselineRef | None = None
    for ref in _by_suite(ledger, snap).get((system, env, suite), ()):
        if ref.patch != exclude and _earlier(ref, before) and (
                best is None or _order(ref) > _order(best)):
            best = ref
    return best


AT_HAND_HEIGHT = 10_000  # commits up to which a write looks for baselines without the index


class NotAtHand(Exception):
    """Raised for a snapshot that asks for what is at hand only (`at_hand_only` in its
    memo) when finding a baseline would mean walking a long ledger's history or
    reading one system's rows: a clone without the baseline index (a fresh CI clone)
    of more than AT_HAND_HEIGHT commits."""


def _long(snap: Snapshot) -> bool:
    from releasegate.ledger.height import height_of

    if snap.head is None:
        return False
    height = height_of(snap.store, snap.head)
    return height is None or height > AT_HAND_HEIGHT


def _newest(ledger: Ledger, snap: Snapshot, key: tuple[str, str, str]) -> list[BaselineRef]:
    """The suite's newest shipped results, down to those of a second patch: enough to
    answer for any one patch left out (a board asks once per patch in the environment)."""
    table: dict[tuple[str, str, str], list[BaselineRef]] = snap.memo.setdefault("newest", {})
    if key not in table:
        found = (_by_suite(ledger, snap) if _whole(ledger, snap)
                 else _of_system(snap, key[0])).get(key, ())
        newest: list[BaselineRef] = []
        for ref in sorted(found, key=_order, reverse=True):
            newest.append(ref)
            if len({r.patch for r in newest}) == 2:
                break
        table[key] = newest
    return table[key]


def _whole(ledger: Ledger, snap: Snapshot) -> bool:
    """Whether the index of every patch is at hand (a whole-ledger view made it, or an
    earlier command left it under .git), so lookups need no other way."""
    path = _cache_path(ledger.root)
    return "shipped" in snap.memo or bool(snap.memo.get("whole_ledger")) \
        or (path is not None and path.exists())


WALK_LIMIT = 40  # promotions read newest first before the system's rows are read instead


def _newest_shipped(snap: Snapshot, system: str, env: str, suite: str,
                    exclude: str) -> tuple[bool, BaselineRef | None]:
    """In a clone without the baseline index (a fresh CI clone), the baseline found by
    reading promotions newest first, from git's history, until one of another patch of
    `system` out of `env` counted `suite`: a single-patch command reads a few events
    instead of indexing every patch. Every candidate is read from its event files,
    never taken from commit messages. (False, None): not known after WALK_LIMIT
    promotions (then the system's board rows answer). Never in a shallow clone: there
    the oldest commit it has shows every file as added, in the order of their paths,
    not of their promotions."""
    if snap.head is None:
        return True, None
    seen = 0
    systems: dict[str, object] = snap.memo.setdefault("systems", {})  # patch -> its system
    for path in snap.store.added_newest_first(snap.head, f"{PATCHES}/*/events/*-promoted.yaml"):
        seen += 1
        if seen > WALK_LIMIT:
            return False, None
        patch = path.split("/")[1]
        if patch == exclude or path.count("/") != 3:
            continue
        if patch not in systems:
            first = f"{PATCHES}/{patch}/events/0001-submitted.yaml"
            raw = snap.read_many([first]).get(first)
            systems[patch] = None if raw is None else parse_event(
                first, raw, None, chained=False).data.get("system")
        if systems[patch] != system:
            continue
        raw_event = snap.read_many([path]).get(path)
        if raw_event is None:
            continue
        promoted = parse_event(path, raw_event, None, chained=False)
        if promoted.type != "promoted" or promoted.data.get("from") != env:
            continue
        counted = [str(p) for p in promoted.data.get("evidence") or ()]
        evidence = snap.read_many(counted)
        events = {path: promoted, **{p: parse_event(p, data, None, chained=False)
                                     for p, data in evidence.items()}}
        for ref in _shipped(patch, events):
            if ref.env == env and ref.suite == suite:
                return True, ref
    return True, None


def _of_system(snap: Snapshot, system: str) -> dict[tuple[str, str, str], list[BaselineRef]]:
    """In a clone without the baseline index (a fresh CI clone), what the patches of
    one system shipped, by (system, environment, suite), from their board rows (which
    live under their system's folder): a single-patch command reads one system's rows
    instead of indexing every patch. Patches without a row that counts (recorded
    before rows, or changed with plain git) are indexed from their events."""
    from releasegate.ledger.board_store import row_paths, system_of_path

    table: dict[str, dict[tuple[str, str, str], list[BaselineRef]]] = \
        snap.memo.setdefault("shipped_of", {})
    if system not in table:
        trees, paths = snap.patch_trees(), row_paths(snap)
        # The system's rowed patches, and those with no row (of any system, for all
        # that is known without reading them).
        wanted = [p for p in trees
                  if p not in paths or system_of_path(paths[p]) == system.lower()]
        entries = _entries(snap, wanted, trees)
        found: dict[tuple[str, str, str], list[BaselineRef]] = {}
        for _, of, shipped in entries.values():
            for ref in shipped if of == system else ():
                found.setdefault((of, ref.env, ref.suite), []).append(ref)
        table[system] = found
    return table[system]


def _by_suite(ledger: Ledger, snap: Snapshot) -> dict[tuple[str, str, str],
                                                      list[BaselineRef]]:
    """The shipped index by (system, environment, suite), once per snapshot, so a
    lookup reads only the suite's own promotions."""
    if "shipped_by_suite" not in snap.memo:
        table: dict[tuple[str, str, str], list[BaselineRef]] = {}
        for _, system, shipped in shipped_index(ledger, snap).values():
            for ref in shipped:
                table.setdefault((system, ref.env, ref.suite), []).append(ref)
        snap.memo["shipped_by_suite"] = table
    found: dict[tuple[str, str, str], list[BaselineRef]] = snap.memo["shipped_by_suite"]
    return found


def _earlier(ref: BaselineRef, before: Event | None) -> bool:
    if before is None:
        return True
    height = int(before.data.get("ledger_height") or 0)
    # Promotions recorded before commit numbers were kept are ordered by their time.
    return ref.height < height if ref.height and height else ref.promoted_at < before.at


def _order(ref: BaselineRef) -> tuple[int, str, str, str]:
    return (ref.height, ref.promoted_at, ref.patch, ref.tests_event)


def shipped_index(ledger: Ledger, snap: Snapshot) -> Index:
    """For every patch: what its promotions counted, refreshed where its folder changed.

    Entries are kept per version of a patch's folder, on disk for the ledger's head and
    in memory for the process, so an audit replaying promotions at many past heads
    reads each version of each folder once."""
    if snap.head is None:
        return {}
    if "shipped" in snap.memo:
        memo: Index = snap.memo["shipped"]
        return memo
    trees = snap.patch_trees()
    cache = _cache_path(ledger.root)
    cached = read_cache(cache)
    index: Index = dict(cached) if isinstance(cached, dict) else {}
    stale, changed = [], False
    for patch, tree in trees.items():
        if index.get(patch, ("",))[0] == tree:
            continue
        changed = True
        known = _BY_TREE.get(tree)
        if known is not None:
            index[patch] = (tree, *known)
        else:
            stale.append(patch)
    for patch in set(index) - set(trees):
        changed = True
        del index[patch]
    if stale:
        fresh = _entries(snap, stale, trees)
        _BY_TREE.update((tree, (system, shipped)) for tree, system, shipped in fresh.values())
        index.update(fresh)
    if changed and not snap.historical:
        write_cache(cache, index)
    snap.memo["shipped"] = index
    return index


_BY_TREE: dict[str, tuple[str, tuple[BaselineRef, ...]]] = {}  # folder tree -> its entry


def _cache_path(root: Path) -> Path | None:
    git_dir = root / ".git"
    return git_dir / "releasegate" / _INDEX if git_dir.is_dir() else None


def _entries(snap: Snapshot, patches: list[str], trees: dict[str, str]) -> Index:
    """The index entries of `patches`: from the states this snapshot folded already (no
    second read and parse: status folds every patch before it looks for baselines),
    else from their board rows, else from their events."""
    folded = snap.memo.get("states", {})
    entries = {p: index_entry(p, trees[p], {e.path: e for e in folded[p].events})
               for p in patches if p in folded}
    rows, _ = stored_rows(snap, {p: trees[p] for p in patches if p not in entries})
    entries.update((p, (r.tree, r.system, r.shipped)) for p, r in rows.items())
    entries.update(_index_patches(snap, [p for p in patches if p not in entries], trees))
    return entries


def _index_patches(snap: Snapshot, patches: list[str], trees: dict[str, str]) -> Index:
    if not patches:  # (an empty listing would list the whole ledger)
        return {}
    listing = snap.store.list_tree(snap.head or "", [f"{PATCHES}/{p}/events" for p in patches])
    wanted = [p for p in listing if p.endswith(("-promoted.yaml", "-tests.yaml",
                                                "0001-submitted.yaml"))]
    blobs = snap.store.read_blobs(listing[p].sha for p in wanted)
    events = {p: parse_event(p, blobs[listing[p].sha], None, chained=False) for p in wanted}
    by_patch: dict[str, dict[str, Event]] = {}
    for path, event in events.items():
        by_patch.setdefault(path.split("/")[1], {})[path] = event
    return {patch: index_entry(patch, trees[patch], by_patch.get(patch, {})) for patch in patches}


def index_entry(patch: str, tree: str,
                events: Mapping[str, Event]) -> tuple[str, str, tuple[BaselineRef, ...]]:
    """A patch's index entry from its events (by path): its tree, system and what its
    promotions counted."""
    submitted = events.get(f"{PATCHES}/{patch}/events/0001-submitted.yaml")
    system = str(submitted.data.get("system", "")) if submitted else ""
    return tree, system, tuple(_shipped(patch, events))


def _shipped(patch: str, events: Mapping[str, Event]) -> list[BaselineRef]:
    shipped = []
    for event in events.values():
        source = event.data.get("from") if event.type == "promoted" else None
        if not source:
            continue
        for path in event.data.get("evidence") or ():
            tests = events.get(path)
            if tests is not None and tests.type == "tests" and tests.env == source:
                evidence = EvidenceOf.of(path, tests.data.get("files") or (),
                                         tests.data.get("counts") or {})
                height = int(event.data.get("ledger_height") or 0)
                shipped.append(BaselineRef(patch, source, str(tests.data["suite"]),
                                           event.at, path, evidence, height))
    return shipped
