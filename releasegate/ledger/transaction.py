"""The git-backed event store: discovery, committed snapshots, optimistic transactions.

releasegate reads only what is committed. A write is an optimistic transaction:
read the branch head, let the operation validate against the state there and name
the files it adds, build a tree from the old one, commit, and advance the branch
only if it still points where it did. On a lost race the operation runs again from
the start, against the new head, so it is validated again.
"""

from __future__ import annotations

import filecmp
import random
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from releasegate.core.errors import (
    ContentionError,
    InputError,
    NotFoundError,
    TransientError,
    UsageError,
)
from releasegate.ledger.pipeline import CONFIG_FILE
from releasegate.ledger.snapshot import Snapshot
from releasegate.ledger.store import ZERO, Author, GitStore, git_blob_id

T = TypeVar("T")
SYSTEM = Author("releasegate", "releasegate@releasegate.invalid")


@dataclass(frozen=True)
class Upstream:
    remote: str
    merge: str


@dataclass
class Write(Generic[T]):
    """What an operation wants recorded: new files, a commit message, and its result."""

    files: Mapping[str, bytes | Path]  # a Path is streamed into git, never read whole
    message: str
    result: T
    author: Author | None = None


def unchanged(result: T) -> Write[T]:
    """An outcome that records nothing (already done, or a closed gate)."""
    return Write({}, "", result)


def _same_content(target: Path, data: bytes | Path) -> bool:
    if isinstance(data, Path):
        return filecmp.cmp(target, data, shallow=False)
    return target.stat().st_size == len(data) and target.read_bytes() == data


