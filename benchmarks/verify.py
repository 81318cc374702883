"""`releasegate verify` on ledgers whose prod sign-offs and checklists are signed.

Run from the repository root with the package installed:

    python benchmarks/verify.py            # 100, 1,000, 4,000 signatures: about 1 minute
    python benchmarks/verify.py --full     # and warm at 4,000, 1,000 twice: 2 minutes
    python benchmarks/verify.py --quick    # 100 and 1,000 only: about 30 s

Measured as run.py measures, with its helpers: whole processes, each started from a
small wrapper process that reads its wall time and the peak memory and CPU time of
what it ran; cold and warm runs alternate within each repetition; times are the best
of the repetitions (3 at 100 signatures, 1 above, 2 at 1,000 with --full: a run at
4,000 takes 2 minutes).
"Cold" means `.git/releasegate/` (the derived caches, the signature verdicts under
`signatures/` among them) was deleted just before the run; "warm" follows a run that
filled them. Without --full, 4,000 signatures are measured cold only.

The measured process is `releasegate --ledger L verify --format json`, run as
`python -c` that first installs an audit hook counting the processes releasegate
starts (ssh-keygen, and git by command) and timers around `ssh_keygen.verify`, the
git commands (`GitStore.run`), `Snapshot.patch_trees` and `baselines.shipped_index`,
which also read the CPU time of the processes each call waited for (verify runs its
ssh-keygen checks side by side, so only CPU time is split by part); nothing else is
changed (about 3 % slower than the plain command). At the smallest size one more cold
run counts ssh-keygen a second way, with an `ssh-keygen` script first on PATH that
appends to a file and execs the real one; the two counts must agree. Every run is
also a check: verify must exit 0, say ok and count the signatures the factory signed,
else exit status 2 and no figures.

Ledgers come from `ledger_factory.py --signed` (cached under benchmarks/.work/ledgers,
keyed by the factory's VERSION; the keys under benchmarks/.work/keys; the 4,000-
signature ledger takes about 25 s to build). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from ledger_factory import VERSION as FACTORY_VERSION  # noqa: E402
from ledger_factory import (  # noqa: E402
    cached_complete,
    cached_ledger,
    cached_path,
    signatures_in,
)
from run import (  # noqa: E402
    PYTHON,
    WORK,
    BenchError,
    Run,
    child_env,
    clear_derived_caches,
    prune_stale_inputs,
    sec,
    side_by_side,
)

SCRATCH = WORK / "scratch-verify"  # not run.py's scratch folder, which run.py empties
SIZES = (100, 1000, 4000)  # signatures; the patch count is chosen to come closest
REPS = {100: 3, 1000: 1, 4000: 1}  # best of; 1,000 signatures take 10 s a run, 4,000 40 s
FULL_REPS = {**REPS, 1000: 2}
COLD_ONLY = {4000}  # without --full: no warm run there (another 2 minutes)

# The measured process: releasegate's CLI with counters and timers installed first.
INSTRUMENTED = r"""
import json, os, resource, sys, time
report, sys.argv = sys.argv[1], ["releasegate", *sys.argv[2:]]
processes, spent, cpu, calls = {}, {}, {}, {}

def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime

def hook(event, args):
    if event == "subprocess.Popen":
        program = args[0] or (args[1][0] if isinstance(args[1], (list, tuple)) else args[1])
        name = os.path.basename(os.fsdecode(program))
        processes[name] = processes.get(name, 0) + 1
        argv = [os.fsdecode(a) for a in args[1]] if isinstance(args[1], (list, tuple)) else []
        if name == "git":  # and which git command: the first word after -C DIR, -c X=Y
            rest = argv[1:]
            while rest and rest[0] in ("-C", "-c"):
                rest = rest[2:]
            key = "git " + (rest[0] if rest else "?")
            processes[key] = processes.get(key, 0) + 1

sys.addaudithook(hook)
from releasegate.evidence import baselines
from releasegate.ledger.snapshot import Snapshot
from releasegate.ledger.store import GitStore
from releasegate.trust import ssh_keygen

