"""Each performance device of releasegate, measured with it and without it, side by side.

Run from the repository root with the package installed:

    python benchmarks/devices.py             # about 1.5 minutes (3 when busy), inputs cached
    python benchmarks/devices.py --only 2,3  # some devices: 1 caches, 2 fork, 3 spool,
                                             # 4 yaml, 5 batch, 6 rows

A device is code that exists only to make releasegate faster or leaner. Each one must
earn its keep with a figure measured here: the same work with the device and without
it, in the same run, the two contenders alternating within each repetition so that a
busy moment on this shared 2-core machine hits both alike. Times are the best of the
repetitions, memory the largest peak seen.

The package is not changed to turn a device off. Whole-process measurements run
`releasegate.cli.main.main()` from a small `python -c` wrapper that first flips the
device's switch from outside (deletes `os.fork`, sets `SLICE`, shadows `hash`); the
"with it" side runs through the same wrapper with nothing flipped. In-process
measurements call the two code paths directly.

Prints one markdown table, `| device | with it | without it | ratio (without/with) |
what it is measured on |`, and a line naming any device under 1.1x. Exit status 0;
2 when a measured command misbehaves (wrong exit status, different output with the
device off, a switch that no longer exists in the package), so the figures would mean
nothing. Inputs are cached under benchmarks/.work/ (shared with run.py); scratch
copies go to benchmarks/.work/scratch-devices/, removed at the end.
"""

from __future__ import annotations

import argparse
import inspect
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as bench  # noqa: E402
from run import (  # noqa: E402
    DEV_PATCH,
    OPEN_PATCH,
    PYTHON,
    BenchError,
    Run,
    best,
    clear_derived_caches,
    copy_tree,
    factory_ledger,
    junit_file,
    measure,
    peak_mb,
    side_by_side,
)

# Not run.py's scratch folder: a run.py started meanwhile empties that one.
bench.SCRATCH = bench.WORK / "scratch-devices"
RATIO_FLOOR = 1.1  # a device below this is not justified by its figure
VIEW_LIMIT = 60.0  # seconds; a status run still going after this is stopped
CAT_FILE_CAP = 2000  # blobs read with one `git cat-file blob` process each

# Runs the CLI as the `releasegate` script does, after flipping switches from outside.
# argv[1] is a comma-separated list of switches ("-" for none), the rest the CLI's argv.
SWITCHED = r"""
import sys
switches = set(sys.argv[1].split(",")) - {"-"}
sys.argv = ["releasegate", *sys.argv[2:]]
if "no-fork" in switches:
    import os
    del os.fork  # JUnitJob then parses in this process, when the result is asked for
if "junit" in switches:  # import the summary writer and the parser before main()
    import releasegate.evidence.runs as runs
    if "no-spool" in switches:
        runs.SLICE = 10**9  # no outcome's ids reach a slice: nothing goes to a file
    if "ids" in switches:
        runs.hash = lambda test: test  # the writer's set of "hashes" holds the ids
    import releasegate.evidence.junit as junit  # takes SLICE from runs as it is now
    if "ids" in switches:
        junit.hash = runs.hash
    assert junit.SLICE == runs.SLICE
from releasegate.cli.main import main
main()
"""


@dataclass
class Line:
    device: str
    with_it: str
    without_it: str
    ratio: float
    measured_on: str


def sec(seconds: float) -> str:
    return f"{seconds:.3f} s" if seconds < 10 else f"{seconds:.1f} s"


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def switched(switches: Sequence[str], *args: str | Path) -> list[str]:
    return [PYTHON, "-c", SWITCHED, ",".join(switches) or "-", *map(str, args)]


def in_process(work: Callable[[], object]) -> Callable[[int], Run]:
    """A contender timed in this process (no memory figure)."""
    def go(_: int) -> Run:
        started = time.perf_counter()
        work()
        return Run(time.perf_counter() - started, 0, 0)
    return go


def require(condition: bool, what: str) -> None:
    """The switch a line flips must still exist in the package, or the line lies."""
    if not condition:
        raise BenchError(f"the benchmark's switch no longer applies: {what}")


