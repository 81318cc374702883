"""Board rows: each patch's line on the status board, kept beside the records.

A row says what `status` and `patch list` show of one patch (its summary, what its
promotions shipped, the verdict of its next gate and what that verdict rested on). It
is derived: a row counts only for the version of the patch's folder whose tree id it
names, gates never read one, and `verify` recomputes each. Rows travel with the
ledger as `board/<system>/<xx>/<ID>.json`, written by every act in the same commit
as its events, so a fresh clone reads 10,000 small files instead of folding 200,000
events; a copy of the rows lives in `.git/releasegate/board.pickle` for the next
command.

A row from git is untrusted input: anything malformed is ignored (the patch is folded
from its events instead), never an error.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from releasegate.core.regression import BaselineRef, EvidenceOf
from releasegate.ledger.cache import read_cache, write_cache
from releasegate.ledger.objects import Entry
from releasegate.ledger.snapshot import Snapshot
from releasegate.ledger.store import REPLACED

BOARD = REPLACED.rstrip("/")  # the folder of rows, the only files a write replaces
FORMAT = 1  # bumped when a row's fields change meaning; rows of another format are ignored


@dataclass(frozen=True)
class NextGate:
    """The verdict of a patch's next gate as the board shows it, and what it rested on:
    the pipeline's key, the folders of the patches it depends on, the baseline of each
    suite it compared, and the time a waiver it counted runs out."""

    config: str
    next: dict[str, Any] | None  # {"to", "open", "waiting_for"}; None: no next gate
    depends: tuple[tuple[str, str | None, str | None], ...] = ()  # (named, id, tree)
    baselines: tuple[tuple[str, str, str], ...] = ()  # (env, suite, baseline or "")
    until: str | None = None


@dataclass(frozen=True)
class Row:
    patch: str
    tree: str  # the id of patches/<ID> this row was derived from
    system: str
    summary: dict[str, Any]
    shipped: tuple[BaselineRef, ...]
    gate: NextGate | None = None  # None: not evaluated (or it could not be)


def path_of(patch: str, system: str) -> str:
    """Where a patch's row lives: under its system (a baseline is looked up among the
    rows of one system), in one of 256 folders, so that a write rewrites a folder of
    a few rows, not one of every patch's (10,000 entries to read, sort and hash again
    at every act). System names are ids; folders are lower-case, so that two that
    differ only in case share one on any file system."""
    shard = hashlib.sha1(patch.encode()).hexdigest()[:2]
    return f"{BOARD}/{system.lower()}/{shard}/{patch}.json"


def row_paths(snap: Snapshot) -> dict[str, str]:
    """Each patch with a file under board/, and that file's path (one listing per
    snapshot); whether the file holds a row that counts is for its reader to check."""
    if "row_paths" not in snap.memo:
        listing = listed_rows(snap)
        snap.memo["row_paths"] = {patch_of_path(path): path
                                  for path in sorted(listing) if path.endswith(".json")}
    found: dict[str, str] = snap.memo["row_paths"]
    return found


def patch_of_path(path: str) -> str:
    """The patch a row's path names (its file name)."""
    return path.rsplit("/", 1)[-1].removesuffix(".json")


def row_at(path: str, raw: bytes) -> Row | None:
    """The row stored at `path`: None unless `raw` is a well-formed row of the patch
    the path names, and the path is where that patch's row belongs."""
    patch = patch_of_path(path)
    row = decode(raw, patch)
    return row if row is not None and path == path_of(patch, row.system) else None


def system_of_path(path: str) -> str:
    """The (lower-case) system folder a row's path names."""
    return path.split("/")[1] if path.count("/") == 3 else ""


def listed_rows(snap: Snapshot) -> dict[str, Entry]:
    """Every file under board/, by path (one listing per snapshot)."""
    if snap.head is None:
        return {}
    if "row_listing" not in snap.memo:
        snap.memo["row_listing"] = snap.store.list_tree(snap.head, [BOARD + "/"],
                                                        recursive=True)
    found: dict[str, Entry] = snap.memo["row_listing"]
    return found