def timed(owner, name, key):
    original = getattr(owner, name)
    def wrapper(*args, **kwargs):
        start, start_cpu = time.perf_counter(), children_cpu()
        try:
            return original(*args, **kwargs)
        finally:
            spent[key] = spent.get(key, 0.0) + time.perf_counter() - start
            cpu[key] = cpu.get(key, 0.0) + children_cpu() - start_cpu
            calls[key] = calls.get(key, 0) + 1
    setattr(owner, name, wrapper)

timed(ssh_keygen, "verify", "ssh-keygen")
timed(GitStore, "run", "git")
timed(Snapshot, "patch_trees", "patch_trees")
timed(baselines, "shipped_index", "shipped_index")
from releasegate.cli.main import main
try:
    main()
finally:
    own = resource.getrusage(resource.RUSAGE_SELF)
    cpu["self"] = own.ru_utime + own.ru_stime
    cpu["children"] = children_cpu()
    with open(report, "w") as out:
        json.dump({"processes": processes, "spent": spent, "cpu": cpu, "calls": calls}, out)
"""

# As run.py's WRAPPER, and it keeps the command's stdout and its children's CPU time.
WRAPPER = r"""
import json, resource, subprocess, sys, time
spec = json.loads(sys.argv[1])
start = time.perf_counter()
proc = subprocess.run(spec["cmd"], cwd=spec["cwd"], env=spec["env"], capture_output=True)
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": seconds, "maxrss_kb": usage.ru_maxrss, "rc": proc.returncode,
                  "cpu": usage.ru_utime + usage.ru_stime,
                  "stdout": proc.stdout.decode("utf-8", "replace"),
                  "stderr": proc.stderr.decode("utf-8", "replace")[-1500:]}))
