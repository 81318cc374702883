"""Artifact hashing: the patch digest anyone can recompute with coreutils.

The digest is "sha256:" + the sha256 of a `sha256sum`-style listing: one line
"<hex>  <base name>\\n" per artifact, sorted by name.

Every file a user names (a manifest, an artifact, an answers file, a JUnit file) is
opened here, by `open_regular`: only a regular file is read (a symlink to one is
fine), so /dev/zero, a FIFO without a writer or a directory is refused at once
instead of being read without end or waited on for ever.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from releasegate.core.errors import InputError
from releasegate.core.model import Artifact

_CHUNK = 1024 * 1024


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a named pipe"),
          (stat.S_ISSOCK, "a socket"))
# Not blocking in open(): a FIFO without a writer would wait for one. No controlling
# terminal either, should the path name one.
_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))


def open_regular(path: Path, what: str, *, display: str | None = None) -> BinaryIO:
    """`path` opened for reading in binary, if it is a regular file.

    The file is opened without blocking and checked with fstat on the opened
    descriptor, so nothing can change between the check and the reads. Anything else
    raises InputError naming `display` (default: the path) and saying what it is;
    `what` says which file it was ("manifest", "artifact", ...).
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:  # a socket cannot be opened: say what it is all the same
        raise _unreadable(display or str(path), what,
                          _kind_at(path) or exc.strerror or str(exc)) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _unreadable(display or str(path), what, _describe(mode))
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: Path, what: str, max_bytes: int, *,
                 display: str | None = None) -> bytes:
    """The bytes of the regular file at `path`, refused once over `max_bytes`; the
    limit holds while reading too, should the file grow."""
    file = display or str(path)
    try:
        with open_regular(path, what, display=display) as handle:
            size = os.fstat(handle.fileno()).st_size
            data = b"" if size > max_bytes else handle.read(max_bytes + 1)
    except OSError as exc:
        raise _unreadable(file, what, exc.strerror or str(exc)) from None
    if size > max_bytes or len(data) > max_bytes:
        raise InputError(f"the {what} is {max(size, len(data))} bytes, over the limit of "
                         f"{max_bytes} bytes; split it, or leave bulky data out of it",
                         file=file, code="too-large")
    return data


def _unreadable(file: str, what: str, reason: str) -> InputError:
    return InputError(f"cannot read the {what} ({reason}); check the path and its "
                      "permissions", file=file, code="unreadable-file")


def _describe(mode: int) -> str:
    kind = next((name for test, name in _KINDS if test(mode)), "something else")
    return f"it is {kind}, not a regular file"


def _kind_at(path: Path) -> str | None:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    return None if stat.S_ISREG(mode) else _describe(mode)


def file_sha256(path: Path, what: str = "file") -> tuple[str, int]:
    """The sha256 (hex) and size of a regular file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    try:
        with open_regular(path, what) as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except OSError as exc:
        raise _unreadable(str(path), what, exc.strerror or str(exc)) from None
    return digest.hexdigest(), size


def hash_artifacts(paths: Sequence[Path]) -> tuple[str, tuple[Artifact, ...]]:
    """The patch digest and the artifacts (name, size, sha256), sorted by name."""
    if not paths:
        raise InputError("a patch needs at least one artifact",
                         hint="list them under 'artifacts' in the manifest or pass --artifact",
                         code="no-artifacts")
    artifacts: dict[str, Artifact] = {}
    for path in paths:
        if path.name in artifacts:
            raise InputError(f"two artifacts are named {path.name}; names must be unique "
                             "because the digest lists base names", file=str(path),
                             code="duplicate-artifact")
        if not path.exists():
            raise InputError(f"artifact {path} does not exist", file=str(path),
                             code="unreadable-file", hint="check the path")
        sha, size = file_sha256(path, "artifact")
        artifacts[path.name] = Artifact(path.name, size, sha)
    ordered = tuple(artifacts[name] for name in sorted(artifacts))
    return digest_of(ordered), ordered


def digest_of(artifacts: Sequence[Artifact]) -> str:
    listing = "".join(f"{a.sha256}  {a.name}\n" for a in sorted(artifacts, key=lambda a: a.name))
    return "sha256:" + hashlib.sha256(listing.encode("utf-8")).hexdigest()