def encode(row: Row) -> bytes:
    """The row as the ledger stores it: one JSON object, keys sorted, ASCII only."""
    doc: dict[str, Any] = {
        "format": FORMAT, "patch": row.patch, "tree": row.tree, "system": row.system,
        "summary": row.summary, "shipped": [_ref_doc(r) for r in row.shipped],
        "gate": None if row.gate is None else {
            "config": row.gate.config, "next": row.gate.next,
            "depends": [list(d) for d in row.gate.depends],
            "baselines": [list(b) for b in row.gate.baselines], "until": row.gate.until}}
    return (json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n").encode()


def _ref_doc(ref: BaselineRef) -> dict[str, Any]:
    ev = ref.evidence
    return {"patch": ref.patch, "env": ref.env, "suite": ref.suite, "at": ref.promoted_at,
            "event": ref.tests_event, "height": ref.height, "files": list(ev.files),
            "summaries": list(ev.summaries), "counts": dict(ev.counts)}


def decode(raw: bytes, patch: str) -> Row | None:
    """The row stored in `raw` for `patch`; None when it is not a well-formed row of
    this format for that patch."""
    try:
        doc = json.loads(raw)
        if doc.get("format") != FORMAT or doc.get("patch") != patch:
            return None
        gate = doc["gate"]
        return Row(patch, _text(doc["tree"]), _text(doc["system"]), _summary(doc["summary"]),
                   tuple(_ref(r) for r in doc["shipped"]),
                   None if gate is None else NextGate(
                       _text(gate["config"]), _next(gate["next"]),
                       tuple((_text(a), _opt(b), _opt(c)) for a, b, c in gate["depends"]),
                       tuple((_text(a), _text(b), _text(c)) for a, b, c in gate["baselines"]),
                       _opt(gate["until"])))
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _opt(value: Any) -> str | None:
    return None if value is None else _text(value)


def _summary(doc: Any) -> dict[str, Any]:
    keys = ("id", "system", "vendor", "title", "env", "digest", "submitter", "submitted_at")
    if not isinstance(doc, dict) or set(doc) != set(keys):
        raise TypeError("not a summary")
    return {k: _opt(doc[k]) for k in keys}


def _next(doc: Any) -> dict[str, Any] | None:
    if doc is None:
        return None
    if not isinstance(doc, dict) or not isinstance(doc["open"], bool) \
            or not isinstance(doc["waiting_for"], list):
        raise TypeError("not a verdict")
    return {"to": _text(doc["to"]), "open": doc["open"],
            "waiting_for": [_text(w) for w in doc["waiting_for"]]}


def _ref(doc: Any) -> BaselineRef:
    files = tuple(_text(f) for f in doc["files"])
    summaries = tuple(_opt(s) for s in doc["summaries"])
    counts = tuple(sorted((_text(k), int(v)) for k, v in doc["counts"].items()))
    if len(files) != len(summaries) or not isinstance(doc["height"], int):
        raise TypeError("not a baseline")
    return BaselineRef(_text(doc["patch"]), _text(doc["env"]), _text(doc["suite"]),
                       _text(doc["at"]), _text(doc["event"]),
                       EvidenceOf(_text(doc["event"]), files, summaries, counts), doc["height"])


def stored_rows(snap: Snapshot, trees: Mapping[str, str]) -> tuple[dict[str, Row], int]:
    """The rows that hold for the patches' folders `trees` (patch -> tree id): those
    kept under .git first, then those recorded in the ledger (how many: the second
    value); patches with neither are left out."""
    kept = read_cache(_cache_path(snap))
    rows: dict[str, Row] = {}
    try:  # a damaged or foreign cache is simply not used
        if isinstance(kept, dict):
            rows = {p: _unpacked(r) for p, r in kept.items() if trees.get(p) == r[1]}
    except (TypeError, ValueError, IndexError, KeyError):
        rows = {}
    wanted = [p for p in trees if p not in rows]
    kept_count = len(rows)
    if wanted and snap.head is not None:
        listing, paths = listed_rows(snap), row_paths(snap)
        ids = {p: listing[paths[p]].sha for p in wanted if p in paths}
        blobs = snap.store.read_blobs(ids.values())
        for patch, sha in ids.items():
            row = row_at(paths[patch], blobs.get(sha, b""))
            if row is not None and row.tree == trees[patch]:
                rows[patch] = row
    return rows, len(rows) - kept_count


def keep_rows(snap: Snapshot, rows: Mapping[str, Row]) -> None:
    """Keep `rows` under .git for the next command (a failure only costs a rebuild)."""
    write_cache(_cache_path(snap), {p: _packed(r) for p, r in rows.items()})


# Kept as plain tuples: unpickling 10,000 rows of dataclasses took 0.3 s, tuples ~0.05 s.
def _packed(row: Row) -> tuple[Any, ...]:
    gate = row.gate
    return (row.patch, row.tree, row.system, row.summary,
            tuple((r.patch, r.env, r.suite, r.promoted_at, r.tests_event, r.evidence.files,
                   r.evidence.summaries, r.evidence.counts, r.height) for r in row.shipped),
            None if gate is None else (gate.config, gate.next, gate.depends, gate.baselines,
                                       gate.until))


def _unpacked(packed: tuple[Any, ...]) -> Row:
    patch, tree, system, summary, shipped, gate = packed
    return Row(patch, tree, system, summary,
               tuple(BaselineRef(p, e, s, at, ev, EvidenceOf(ev, f, sm, c), h)
                     for p, e, s, at, ev, f, sm, c, h in shipped),
               None if gate is None else NextGate(*gate))


def _cache_path(snap: Snapshot) -> Path | None:
    git_dir = snap.store.root / ".git"
    return git_dir / "releasegate" / "board.pickle" if git_dir.is_dir() else None
