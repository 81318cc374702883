"""What the machine and git's transport allow writers at once, whatever releasegate does.

Run from the repository root with the package installed:

    python benchmarks/ceiling.py           # about a minute

Two measurements bound what `writers.py` can show:

- **Processes at once on these cores.** Interpreter start-ups that import what an
  act imports (click, PyYAML, jinja2, GitPython), one at a time, two at a time and
  eight at a time, in turn, several times: how much more work per second the machine
  does with two and with eight than with one. Eight writers keep eight processes
  and their git children runnable on two cores.
- **Where a race's wall time goes.** A push of one commit and a fetch of one new
  commit through `git daemon` on 127.0.0.1, timed with the CPU of both sides (the
  client's processes, and the daemon's from /proc): the difference is time no
  process spends on a core, the transport's waits, which lengthen every race's
  window whatever the load.

See benchmarks/README.md ("What the machine allows").
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from writers import CHILD_ENV, children_cpu, git, tree_cpu  # noqa: E402

from tests.git_daemon import GitDaemon, bare_repository  # noqa: E402

IMPORTS = "import click, yaml, jinja2, git"
TURNS = 4
STARTS = 24  # start-ups per round of eight (12 for one at a time)
PROTOCOL = "protocol.version=0"  # as releasegate asks (releasegate/ledger/store.py)


def start_up() -> None:
    subprocess.run([sys.executable, "-c", IMPORTS], check=True, env=CHILD_ENV)


def rate(at_once: int, count: int) -> float:
    """Start-ups per second with `at_once` running together."""
    began = time.perf_counter()
    with ThreadPoolExecutor(at_once) as pool:
        list(pool.map(lambda _: start_up(), range(count)))
    return count / (time.perf_counter() - began)


def transport(base: Path, count: int = 20) -> list[tuple[str, float, float, float]]:
    """(what, wall ms, client CPU ms, daemon CPU ms), medians and means of `count`."""
    found = []
    with GitDaemon(base) as daemon:
        bare_repository(base / "shared.git")
        url = daemon.url("shared.git")
        writer, reader = base / "writer", base / "reader"
        git("init", "-q", "-b", "main", writer)
        git("-C", writer, "commit", "-q", "--allow-empty", "-m", "first")
        git("-C", writer, "push", "-q", url, "main")
        git("clone", "-q", url, reader)

        def commit(n: int) -> None:
            (writer / f"file-{n}").write_text(f"{n}\n", encoding="utf-8")
            git("-C", writer, "add", ".")
            git("-C", writer, "commit", "-q", "-m", f"act {n}")

        push = ["-C", writer, "-c", PROTOCOL, "push", "-q", url, "main"]
        fetch = ["-C", reader, "-c", PROTOCOL, "fetch", "-q", "--no-tags",
                 "--no-auto-maintenance", "origin", "+main:refs/measured"]
        for what, step, before in (("push of one commit", push, None),
                                   ("fetch of one new commit", fetch, push),
                                   ("fetch, nothing new", fetch, None)):
            walls, clients, served = [], [], []
            for _ in range(count):
                if what != "fetch, nothing new":
                    commit(len(walls) + 1000 * len(found))
                if before is not None:
                    git(*before)
                cpu, daemon_cpu, began = children_cpu(), tree_cpu(daemon.pid), \
                    time.perf_counter()
                git(*step)
                walls.append(time.perf_counter() - began)
                clients.append(children_cpu() - cpu)
                time.sleep(0.05)  # the daemon's child has exited and been waited for
                after = tree_cpu(daemon.pid)
                if daemon_cpu is not None and after is not None:
                    served.append(after - daemon_cpu)
            found.append((what, 1000 * statistics.median(walls),
                          1000 * statistics.mean(clients),
                          1000 * statistics.mean(served) if served else float("nan")))
    return found


def main() -> int:
    print(f"releasegate ceiling: Python {sys.version.split()[0]}, "
          f"{git('--version').strip()}, {os.cpu_count()} CPUs; load average "
          f"{os.getloadavg()[0]:.1f} before", flush=True)
    start_up()  # bytecode written, files in the page cache
    two, eight = [], []
    for _ in range(TURNS):
        one = rate(1, STARTS // 2)
        two.append(rate(2, STARTS) / one)
        eight.append(rate(8, STARTS) / one)
    print("\n| start-ups at once | work per second against one at a time, each turn "
          "| median |\n|---|---|---|")
    for label, found in (("2", two), ("8", eight)):
        print(f"| {label} | {', '.join(f'{r:.2f}x' for r in found)} "
              f"| {statistics.median(found):.2f}x |")
    with tempfile.TemporaryDirectory(prefix="releasegate-ceiling-") as scratch:
        rows = transport(Path(scratch))
    print("\n| over git daemon | wall, median | client CPU | daemon CPU "
          "| waiting, at least |\n|---|---|---|---|---|")
    for what, wall, client, served in rows:
        print(f"| {what} | {wall:.1f} ms | {client:.1f} ms | {served:.1f} ms "
              f"| {max(0.0, wall - client - served):.1f} ms |")
    print(f"\nload average {os.getloadavg()[0]:.1f} after")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
