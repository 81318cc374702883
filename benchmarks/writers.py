"""Writers at once: clones of one shared ledger served by `git daemon` on 127.0.0.1,
each recording acts one after another as separate `releasegate` processes.

Run from the repository root with the package installed:

    python benchmarks/writers.py              # 1 and 8 writers x 50 acts: 3 to 5 minutes
    python benchmarks/writers.py --quick      # 1 and 8 writers x 10 acts
    python benchmarks/writers.py --writers 1,2,4,8 --acts 50 --remote file
    python benchmarks/writers.py --repeat 3   # 1, 8, 1, 8, 1, 8: a ratio per turn
    python benchmarks/writers.py --apart      # and 8 writers that never race

Every writer has a clone of its own and a patch of its own (in dev since the setup);
its acts rotate through a test run recorded in dev (a fresh JUnit file each time), a
sign-off and a filled dev-review checklist for test, on its own patch, and every
fifth act records a test run on one patch all writers share. Each act is timed from
start to exit; its attempts are read from the notice releasegate prints on standard
error when it had to retry, and "acts landed by another writer" counts the acts that
lost a race, were handed on and were taken along by another writer's push (it says
so on standard error too); those figures are also given apart for the acts on the
shared patch and those on the writers' own. "CPU per act" is the CPU time of the
acts' processes and the git processes they waited for, "daemon CPU per act" that of
`git daemon` and the git processes it ran for the acts' fetches and pushes, "CPU
idle" the share of the machine's CPU time (/proc/stat, all cores) left idle while the
acts ran.

With `--apart`, each round of several writers is followed by one of the same writers
with the same acts, each on a shared ledger of its own behind the same daemon: no
race is ever lost, so its throughput is what these writers could reach on this
machine with no cost of sharing at all (rows such as "8 apart").

Every run is also a check, else exit status 2 and no figures: no act exits other
than 0 (3 is "contended past the retries"), and the shared ledger holds exactly one
new event per act, with every patch's hash chain intact (`releasegate verify`).
See benchmarks/README.md ("Writers at once").
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.git_daemon import GitDaemon, bare_repository  # noqa: E402

PYTHON = sys.executable
WORK = HERE / ".work" / "scratch-writers"
SHARED_PATCH = "SHR-2026-0001"
RETRIED = re.compile(r"recorded after (\d+) retr")
GAVE_WAY = re.compile(r"gave way (\d+) time")
TAKEN = "another writer's push recorded it"  # an act handed on, taken along (`handoff`)
MANIFEST = """\
id: {id}
system: core-banking
vendor: Acme FinSoft
vendor_ref: AFS-1
version: 7.4.2
title: {{en: Fix interest accrual, zh-CN: 修复利息计提}}
artifacts: [patch.tar]
"""
INTAKE = "version-controlled: 'yes'\nrelease-note-read: 'yes'\nrisk: low\n"
DEV_REVIEW = ("walkthrough: 'yes'\ninstalled-cleanly: 'yes'\n"
              "data-migration: {value: n/a, reason: none}\n")


@dataclass(frozen=True)
class Act:
    writer: int
    seconds: float
    status: int
    attempts: int
    gave_way: int  # times it waited for an act that claimed a turn
    stderr: str
    shared: bool = False  # a test run on the patch all writers share


@dataclass(frozen=True)
class Round:
    writers: int
    acts: list[Act]
    seconds: float
    events: int  # new events in the shared ledger
    cpu: float  # CPU seconds of the acts' processes and the git processes they ran
    served: float | None  # CPU seconds of git daemon and the git processes it ran
    idle: float | None  # share of the machine's CPU time left idle during the acts
    apart: bool = False  # each writer on a shared ledger of its own: no races

    @property
    def label(self) -> str:
        return f"{self.writers} apart" if self.apart else str(self.writers)

    @property
    def throughput(self) -> float:
        return len(self.acts) / self.seconds

    def latency(self, q: float) -> float:
        ordered = sorted(a.seconds for a in self.acts)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def tree_cpu(pid: int) -> float | None:
    """CPU seconds of a process, of the children it has waited for and of those still
    running (`git daemon` runs as a child of `git`), from /proc; None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rpartition(")")[2].split()
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as listing:
            children = [int(child) for child in listing.read().split()]
    except (OSError, ValueError):
        return None
    own = sum(int(t) for t in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return own + sum(tree_cpu(child) or 0.0 for child in children)


def idle_ticks() -> tuple[int, int] | None:
    """(idle, all) clock ticks of every CPU since boot, from /proc/stat; None elsewhere."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            ticks = [int(t) for t in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return ticks[3] + ticks[4], sum(ticks[:8])  # idle + iowait; user .. steal


def writer_patch(n: int) -> str:
    return f"WRT-2026-{n:04d}"


# As installed: with bytecode (see child_env in run.py).
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def rg(ledger: Path, *args: str, person: str = "alice") -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-m", "releasegate", "--ledger", str(ledger), "--as",
                           person, *args], capture_output=True, text=True, check=False,
                          timeout=300, env=CHILD_ENV)


def must(ledger: Path, *args: str, person: str = "alice") -> None:
    done = rg(ledger, *args, person=person)
    if done.returncode != 0:
        raise SystemExit(f"setup failed: releasegate {' '.join(args)}: {done.stderr}")


def git(*args: str | Path) -> str:
    return subprocess.run(["git", *map(str, args)], check=True, capture_output=True,
                          text=True).stdout


def setup(base: Path, numbers: list[int], url: str) -> Path:
    """A shared ledger with a patch for each writer `numbers` names and the shared
    patch, pushed to the bare repository it makes in `base`."""
    bare = bare_repository(base / "ledger.git")
    first = base / "setup"
    subprocess.run([PYTHON, "-m", "releasegate", "init", str(first), "--example"],
                   check=True, capture_output=True)
    git("-C", first, "remote", "add", "origin", url)
    git("-C", first, "push", "-q", "-u", "origin", "main")
    for n in numbers:
        submit(first, base, writer_patch(n))
    submit(first, base, SHARED_PATCH)
    return bare


def submit(ledger: Path, base: Path, patch: str) -> None:
    folder = base / "inputs" / patch
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "patch.tar").write_bytes(patch.encode())
    (folder / "m.yaml").write_text(MANIFEST.format(id=patch), encoding="utf-8")
    must(ledger, "patch", "submit", str(folder / "m.yaml"))
    (folder / "intake.yaml").write_text(INTAKE, encoding="utf-8")
    must(ledger, "checklist", "fill", patch, "intake", "--env", "dev", "--answers",
         str(folder / "intake.yaml"))
    must(ledger, "promote", patch, "--to", "dev")


def junit(folder: Path, tag: str) -> Path:
    path = folder / f"run-{tag}.xml"
    path.write_text(f'<testsuite name="smoke"><testcase classname="smoke" name="login"/>'
                    f'<testcase classname="smoke" name="run_{tag}"/></testsuite>',
                    encoding="utf-8")
    return path


def act_args(writer: int, step: int, inputs: Path) -> tuple[list[str], str]:
    """The act `writer` records at `step`, and as whom."""
    own = writer_patch(writer)
    if step % 5 == 4:
        return ["tests", "record", SHARED_PATCH, "--env", "dev",
                str(junit(inputs, f"s{writer}-{step}"))], "alice"
    kind = step % 3
    if kind == 0:
        return ["tests", "record", own, "--env", "dev",
                str(junit(inputs, f"{writer}-{step}"))], "alice"
    if kind == 1:
        return ["signoff", own, "--env", "test", "--role", "app-owner", "--comment",
                f"step {step}"], "bob"
    answers = inputs / "dev-review.yaml"
    answers.write_text(DEV_REVIEW, encoding="utf-8")
    return ["checklist", "fill", own, "dev-review", "--env", "test", "--answers",
            str(answers)], "bob"


def run_round(base: Path, writers: int, acts: int, remote: str,
              apart: bool = False) -> Round:
    """`writers` writers x `acts` acts on one shared ledger; `apart`, each on a shared
    ledger of its own (same acts, same daemon), so that no race is ever lost."""
    folder = base / f"round-{writers}{'-apart' if apart else ''}"
    folder.mkdir(parents=True)
    with GitDaemon(folder) as daemon:
        homes = [folder / f"ledger-{n}" for n in range(1, writers + 1)] if apart else [folder]
        urls, bares = [], []
        for home in homes:
            home.mkdir(exist_ok=True)
            name = f"{home.relative_to(folder).as_posix()}/ledger.git" if apart else \
                "ledger.git"
            urls.append(daemon.url(name) if remote == "git" else (home / "ledger.git").as_uri())
            numbers = [homes.index(home) + 1] if apart else list(range(1, writers + 1))
            bares.append(setup(home, numbers, urls[-1]))
        before = sum(int(git("-C", bare, "rev-list", "--count", "main")) for bare in bares)
        clones = []
        for n in range(1, writers + 1):
            clone = folder / f"w{n}"
            git("clone", "-q", urls[n - 1 if apart else 0], clone)
            (folder / f"in{n}").mkdir()
            clones.append(clone)
        results: list[Act] = []
        lock = threading.Lock()

        def work(n: int) -> None:
            for step in range(acts):
                args, person = act_args(n, step, folder / f"in{n}")
                start = time.perf_counter()
                done = rg(clones[n - 1], *args, person=person)
                seconds = time.perf_counter() - start
                found = RETRIED.search(done.stderr)
                waited = GAVE_WAY.search(done.stderr)
                with lock:
                    results.append(Act(n, seconds, done.returncode,
                                       1 + int(found.group(1)) if found else 1,
                                       int(waited.group(1)) if waited else 0,
                                       done.stderr, SHARED_PATCH in args))

        threads = [threading.Thread(target=work, args=(n,)) for n in range(1, writers + 1)]
        cpu_before, ticks_before = children_cpu(), idle_ticks()
        served_before = tree_cpu(daemon.pid)
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - start
        cpu, ticks_after = children_cpu() - cpu_before, idle_ticks()
        served_after = tree_cpu(daemon.pid)
        served = None if served_before is None or served_after is None else \
            served_after - served_before
        idle = None if ticks_before is None or ticks_after is None else \
            (ticks_after[0] - ticks_before[0]) / max(1, ticks_after[1] - ticks_before[1])
        after = sum(int(git("-C", bare, "rev-list", "--count", "main")) for bare in bares)
        for n, url in enumerate(urls, 1):
            check = folder / f"check-{n}"
            git("clone", "-q", url, check)
            audit = rg(check, "verify")
            if audit.returncode != 0:
                raise SystemExit(f"verify found problems after {writers} writers: "
                                 f"{audit.stdout}")
    return Round(writers, results, seconds, after - before, cpu, served, idle, apart)


def by_patch(kind: str, acts: list[Act]) -> str:
    """How the acts of one kind fared: on the patch every writer shares, each act on
    it overtakes the others in flight there."""
    if not acts:
        return f"no acts {kind}"
    attempts = [a.attempts for a in acts]
    return (f"{len(acts)} acts {kind}, attempts {statistics.mean(attempts):.2f} mean, "
            f"{max(attempts)} most, median latency "
            f"{statistics.median(a.seconds for a in acts):.2f} s, "
            f"{sum(TAKEN in a.stderr for a in acts)} landed by another writer")


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", default="1,8", help="writer counts, e.g. 1,2,4,8")
    parser.add_argument("--acts", type=int, default=50, help="acts per writer")
    parser.add_argument("--quick", action="store_true", help="10 acts per writer")
    parser.add_argument("--remote", choices=("git", "file"), default="git",
                        help="git:// through git daemon (default) or a file:// remote")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run the writer counts this many times, in turn (1, 8, 1, 8, "
                        "...), each compared with the first count of its own turn")
    parser.add_argument("--apart", action="store_true",
                        help="after each round of more than one writer, the same writers "
                        "each on a shared ledger of its own: what they do when no race is "
                        "ever lost, on this machine")
    options = parser.parse_args()
    acts = 10 if options.quick else options.acts
    counts = [int(n) for n in options.writers.split(",")]
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    load_before = os.getloadavg()[0]
    began = time.perf_counter()
    rounds: list[tuple[int, Round]] = []  # (turn, round)
    try:
        for turn in range(1, max(1, options.repeat) + 1):
            for writers in counts:
                for apart in (False, True) if options.apart and writers > 1 else (False,):
                    print(f"== turn {turn}: {writers} writer(s){' apart' if apart else ''} "
                          f"x {acts} acts", file=sys.stderr, flush=True)
                    rounds.append((turn, run_round(WORK / f"turn-{turn}", writers, acts,
                                                   options.remote, apart)))
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    failures = []
    for _, r in rounds:
        bad = [a for a in r.acts if a.status != 0]
        if bad:
            failures.append(f"{r.label} writers: {len(bad)} acts exited "
                            f"{sorted({a.status for a in bad})}: {bad[0].stderr.strip()}")
        if r.events != len(r.acts):
            failures.append(f"{r.label} writers: {len(r.acts)} acts but {r.events} "
                            "new commits on the shared ledger")
    git_version = git("--version").strip()
    print(f"releasegate writers: Python {platform.python_version()}, {git_version}, "
          f"{os.cpu_count()} CPUs, remote {options.remote}; load average "
          f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after; "
          f"{time.perf_counter() - began:.0f} s in all\n")
    # Each round against the first round of its own turn: the machines are shared, and
    # a ratio of rounds run side by side is what holds from one run to the next.
    bases = {turn: r for turn, r in reversed(rounds)}
    ratios: dict[str, list[float]] = {}
    rows = []
    for turn, r in rounds:
        base = bases[turn]
        ratios.setdefault(r.label, []).append(r.throughput / base.throughput)
        attempts = [a.attempts for a in r.acts]
        rows.append([str(turn), r.label, f"{len(r.acts)}", f"{r.events}",
                     f"{sum(a.status == 3 for a in r.acts)}",
                     f"{r.throughput:.2f}/s",
                     f"{r.throughput / base.throughput:.2f}x",
                     f"{statistics.median(a.seconds for a in r.acts):.2f} s",
                     f"{r.latency(0.95):.2f} s", f"{max(a.seconds for a in r.acts):.2f} s",
                     f"{statistics.mean(attempts):.2f}", f"{max(attempts)}",
                     f"{sum(TAKEN in a.stderr for a in r.acts)}",
                     f"{sum('claimed the next turn' in a.stderr for a in r.acts)}",
                     f"{sum(a.gave_way > 0 for a in r.acts)}",
                     f"{r.cpu / len(r.acts) * 1000:.0f} ms",
                     "n/a" if r.served is None else f"{r.served / len(r.acts) * 1000:.0f} ms",
                     "n/a" if r.idle is None else f"{r.idle:.0%}"])
    print(table(["turn", "writers", "acts", "landed (new commits)", "exit 3", "throughput",
                 f"vs {counts[0]} writer(s)", "median latency", "p95 latency",
                 "slowest", "attempts, mean", "attempts, most",
                 "acts landed by another writer", "acts that claimed a turn",
                 "acts that gave way", "CPU per act", "daemon CPU per act", "CPU idle"],
                rows))
    worst = max((a for _, r in rounds for a in r.acts), key=lambda a: a.attempts)
    if worst.attempts > 1:
        found = RETRIED.search(worst.stderr)
        said = worst.stderr[found.start():].splitlines()[0] if found else ""
        print(f"\nThe act with the most attempts ({worst.attempts}, {worst.seconds:.2f} s, "
              f"writer {worst.writer}): {said}")
    print("\nBy patch, in each round of several writers on one ledger:")
    for turn, r in rounds:
        if r.writers > 1 and not r.apart:
            print(f"  turn {turn}, {r.label} writers: " + "; ".join(
                by_patch(kind, [a for a in r.acts if a.shared == shared])
                for kind, shared in (("on the shared patch", True),
                                     ("on their own patches", False))))
    if options.repeat > 1:
        print("\nThroughput against the first round of the same turn, median of "
              f"{options.repeat} turns: " + ", ".join(
                  f"{label} writer(s) {statistics.median(found):.2f}x "
                  f"({min(found):.2f}x to {max(found):.2f}x)"
                  for label, found in ratios.items() if label != str(counts[0])))
    if failures:
        print("\n".join(["", "The run misbehaved; the figures mean nothing:", *failures]),
              file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