def git_out(*args: str | Path) -> str:
    return subprocess.run(["git", *map(str, args)], check=True, capture_output=True,
                          text=True).stdout


def stored_summaries(ledger: Path) -> list[str]:
    """Blob ids of the test summaries the recording committed (equal bytes, equal ids)."""
    listing = git_out("-C", ledger, "ls-tree", "-r", "HEAD", f"patches/{DEV_PATCH}/evidence")
    return sorted(line.split()[2] for line in listing.splitlines() if line.endswith(".json"))


# -- 1. derived caches under .git/releasegate ------------------------------------------

def bench_caches(reps: int, view_reps: int) -> list[Line]:
    say("== 1. derived caches under .git/releasegate")
    # A private copy: run.py or publish.py started meanwhile clear the shared one's caches.
    big = copy_tree(factory_ledger(1000), "caches-1000")
    lines = []
    for label, args, n, limit in (
        (f"check {OPEN_PATCH} --to prod", ["check", OPEN_PATCH, "--to", "prod"], reps, None),
        ("status", ["status"], view_reps, VIEW_LIMIT),
    ):
        def warm(_: int, args: list[str] = args, limit: float | None = limit) -> Run:
            return measure([*bench.RG, "--ledger", str(big), *args], timeout=limit)

        def cold(_: int, args: list[str] = args, limit: float | None = limit) -> Run:
            clear_derived_caches(big)
            return measure([*bench.RG, "--ledger", str(big), *args], timeout=limit)

        warm(0)  # untimed: fills the caches and the page cache
        runs = side_by_side({"warm": warm, "cold": cold}, n)
        if any(r.rc is None for r in runs["warm"] + runs["cold"]):
            raise BenchError(f"{label} on 1,000 patches ran longer than {VIEW_LIMIT:.0f} s")
        t_warm, t_cold = best(runs["warm"]), best(runs["cold"])
        lines.append(Line(
            f"1. derived caches (.git/releasegate): `{label}`", sec(t_warm), sec(t_cold),
            t_cold / t_warm,
            f"whole process on the 1,000-patch factory ledger (20,000 events); without = "
            f"cold, `.git/releasegate` deleted before each run (the run also writes the "
            f"caches back); best of {n}"))
        say(f"  {label}: warm {sec(t_warm)}, cold {sec(t_cold)}")
    return lines


# -- 2. the forked JUnit parse ---------------------------------------------------------

def bench_fork(reps: int) -> list[Line]:
    say("== 2. the forked JUnit parse")
    from releasegate.evidence import junit_job

    require('hasattr(os, "fork")' in inspect.getsource(junit_job.JUnitJob.__enter__),
            "JUnitJob.__enter__ no longer forks on hasattr(os, 'fork')")
    template = factory_ledger(1, history="dev")
    path = junit_file(100_000)
    counter = iter(range(10**6))
    last: dict[str, Path] = {}

    def record(name: str, switches: Sequence[str]) -> Callable[[int], Run]:
        def go(_: int) -> Run:
            ledger = last[name] = copy_tree(template, f"fork-{next(counter)}")
            return measure(switched(switches, "--ledger", ledger, "--as", "alice", "tests",
                                    "record", DEV_PATCH, "--env", "dev", path))
        return go

    runs = side_by_side({"fork": record("fork", []), "no-fork": record("no-fork", ["no-fork"])},
                        reps)
    if stored_summaries(last["fork"]) != stored_summaries(last["no-fork"]):
        raise BenchError("tests record stored a different summary without the fork")
    t_on, t_off = best(runs["fork"]), best(runs["no-fork"])
    say(f"  tests record 100k: fork {sec(t_on)}, in-process {sec(t_off)}")
    size = path.stat().st_size / 1e6
    return [Line(
        "2. forked JUnit parse (`JUnitJob`)", sec(t_on), sec(t_off), t_off / t_on,
        f"whole-process `tests record` of 100k test cases ({size:.1f} MB), a fresh copy of "
        f"a 1-patch ledger in dev each run; without = `del os.fork` before `main()`, so the "
        f"parse runs in the process itself; best of {reps}")]


# -- 3. spooled summaries --------------------------------------------------------------

