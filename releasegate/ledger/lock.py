"""One writer at a time in one clone: a release manager's terminal and a CI job that
share a workspace wait for each other instead of failing on git's own locks.

The lock is an advisory `flock` on `.git/releasegate/write.lock`, so the kernel
releases it when its holder dies, even by SIGKILL; nothing stale is ever left behind.
Writers in different clones do not share it: they meet at the remote, where the
optimistic transaction settles who was first.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import TracebackType

from releasegate.core.errors import TransientError

WAIT = float(os.environ.get("RELEASEGATE_LOCK_WAIT", "300"))  # seconds, at most

_HELD: dict[Path, int] = {}  # lock file -> depth held by this process (the lock nests)


class CloneLock:
    """Held for the length of a `with` block; waits for another holder to finish."""

    def __init__(self, root: Path, wait: float | None = None) -> None:
        self.path = root / ".git" / "releasegate" / "write.lock"
        self.wait = WAIT if wait is None else wait
        self._fd: int | None = None
        self._nested = False
        self.waited = 0.0

    def __enter__(self) -> CloneLock:
        import fcntl

        if not self.path.parent.parent.is_dir():  # no .git folder: nothing to share
            return self
        if _HELD.get(self.path):
            _HELD[self.path] += 1
            self._nested = True
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        start = time.monotonic()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() - start > self.wait:
                    holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
                    os.close(fd)
                    raise TransientError(
                        f"another releasegate command (process {holder or 'unknown'}) has "
                        f"been writing to this clone for over {self.wait:.0f} s; nothing "
                        "was recorded", code="locked",
                        hint="retry when it has finished") from None
                time.sleep(0.02)
        self.waited = time.monotonic() - start
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        _HELD[self.path] = 1
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._nested:
            _HELD[self.path] -= 1
        elif self._fd is not None:
            _HELD.pop(self.path, None)
            os.close(self._fd)  # closing releases the flock
            self._fd = None
