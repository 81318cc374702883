"""The working tree and index: a courtesy copy of the ledger for people to read.

releasegate reads only what is committed, but people read the working tree and commit
their configuration edits with plain git (`git commit -am`). So after a write the files
it added are written into the working tree and staged, touching nothing else. A write
first leaves a marker under `.git/releasegate/pending/` naming its commit and paths;
a write killed after its commit but before the copy was brought in step leaves the
marker behind, and the next releasegate command in the clone finishes the copy before
it works. Without that, git would show the committed event files as deleted, and the
next `git commit -am` would commit the deletion and break the patch's hash chain.
"""

from __future__ import annotations

import filecmp
import json
import os
import shutil
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from releasegate.core.errors import InputError, TransientError
from releasegate.ledger.objects import Entry
from releasegate.ledger.store import REPLACED, GitStore, git_blob_id


class CourtesyCopy:
    """The working tree and index of one clone, kept in step path by path."""

    def __init__(self, store: GitStore) -> None:
        self.store = store
        self.root = store.root
        self.pending = self.root / ".git" / "releasegate" / "pending"
        self.index_behind = False  # the last write could not stage: its marker stays

    # -- markers of writes under way ------------------------------------------------

    def expect(self, commit: str, paths: Sequence[str]) -> Path | None:
        """Note that `commit` is about to land with `paths`, before the branch moves."""
        if not (self.root / ".git").is_dir():
            return None
        self.pending.mkdir(parents=True, exist_ok=True)
        marker = self.pending / f"{os.getpid()}-{commit[:12]}.json"
        tmp = marker.with_suffix(".tmp")
        tmp.write_text(json.dumps({"commit": commit, "paths": list(paths)}), encoding="utf-8")
        tmp.replace(marker)
        return marker

    def settle(self, marker: Path | None) -> None:
        """The write's copy is done: its marker goes, unless the index could not be
        brought in step, which the next command then finishes (`repair`)."""
        if marker is not None and not self.index_behind:
            marker.unlink(missing_ok=True)
        self.index_behind = False

    def unfinished(self) -> list[Path]:
        try:
            return sorted(self.pending.glob("*.json"))
        except OSError:
            return []

    def repair(self, head: str | None) -> list[str]:
        """Finish the copies of writes that were killed after their commit: files the
        branch has but the index lacks are staged, and written where the working tree
        lacks them. A person's own files are never touched. Call it holding the
        clone's write lock, so that no marker belongs to a write still under way."""
        warnings: list[str] = []
        for marker in self.unfinished():
            try:
                said = json.loads(marker.read_text(encoding="utf-8"))
                paths, commit = said["paths"], str(said["commit"])
            except (OSError, ValueError, KeyError, TypeError):
                paths, commit = [], ""
            if head is not None and paths:
                warnings += self._restore(head, commit, [str(p) for p in paths])
            self.settle(marker)  # kept while the index cannot be brought in step
        return warnings

    def _restore(self, head: str, commit: str, paths: list[str]) -> list[str]:
        committed = {p: e for p, e in self.store.list_tree(head, paths).items()
                     if e.type == "blob"}
        staged = self.store.indexed_paths(list(committed))
        # A replaced file (a board row) is staged in its older version: written again.
        replaced = self.store.blob_ids(f"{commit}^", [p for p in committed
                                                      if p.startswith(REPLACED)])
        lacking = {p: e.sha for p, e in committed.items() if p not in staged or p in replaced}
        if not lacking:
            return []
        blobs = self.store.read_blobs(lacking.values())
        written = self.write({p: blobs[sha] for p, sha in lacking.items()}, lacking, replaced)
        if self.index_behind:
            return written
        return [f"finished updating the working tree after an interrupted command: "
                f"{len(lacking)} file(s) restored", *written]

    # -- bringing paths in step -----------------------------------------------------

    def refuse_links(self, paths: Sequence[str]) -> None:
        """Refuse to write `paths` when a folder on the way is a symbolic link (or not
        a folder): releasegate never writes through a link, out of the ledger."""
        seen: set[Path] = set()
        for path in paths:
            folder = self.root
            for part in Path(path).parts[:-1]:
                folder = folder / part
                if folder in seen:
                    continue
                seen.add(folder)
                if folder.is_symlink():
                    raise InputError(f"{folder.relative_to(self.root)} in the working tree is "
                                     "a symbolic link; releasegate never writes through links",
                                     file=str(folder.relative_to(self.root)), code="symlink",
                                     hint="replace the link with a real folder (`git checkout "
                                          "-- <path>` restores what the ledger holds)")
                if not folder.exists():
                    break

    def write(self, files: Mapping[str, bytes | Path], blobs: Mapping[str, str],
              previous: Mapping[str, Collection[str]] | None = None) -> list[str]:
        """Write the paths of `files` where the working tree lacks them, and stage them
        and those it holds already as they are; the warnings for those left as they
        were. A file the write replaces (`previous`: path -> the ids it had, where the
        write is recorded and where the working tree was last brought in step) is
        replaced where the working tree still holds one of those versions."""
        warnings, written = self._write_files(files, previous)
        return warnings + self._stage({path: blobs[path] for path in written})

    def _write_files(self, files: Mapping[str, bytes | Path],
                     previous: Mapping[str, Collection[str]] | None = None
                     ) -> tuple[list[str], list[str]]:
        """`write` but the staging: the warnings, and the paths to stage."""
        warnings: list[str] = []
        written: list[str] = []
        for path, data in files.items():
            target = self.root / path
            try:
                if target.is_symlink() or target.exists():
                    if previous and path in previous and isinstance(data, bytes) \
                            and _holds_one_of(target, previous[path]):
                        _replace(target, data)
                        written.append(path)
                    elif target.is_symlink() or not _same_content(target, data):
                        warnings.append(f"{path} in the working tree differs from the "
                                        "ledger; left as it is")
                        if previous and path in previous:
                            written.append(path)  # staged: git shows only the person's edit
                    else:
                        written.append(path)  # there already: staged all the same
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                _write_new(target, data)
                written.append(path)
            except OSError as exc:
                warnings.append(f"could not update {path} in the working tree: {exc}")
        return warnings, written

    def _stage(self, blobs: Mapping[str, str]) -> list[str]:
        """Stage `blobs` (path -> blob id) in one git process; the warning when the
        index could not be brought in step."""
        try:
            self.store.stage_paths(blobs)
            self.index_behind = False
        except (TransientError, InputError) as exc:
            self.index_behind = True
            return [f"recorded, but the git index was not updated: {exc.message}; the next "
                    "releasegate command in this clone brings it in step"]
        return []

    def catch_up(self, added: Mapping[str, Entry],
                 changed: Mapping[str, tuple[str, Entry]]) -> None:
        """Bring the working tree and index up to a later commit: the files others'
        acts `added` there (path -> its entry), written where the working tree lacks
        them, and those they `changed` (path -> the blob id it had, and its entry: a
        colleague's edit of releasegate.yaml, a board row), but only where the working
        copy still holds the old version, so that a person's own uncommitted edits are
        never overwritten; the contents read at once, all staged by one git process."""
        new = {path: entry.sha for path, entry in added.items() if entry.type == "blob"}
        untouched = {path: entry.sha for path, (before, entry) in changed.items()
                     if entry.type == "blob" and _holds(self.root / path, before)}
        blobs = self.store.read_blobs([*new.values(), *untouched.values()])
        _, written = self._write_files({path: blobs[sha] for path, sha in new.items()})
        staged = {path: new[path] for path in written}
        for path, sha in untouched.items():
            try:
                _replace(self.root / path, blobs[sha])
            except OSError:
                continue
            staged[path] = sha
        if staged:
            self._stage(staged)

    def add_from(self, commit: str, paths: Sequence[str]) -> list[str]:
        """Write and stage `paths` as they are in `commit`."""
        entries = self.store.list_tree(commit, list(paths)) if paths else {}
        blobs = self.store.read_blobs(e.sha for e in entries.values())
        return self.write({p: blobs[e.sha] for p, e in entries.items()},
                          {p: e.sha for p, e in entries.items()})

    def remove(self, commit: str, paths: Sequence[str]) -> None:
        """Take `paths` (as they were in `commit`) out of the index and working tree,
        where the working tree still holds exactly that content."""
        entries = self.store.list_tree(commit, list(paths)) if paths else {}
        gone = []
        for path, entry in entries.items():
            target = self.root / path
            try:
                if not target.is_symlink() and git_blob_id(target.read_bytes()) == entry.sha:
                    target.unlink()
                    gone.append(path)
            except OSError:
                continue
        self.store.unstage_paths(gone)