def bench_spool(reps: int) -> list[Line]:
    say("== 3. spooled summaries (tests record at 500k, peak RSS)")
    from releasegate.evidence import junit, runs

    require(isinstance(getattr(runs, "SLICE", None), int), "runs.SLICE is gone")
    require(getattr(junit, "SLICE", None) is runs.SLICE,
            "junit.py no longer takes SLICE from runs.py")
    for module in (runs, junit):
        require("hash(test)" in inspect.getsource(module),
                f"{module.__name__} no longer keys tests by hash(test)")
    template = factory_ledger(1, history="dev")
    path = junit_file(500_000)
    counter = iter(range(10**6))
    last: dict[str, Path] = {}
    modes = {"default": ["junit"], "no-spool": ["junit", "no-spool"],
             "ids": ["junit", "ids"], "neither": ["junit", "no-spool", "ids"]}

    def record(name: str) -> Callable[[int], Run]:
        def go(_: int) -> Run:
            if name in last:
                shutil.rmtree(last[name], ignore_errors=True)  # 500k copies are 80 MB
            ledger = last[name] = copy_tree(template, f"spool-{next(counter)}")
            return measure(switched(modes[name], "--ledger", ledger, "--as", "alice",
                                    "tests", "record", DEV_PATCH, "--env", "dev", path))
        return go

    measured = side_by_side({name: record(name) for name in modes}, reps)
    summaries = {name: stored_summaries(ledger) for name, ledger in last.items()}
    if any(s != summaries["default"] for s in summaries.values()):
        raise BenchError(f"tests record stored different summaries with the switches: "
                         f"{summaries}")
    rss = {name: peak_mb(r) for name, r in measured.items()}
    t = {name: best(r) for name, r in measured.items()}
    say("  " + ", ".join(f"{n} {rss[n]:.1f} MB {sec(t[n])}" for n in modes))
    size = path.stat().st_size / 1e6

    def cell(name: str) -> str:
        return f"{rss[name]:.1f} MB ({sec(t[name])})"

    on = (f"peak RSS (largest process) of whole-process `tests record` of 500k test cases "
          f"({size:.0f} MB), largest of {reps} runs (best time in brackets, for information: "
          f"{reps} runs are too few to compare times); ")
    return [
        Line("3a. spooled summaries: ids spooled to temp files in slices (`SLICE`)",
             cell("default"), cell("no-spool"), rss["no-spool"] / rss["default"],
             on + "without = `runs.SLICE = 10**9` before `main()`, so every id stays in "
             "memory (the writer still keeps hashes)"),
        Line("3b. spooled summaries: a 64-bit hash per test, not its id",
             cell("default"), cell("ids"), rss["ids"] / rss["default"],
             on + "without = a module-level `hash = lambda test: test` in runs.py and "
             "junit.py, so the set of seen tests holds the ids themselves (spooling on)"),
        Line("3. spooled summaries, both parts", cell("default"), cell("neither"),
             rss["neither"] / rss["default"],
             on + "without = both switches of 3a and 3b: every id in memory, in the "
             "pending slices and in the set of seen tests"),
    ]


# -- 4. the two YAML tree builders -----------------------------------------------------