"""

COUNTING_SSH_KEYGEN = """#!/bin/sh
echo "$*" >> "$RG_BENCH_SSH_KEYGEN_LOG"
exec "{real}" "$@"
"""


@dataclass(frozen=True)
class VerifyRun(Run):
    cpu: float  # user + system seconds of the process and everything it waited for
    audit: dict[str, Any]  # verify's JSON: patches, events, signatures, promotions
    processes: dict[str, int]  # processes releasegate started, by program
    spent: dict[str, float]  # seconds inside ssh-keygen checks, git commands, listings
    children_cpu: dict[str, float]  # CPU seconds of the processes those calls waited for
    calls: dict[str, int]


# -- running verify --------------------------------------------------------------------

def verify(ledger: Path, expected: int, *, cold: bool, path_first: Path | None = None,
           env: dict[str, str] | None = None) -> VerifyRun:
    """One whole `verify` process, checked: exit 0, ok, the expected signatures."""
    if cold:
        clear_derived_caches(ledger)
    report = SCRATCH / "instrumented.json"
    report.unlink(missing_ok=True)
    run_env = {**child_env(), **(env or {})}
    if path_first is not None:
        run_env["PATH"] = f"{path_first}{os.pathsep}{run_env.get('PATH', '')}"
    spec = {"cmd": [PYTHON, "-c", INSTRUMENTED, str(report), "--ledger", str(ledger),
                    "verify", "--format", "json"],
            "cwd": str(HERE.parent), "env": run_env}
    out = subprocess.run([PYTHON, "-c", WRAPPER, json.dumps(spec)], capture_output=True,
                         text=True, check=True)
    data = json.loads(out.stdout)
    try:
        audit = json.loads(data["stdout"])
    except ValueError:
        audit = {}
    if data["rc"] != 0 or audit.get("ok") is not True or audit.get("signatures") != expected:
        found = [f"{f.get('file')}: {f.get('what')}" for f in audit.get("findings", [])][:5]
        raise BenchError(f"verify on {ledger.name} exited {data['rc']} (expected 0, ok, "
                         f"{expected} signatures; it said ok={audit.get('ok')}, "
                         f"{audit.get('signatures')} signatures): {found or data['stderr']}")
    counters = json.loads(report.read_text())
    return VerifyRun(data["seconds"], data["maxrss_kb"], data["rc"], data["cpu"], audit,
                     counters["processes"], counters["spent"], counters["cpu"],
                     counters["calls"])


def path_counted(ledger: Path, expected: int) -> tuple[int, VerifyRun]:
    """A cold run with the counting `ssh-keygen` script first on PATH: how many times
    the script ran, and the run (whose audit hook counted too)."""
    real = shutil.which("ssh-keygen")
    if real is None:
        raise BenchError("ssh-keygen is not installed")
    folder = SCRATCH / "bin"
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "ssh-keygen"
    script.write_text(COUNTING_SSH_KEYGEN.format(real=str(Path(real).resolve())))
    script.chmod(0o755)
    log = SCRATCH / "ssh-keygen.log"
    log.write_text("")
    run = verify(ledger, expected, cold=True, path_first=folder,
                 env={"RG_BENCH_SSH_KEYGEN_LOG": str(log)})
    return len(log.read_text().splitlines()), run


def warm_page_cache(ledger: Path) -> None:
    """Read the ledger's object store once, so the first timed run does not pay for
    the disk (a cold run means cold derived caches, not a cold page cache)."""
    for path in (ledger / ".git" / "objects").rglob("*"):
        if path.is_file():
            with path.open("rb") as f:
                while f.read(1 << 20):
                    pass


# -- one size --------------------------------------------------------------------------

@dataclass
class Size:
    target: int
    patches: int
    signatures: int
    cold: list[VerifyRun]
    warm: list[VerifyRun]  # empty where warm runs were not measured
    reps: int
    built: float | None  # seconds the factory took, when this run built the ledger

    @property
    def c(self) -> VerifyRun:
        return min(self.cold, key=lambda r: r.seconds)

    @property
    def w(self) -> VerifyRun | None:
        return min(self.warm, key=lambda r: r.seconds) if self.warm else None


def patches_for(signatures: int) -> int:
    """The patch count whose signed ledger holds the number closest to `signatures`."""
    n = 1
    while signatures_in(n + 1) <= signatures:
        n += 1
    below, above = signatures_in(n), signatures_in(n + 1)
    return n if signatures - below <= above - signatures else n + 1


def measure_size(target: int, reps: int, *, warm: bool, crosscheck: bool) -> Size:
    patches = patches_for(target)
    expected = signatures_in(patches)
    say(f"== {expected:,} signatures ({patches} patches)")
    started = time.perf_counter()
    cached = cached_complete(cached_path(WORK, patches, signed=True))
    ledger = cached_ledger(WORK, patches, signed=True)
    built = None if cached else time.perf_counter() - started
    if built is not None:
        say(f"  built the signed ledger in {built:.1f} s")
    warm_page_cache(ledger)
    if crosscheck:
        script_count, run = path_counted(ledger, expected)
        hooked = run.processes.get("ssh-keygen", 0)
        if script_count != hooked:
            raise BenchError(f"the ssh-keygen script on PATH ran {script_count} times, the "
                             f"audit hook counted {hooked} ssh-keygen processes")
        say(f"  ssh-keygen counted twice, cold: {script_count} by the script on PATH, "
            f"{hooked} by the audit hook")
    contenders: dict[str, Callable[[int], Run]] = {
        "cold": lambda _: verify(ledger, expected, cold=True)}
    if warm:
        contenders["warm"] = lambda _: verify(ledger, expected, cold=False)
    runs = side_by_side(contenders, reps)
    size = Size(target, patches, expected, [r for r in runs["cold"] if isinstance(r, VerifyRun)],
                [r for r in runs.get("warm", []) if isinstance(r, VerifyRun)], reps, built)
    say(f"  cold {sec(size.c.seconds)}" + (f", warm {sec(size.w.seconds)}" if size.w else ""))
    return size


# -- the tables ------------------------------------------------------------------------

def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def both(size: Size, show: Callable[[VerifyRun], str]) -> str:
    """A cold / warm cell ("-" where warm runs were not measured)."""
    return f"{show(size.c)} / {show(size.w) if size.w else '-'}"


def per_signature(n: int) -> Callable[[VerifyRun], str]:
    return lambda run: ms(run.seconds / n)


def processes_of(name: str) -> Callable[[VerifyRun], str]:
    return lambda run: f"{run.processes.get(name, 0):,}"


def spent_in(key: str, n: int) -> Callable[[VerifyRun], str]:
    return lambda run: f"{run.spent.get(key, 0.0) * 1000 / n:.1f}"


def table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def render(sizes: list[Size]) -> str:
    rows = []
    for size in sizes:
        n, c, w = size.signatures, size.c, size.w
        rows.append([
            f"{n:,} ({size.patches}, {c.audit['events']:,}, {c.audit['promotions']:,})",
            sec(c.seconds), f"{sec(w.seconds)} ({w.seconds / c.seconds:.2f}x cold)" if w else "-",
            both(size, per_signature(n)),
            both(size, lambda r: f"{r.cpu:.1f} s"),
            both(size, lambda r: f"{r.processes.get('ssh-keygen', 0):,}"),
            both(size, lambda r: f"{r.processes.get('git', 0):,}"),
            f"{max(r.maxrss_kb for r in size.cold + size.warm) / 1024:.0f} MB",
            f"{size.reps}"])
    return table(["signatures (patches, events, promotions)", "verify cold", "verify warm",
                  "per signature cold / warm", "CPU cold / warm",
                  "ssh-keygen processes cold / warm", "git processes cold / warm", "peak RSS",
                  "best of"], rows)


@dataclass(frozen=True)
class Parts:
    """Where one run's CPU time went, in seconds. Wall time is not split: verify runs
    ssh-keygen checks side by side, one per core, so their wall times overlap."""

    ssh: float  # ssh_keygen.verify: the ssh-keygen processes
    git: float  # the git processes
    own: float  # releasegate itself


def parts(run: VerifyRun) -> Parts:
    cpu = run.children_cpu
    return Parts(cpu.get("ssh-keygen", 0.0), cpu.get("git", 0.0), cpu.get("self", 0.0))


PARTS: list[tuple[str, Callable[[Parts], float]]] = [
    ("ssh-keygen checks (`ssh_keygen.verify`)", lambda p: p.ssh),
    ("git commands (`GitStore.run`; the one `git cat-file --batch` reader ends with the "
     "process and counts in the total CPU only)", lambda p: p.git),
    ("releasegate itself", lambda p: p.own),
]


INCLUDED = [  # timed too, wall, and already counted in the parts above
    ("patch_trees", "wall in `Snapshot.patch_trees` (patches/ listed, once per snapshot)"),
    ("shipped_index", "wall in `baselines.shipped_index` (the baseline index, refreshed "
                      "per snapshot)"),
]


def render_parts(sizes: list[Size]) -> str:
    """Where the CPU time went, per signature, in ms."""
    rows = []
    for label, pick in PARTS:
        row = [label]
        for size in sizes:
            def cell(run: VerifyRun, size: Size = size,
                     pick: Callable[[Parts], float] = pick) -> str:
                return f"{pick(parts(run)) * 1000 / size.signatures:.1f}"
            row.append(both(size, cell))
        rows.append(row)
    for key, label in INCLUDED:
        rows.append([label] + [both(s, spent_in(key, s.signatures)) for s in sizes])
    return table(["CPU ms per signature",
                  *(f"{s.signatures:,} cold / warm" for s in sizes)], rows)


def render_processes(sizes: list[Size]) -> str:
    """Processes releasegate started in the fastest cold and warm run, by program and
    git command."""
    names = sorted({name for s in sizes for run in (s.c, s.w) if run for name in run.processes},
                   key=lambda name: (name != "ssh-keygen", name != "git", name))
    rows = [[f"`{name}`" if name.startswith("git ") else name]
            + [both(s, processes_of(name)) for s in sizes]
            for name in names]
    return table(["processes per run", *(f"{s.signatures:,} cold / warm" for s in sizes)],
                 rows)


def growth(sizes: list[Size]) -> list[str]:
    """Whether the cost stays linear in the number of signatures: the marginal cost
    per signature between two sizes against the cost per signature at the smaller one
    (start-up included there, so a linear cost gives 1x or a little under)."""
    lines = []

    def line(label: str, small: Size, big: Size, a: float, b: float) -> str:
        marginal = (b - a) / (big.signatures - small.signatures)
        per = a / small.signatures
        return (f"- {label}: {ms(marginal)} per signature from {small.signatures:,} to "
                f"{big.signatures:,}, against {ms(per)} per signature at "
                f"{small.signatures:,}: {marginal / per:.2f}x")

    if len(sizes) >= 2:
        small, big = sizes[-2], sizes[-1]
        lines.append(line("cold, wall", small, big, small.c.seconds, big.c.seconds))
        lines.append(line("cold, CPU", small, big, small.c.cpu, big.c.cpu))
        a, b = parts(small.c), parts(big.c)
        for label, pick in PARTS:
            lines.append(line(f"cold, CPU of {label}", small, big, pick(a), pick(b)))
        for key, label in INCLUDED:
            lines.append(line(f"cold, {label}", small, big,
                              small.c.spent.get(key, 0.0), big.c.spent.get(key, 0.0)))
    warm = [s for s in sizes if s.w]
    if len(warm) >= 2:
        small, big = warm[-2], warm[-1]
        assert small.w is not None and big.w is not None
        lines.append(line("warm, wall", small, big, small.w.seconds, big.w.seconds))
        lines.append(line("warm, CPU", small, big, small.w.cpu, big.w.cpu))
    return lines


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--full", action="store_true",
                         help="a warm run at 4,000 signatures too (about 2 minutes more)")
    options.add_argument("--quick", action="store_true", help="100 and 1,000 signatures only")
    options.add_argument("--sizes", help="comma-separated numbers of signatures, e.g. "
                                         "100,1000 (best of 2 where not a default size)")
    args = options.parse_args()
    sizes = (SIZES[:2] if args.quick else SIZES) if not args.sizes else tuple(
        int(s.strip().replace("_", "")) for s in args.sizes.split(",") if s.strip())
    cold_only = set() if args.full or args.sizes else COLD_ONLY
    if shutil.which("ssh-keygen") is None:
        print("benchmark error: ssh-keygen is not installed", file=sys.stderr)
        return 2

    started, load_before = time.perf_counter(), os.getloadavg()[0]
    shutil.rmtree(SCRATCH, ignore_errors=True)
    SCRATCH.mkdir(parents=True)
    prune_stale_inputs()
    measured: list[Size] = []
    try:
        for i, target in enumerate(sizes):
            reps = (FULL_REPS if args.full else REPS).get(target, 2)
            measured.append(measure_size(target, reps,
                                         warm=target not in cold_only, crosscheck=i == 0))
    except BenchError as exc:
        print(f"benchmark error: {exc}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(SCRATCH, ignore_errors=True)

    git_version = subprocess.run(["git", "--version"], capture_output=True,
                                 text=True).stdout.strip()
    ssh_version = subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr.strip()
    mode = " (--full)" if args.full else " (--quick)" if args.quick else ""
    print(f"releasegate verify with signatures{mode}: Python {platform.python_version()}, "
          f"{git_version}, {ssh_version.split(',')[0]}, {os.cpu_count()} CPUs; ledger "
          f"factory {FACTORY_VERSION}; load average {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after; {time.perf_counter() - started:.0f} s in all\n")
    for size in measured:
        if size.built is not None:
            print(f"(built the {size.signatures:,}-signature ledger first: {size.built:.1f} s)")
    print(render(measured))
    print()
    print(render_parts(measured))
    print()
    print(render_processes(measured))
    lines = growth(measured)
    if lines:
        print("\nGrowth with the number of signatures:\n" + "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
