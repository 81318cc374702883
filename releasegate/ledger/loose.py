"""Objects a write stores, written by releasegate itself as git's loose objects.

A write's blobs, trees and commit used to take one git process each kind; inside a
race's window (between the fetch of the shared ledger and the push) every process
counts, and on two busy cores each costs 10 to 15 ms. A loose object is the object's
header and bytes, zlib-compressed, in `.git/objects/xx/yyyy...`, named by the hash
of what it holds, so writing one is as safe as git's own: the file appears whole, by
a rename, or not at all, and a name can only ever hold the same bytes.

Only where git would do exactly the same is this used: a plain `.git` folder whose
objects are not redirected (`GIT_OBJECT_DIRECTORY`), not shared between users
(`core.sharedRepository`, which sets other file modes), in git's default object
format, and for commits, no date forced through the environment. Elsewhere the
store asks git, as before.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

# Settings under which git would write objects otherwise than below: releasegate
# leaves those repositories to git.
_OTHERWISE = ("sharedrepository", "objectformat", "compression", "fsync")
# What git strips from both ends of a name or address in a commit (its "crud").
_CRUD = frozenset(" .,:;<>\"\\'")


def folder(root: Path) -> Path | None:
    """The folder of loose objects of the clone at `root`, when releasegate may write
    there itself; None to leave the writing to git."""
    if os.environ.get("GIT_OBJECT_DIRECTORY") or os.environ.get("GIT_DIR"):
        return None
    objects = root / ".git" / "objects"
    try:
        settings = (root / ".git" / "config").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if any(word in settings.lower() for word in _OTHERWISE) or not objects.is_dir() \
            or objects.is_symlink():
        return None
    return objects


def store(objects: Path, kind: str, body: bytes) -> str:
    """Write one object (`kind`: blob, tree or commit) and return its id."""
    import tempfile  # here, not at start-up: read-only commands never write objects
    import zlib

    raw = b"%s %d\0" % (kind.encode(), len(body)) + body
    sha = hashlib.sha1(raw).hexdigest()
    target = objects / sha[:2] / sha[2:]
    if target.is_file():
        return sha
    target.parent.mkdir(exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix="tmp_obj_")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(zlib.compress(raw, 1))
        os.chmod(temporary, 0o444)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return sha


def dated_by_environment() -> bool:
    """Whether the environment forces a commit's dates, which git then honours."""
    return bool(os.environ.get("GIT_AUTHOR_DATE") or os.environ.get("GIT_COMMITTER_DATE"))


def ident(name: str, email: str, when: float | None = None) -> str | None:
    """A commit's `Name <email> seconds +zone` as git writes it: crud stripped from
    both ends, and the characters that delimit the line taken out. None where git
    would refuse the name (empty once cleaned)."""
    name, email = _clean(name), _clean(email)
    if not name:
        return None
    moment = int(time.time() if when is None else when)
    offset = time.localtime(moment).tm_gmtoff // 60
    sign = "-" if offset < 0 else "+"
    return f"{name} <{email}> {moment} {sign}{abs(offset) // 60:02d}{abs(offset) % 60:02d}"


def commit_body(tree: str, parent: str | None, author: str, message: str) -> bytes:
    """A commit's bytes: its tree, parent, author and committer, and the message as
    given (as `git commit-tree` takes it from its input)."""
    lines = [f"tree {tree}", *([f"parent {parent}"] if parent else []),
             f"author {author}", f"committer {author}"]
    return ("\n".join(lines) + "\n\n").encode() + message.encode()


def _clean(text: str) -> str:
    start, end = 0, len(text)
    while start < end and (text[start] in _CRUD or ord(text[start]) <= 32):
        start += 1
    while end > start and (text[end - 1] in _CRUD or ord(text[end - 1]) <= 32):
        end -= 1
    return "".join(c for c in text[start:end] if c not in "\n<>")