def bench_yaml(reps: int) -> list[Line]:
    say("== 4. load_yaml_fast against load_yaml and PyYAML's CSafeLoader")
    import yaml

    from releasegate.config.strict_yaml import load_yaml, load_yaml_fast

    big = factory_ledger(1000)
    files = sorted((big / "patches").glob("*/events/*.yaml"))
    inputs = [(p.read_bytes(), str(p.relative_to(big))) for p in files]
    megabytes = sum(len(data) for data, _ in inputs) / 1e6
    for data, source in inputs:  # untimed: both builders give the same data
        if load_yaml_fast(data, source) != load_yaml(data, source).data:
            raise BenchError(f"load_yaml_fast and load_yaml disagree on {source}")

    def fast() -> None:
        for data, source in inputs:
            load_yaml_fast(data, source)

    def marked() -> None:
        for data, source in inputs:
            load_yaml(data, source).data  # noqa: B018  # the data is what is compared

    def pyyaml() -> None:
        for data, _ in inputs:
            yaml.load(data, Loader=yaml.CSafeLoader)

    runs = side_by_side({"fast": in_process(fast), "marked": in_process(marked),
                         "pyyaml": in_process(pyyaml)}, reps)
    t_fast, t_marked, t_py = (best(runs[n]) for n in ("fast", "marked", "pyyaml"))
    say(f"  {len(inputs)} files: fast {sec(t_fast)}, load_yaml {sec(t_marked)}, "
        f"CSafeLoader {sec(t_py)}")
    on = (f"in-process parse of all {len(inputs):,} event files of the 1,000-patch factory "
          f"ledger ({megabytes:.1f} MB, bytes read beforehand, only parsing timed); "
          f"best of {reps}")
    return [
        Line("4a. `load_yaml_fast` (data only), against `load_yaml(...).data`", sec(t_fast),
             sec(t_marked), t_marked / t_fast,
             on + "; without = the marked builder every config file goes through"),
        Line("4b. `load_yaml_fast`, against `yaml.load(..., Loader=yaml.CSafeLoader)` "
             "(reference)", sec(t_fast), sec(t_py), t_py / t_fast,
             on + "; without = PyYAML's own C-backed safe loader on the same bytes "
                  "(not strict: it resolves ints, bools, dates)"),
    ]


# -- 5. batched blob reads -------------------------------------------------------------

def bench_batch(reps: int) -> list[Line]:
    say("== 5. one git cat-file --batch against a process per blob")
    from releasegate.ledger import store as store_module
    from releasegate.ledger.events import PATCHES
    from releasegate.ledger.store import GitStore

    big = factory_ledger(1000)
    store = GitStore(big)
    head = store.resolve("HEAD")
    if head is None:
        raise BenchError(f"{big} has no commits")
    patches = sorted(store.list_tree(head, [PATCHES + "/"], recursive=False))[:100]
    listing = store.list_tree(head, [f"{p}/events" for p in patches])
    shas = list(dict.fromkeys(e.sha for e in listing.values() if e.type == "blob"))
    if len(shas) < 100:
        raise BenchError(f"only {len(shas)} event blobs under {len(patches)} patches")
    single = shas[:CAT_FILE_CAP]
    # What GitStore runs git with.
    env = {**os.environ, **getattr(store_module, "_GIT_ENV", {"LC_ALL": "C"})}
    results: dict[str, dict[str, bytes]] = {}

    def batched() -> None:
        results["batched"] = store.read_blobs(shas)

    def per_process() -> None:
        got = {}
        for sha in single:
            proc = subprocess.run(["git", "-C", str(big), "cat-file", "blob", sha],
                                  capture_output=True, env=env)
            if proc.returncode:
                raise BenchError(f"git cat-file blob {sha} exited {proc.returncode}: "
                                 f"{proc.stderr.decode(errors='replace')}")
            got[sha] = proc.stdout
        results["single"] = got

    runs = side_by_side({"batched": in_process(batched), "single": in_process(per_process)},
                        reps)
    if any(results["batched"].get(sha) != data for sha, data in results["single"].items()):
        raise BenchError("git cat-file --batch and git cat-file blob read different bytes")
    # Both per blob, so a capped per-process side still compares like with like.
    t_on = best(runs["batched"]) / len(shas) * len(single)
    t_off = best(runs["single"])
    say(f"  {len(shas)} blobs in one process {sec(best(runs['batched']))}; "
        f"{len(single)} processes {sec(t_off)}")
    capped = "" if len(single) == len(shas) else (
        f" (capped at {len(single)} of {len(shas)}; the batched time is scaled to "
        f"{len(single)} blobs)")
    return [Line(
        "5. batched reads: one `git cat-file --batch` (`GitStore.read_blobs`)", sec(t_on),
        sec(t_off), t_off / t_on,
        f"in-process read of the {len(shas):,} event blobs of {len(patches)} patches of the "
        f"1,000-patch factory ledger: one `read_blobs` call; without = one `git cat-file "
        f"blob SHA` process per blob{capped}; best of {reps}")]


# -- 6. board rows -----------------------------------------------------------------------

