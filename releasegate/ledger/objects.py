"""The git adapter's reader: one `git cat-file --batch` process per repository, kept
for the life of the store, that every object read of a command goes through.

A command reads blobs, trees and files by path (`<commit>:<path>`) by writing their
names to the process and reading the answers, so the number of git processes a
command starts does not grow with how much of the ledger it reads. Names are sent in
chunks smaller than a pipe's buffer, so writing never waits on git's output.
Object ids name immutable content; refs are resolved elsewhere, never here, since a
long-lived process may hold a stale view of them.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from releasegate.core.errors import InputError

CHUNK = 16 * 1024  # bytes of names written before reading the answers
STREAM = 1 << 20  # bytes read at a time from a large blob
_TYPES = {b"blob", b"tree", b"commit", b"tag"}


@dataclass(frozen=True)
class Found:
    """One object: its id, its type and its bytes."""

    sha: str
    type: str
    data: bytes


@dataclass(frozen=True)
class Entry:
    """One entry of a tree, as `git ls-tree` prints it."""

    mode: str  # six digits
    type: str  # blob, tree or commit (a submodule)
    sha: str


class ObjectReader:
    """Reads objects through one `git cat-file --batch` of the repository at `root`,
    started on first use and ended with the reader (or the interpreter)."""

    def __init__(self, root: Path, env: Mapping[str, str]) -> None:
        self.root = root
        self._env = dict(env)
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self.started = 0  # processes started, for the benchmarks

    def read(self, names: Sequence[str]) -> list[Found | None]:
        """Each named object (an id, or `<commit>:<path>`), None where git has none."""
        answers: list[Found | None] = []
        with self._lock:
            for chunk in _chunks(names):
                answers += self._ask(chunk, None)
        return answers

    def stream(self, name: str, sink: Callable[[bytes], None]) -> str | None:
        """Feed the named object's bytes to `sink` a megabyte at a time, without
        holding them all; its type, or None where git has none."""
        with self._lock:
            found = self._ask([name], sink)[0]
        return found.type if found is not None else None

    def tree(self, name: str) -> dict[str, Entry] | None:
        """The entries of the named tree, by name; None when it is not a tree."""
        found = self.read([name])[0]
        return parse_tree(found.data, len(found.sha) // 2) \
            if found is not None and found.type == "tree" else None

    def close(self) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is not None:
            _end(proc)

    # -- the conversation ---------------------------------------------------------

    def _ask(self, names: Sequence[str], sink: Callable[[bytes], None] | None
             ) -> list[Found | None]:
        proc = self._process()
        assert proc.stdin is not None and proc.stdout is not None
        # A name with a line break would be read as two; no object has one.
        asked = [n for n in names if "\n" not in n and n]
        try:
            proc.stdin.write("".join(f"{n}\n" for n in asked).encode("utf-8",
                                                                     "surrogateescape"))
            proc.stdin.flush()
            got = {}
            for name in asked:
                got[name] = self._answer(proc.stdout, sink)
        except (BrokenPipeError, ValueError, OSError) as exc:
            self._abandon()
            raise InputError(f"git cat-file stopped answering in {self.root}: {exc}",
                             code="git") from None
        return [got.get(n) for n in names]

    def _answer(self, out: IO[bytes], sink: Callable[[bytes], None] | None) -> Found | None:
        header = out.readline()
        if not header.endswith(b"\n"):
            raise OSError("the process ended")
        parts = header.split()
        if len(parts) != 3 or parts[1] not in _TYPES:
            return None  # "<name> missing", "ambiguous" and the like
        size = int(parts[2])
        if sink is None:
            data = _exactly(out, size)
        else:
            left = size
            while left:
                piece = _exactly(out, min(left, STREAM))
                sink(piece)
                left -= len(piece)
            data = b""
        if out.read(1) != b"\n":
            raise OSError("an answer was cut short")
        return Found(parts[0].decode(), parts[1].decode(), data)

    def _process(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            try:
                self._proc = subprocess.Popen(
                    ["git", "-C", str(self.root), *_BOUNDED, "cat-file", "--batch"],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL, env={**os.environ, **self._env})
            except FileNotFoundError:
                raise InputError("git is not installed or not on PATH",
                                 hint="install git 2.30 or newer") from None
            self.started += 1
            weakref.finalize(self, _end, self._proc)
        return self._proc

    def _abandon(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.kill()
            _end(proc)


def parse_tree(data: bytes, id_bytes: int) -> dict[str, Entry]:
    """A tree object's entries by name: `<mode> <name>\\0<id>` one after another."""
    entries, pos, end = {}, 0, len(data)
    pattern = _ENTRY[id_bytes]
    while pos < end:  # matched one entry after the other, each where the last ended
        found = pattern.match(data, pos)
        if found is None:
            raise ValueError("not a tree object")
        mode, name, raw = found.groups()
        kind = _KINDS.get(mode, "blob")
        entries[name.decode("utf-8", "surrogateescape")] = Entry(
            _MODES.get(mode) or mode.decode().zfill(6), kind, raw.hex())
        pos = found.end()
    return entries


_ENTRY = {size: re.compile(rb"([0-7]+) ([^\0]*)\0(.{%d})" % size, re.DOTALL) for size in (20, 32)}
_KINDS = {b"40000": "tree", b"160000": "commit"}
_MODES = {b"100644": "100644", b"40000": "040000", b"100755": "100755", b"120000": "120000",
          b"160000": "160000"}


def _chunks(names: Sequence[str]) -> list[Sequence[str]]:
    chunks: list[Sequence[str]] = []
    start, size = 0, 0
    for i, name in enumerate(names):
        size += len(name) + 1
        if size > CHUNK:
            chunks.append(names[start:i + 1])
            start, size = i + 1, 0
    if start < len(names):
        chunks.append(names[start:])
    return chunks


def _exactly(out: IO[bytes], size: int) -> bytes:
    data = out.read(size)
    if len(data) != size:
        raise OSError("an answer was cut short")
    return data


# A reader that goes through a whole ledger's pack would otherwise keep every part of
# it mapped (git's default allows 8 GB) and count it as its own memory.
_BOUNDED = ("-c", "core.packedGitLimit=64m", "-c", "core.packedGitWindowSize=8m",
            "-c", "core.deltaBaseCacheLimit=16m")


def _end(proc: subprocess.Popen[bytes]) -> None:
    for stream in (proc.stdin, proc.stdout):
        try:
            if stream is not None:
                stream.close()
        except OSError:
            pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
