"""The git adapter: the only module that runs git.

Reads go through the git command line directly, so read-only commands such as
`check` start without importing GitPython (about 80 ms here). A write's small
blobs, its trees and its commit are written as loose objects (`ledger/loose`) where
git would write them the same way; the other writes use GitPython's `Repo.git`
wrapper for plumbing (streamed blobs, the objects where git must write them, a
compare-and-swap of the branch, fetch and push); never an index shared with the
person using the working tree. Every git failure becomes a releasegate error.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from releasegate.core.errors import ContentionError, InputError, TransientError
from releasegate.ledger import handoff, loose, turns
from releasegate.ledger.events import patch_folders
from releasegate.ledger.objects import Entry, ObjectReader, parse_tree

ZERO = "0" * 40
SPLIT_INDEX_AT = 8 << 20  # bytes of .git/index from which its updates are split
_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"}


class BranchLocked(ContentionError):
    """git's lock file on the branch exists: another git process is moving it, or one
    killed while it held the lock left the file behind."""

    code = "locked"


@dataclass(frozen=True)
class Commit:
    """One commit of the ledger's history and the paths it changed."""

    sha: str
    author: str
    email: str
    date: str
    subject: str
    changes: tuple[tuple[str, str], ...]  # (A|M|D|T, path)
    parents: tuple[str, ...] = ()


@dataclass(frozen=True)
class Author:
    name: str
    email: str


class NoAtomicPush(ContentionError):
    """The remote does not take atomic pushes, which landing acts handed on needs."""


@dataclass(frozen=True)
class HandedOn:
    """An act another writer handed on (`handoff`): the commit it was made on, its
    author and message, and the files it adds or replaces (path -> blob id)."""

    parent: str
    author: Author
    message: str
    files: dict[str, str]


FETCHED = "refs/releasegate/fetched/"  # each fetch's refs, until the race is over
PROTOCOL = "protocol.version=0"  # how the remote is asked (see GitStore.fetch)
# A push of a commit to a new ref, after the branch moved on to commits this clone does
# not have: without asking the remote what it has, git would send the whole history.
NEGOTIATE = "push.negotiate=true"
SHORT_WALK = 64  # first parents read before git is asked whether a commit is an ancestor
WALK_STEP = 8  # of those, read in one round trip with the object reader
REPLACED = "board/"  # the only files a write replaces (derived rows); all else is added


