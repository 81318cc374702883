"""The ledger as committed at one head: reads only the paths asked for, in few git
processes, and checks each patch's events against the hash chain as it reads them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from releasegate.core.errors import InputError
from releasegate.core.model import Event
from releasegate.ledger.events import PATCHES, parse_event, seq_of
from releasegate.ledger.objects import Entry
from releasegate.ledger.store import GitStore, git_blob_id, git_file_id

_ODD = {"120000": "symbolic link", "160000": "submodule"}


@dataclass
class Snapshot:
    """The ledger as committed at one head; reads only the paths asked for."""

    store: GitStore
    head: str | None
    warnings: list[str] = field(default_factory=list)
    # An audit's replay of a promotion: the ledger's present snapshot and the promoted
    # event, for a snapshot at a past head (derived caches keep the present one).
    replaying: tuple[Snapshot, Event] | None = None
    _entries: dict[str, Entry] = field(default_factory=dict)
    _under: dict[str, list[str]] = field(default_factory=dict)  # folder -> files below it
    _loaded: set[str] = field(default_factory=set)
    _blobs: dict[str, bytes] = field(default_factory=dict)
    _pending: dict[str, bytes | Path] = field(default_factory=dict)  # blob id -> content
    memo: dict[str, Any] = field(default_factory=dict)  # derived views, once per snapshot

    def with_write(self, files: Mapping[str, bytes | Path]) -> Snapshot:
        """A snapshot of the same head as if `files` were committed on it (new paths
        only): what an act's own board row is derived from before the act lands."""
        after = Snapshot(self.store, self.head)
        ids = {path: git_blob_id(data) if isinstance(data, bytes) else git_file_id(data)
               for path, data in files.items()}
        after._pending = {ids[path]: data for path, data in files.items()}
        after._add_entries({path: Entry("100644", "blob", sha) for path, sha in ids.items()})
        return after

    def alike(self) -> Snapshot:
        """A snapshot of the same head sharing what is read once per head (the pipeline,
        the listing of patches, warnings) but none of the files read: one to let go of
        after reading part of a large ledger."""
        shared = ("pipeline", "pipeline_key", "patch_trees", "patch_tree", "signed_config")
        return Snapshot(self.store, self.head, self.warnings, self.replaying,
                        memo={k: self.memo[k] for k in shared if k in self.memo})

    def ids_under(self, folder: str) -> dict[str, str]:
        """The blob ids of the files added by `with_write` below `folder`."""
        prefix = folder.rstrip("/") + "/"
        return {p: e.sha for p, e in self._entries.items()
                if p.startswith(prefix) and e.sha in self._pending}

    def prefetch(self, prefixes: Sequence[str], *, read: bool = True) -> None:
        """List everything under `prefixes` and read its small files, with two git
        processes; raw evidence (possibly large) is read only when asked for, and
        nothing is read with `read=False`."""
        wanted = [p for p in prefixes if not self._covered(p)]
        if not wanted or self.head is None:
            self._loaded.update(p.rstrip("/") for p in wanted)
            return
        found = self.store.list_tree(self.head, wanted)
        self._add_entries(found)
        self._loaded.update(p.rstrip("/") for p in wanted)
        if read:
            self._read_blobs([e.sha for p, e in found.items() if "/evidence/" not in p])

    def _add_entries(self, found: Mapping[str, Entry]) -> None:
        # Indexed by every folder above each file, so listing a folder does not scan
        # every entry (on 1,000 patches that scan made whole-ledger views quadratic).
        for path, entry in found.items():
            if path in self._entries:
                continue
            if entry.mode in ("120000", "160000"):
                raise InputError(f"the ledger holds a {_ODD[entry.mode]} at {path}; releasegate "
                                 "never follows one", file=path, code="symlink",
                                 hint=f"remove it with `git rm {path}` and commit")
            self._entries[path] = entry
            parts = path.split("/")
            for i in range(1, len(parts)):
                self._under.setdefault("/".join(parts[:i]), []).append(path)

    def _read_blobs(self, shas: Sequence[str]) -> None:
        for sha in shas:
            data = self._pending.get(sha)
            if data is not None and sha not in self._blobs:
                self._blobs[sha] = data if isinstance(data, bytes) else data.read_bytes()
        missing = [sha for sha in shas if sha not in self._blobs]
        self._blobs.update(self.store.read_blobs(missing))

    def _covered(self, path: str) -> bool:
        """Whether `path` lies under something already listed."""
        parts = path.rstrip("/").split("/")
        return any("/".join(parts[:i]) in self._loaded for i in range(1, len(parts) + 1))

    def paths(self, prefix: str) -> list[str]:
        self.prefetch([prefix])
        folder = prefix.rstrip("/")
        return [folder] if folder in self._entries else list(self._under.get(folder, ()))

    def read(self, path: str) -> bytes | None:
        self.prefetch([path])
        entry = self._entries.get(path)
        if entry is None:
            return None
        self._read_blobs([entry.sha])
        return self._blobs[entry.sha]

    def read_many(self, paths: Sequence[str]) -> dict[str, bytes]:
        """Several files at once (one git process, none for files read before);
        missing ones are left out."""
        if self.head is None:
            return {}
        files: dict[str, bytes | None] = self.memo.setdefault("files", {})
        unread = [p for p in dict.fromkeys(paths) if p not in files]
        added = {p: e.sha for p in unread
                 if (e := self._entries.get(p)) is not None and e.sha in self._pending}
        if added:  # files of a write not yet committed (see with_write)
            self._read_blobs(list(added.values()))
            files.update({p: self._blobs[sha] for p, sha in added.items()})
            unread = [p for p in unread if p not in added]
        if unread:
            found = self.store.read_paths(self.head, unread)
            files.update({p: found.get(p) for p in unread})
        return {p: data for p in paths if (data := files.get(p)) is not None}

    def entry(self, path: str) -> Entry | None:
        self.prefetch([path])
        return self._entries.get(path)

    def height(self) -> int:
        """How many commits the branch has: the ledger's own order of writes."""
        from releasegate.ledger.height import known_height

        return 0 if self.head is None else known_height(self.store, self.head)

    def patch_trees(self) -> dict[str, str]:
        """Each patch's folder and the id of its tree, listed once per snapshot."""
        if "patch_trees" not in self.memo:
            listing = (self.store.list_tree(self.head, [PATCHES + "/"], recursive=False)
                       if self.head is not None else {})
            self._add_entries({p: e for p, e in listing.items() if e.type != "tree"})
            self.memo["patch_trees"] = {p.split("/")[1]: e.sha for p, e in listing.items()
                                        if e.type == "tree"}
        trees: dict[str, str] = self.memo["patch_trees"]
        return trees

    @property
    def historical(self) -> bool:
        return self.replaying is not None

    def patch_tree(self, pid: str) -> str | None:
        """The id of one patch's folder tree (the id as recorded), without listing every
        patch where the listing was not needed yet."""
        if "patch_trees" in self.memo:
            listed: dict[str, str] = self.memo["patch_trees"]
            return listed.get(pid)
        trees: dict[str, str | None] = self.memo.setdefault("patch_tree", {})
        if pid not in trees:
            found = self.store.objects.read([f"{self.head}:{PATCHES}/{pid}"])[0] \
                if self.head is not None and "/" not in pid else None
            trees[pid] = found.sha if found is not None and found.type == "tree" else None
        return trees[pid]

    def patch_id(self, name: str) -> str | None:
        """The id of the patch `name` names, as recorded: `name` itself when a folder
        has it (found without listing every patch), else another spelling of it; None
        when no patch has it."""
        if self.patch_tree(name) is not None:
            return name
        return self.patch_dirs().get(name.lower())

    def patch_dirs(self) -> dict[str, str]:
        """Patch ids in the ledger, keyed by their lower-case form."""
        return {pid.lower(): pid for pid in self.patch_trees()}

    def events(self, patch: str) -> list[Event]:
        """The patch's events in order, each checked against the hash chain."""
        prefix = f"{PATCHES}/{patch}/events"
        paths = sorted(self.paths(prefix), key=seq_of)
        events: list[Event] = []
        for number, path in enumerate(paths, start=1):
            raw = self.read(path)
            assert raw is not None
            event = parse_event(path, raw, events[-1] if events else None)
            if event.seq != number or seq_of(path) != number:
                raise InputError(f"event number {event.seq} in a file named as {seq_of(path)} "
                                 f"stands where event {number} belongs", file=path,
                                 code="ledger-corrupt",
                                 hint="two events claim one sequence number or one is "
                                      "missing; restore the patch's events from git history")
            events.append(event)
        return events