class Ledger:
    """A ledger repository on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store = GitStore(root)
        self._ref: str | None = None

    @classmethod
    def discover(cls, explicit: str | None, environ: Mapping[str, str], cwd: Path) -> Ledger:
        """--ledger, else RELEASEGATE_LEDGER, else the nearest folder upwards."""
        given = explicit or environ.get("RELEASEGATE_LEDGER")
        if given:
            root = Path(given).expanduser().resolve()
            if not (root / CONFIG_FILE).is_file() or not (root / ".git").exists():
                source = "--ledger" if explicit else "RELEASEGATE_LEDGER"
                raise UsageError(f"{root} is not a releasegate ledger (given by {source})",
                                 hint="run `releasegate init DIR` to make one", code="no-ledger")
            return cls(root)
        for folder in [cwd.resolve(), *cwd.resolve().parents]:
            if (folder / CONFIG_FILE).is_file() and (folder / ".git").exists():
                return cls(folder)
        raise UsageError(f"no releasegate ledger in {cwd} or any folder above it",
                         hint="pass --ledger DIR, set RELEASEGATE_LEDGER, or run "
                              "`releasegate init`", code="no-ledger")

    @property
    def ref(self) -> str:
        """The branch writes advance; a detached checkout can be read, not written."""
        if self._ref is None:
            self._ref = self.store.branch_ref()
        if self._ref is None:
            raise UsageError(f"the ledger in {self.root} is on a detached HEAD; releasegate "
                             "records on a branch", code="detached-head",
                             hint="check out the ledger's branch, e.g. `git checkout main` "
                                  "(CI checkouts are often detached)")
        return self._ref

    def require_branch(self) -> str:
        """The branch writes go to; UsageError on a detached checkout."""
        return self.ref

    def snapshot(self) -> Snapshot:
        """The committed state at the branch head (or the detached HEAD, for reading)."""
        if self._ref is None:
            head, self._ref = self.store.head_and_branch()  # None: detached, read-only
            return Snapshot(self.store, head)
        return Snapshot(self.store, self.store.resolve(self._ref))

    def resolve_patch(self, snap: Snapshot, patch: str) -> str:
        """The patch id as recorded, found case-insensitively; NotFoundError otherwise."""
        from releasegate.ledger.ids import check_id

        check_id("patch id", patch)
        known = snap.patch_dirs()
        if patch.lower() not in known:
            from releasegate.core.errors import did_you_mean

            raise NotFoundError(f"unknown patch '{patch}'", code="unknown-patch",
                                hint=did_you_mean(patch, known.values())
                                or "see `releasegate patch list`")
        return known[patch.lower()]

    def transact(self, operation: Callable[[Snapshot], Write[T]],
                 author: Author = SYSTEM, *, attempts: int = 8) -> tuple[T, list[str]]:
        """Run `operation` against the head and record what it returns, atomically.

        Returns the operation's result and the warnings gathered; a Write without
        files records nothing.
        """
        upstream = self.upstream()
        for attempt in range(attempts):
            if upstream is not None:
                self.pull(upstream)
            snap = self.snapshot()
            outcome = operation(snap)
            if not outcome.files:
                return outcome.result, snap.warnings
            if self._commit(snap, outcome, author, upstream):
                return outcome.result, snap.warnings
            time.sleep(random.uniform(0.01, 0.05) * (2 ** min(attempt, 5)))
        raise ContentionError(f"gave up after {attempts} attempts: other writers kept "
                              "moving the ledger; nothing was recorded",
                              hint="retry the command")

    def _commit(self, snap: Snapshot, write: Write[Any], author: Author,
                upstream: Upstream | None) -> bool:
        blobs = {path: self.store.write_blob_file(data) if isinstance(data, Path)
                 else self.store.write_blob(data) for path, data in write.files.items()}
        tree = self.store.build_tree(snap.head, blobs)
        commit = self.store.commit(tree, snap.head, write.message, write.author or author)
        reason = f"releasegate: {write.message.splitlines()[0]}"
        if not self.store.compare_and_swap(self.ref, commit, snap.head, reason):
            return False
        if upstream is not None:
            try:
                self.store.push(upstream.remote, self.ref, upstream.merge)
            except ContentionError:
                self._undo(commit, snap.head)
                return False
            except BaseException:
                self._undo(commit, snap.head)
                raise
        self._sync_worktree(write.files, blobs, snap.warnings)
        return True

    def _undo(self, commit: str, head: str | None) -> None:
        # A write with a shared remote counts only once pushed: take the local commit
        # back so the ledger is as it was.
        self.store.compare_and_swap(self.ref, head or ZERO, commit, "releasegate: undo")

    # -- the shared remote ---------------------------------------------------------------

    def upstream(self) -> Upstream | None:
        """The remote branch this ledger shares, when git has one configured."""
        branch = self.ref.removeprefix("refs/heads/")
        settings = self.store.config_values(f"branch.{branch}.")
        remote = settings.get(f"branch.{branch}.remote")
        merge = settings.get(f"branch.{branch}.merge")
        if not remote or not merge or remote == ".":
            return None
        return Upstream(remote, merge)

    def pull(self, upstream: Upstream) -> list[str]:
        """Fetch the shared ledger and fast-forward to it; the paths that arrived."""
        theirs = self.store.fetch(upstream.remote, upstream.merge)
        ours = self.store.resolve(self.ref)
        if theirs is None or theirs == ours:
            return []
        if ours is not None and self.store.is_ancestor(theirs, ours):
            return []  # local commits not pushed yet: the next push carries them
        if ours is not None and not self.store.is_ancestor(ours, theirs):
            raise InputError(f"the local ledger has diverged from {upstream.remote}; "
                             "nothing was recorded", code="diverged",
                             hint="reconcile with `git pull --rebase` in the ledger folder")
        if not self.store.compare_and_swap(self.ref, theirs, ours, "releasegate: sync"):
            raise ContentionError("the ledger moved while syncing; nothing was recorded",
                                  hint="retry the command")
        added = self.store.added_paths(ours, theirs)
        if self.store.is_unborn_checkout() or ours is None:
            return added
        self._sync_paths_from(theirs, added)
        self._refresh_changed(ours, theirs)
        return added

    def _refresh_changed(self, ours: str, theirs: str) -> None:
        # Files others changed (a colleague's edit of releasegate.yaml) are brought in
        # step too, but only where the working copy still holds the old version: a
        # person's own uncommitted edits are never overwritten.
        changed = self.store.changed_paths(ours, theirs)
        if not changed:
            return
        old = self.store.list_tree(ours, changed)
        new = self.store.list_tree(theirs, changed)
        untouched = {}
        for path in changed:
            try:
                current = git_blob_id((self.root / path).read_bytes())
            except OSError:
                continue
            if path in old and path in new and current == old[path].sha:
                untouched[path] = new[path].sha
        blobs = self.store.read_blobs(untouched.values())
        for path, sha in untouched.items():
            (self.root / path).write_bytes(blobs[sha])
        self.store.stage_paths(untouched)

    def _sync_paths_from(self, commit: str, paths: Sequence[str]) -> None:
        entries = self.store.list_tree(commit, list(paths)) if paths else {}
        blobs = self.store.read_blobs(e.sha for e in entries.values())
        self._sync_worktree({p: blobs[e.sha] for p, e in entries.items()},
                            {p: e.sha for p, e in entries.items()}, [])

    def _sync_worktree(self, files: Mapping[str, bytes | Path], blobs: Mapping[str, str],
                       warnings: list[str]) -> None:
        # The working tree is a courtesy copy: only the paths this write added are
        # touched, so a person's uncommitted edits elsewhere survive.
        written = []
        for path, data in files.items():
            target = self.root / path
            try:
                if target.exists():
                    if not _same_content(target, data):
                        warnings.append(f"{path} in the working tree differs from the "
                                        "ledger; left as it is")
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(data, Path):
                    shutil.copyfile(data, target)
                else:
                    target.write_bytes(data)
                written.append(path)
            except OSError as exc:
                warnings.append(f"could not update {path} in the working tree: {exc}")
        try:
            self.store.stage_paths({path: blobs[path] for path in written})
        except (TransientError, InputError) as exc:
            warnings.append(f"recorded, but the git index was not updated: {exc.message}")