def bench_rows(reps: int) -> list[Line]:
    """`status` with no derived caches, as in a fresh clone: reading the board rows the
    acts recorded, against a copy of the ledger whose rows were removed (one commit),
    where every patch is folded from its events."""
    say("== 6. board rows")
    with_rows = copy_tree(factory_ledger(1000), "rows-1000")
    without = copy_tree(with_rows, "no-rows-1000")
    git_out("-C", without, "rm", "-rq", "board")
    git_out("-C", without, "commit", "-qm", "without board rows")
    require(not (without / "board").exists(), "rows live under board/")

    def cold(ledger: Path) -> Callable[[int], Run]:
        def go(_: int) -> Run:
            clear_derived_caches(ledger)
            return measure([*bench.RG, "--ledger", str(ledger), "status"], timeout=VIEW_LIMIT)
        return go

    runs = side_by_side({"with": cold(with_rows), "without": cold(without)}, reps)
    if any(r.rc is None for r in runs["with"] + runs["without"]):
        raise BenchError(f"status on 1,000 patches ran longer than {VIEW_LIMIT:.0f} s")
    t_with, t_without = best(runs["with"]), best(runs["without"])
    say(f"  status, cold: with rows {sec(t_with)}, without {sec(t_without)}")
    return [Line("6. board rows (`board/<system>/<xx>/<ID>.json`): `status`, cold",
                 sec(t_with), sec(t_without), t_without / t_with,
                 f"whole process on the 1,000-patch factory ledger (20,000 events), "
                 f"`.git/releasegate` deleted before each run, as in a fresh clone; without "
                 f"= the same ledger with its rows removed in one commit; best of {reps}")]


# -- main ------------------------------------------------------------------------------

DEVICES = {"1": "caches", "2": "fork", "3": "spool", "4": "yaml", "5": "batch", "6": "rows"}


def render(lines: list[Line]) -> str:
    out = ["| device | with it | without it | ratio (without/with) | what it is measured on |",
           "|---|---|---|---|---|"]
    for line in lines:
        out.append(f"| {line.device} | {line.with_it} | {line.without_it} | "
                   f"{line.ratio:.2f}x | {line.measured_on} |")
    return "\n".join(out)


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--only", default=",".join(DEVICES),
                         help="comma-separated devices to measure: 1 caches, 2 fork, "
                              "3 spool, 4 yaml, 5 batch, 6 rows (numbers or names)")
    args = options.parse_args()
    names = {v: k for k, v in DEVICES.items()}
    chosen = {names.get(s.strip(), s.strip()) for s in args.only.split(",") if s.strip()}
    if chosen - set(DEVICES):
        options.error(f"unknown device(s): {', '.join(sorted(chosen - set(DEVICES)))}")

    started, load_before = time.perf_counter(), os.getloadavg()[0]
    if bench.SCRATCH.exists():
        shutil.rmtree(bench.SCRATCH)
    bench.SCRATCH.mkdir(parents=True)
    bench.prune_stale_inputs()  # as run.py does: ledgers of older factory versions
    lines: list[Line] = []
    try:
        if "1" in chosen:
            lines += bench_caches(reps=5, view_reps=2)
        if "2" in chosen:
            lines += bench_fork(reps=9)
        if "3" in chosen:
            lines += bench_spool(reps=2)
        if "4" in chosen:
            lines += bench_yaml(reps=5)
        if "5" in chosen:
            lines += bench_batch(reps=3)
        if "6" in chosen:
            lines += bench_rows(reps=3)
    except BenchError as exc:
        print(f"benchmark error: {exc}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(bench.SCRATCH, ignore_errors=True)

    git_version = git_out("--version").strip()
    print(f"releasegate performance devices: Python {platform.python_version()}, "
          f"{git_version}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}; "
          f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after; "
          f"{time.perf_counter() - started:.0f} s in all\n")
    print(render(lines))
    weak = [line.device for line in lines if line.ratio < RATIO_FLOOR]
    print("\n" + (f"Under {RATIO_FLOOR}x, not justified by these figures: " + "; ".join(weak)
                  if weak else f"Every device measured {RATIO_FLOOR}x or better."))
    return 0


if __name__ == "__main__":
    sys.exit(main())