class GitStore:
    """One git repository: its branch, trees and blobs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._repo: Any = None
        self._root: str | None = None
        self._pending: dict[Path, subprocess.Popen[bytes]] = {}
        self._fetched: list[str] = []  # this process's fetched refs, until the race is over
        # The remote-tracking branch and the commit it is to point at once the race is
        # over; None once a push has moved it on past the fetch.
        self._tracking: tuple[str, str] | None = None
        self.fetched_head: str | None = None  # the shared branch's commit, last fetched
        self.turns: list[str] = []  # the claims on turns the last fetch found (`turns`)
        self.pending: dict[str, str] = {}  # acts handed on, by name, the last fetch found
        self._loose: Path | bool | None = False  # False: not looked up yet
        self.heights: dict[str, int | None] = {}  # commit -> its height (`height_of`)
        self.objects = ObjectReader(root, _GIT_ENV)

    # -- reads (git command line) ---------------------------------------------------

    def run(self, *args: str, input: bytes | None = None, check: bool = True) -> bytes:
        """Run a read-only git command in the repository and return its output."""
        proc = self._process(*args, input=input)
        if check and proc.returncode != 0:
            detail = one_line(proc.stderr.decode("utf-8", "replace"))
            raise InputError(f"git {args[0]} failed in {self.root}: {detail}", code="git")
        return proc.stdout

    def _process(self, *args: str,
                 input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        try:
            return subprocess.run(["git", "-C", str(self.root), *args], input=input,
                                  capture_output=True, env={**os.environ, **_GIT_ENV})
        except FileNotFoundError:
            raise InputError("git is not installed or not on PATH",
                             hint="install git 2.30 or newer") from None

    def branch_ref(self) -> str | None:
        """The branch the ledger lives on, e.g. refs/heads/main; None when detached."""
        out = self.run("symbolic-ref", "-q", "HEAD", check=False).decode().strip()
        return out or None

    def head_and_branch(self) -> tuple[str | None, str | None]:
        """HEAD's commit and branch with one git process; the branch is None when
        detached, the commit None on a branch without commits yet."""
        proc = self._process("rev-parse", "HEAD", "--symbolic-full-name", "HEAD")
        lines = proc.stdout.decode().split()
        if proc.returncode == 0 and len(lines) == 2:
            return lines[0], (lines[1] if lines[1].startswith("refs/") else None)
        return None, self.branch_ref()

    def resolve(self, ref: str) -> str | None:
        out = self.run("rev-parse", "-q", "--verify", f"{ref}^{{commit}}", check=False)
        return out.decode().strip() or None

    def list_tree(self, treeish: str, paths: Sequence[str] = (), *,
                  recursive: bool = True) -> dict[str, Entry]:
        """Entries under `paths` (or everything) of a commit or tree, by path: what
        `git ls-tree [-r] treeish -- paths` lists. A whole-ledger listing runs ls-tree;
        anything narrower walks the trees through the store's one cat-file process."""
        wide = ("", ".", "patches", REPLACED.rstrip("/"))  # the ledger, every patch, every row
        if not paths or (recursive and any(p.strip("/") in wide for p in paths)):
            return self._ls_tree(treeish, paths, recursive)
        entries: dict[str, Entry] = {}
        for path in paths:
            self._walk(treeish, path, recursive, entries)
        return entries

    def _ls_tree(self, treeish: str, paths: Sequence[str], recursive: bool) -> dict[str, Entry]:
        args = ["ls-tree", "-z", "--full-tree"]
        if recursive:
            args.append("-r")
        out = self.run(*args, treeish, "--", *paths)
        entries = {}
        for record in out.split(b"\0"):
            if record:
                meta, _, path = record.partition(b"\t")
                mode, kind, sha = meta.decode().split(" ")
                entries[path.decode("utf-8", "surrogateescape")] = Entry(mode, kind, sha)
        return entries

    def _walk(self, treeish: str, spec: str, recursive: bool,
              entries: dict[str, Entry]) -> None:
        # ls-tree's rules: "a/" lists a folder's entries, "a" the entry itself, and
        # with recursion every file below either.
        path = spec.strip("/") if spec.strip("/") != "." else ""
        found = self.objects.read([f"{treeish}:{path}"])[0]
        if found is None or found.type != "tree" or (
                path and not (recursive or spec.endswith("/"))):
            # A file, link or submodule (or a folder listed as itself): its mode is in
            # its folder's listing.
            if path:
                folder, _, name = path.rpartition("/")
                own = (self.objects.tree(f"{treeish}:{folder}") or {}).get(name)
                if own is not None:
                    entries[path] = own
            return
        pending = [(path, parse_tree(found.data, len(found.sha) // 2))]
        while pending:
            below, listed = pending.pop()
            for name, entry in listed.items():
                full = f"{below}/{name}" if below else name
                if entry.type == "tree" and recursive:
                    pending.append((full, self.objects.tree(entry.sha) or {}))
                else:
                    entries[full] = entry

    def read_blobs(self, shas: Iterable[str]) -> dict[str, bytes]:
        """The contents of the given blobs, through the store's one cat-file process."""
        wanted = list(dict.fromkeys(shas))
        blobs = {}
        for sha, found in zip(wanted, self.objects.read(wanted), strict=True):
            if found is None:
                raise InputError(f"git object {sha} is missing from {self.root}", code="git")
            blobs[sha] = found.data
        return blobs

    def merge_base(self, one: str, other: str) -> str | None:
        """The best common ancestor of two commits; None when they share none."""
        out = self.run("merge-base", one, other, check=False).decode().strip()
        return out or None

    def is_ancestor(self, older: str, newer: str) -> bool:
        """Whether `older` is `newer` or one of its ancestors. A few first parents are
        read first: git's own answer walks the whole history of a clone without a
        commit-graph (1 s and 430 MB at 200,000 commits), and the usual question is
        whether the branch merely moved on by a few acts. They are asked for WALK_STEP
        at a time (`<commit>~<n>`), one round trip with the reader each: this is asked
        inside a race's window, where a round trip waits for the reader's turn."""
        current = newer
        for _ in range(0, SHORT_WALK, WALK_STEP):
            chain = self.objects.read([current, *(f"{current}~{n}"
                                                  for n in range(1, WALK_STEP))])
            for found in chain:
                if found is None or found.type != "commit":
                    break  # the history is cut short here: git answers
                if found.sha == older:
                    return True
                parents = _commit_parts(found.data)[1]
                if len(parents) != 1:
                    break  # a merge or the first commit: git answers
                current = parents[0]
            else:
                continue
            break
        return self._process("merge-base", "--is-ancestor", older, newer).returncode == 0

    def commit_record(self, commit: str) -> tuple[list[str], str] | None:
        """A commit's parents and message, read through the store's reader; None when
        git has no such commit."""
        found = self.objects.read([commit])[0]
        if found is None or found.type != "commit":
            return None
        _, parents, message = _commit_parts(found.data)
        return parents, message

    def added_paths(self, old: str | None, new: str) -> list[str]:
        """Paths that exist in `new` and not in `old`."""
        if old is None:
            return list(self.list_tree(new))
        out = self.run("diff-tree", "-r", "-z", "--name-only", "--no-renames",
                       "--diff-filter=A", old, new)
        return [p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p]

    def added_and_changed(self, old: str, new: str
                          ) -> tuple[dict[str, Entry], dict[str, tuple[str, Entry]]]:
        """The paths added between two commits (path -> the entry in `new`) and those
        whose content changed (path -> the blob id in `old`, and the entry in `new`),
        from one git process, with the ids and modes it prints: nothing is read again."""
        out = self.run("diff-tree", "-r", "-z", "--no-renames", "--diff-filter=AM", old, new)
        added: dict[str, Entry] = {}
        changed: dict[str, tuple[str, Entry]] = {}
        for _, mode, before, after, status, path in _diff_records(out):
            entry = Entry(mode, _KIND_OF_MODE.get(mode, "blob"), after)
            if status == "A":
                added[path] = entry
            elif status == "M":
                changed[path] = (before, entry)
        return added, changed

    def changed_under(self, old: str, new: str, prefixes: Sequence[str]) -> bool:
        """Whether any path under `prefixes` (folders end in "/") differs between two
        commits: their object ids compared through the store's reader, since this is
        asked inside a race's window, where every git process counts."""
        paths = [p.rstrip("/") for p in prefixes]
        found = self.objects.read([f"{commit}:{path}" for commit in (old, new)
                                   for path in paths])
        return any((before.sha if before else None) != (after.sha if after else None)
                   for before, after in zip(found[:len(paths)], found[len(paths):],
                                            strict=True))

    def added_newest_first(self, head: str, pattern: str) -> Iterator[str]:
        """The paths matching `pattern` (a git glob) added by the commits up to `head`,
        newest first, read from one `git log` as the caller goes; the process ends
        when the caller stops."""
        proc = subprocess.Popen(
            ["git", "-C", str(self.root), "log", "--first-parent", "--diff-filter=A",
             "--no-renames", "--name-only", "--format=", "-z", head, "--",
             f":(glob){pattern}"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, **_GIT_ENV})
        assert proc.stdout is not None
        try:
            pending = b""
            while chunk := os.read(proc.stdout.fileno(), 1 << 16):
                *names, pending = (pending + chunk).split(b"\0")
                for name in names:
                    if name.strip():
                        yield name.strip().decode("utf-8", "surrogateescape")
        finally:
            proc.kill()
            proc.stdout.close()
            proc.wait()

    def history(self, head: str, paths: Sequence[str] = ()) -> list[Commit]:
        """Every commit up to `head`, oldest first, with the paths it changed (under
        `paths` when given), in one git process."""
        out = self.run("log", "--reverse", "--no-renames", "-z", "--name-status",
                       "--format=%x01%H%x02%an%x02%ae%x02%aI%x02%P%x02%s", head, "--",
                       *paths)
        commits = []
        for chunk in out.split(b"\x01")[1:]:
            header, _, rest = chunk.partition(b"\0")
            sha, author, email, date, parents, subject = header.decode(
                "utf-8", "replace").split("\x02", 5)
            fields = [f.decode("utf-8", "surrogateescape") for f in rest.lstrip(b"\n")
                      .split(b"\0") if f]
            changes = tuple(zip(fields[::2], fields[1::2], strict=False))
            commits.append(Commit(sha, author, email, date, subject, changes,
                                  tuple(parents.split())))
        return commits

    def root_commit(self, head: str) -> str:
        """The ledger's first commit: its identity, named in every signed statement.
        Walked once per process: a ledger's first commit does not change (a rewritten
        history is refused before anything reads it), and an audit asks once per
        replayed promotion."""
        if self._root is None:
            roots = self.run("rev-list", "--max-parents=0", head).decode().split()
            self._root = sorted(roots)[0] if roots else head
        return self._root

    def blob_sha256(self, blob: str) -> str:
        """The sha256 of a blob's bytes, streamed (raw evidence can be large)."""
        digest = hashlib.sha256()
        if self.objects.stream(blob, digest.update) != "blob":
            raise InputError(f"git object {blob} is missing from {self.root}", code="git")
        return digest.hexdigest()

    def act_summary(self, commit: str) -> str | None:
        """The subject of `commit` when it is one of releasegate's acts (it only adds
        files under patches/, and writes board rows); None for any other commit."""
        out = self.run("diff-tree", "--no-commit-id", "-r", "-z", "--name-status", "--root",
                       commit)
        fields = [f.decode("utf-8", "surrogateescape") for f in out.split(b"\0") if f]
        pairs = list(zip(fields[::2], fields[1::2], strict=False))
        if not pairs or any(not (s == "A" and p.startswith("patches/"))
                            and not (s in "AM" and p.startswith(REPLACED)) for s, p in pairs):
            return None
        subject = self.run("log", "-1", "--format=%s", commit).decode().strip()
        return subject or commit[:12]

    def touched_patches(self, old: str | None, new: str) -> list[str]:
        """The patches whose folders differ between two commits."""
        if old is None:
            return sorted({p.split("/")[1] for p in self.list_tree(new, ["patches/"])})
        out = self.run("diff-tree", "-r", "-z", "--name-only", "--no-renames", old, new,
                       "--", "patches/")
        names = [p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p]
        return sorted(patch_folders(names))

    def shallow_commits(self) -> set[str]:
        """The commits where this clone's history is cut short (none unless shallow)."""
        try:
            return set((self.root / ".git" / "shallow").read_text().split())
        except OSError:
            return set()

    def is_unborn_checkout(self) -> bool:
        return not (self.root / ".git" / "index").exists()

    def read_paths(self, commit: str, paths: Sequence[str]) -> dict[str, bytes]:
        """The files at `paths` in `commit`, without listing the tree first; paths
        that do not exist there are left out."""
        found = self.objects.read([f"{commit}:{path}" for path in paths])
        return {path: got.data for path, got in zip(paths, found, strict=True)
                if got is not None and got.type == "blob"}

    def blob_ids(self, commit: str, paths: Sequence[str]) -> dict[str, str]:
        """The blob id of each of `paths` in `commit`, by path; paths that are not
        files there are left out."""
        found = self.objects.read([f"{commit}:{path}" for path in paths]) if paths else []
        return {path: got.sha for path, got in zip(paths, found, strict=True)
                if got is not None and got.type == "blob"}

    def config_values(self, prefix: str) -> dict[str, str]:
        """Every git configuration value whose key starts with `prefix`, in one process."""
        pattern = "^" + prefix.replace(".", "\\.")
        out = self.run("config", "-z", "--get-regexp", pattern, check=False)
        values = {}
        for record in out.split(b"\0"):
            if record:
                key, _, value = record.decode("utf-8", "replace").partition("\n")
                values[key] = value
        return values

    def config_value(self, key: str) -> str | None:
        out = self.run("config", "--get", key, check=False).decode().strip()
        return out or None

    # -- writes (GitPython's command wrapper) ---------------------------------------

    def _git(self) -> Any:
        if self._repo is None:
            import git

            self._repo = git.Repo(self.root)
        return self._repo.git

    def _call(self, command: str, *args: str, stdin: bytes | None = None,
              env: Mapping[str, str] | None = None, config: str | None = None) -> str:
        import tempfile

        import git

        # GitPython hands `istream` to the child process as its stdin, so it must be
        # a real file; a temporary file also keeps large inputs out of pipes.
        with tempfile.TemporaryFile() as handle:
            kwargs: dict[str, Any] = {"env": {**_GIT_ENV, **(env or {})}}
            if stdin is not None:
                handle.write(stdin)
                handle.seek(0)
                kwargs["istream"] = handle
            wrapper = self._git() if config is None else self._git()(c=config)
            try:
                result: str = getattr(wrapper, command)(*args, **kwargs)
            except git.GitCommandError as exc:
                raise _translate(command, exc) from None
        return result

    def prepare_writes(self) -> None:
        """Load GitPython and open the repository now, while the caller waits anyway."""
        self._git()

    def loose_objects(self) -> Path | None:
        """Where releasegate writes a write's objects itself (see `loose`); None
        where git writes them."""
        if self._loose is False:
            self._loose = loose.folder(self.root)
        return self._loose if isinstance(self._loose, Path) else None

    def write_blob(self, data: bytes) -> str:
        """Store `data` as a blob object and return its id."""
        stored = self._store_loose("blob", data)
        return stored or self._call("hash_object", "-w", "--stdin", stdin=data).strip()

    def _store_loose(self, kind: str, body: bytes) -> str | None:
        """The object stored as a loose object by releasegate; None where git is to
        store it, or where writing failed (a full disk, a folder not writable): then
        git tries, and its message says what is wrong."""
        objects = self.loose_objects()
        if objects is None:
            return None
        try:
            return loose.store(objects, kind, body)
        except OSError:
            self._loose = None
            return None

    def prehash(self, path: Path) -> None:
        """Start storing a large file as a blob now, on the other core, while the
        caller parses it; `write_blob_file` collects the result. Storing an object is
        harmless if the write never happens (git collects unreachable objects)."""
        resolved = path.resolve()
        if resolved not in self._pending:
            self._pending[resolved] = subprocess.Popen(
                ["git", "-C", str(self.root), "hash-object", "-w", "--", str(resolved)],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                env={**os.environ, **_GIT_ENV})

    def write_blob_file(self, path: Path) -> str:
        """Store the file at `path` as a blob, streamed by git, and return its id."""
        resolved = path.resolve()
        pending = self._pending.pop(resolved, None)
        if pending is not None:
            out, _ = pending.communicate()
            if pending.returncode == 0 and out.strip():
                return out.decode().strip()
        return self._call("hash_object", "-w", "--", str(resolved)).strip()

    def build_tree(self, base: str | None, changes: Mapping[str, str]) -> str:
        """A new tree: `base` with each path in `changes` set to the given blob.

        Only the trees on the changed paths are rebuilt, listed with one git process,
        so the cost does not grow with the size of the ledger.
        """
        import tempfile

        trees: list[tuple[str, bytes]] = []  # (id, tree object), children first
        top = self._rebuilt(base, "", changes, trees)
        if len(top) == 40 and all(self._store_loose("tree", raw) for _, raw in trees):
            return top
        # All of them stored by one git process, from files: hashing a tree's bytes
        # costs the same whatever its size, where `git mktree` looks up every entry
        # (78 ms for the patches folder of 10,000 patches, against 3 ms).
        with tempfile.TemporaryDirectory(prefix="releasegate-trees-") as folder:
            for tree_id, raw in trees:
                (Path(folder) / tree_id).write_bytes(raw)
            listed = "\n".join(str(Path(folder) / tree_id) for tree_id, _ in trees)
            made = self._call("hash_object", "-w", "-t", "tree", "--stdin-paths",
                              stdin=listed.encode()).split()
        if made != [tree_id for tree_id, _ in trees]:
            raise InputError("git made other tree ids than releasegate computed for this "
                             "write; nothing was recorded", code="git")
        return top

    def folder_id_after(self, base: str | None, folder: str, changes: Mapping[str, str]) -> str:
        """The id `folder` will have once `changes` (paths below it -> blob ids) are
        committed on `base`; nothing is stored."""
        return self._rebuilt(base, folder, {path[len(folder) + 1:]: sha
                                            for path, sha in changes.items()}, [])

    def _rebuilt(self, base: str | None, folder: str, changes: Mapping[str, str],
                 trees: list[tuple[str, bytes]]) -> str:
        """The id of `folder` of `base` with `changes` (paths relative to it), the
        folders on their way read in one go; the new tree objects go to `trees`."""
        folders = {folder}
        for path in changes:
            parts = [*([folder] if folder else []), *path.split("/")[:-1]]
            folders.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
        listing = self._list_folders(base, folders) if base else {}
        return self._build(listing, folder, changes, trees)

    def _list_folders(self, commit: str, folders: set[str]) -> dict[str, dict[str, Entry]]:
        # Each folder on the changed paths, read as a tree through the one reader (a
        # folder not there yet is empty); entries by name, as the rebuild needs them.
        names = sorted(folders)
        found = self.objects.read([f"{commit}:{f}" if f else f"{commit}^{{tree}}"
                                   for f in names])
        return {f: parse_tree(got.data, len(got.sha) // 2)
                if got is not None and got.type == "tree" else {}
                for f, got in zip(names, found, strict=True)}

    def _build(self, listing: Mapping[str, Mapping[str, Entry]], folder: str,
               changes: Mapping[str, str], trees: list[tuple[str, bytes]]) -> str:
        """The id of `folder` rebuilt with `changes`, computed here as git computes it;
        the tree object (and those below it, first) is added to `trees` to store."""
        entries = dict(listing.get(folder, {}))
        files: dict[str, str] = {}
        subtrees: dict[str, dict[str, str]] = {}
        for path, sha in changes.items():
            head, _, rest = path.partition("/")
            if rest:
                subtrees.setdefault(head, {})[rest] = sha
            else:
                files[head] = sha
        for name, sha in files.items():
            entries[name] = Entry("100644", "blob", sha)
        for name, sub in subtrees.items():
            below = f"{folder}/{name}" if folder else name
            entries[name] = Entry("040000", "tree", self._build(listing, below, sub, trees))
        tree_id, raw = tree_object(entries)
        trees.append((tree_id, raw))
        return tree_id

    def commit(self, tree: str, parent: str | None, message: str, who: Author) -> str:
        """A commit of `tree` on top of `parent`, authored by `who`."""
        line = loose.ident(who.name, who.email)
        if line is not None and len(tree) == 40 and not loose.dated_by_environment():
            stored = self._store_loose("commit", loose.commit_body(tree, parent, line,
                                                                   message))
            if stored is not None:
                return stored
        env = {"GIT_AUTHOR_NAME": who.name, "GIT_AUTHOR_EMAIL": who.email,
               "GIT_COMMITTER_NAME": who.name, "GIT_COMMITTER_EMAIL": who.email}
        parents = ["-p", parent] if parent else []
        return self._call("commit_tree", tree, *parents, stdin=message.encode(), env=env).strip()

    def compare_and_swap(self, ref: str, new: str, old: str | None, reason: str) -> bool:
        """Point `ref` at `new` only if it still points at `old`; False when it moved.

        Any other failure (a hook refusing, a read-only or immutable ref) raises, so
        it is reported for what it is rather than retried as a race."""
        try:
            self._call("update_ref", "-m", reason, ref, new, old or ZERO)
        except BranchLocked as exc:
            lock = self.root / ".git" / f"{ref}.lock"
            raise BranchLocked(f"git's lock file {lock} on the ledger's branch exists",
                               hint="another git process is moving the branch; if none is "
                                    f"running, one that was killed left it: remove {lock}, "
                                    "then retry") from exc
        except ContentionError:
            return False
        return True

    def fetch(self, remote: str, merge: str) -> str | None:
        """Fetch `merge` from `remote`; the commit it points at, None if it has none.

        The commit lands in a ref of this process's own, not in FETCH_HEAD or the
        remote-tracking branch, so two commands fetching at once in one clone never
        contend for a lock. A fetch is inside a race's window, where every process
        counts: git is asked for no tags, submodules or upkeep, and the refs are put
        right by `settle_fetches` once the race is over. The claims on turns come
        with it (`self.turns`), and the acts other writers handed on (`self.pending`,
        name -> commit; `handoff`).

        It speaks git's original wire protocol: a ledger's remote has a few refs, so
        having them all advertised costs nothing, and it saves version 2's separate
        round trip for listing them (over `git daemon` on loopback, a fetch went from
        52 ms to 7 ms; benchmarks/README.md)."""
        name = f"{os.getpid()}-{os.urandom(4).hex()}"
        private = f"{FETCHED}{name}"
        self.turns, self.pending, self.fetched_head = [], {}, None
        try:
            self._call("fetch", "-q", "--no-write-fetch-head", "--refmap=", "--no-tags",
                       "--no-recurse-submodules", "--no-auto-maintenance",
                       "--no-show-forced-updates", remote, f"+{merge}:{private}",
                       f"+{turns.PREFIX}*:{private}-turn-*",
                       f"+{handoff.PREFIX}*:{private}-pending-*", config=PROTOCOL)
        except InputError as exc:
            if "couldn't find remote ref" in exc.message:
                return None
            raise TransientError(f"the shared ledger {remote} is unreachable: {exc.message}",
                                 code="unreachable", hint="retry when it is back") from None
        claims = self._fetched_refs(f"{name}-turn-")
        self.turns = [ref.removeprefix(f"{private}-turn-") for ref in claims]
        handed = self._fetched_refs(f"{name}-pending-")
        found, *acts = self.objects.read([private, *handed])
        self.pending = {ref.removeprefix(f"{private}-pending-"): act.sha
                        for ref, act in zip(handed, acts, strict=True)
                        if act is not None and act.type == "commit"}
        commit = found.sha if found is not None and found.type == "commit" else None
        self.fetched_head = commit
        self._fetched += [private, *claims, *handed]
        self._tracking = (f"refs/remotes/{remote}/{merge.removeprefix('refs/heads/')}",
                          commit) if commit is not None else None
        return commit

    def remote_turns(self, remote: str) -> list[str] | None:
        """The claims on turns `remote` holds, asked without fetching anything; None
        when it cannot say."""
        refs = self._remote_refs(remote, f"{turns.PREFIX}*")
        return None if refs is None else [ref.removeprefix(turns.PREFIX) for ref in refs
                                          if ref.startswith(turns.PREFIX)]

    def has_remote_ref(self, remote: str, ref: str) -> bool | None:
        """Whether `remote` holds `ref`, asked without fetching anything; None when it
        cannot say."""
        refs = self._remote_refs(remote, ref)
        return None if refs is None else ref in refs

    def _remote_refs(self, remote: str, pattern: str) -> list[str] | None:
        """The names of the refs `remote` holds that match `pattern` (`git ls-remote`);
        None when it cannot say."""
        proc = self._process("-c", PROTOCOL, "ls-remote", "--refs", remote, pattern)
        if proc.returncode != 0:
            return None
        return [line.partition(b"\t")[2].decode("utf-8", "replace")
                for line in proc.stdout.splitlines()]

    def handed_on(self, shas: Sequence[str]) -> dict[str, HandedOn]:
        """The acts in commits other writers handed on, by commit: each one's parent,
        author, message and the files it adds or replaces (path -> blob id). A commit
        that is not one act on one parent, or that deletes or changes anything but a
        board row, or that adds anything but a file, is left out, as is one whose
        parent this clone lacks (a shallow clone)."""
        # The commits and their parents' trees in one round trip: this is asked inside
        # a race's window, where a round trip waits for the reader's turn.
        got = self.objects.read([*shas, *(f"{sha}^^{{tree}}" for sha in shas)])
        commits = {sha: found for sha, found, below
                   in zip(shas, got[:len(shas)], got[len(shas):], strict=True)
                   if found is not None and found.type == "commit"
                   and below is not None and below.type == "tree"}
        if not commits:
            return {}
        # One git process for them all: walking their trees through the reader, a round
        # trip a level, kept writers waiting longer.
        proc = self._process("diff-tree", "--stdin", "-r", "-z", "--no-renames",
                             input="".join(f"{sha}\n" for sha in commits).encode())
        if proc.returncode != 0:  # an object git cannot read: none taken
            return {}
        changes: dict[str, dict[str, str]] = {}
        refused: set[str | None] = set()
        for commit, mode, _, blob, status, path in _diff_records(proc.stdout):
            if commit is None or mode != "100644" or not (
                    status == "A" or (status == "M" and path.startswith(REPLACED))):
                refused.add(commit)
                continue
            changes.setdefault(commit, {})[path] = blob
        found: dict[str, HandedOn] = {}
        for sha, record in commits.items():
            if sha in refused or not changes.get(sha):
                continue
            header, parents, message = _commit_parts(record.data)
            author = _author(header)
            if len(parents) == 1 and author is not None:
                found[sha] = HandedOn(parents[0], author, message, changes[sha])
        return found

    def settle_fetches(self) -> None:
        """After the race: drop this process's fetched refs, point the remote-tracking
        branch at the newest commit fetched (for the person reading `git status`),
        with one git process, and let git do the upkeep a fetch would have done."""
        if not self._fetched:
            return
        fetched, self._fetched = self._fetched, []
        tracking, self._tracking = self._tracking, None
        deletes = "".join(f"delete {private}\n" for private in [*fetched, *self._orphans()])
        updates = deletes + (f"update {tracking[0]} {tracking[1]}\n" if tracking else "")
        if self._process("update-ref", "-m", "releasegate: fetched", "--stdin",
                         input=updates.encode()).returncode != 0:  # the tracking ref is busy
            self._process("update-ref", "--stdin", input=deletes.encode())
        self._process("maintenance", "run", "--auto", "--quiet")

    def _fetched_refs(self, start: str = "") -> list[str]:
        """The fetched refs whose name (below FETCHED) starts with `start`, as git
        wrote them (loose), claims with a `/` in their name included."""
        folder = self.root / ".git" / FETCHED
        found = []
        for at, _, files in os.walk(folder):
            below = Path(at).relative_to(folder).as_posix()
            for file in files:
                name = file if below == "." else f"{below}/{file}"
                if name.startswith(start) and not name.endswith(".lock"):
                    found.append(f"{FETCHED}{name}")
        return sorted(found)

    def _orphans(self) -> list[str]:
        """Fetched refs left by releasegate commands killed during their race (their
        process is gone): they would keep what they fetched alive for nothing."""
        orphans = []
        for ref in self._fetched_refs():
            pid = ref.removeprefix(FETCHED).split("-", 1)[0]
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                orphans.append(ref)
            except OSError:
                pass  # alive, someone else's
        return orphans

    def push(self, remote: str, ref: str, merge: str,
             deleting: Mapping[str, str] | None = None) -> None:
        """Push `ref` to `merge` on `remote`, and with it delete the refs `deleting`
        (ref -> the commit each must still point at), all or nothing. ContentionError
        when someone was first (or one of those refs moved or is gone); InputError when
        the remote refuses for good (a protected branch, a hook, a checked-out branch),
        quoting its reason; TransientError when unreachable."""
        import git

        leases = [f"--force-with-lease={name}:{sha}" for name, sha in (deleting or {}).items()]
        atomic = ["--atomic", *leases] if leases else []
        try:
            self._git().push("-q", "--porcelain", *atomic, remote, f"{ref}:{merge}",
                             *(f":{name}" for name in deleting or {}), env=dict(_GIT_ENV))
        except git.GitCommandError as exc:
            if leases and "not support --atomic" in _raw(exc.stderr):
                raise NoAtomicPush(f"{remote} does not take atomic pushes") from None
            raise _push_failure(remote, _raw(exc.stdout), _raw(exc.stderr)) from None
        self._tracking = None  # git moved the remote-tracking branch to what it pushed

    def hand_on(self, remote: str, commit: str, ref: str) -> bool:
        """Push `commit` to the new ref `ref` on a remote that takes atomic pushes (the
        only kind that may land it; `handoff`); False, and nothing said, when it would
        not."""
        return self.push_refs(remote, [f"{commit}:{ref}"], ["--atomic"])

    def withdraw(self, remote: str, ref: str, commit: str) -> bool:
        """Delete `ref` on `remote` if it still points at `commit`; False when it does
        not (it is gone: landed or dropped by another writer) or the remote cannot be
        reached."""
        return self.push_refs(remote, [f":{ref}"], [f"--force-with-lease={ref}:{commit}"])

    def push_refs(self, remote: str, specs: Sequence[str],
                  options: Sequence[str] = ()) -> bool:
        """Push refspecs outside the branch (claims on turns, acts handed on, made or
        deleted), with git push's `options`: False, and nothing said, when the remote
        would not take all of them. A push that makes a ref asks the remote what it
        holds first (NEGOTIATE); one that only deletes sends nothing to ask about."""
        import git

        makes = any(not spec.startswith(":") for spec in specs)
        wrapper = self._git()(c=NEGOTIATE) if makes else self._git()
        try:
            wrapper.push("-q", "--porcelain", *options, remote, *specs, env=dict(_GIT_ENV))
        except git.GitCommandError:
            return False
        return True

    def indexed_paths(self, paths: Sequence[str]) -> set[str]:
        """Which of `paths` the index holds."""
        if not paths:
            return set()
        out = self.run("ls-files", "-z", "--cached", "--", *(f":(literal){p}" for p in paths))
        return {p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p}

    def unstage_paths(self, paths: Sequence[str]) -> None:
        """Take `paths` out of the index."""
        if paths:
            listing = "".join(f"0 {ZERO}\t{path}\n" for path in paths)
            self._call("update_index", "--index-info", stdin=listing.encode(),
                       env=self._index_env())

    def stage_paths(self, blobs: Mapping[str, str]) -> None:
        """Bring the index in step for `blobs` (path -> blob id), whose files are
        already on disk and in the object store: nothing is hashed again."""
        if blobs:
            listing = "".join(f"100644 {sha}\t{path}\n" for path, sha in blobs.items())
            self._call("update_index", "--add", "--index-info", stdin=listing.encode(),
                       env=self._index_env())

    def _index_env(self) -> dict[str, str]:
        """For a large index, git's split index: an update then writes the few entries
        it changes instead of the whole index (on 10,000 patches, 40 MB and 300,000
        entries, about 0.16 s of each write); small indexes stay as git keeps them."""
        try:
            size = (self.root / ".git" / "index").stat().st_size
        except OSError:
            return {}
        if size < SPLIT_INDEX_AT:
            return {}
        return {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "core.splitIndex",
                "GIT_CONFIG_VALUE_0": "true"}


_KIND_OF_MODE = {"040000": "tree", "160000": "commit"}  # git's modes; files are blobs
_MOVED = ("but expected", "reference already exists", "is at ")
_RACES = ("non-fast-forward", "fetch first", "stale info", "cannot lock ref",
          "failed to update ref", "incorrect old value", "atomic transaction failed")


def _diff_records(out: bytes) -> Iterator[tuple[str | None, str, str, str, str, str]]:
    """The records of `git diff-tree -r -z` in its raw form: (the commit they belong
    to, from `--stdin`'s id lines, else None; the new mode; the old and the new blob
    id; the status letter; the path). A record that cannot be read has status "?"."""
    fields = out.split(b"\0")
    commit = None
    at = 0
    while at < len(fields):
        field = fields[at].decode("utf-8", "surrogateescape")
        at += 1
        if not field:
            continue
        if not field.startswith(":"):
            commit = field.strip()
            continue
        path = fields[at].decode("utf-8", "surrogateescape") if at < len(fields) else ""
        at += 1
        parts = field[1:].split(" ")
        if len(parts) != 5 or not path:
            yield commit, "", "", "", "?", path
            continue
        _, mode, before, after, status = parts
        yield commit, mode, before, after, status, path


def _commit_parts(data: bytes) -> tuple[str, list[str], str]:
    """A commit object's header, parents and message."""
    header, _, message = data.decode("utf-8", "replace").partition("\n\n")
    return header, [line[7:] for line in header.splitlines()
                    if line.startswith("parent ")], message


def _author(header: str) -> Author | None:
    """The author a commit's header names (its name and e-mail), if it names one."""
    for line in header.splitlines():
        if line.startswith("author "):
            name, _, rest = line[7:].partition(" <")
            email = rest.partition(">")[0]
            return Author(name, email) if name and email else None
    return None


def one_line(text: str, limit: int = 300) -> str:
    """git's message in one line: its `fatal:`/`error:` lines (else every line), joined,
    with whitespace and control characters folded."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith("hint:")]
    marked = [line.split(":", 1)[1].strip() for line in lines
              if line.startswith(("fatal:", "error:"))]
    joined = "; ".join(marked or lines)
    joined = "".join(c if c.isprintable() else " " for c in joined)
    return joined if len(joined) <= limit else joined[:limit - 1] + "…"


def _translate(command: str, exc: Any) -> Exception:
    raw = "\n".join(str(getattr(exc, name, "") or "") for name in ("stderr", "stdout"))
    stderr = one_line(raw)
    if command == "update_ref":
        if any(mark in raw for mark in _MOVED):
            return ContentionError(f"the ledger moved while writing: {stderr}")
        if ".lock': File exists" in raw:
            return BranchLocked(f"another git process held the branch's lock: {stderr}")
        return InputError(f"git could not move the ledger's branch: {stderr}",
                          code="ref-refused",
                          hint="check that the ledger's .git folder is writable and that no "
                               "git hook refuses ref updates; nothing was recorded")
    if "index.lock" in raw or ".lock" in raw:
        return TransientError(f"the ledger is locked by another git process: {stderr}",
                              code="locked", hint="retry when the other git command ended")
    if "No space left" in raw:
        return TransientError(f"no space left on the ledger's disk: {stderr}", code="disk-full")
    return InputError(f"git {command.replace('_', '-')} failed: {stderr}", code="git")


def _raw(text: object) -> str:
    """What git printed, without GitPython's `stderr: '...'` wrapping."""
    out = str(text or "")
    for label in ("stdout: '", "stderr: '"):
        if label in out:
            out = out.split(label, 1)[1].rstrip().removesuffix("'")
    return out


def _push_failure(remote: str, stdout: str, stderr: str) -> Exception:
    refused = [line.split("\t")[-1] for line in stdout.splitlines() if line.startswith("!")]
    # In an atomic push, the refs refused only because another one was come first.
    refused = [line for line in refused if "(atomic push failed)" not in line] or refused
    refused.sort(key=lambda line: not any(race in line for race in _RACES))
    said = [line.removeprefix("remote:").strip() for line in stderr.splitlines()
            if line.startswith("remote:") and line.removeprefix("remote:").strip()]
    if not refused:
        return TransientError(f"could not push to the shared ledger {remote}: "
                              f"{one_line(stderr)}", code="unreachable",
                              hint="retry when it is back")
    summary = refused[0]
    if any(race in summary for race in _RACES):
        return ContentionError(f"{remote} moved: {one_line(summary)}")
    if summary.startswith("[remote failure]"):
        return TransientError(f"the shared ledger {remote} failed to take the push: "
                              f"{one_line(summary)}", code="unreachable",
                              hint="retry when it is back")
    reason = summary.split("(", 1)[-1].rstrip(")") if "(" in summary else summary
    quoted = one_line("; ".join([reason, *said]))
    return InputError(f"the shared ledger {remote} refused the push: {quoted}; nothing was "
                      "recorded", code="push-refused",
                      hint="a person must change the remote's rules (a protected branch, a "
                           "hook) or point the ledger at a remote it may push to")


def init_repository(root: Path, branch: str = "main") -> GitStore:
    """A new git repository at `root` (created if needed) with `branch` unborn."""
    root.mkdir(parents=True, exist_ok=True)
    store = GitStore(root)
    store.run("init", "-q", "-b", branch)
    return store


def tree_object(entries: Mapping[str, Entry]) -> tuple[str, bytes]:
    """The id git gives a tree of `entries` (name -> entry), and the tree's bytes: its
    entries in git's order (a folder sorts as if its name ended in "/"), modes without
    leading zeros, ids raw; sha1, or sha256 in a repository of that object format."""
    def order(name: str) -> bytes:
        return (name + "/" if entries[name].type == "tree" else name).encode()

    body = b"".join(entries[name].mode.lstrip("0").encode() + b" " + name.encode() + b"\0"
                    + bytes.fromhex(entries[name].sha) for name in sorted(entries, key=order))
    first = next(iter(entries.values()), None)
    algorithm = "sha256" if first is not None and len(first.sha) == 64 else "sha1"
    return hashlib.new(algorithm, b"tree %d\0" % len(body) + body).hexdigest(), body


def git_blob_id(data: bytes) -> str:
    """The id git gives a blob of `data`, to compare the working tree cheaply."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def git_file_id(path: Path) -> str:
    """The id git gives a blob of the file at `path`, read in pieces."""
    digest = hashlib.sha1(b"blob %d\0" % path.stat().st_size)
    with path.open("rb") as stream:
        for piece in iter(lambda: stream.read(1 << 20), b""):
            digest.update(piece)
    return digest.hexdigest()
