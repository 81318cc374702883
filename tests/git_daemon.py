"""A shared ledger served by `git daemon` on 127.0.0.1, for the concurrency tests and
benchmarks/writers.py: pushes over git://, `receive.denyNonFastForwards` on, the
daemon stopped by its process id when the `with` block ends."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

START_WITHIN = 10.0  # seconds


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def bare_repository(path: Path, branch: str = "main") -> Path:
    """An empty bare repository that refuses non-fast-forward pushes."""
    subprocess.run(["git", "init", "-q", "--bare", "-b", branch, str(path)], check=True)
    subprocess.run(["git", "-C", str(path), "config", "receive.denyNonFastForwards", "true"],
                   check=True)
    return path


class GitDaemon:
    """`git daemon` exporting every repository under `base`, writable, on 127.0.0.1."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self._proc: subprocess.Popen[bytes] | None = None

    def url(self, name: str) -> str:
        return f"git://127.0.0.1:{self.port}/{name}"

    @property
    def pid(self) -> int:
        assert self._proc is not None, "the daemon is not running"
        return self._proc.pid

    def __enter__(self) -> GitDaemon:
        self._proc = subprocess.Popen(
            ["git", "daemon", "--reuseaddr", "--listen=127.0.0.1", f"--port={self.port}",
             f"--base-path={self.base}", "--export-all", "--enable=receive-pack",
             "--informative-errors", str(self.base)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_WITHIN
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"git daemon exited with status {self._proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"git daemon did not listen on 127.0.0.1:{self.port} within "
                           f"{START_WITHIN:.0f} s")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()