def _same_content(target: Path, data: bytes | Path) -> bool:
    if isinstance(data, Path):
        return filecmp.cmp(target, data, shallow=False)
    return target.stat().st_size == len(data) and target.read_bytes() == data


def _holds(target: Path, blob: str) -> bool:
    """Whether `target` is a regular file (not a link) holding the blob `blob`."""
    return _holds_one_of(target, (blob,))


def _holds_one_of(target: Path, blobs: Collection[str]) -> bool:
    """Whether `target` is a regular file (not a link) holding one of `blobs`."""
    try:
        return not target.is_symlink() and target.is_file() \
            and git_blob_id(target.read_bytes()) in blobs
    except OSError:
        return False


def _replace(target: Path, data: bytes) -> None:
    # Written beside it, then renamed over it: a reader never sees half a file.
    spare = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    spare.unlink(missing_ok=True)
    _write_new(spare, data)
    os.replace(spare, target)


def _write_new(target: Path, data: bytes | Path) -> None:
    # O_EXCL with O_NOFOLLOW: never through a link planted since the check.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(target, flags, 0o644)
    with os.fdopen(fd, "wb") as out:
        if isinstance(data, Path):
            with data.open("rb") as source:
                shutil.copyfileobj(source, out)
        else:
            out.write(data)
