"""The releasegate performance suite: whole processes, against baselines measured alongside.

Run from the repository root with the package installed:

    python benchmarks/run.py            # the full suite, about 2 minutes (4 when busy)
    python benchmarks/run.py --quick    # fewer repetitions, about 1.5 minutes

Every figure is a whole `releasegate` process, as a release manager or a CI job runs
it, timed from a small wrapper process that also reads the peak memory of what it ran
(`resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`, one wrapper per run, so each figure
is the peak resident set of that run alone: the largest of the command and the git
processes it waited for). Contenders
compared in a ratio run in turn within each repetition, so a busy moment on this
shared machine hits them alike; times are the best of the repetitions.

Prints one table (`| measurement | value | baseline | ratio | target | result |`) and
exits 1 when any target is missed. Inputs (JUnit files, generated ledgers) are cached
under benchmarks/.work/; delete it to start afresh. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from junit_parse import write_junit  # noqa: E402
from ledger_factory import VERSION as FACTORY_VERSION  # noqa: E402
from ledger_factory import cached_ledger, patch_id  # noqa: E402

WORK = HERE / ".work"
VIEW_LIMIT = 45.0  # seconds; status and patch list runs are stopped after this
SCRATCH = WORK / "scratch"
PYTHON = sys.executable
MB = 1024 * 1024

# The patches the measurements use (numbers as ledger_factory gives them).
OPEN_PATCH = patch_id(5)  # in test, prod gate open, no dependencies
DEPENDENT_PATCH = patch_id(10)  # in test, prod gate open, depends on a patch in prod
CLOSED_PATCH = patch_id(4)  # in test, prod gate closed
PROD_PATCH = patch_id(1)  # in prod
DEV_PATCH = patch_id(1)  # in the record template ledger: in dev, nothing recorded yet

WRAPPER = r"""
import json, resource, subprocess, sys, time
spec = json.loads(sys.argv[1])
start = time.perf_counter()
try:
    proc = subprocess.run(spec["cmd"], cwd=spec["cwd"], env=spec["env"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          timeout=spec["timeout"])
    rc, err = proc.returncode, proc.stderr.decode("utf-8", "replace")[-1500:]
except subprocess.TimeoutExpired:
    rc, err = None, "stopped at the time limit"
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": seconds, "maxrss_kb": usage.ru_maxrss, "rc": rc, "stderr": err,
                  "cpu": usage.ru_utime + usage.ru_stime}))
"""

BARE_EXPAT = ("import sys\nfrom xml.parsers import expat\n"
              "with open(sys.argv[1], 'rb') as f:\n    expat.ParserCreate().ParseFile(f)\n")
JUNITPARSER = "import sys, junitparser; junitparser.JUnitXml.fromfile(sys.argv[1])"


# -- running things ---------------------------------------------------------------------

@dataclass(frozen=True)
class Run:
    seconds: float
    maxrss_kb: int
    rc: int | None  # None: stopped at the time limit
    # user + system seconds of the command and the processes it waited for (git)
    cpu_seconds: float = field(default=0.0, kw_only=True)


class BenchError(RuntimeError):
    """A measured command did not do what it should; the figures would be meaningless."""


def child_env() -> dict[str, str]:
    # PYTHONDONTWRITEBYTECODE is dropped: an installed releasegate has its bytecode
    # (pip compiles it, as it did the dependencies'), so with the variable set an
    # editable install would compile every module again in every measured run.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("RELEASEGATE_") and k != "PYTHONDONTWRITEBYTECODE"}
    env["RELEASEGATE_LOG_DIR"] = str(WORK / "logs")
    return env


def releasegate_cmd() -> list[str]:
    beside = Path(PYTHON).parent / "releasegate"
    found = str(beside) if beside.exists() else shutil.which("releasegate")
    if not found:
        raise BenchError("the releasegate command is not installed in this environment")
    return [found]


RG = releasegate_cmd()


def measure(cmd: Sequence[str], *, ok: Sequence[int] = (0,), cwd: Path | None = None,
            timeout: float | None = None) -> Run:
    """Run `cmd` once in a fresh wrapper process: its wall time, peak memory and CPU time.

    With `timeout`, a run still going after that many seconds is stopped and reported
    with rc None, so one pathological command cannot stretch the suite without end."""
    spec = {"cmd": list(map(str, cmd)), "cwd": str(cwd or HERE.parent), "env": child_env(),
            "timeout": timeout}
    out = subprocess.run([PYTHON, "-c", WRAPPER, json.dumps(spec)], capture_output=True,
                         text=True, check=True)
    data = json.loads(out.stdout)
    if data["rc"] is None and timeout is not None:
        return Run(data["seconds"], data["maxrss_kb"], None, cpu_seconds=data["cpu"])
    if data["rc"] not in ok:
        raise BenchError(f"{' '.join(spec['cmd'])} exited {data['rc']} (expected "
                         f"{' or '.join(map(str, ok))}):\n{data['stderr']}")
    return Run(data["seconds"], data["maxrss_kb"], data["rc"], cpu_seconds=data["cpu"])


def side_by_side(contenders: dict[str, Callable[[int], Run]], reps: int) -> dict[str, list[Run]]:
    """Each contender once per repetition, in rotating order; all runs per contender."""
    names = list(contenders)
    runs: dict[str, list[Run]] = {n: [] for n in names}
    for rep in range(reps):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            runs[name].append(contenders[name](rep))
    return runs


def best(runs: list[Run]) -> float:
    return min(r.seconds for r in runs)


def median(runs: list[Run]) -> float:
    return statistics.median(r.seconds for r in runs)


def peak_mb(runs: list[Run]) -> float:
    return max(r.maxrss_kb for r in runs) * 1024 / MB


def git(*args: str | Path) -> None:
    subprocess.run(["git", *map(str, args)], check=True, capture_output=True)


def copy_tree(source: Path, name: str) -> Path:
    target = SCRATCH / name
    if target.exists():
        shutil.rmtree(target)
    subprocess.run(["cp", "-a", str(source), str(target)], check=True)
    return target


def clear_derived_caches(ledger: Path) -> None:
    shutil.rmtree(ledger / ".git" / "releasegate", ignore_errors=True)


# -- the table -------------------------------------------------------------------------

@dataclass
class Row:
    measurement: str
    value: str
    baseline: str = ""
    ratio: str = ""
    target: str = ""
    result: str = "info"


@dataclass
class Table:
    rows: list[Row] = field(default_factory=list)

    def add(self, *args: str, passed: bool | None = None, **kwargs: str) -> None:
        row = Row(*args, **kwargs)
        if passed is not None:
            row.result = "PASS" if passed else "FAIL"
        self.rows.append(row)
        print(f"  {row.result:5s} {row.measurement}: {row.value}"
              + (f" (baseline {row.baseline}, {row.ratio})" if row.baseline else ""),
              file=sys.stderr, flush=True)

    def section(self, title: str) -> None:
        self.rows.append(Row(f"**{title}**", ""))
        print(f"\n== {title}", file=sys.stderr, flush=True)

    def render(self) -> str:
        head = ["measurement", "value", "baseline", "ratio", "target", "result"]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in self.rows:
            cells = [r.measurement, r.value, r.baseline, r.ratio, r.target,
                     r.result if r.value else ""]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)

    @property
    def failed(self) -> list[Row]:
        return [r for r in self.rows if r.result == "FAIL"]


def sec(seconds: float) -> str:
    return f"{seconds:.3f} s"


def timed(runs: list[Run]) -> str:
    """The best time, or how long a run went on before it was stopped."""
    if any(r.rc is None for r in runs):
        return f"> {max(r.seconds for r in runs):.0f} s (stopped)"
    return sec(best(runs))


def ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}x"


# -- inputs ----------------------------------------------------------------------------

JUNIT_VERSION = "junit-1"  # bump if junit_parse.write_junit changes its output


def prune_stale_inputs() -> None:
    """Drop cached ledgers of other versions of the factory or of the demo."""
    import hashlib

    import releasegate.demo

    demo = "demo-" + hashlib.sha1(Path(releasegate.demo.__file__).read_bytes()).hexdigest()[:12]
    for folder in (WORK / "ledgers").glob("*"):
        old_factory = (folder.name.startswith("ledger-factory-")
                       and not folder.name.startswith(FACTORY_VERSION + "-"))
        old_demo = folder.name.startswith("demo-") and folder.name != demo
        if old_factory or old_demo:
            shutil.rmtree(folder, ignore_errors=True)
    for stale in (WORK / "junit").glob("*.xml"):
        if not stale.name.startswith(JUNIT_VERSION + "-"):
            stale.unlink()


def junit_file(cases: int) -> Path:
    """A pytest-like JUnit report with `cases` test cases, generated once."""
    path = WORK / "junit" / f"{JUNIT_VERSION}-{cases}.xml"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        write_junit(tmp, cases)
        tmp.replace(path)
    return path


def demo_ledger() -> Path:
    """The ledger `releasegate demo` builds, built once per version of the demo."""
    import hashlib

    import releasegate.demo

    source = Path(releasegate.demo.__file__).read_bytes()
    root = WORK / "ledgers" / f"demo-{hashlib.sha1(source).hexdigest()[:12]}"
    if not (root / "complete").exists():
        if root.exists():
            shutil.rmtree(root)
        releasegate.demo.run_demo(root, say=lambda _: None)
        (root / "complete").write_text("ok\n")
    return root / "ledger"


def factory_ledger(patches: int, *, first: int = 1, history: str | None = None) -> Path:
    """A generated ledger, validated through the CLI; rebuilt once if it fails."""
    for attempt in range(2):
        root = cached_ledger(WORK, patches, first=first, history=history)
        try:
            validate_ledger(root, history)
            return root
        except BenchError:
            if attempt:
                raise
            print(f"  cached ledger {root.name} no longer reads back; rebuilding",
                  file=sys.stderr)
            shutil.rmtree(root)
    raise AssertionError("unreachable")


def cli(ledger: Path, *args: str, ok: Sequence[int] = (0,)) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([*RG, "--ledger", str(ledger), *args], capture_output=True,
                          text=True, env=child_env())
    if proc.returncode not in ok:
        raise BenchError(f"releasegate {' '.join(args)} on {ledger.name} exited "
                         f"{proc.returncode}:\n{proc.stdout}{proc.stderr}")
    return proc


def validate_ledger(root: Path, history: str | None) -> None:
    """The generated ledger reads back through the CLI with the verdicts it should have."""
    if history == "dev":
        shown = json.loads(cli(root, "patch", "show", DEV_PATCH, "--format", "json").stdout)
        if shown.get("env") != "dev":
            raise BenchError(f"{DEV_PATCH} is not in dev in {root}")
        return
    ids = [p.name for p in (root / "patches").iterdir()]
    expected = {OPEN_PATCH: (0, True), CLOSED_PATCH: (1, False), DEPENDENT_PATCH: (0, True)}
    for pid, (code, is_open) in expected.items():
        if pid not in ids:
            continue
        cli(root, "patch", "show", pid)
        verdict = json.loads(cli(root, "check", pid, "--format", "json", ok=(code,)).stdout)
        if verdict["open"] is not is_open or verdict["to"] != "prod":
            raise BenchError(f"check {pid} in {root} gave an unexpected verdict: {verdict}")
    if PROD_PATCH in ids:
        cli(root, "patch", "show", PROD_PATCH)
        cli(root, "check", PROD_PATCH, "--to", "prod", ok=(0,))  # already in prod


# -- 1. tests record -------------------------------------------------------------------

def bench_record(table: Table, reps: int, big_reps: int) -> None:
    table.section("1. tests record of a JUnit file (whole process)")
    template = factory_ledger(1, history="dev")
    counter = iter(range(10**6))

    def record(path: Path, ledger: Path | None = None) -> Callable[[int], Run]:
        def go(_: int) -> Run:
            target = ledger or copy_tree(template, f"record-{next(counter)}")
            return measure([*RG, "--ledger", target, "--as", "alice", "tests", "record",
                            DEV_PATCH, "--env", "dev", path])
        return go

    def expat_alone(path: Path) -> Callable[[int], Run]:
        return lambda _: measure([PYTHON, "-c", BARE_EXPAT, path])

    def hash_object(path: Path) -> Callable[[int], Run]:
        def go(rep: int) -> Run:
            repo = SCRATCH / f"hash-{next(counter)}"
            git("init", "-q", repo)  # a fresh object store: the blob is really written
            return measure(["git", "-C", repo, "hash-object", "-w", path])
        return go

    def junitparser_load(path: Path) -> Callable[[int], Run]:
        return lambda _: measure([PYTHON, "-c", JUNITPARSER, path])

    per_size: dict[int, list[Run]] = {}
    jp_runs: dict[int, list[Run]] = {}

    # 100,000 test cases: against the floor and junitparser, side by side.
    path = junit_file(100_000)
    size_mb = path.stat().st_size / 1e6
    runs = side_by_side({"record": record(path), "expat": expat_alone(path),
                         "hash": hash_object(path), "junitparser": junitparser_load(path)},
                        reps)
    per_size[100_000], jp_runs[100_000] = runs["record"], runs["junitparser"]
    rec, expat_t, hash_t, jp = (best(runs["record"]), best(runs["expat"]),
                                best(runs["hash"]), best(runs["junitparser"]))
    floor = expat_t + hash_t
    table.add(f"tests record, 100k testcases ({size_mb:.1f} MB), time", sec(rec),
              f"{sec(floor)} floor = bare expat parse {sec(expat_t)} + git hash-object -w "
              f"{sec(hash_t)}", ratio(rec, floor), "≤ 3x floor", passed=rec <= 3 * floor)
    table.add("tests record, 100k, vs loading the file with junitparser", sec(rec),
              f"{sec(jp)} junitparser JUnitXml.fromfile", ratio(rec, jp), "< 1x",
              passed=rec < jp)
    table.add("tests record, 100k, peak RSS", f"{peak_mb(runs['record']):.1f} MB",
              f"{peak_mb(jp_runs[100_000]):.1f} MB junitparser",
              ratio(peak_mb(runs["record"]), peak_mb(jp_runs[100_000])), "< 100 MB",
              passed=peak_mb(runs["record"]) < 100)

    # The same patch recording a second report: its earlier evidence is in the ledger.
    again_ledger = copy_tree(template, "record-again")
    record(path, again_ledger)(0)
    again = [record(path, again_ledger)(0)]
    table.add("tests record, 100k, a 2nd report on the same patch (info)",
              f"{sec(best(again))}, {peak_mb(again):.1f} MB", f"{sec(rec)}, "
              f"{peak_mb(runs['record']):.1f} MB first report",
              ratio(best(again), rec) + " time, "
              + ratio(peak_mb(again), peak_mb(runs["record"])) + " RSS")

    # 10,000 and 500,000: linearity, and memory at 500k against junitparser.
    small = junit_file(10_000)
    per_size[10_000] = side_by_side({"record": record(small)}, reps)["record"]
    big = junit_file(500_000)
    runs = side_by_side({"record": record(big), "junitparser": junitparser_load(big)},
                        big_reps)
    per_size[500_000], jp_runs[500_000] = runs["record"], runs["junitparser"]
    big_mb = big.stat().st_size / 1e6
    rss_big, jp_big = peak_mb(runs["record"]), peak_mb(runs["junitparser"])
    table.add(f"tests record, 500k testcases ({big_mb:.0f} MB), peak RSS", f"{rss_big:.1f} MB",
              f"{jp_big:.1f} MB junitparser", ratio(rss_big, jp_big), "< 100 MB",
              passed=rss_big < 100)
    table.add("junitparser JUnitXml.fromfile, 100k / 500k, peak RSS (info)",
              f"{peak_mb(jp_runs[100_000]):.1f} MB / {jp_big:.1f} MB")
    for cases in (10_000, 100_000, 500_000):
        t = best(per_size[cases])
        table.add(f"tests record, {cases // 1000}k testcases, time", sec(t),
                  ratio=f"{t / (cases / 1000) * 1000:.2f} ms per 1k tests")
    t100, t500 = best(per_size[100_000]), best(per_size[500_000])
    table.add("tests record, marginal cost 100k -> 500k", f"{(t500 - t100) / 400 * 1000:.2f} "
              "ms per 1k tests", f"{t100 / 100 * 1000:.2f} ms per 1k at 100k (incl. start-up)",
              ratio((t500 - t100) / 400, t100 / 100))
    table.add("junitparser JUnitXml.fromfile, 500k, time (info)",
              sec(best(jp_runs[500_000])), sec(t500) + " tests record",
              ratio(t500, best(jp_runs[500_000])))


# -- 2. a big ledger -------------------------------------------------------------------

def bench_ledger(table: Table, reps: int, cold_reps: int, view_reps: int) -> None:
    table.section("2. a ledger of 1,000 patches x 20 events (whole process)")
    started = time.perf_counter()
    big = factory_ledger(1000)
    one = factory_ledger(1, first=5)  # the same patch history as OPEN_PATCH in `big`
    demo = demo_ledger()
    print(f"  ledgers ready in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    def check(ledger: Path, pid: str, *extra: str, ok: Sequence[int] = (0,)
              ) -> Callable[[int], Run]:
        return lambda _: measure([*RG, "--ledger", ledger, "check", pid, *extra], ok=ok)

    contenders = {
        "big": check(big, OPEN_PATCH), "one": check(one, OPEN_PATCH),
        # the demo's patch is in prod: check answers "already in prod" (exit 0)
        "demo": check(demo, "CBS-2026-0042", "--to", "prod"),
        "dependent": check(big, DEPENDENT_PATCH),
    }
    for go in contenders.values():
        go(0)  # warm: the pipeline cache and the page cache
    runs = side_by_side(contenders, reps)
    t_big, t_one, t_demo, t_dep = (best(runs[n]) for n in ("big", "one", "demo", "dependent"))
    demo_patches = len(list((demo / "patches").iterdir()))
    table.add("check, 1,000-patch ledger", sec(t_big),
              f"{sec(t_demo)} demo ledger ({demo_patches} patches, already in prod)",
              ratio(t_big, t_demo),
              "< 0.5 s", passed=t_big < 0.5)
    table.add("check, same patch history on a 1-patch ledger (info)", sec(t_one),
              sec(t_big) + " on 1,000 patches", ratio(t_big, t_one))
    table.add("check, 1,000 patches, a patch with a dependency (info)", sec(t_dep),
              sec(t_big) + " without", ratio(t_dep, t_big))

    def check_cold(_: int) -> Run:
        clear_derived_caches(big)
        return measure([*RG, "--ledger", big, "check", OPEN_PATCH])

    t_cold = best([check_cold(i) for i in range(cold_reps)])
    table.add("check, 1,000 patches, cold (no .git/releasegate) (info)", sec(t_cold),
              sec(t_big) + " warm", ratio(t_cold, t_big))

    # A write on a copy of each ledger: the cost must not grow with the ledger.
    big_copy, one_copy = copy_tree(big, "write-big"), copy_tree(one, "write-one")

    def signoff(ledger: Path) -> Callable[[int], Run]:
        return lambda rep: measure([*RG, "--ledger", ledger, "--as", "dave", "signoff",
                                    OPEN_PATCH, "--env", "prod", "--role", "business",
                                    "--comment", f"re-confirmed {rep}"])
    signoff(big_copy)(0), signoff(one_copy)(0)  # warm, and both histories stay alike
    runs = side_by_side({"big": signoff(big_copy), "one": signoff(one_copy)}, reps)
    w_big, w_one = best(runs["big"]), best(runs["one"])
    table.add("signoff (a write), 1,000-patch ledger", sec(w_big), f"{sec(w_one)} 1-patch ledger",
              ratio(w_big, w_one), "≤ 1.5x (near 1)", passed=w_big <= 1.5 * w_one)
    shutil.rmtree(big_copy, ignore_errors=True)

    # Whole-ledger views, cold (derived caches deleted) and warm.
    for command in (["status"], ["patch", "list"]):
        label = " ".join(command)

        def cold(_: int, command: list[str] = command) -> Run:
            clear_derived_caches(big)
            return measure([*RG, "--ledger", big, *command], timeout=VIEW_LIMIT)

        cold_runs = [cold(i) for i in range(view_reps)]
        warm_runs = [measure([*RG, "--ledger", big, *command], timeout=VIEW_LIMIT)
                     for _ in range(view_reps)]
        t_cold, t_warm = best(cold_runs), best(warm_runs)
        table.add(f"{label}, 1,000 patches, cold (no .git/releasegate) (info)",
                  timed(cold_runs), f"{timed(warm_runs)} warm", ratio(t_cold, t_warm))
        table.add(f"{label}, 1,000 patches, warm (info)",
                  f"{timed(warm_runs)}, {peak_mb(warm_runs):.0f} MB", f"{sec(t_big)} check",
                  ratio(t_warm, t_big))


# -- 3. start-up -----------------------------------------------------------------------

def bench_startup(table: Table, reps: int) -> None:
    table.section("3. start-up (whole process)")
    small = factory_ledger(1, first=5)
    contenders = {
        "click": lambda _: measure([PYTHON, "-c", "import click"]),
        "help": lambda _: measure([*RG, "--help"]),
        "check": lambda _: measure([*RG, "--ledger", small, "check", OPEN_PATCH]),
    }
    for go in contenders.values():
        go(0)
    runs = side_by_side(contenders, reps)
    base = best(runs["click"])
    for name, label in (("help", "releasegate --help"), ("check", "check, 1-patch ledger")):
        t = best(runs[name])
        table.add(label, f"{sec(t)} (median {sec(median(runs[name]))})",
                  f"{sec(base)} python -c 'import click'", ratio(t, base), "≤ 3x",
                  passed=t <= 3 * base)


# -- main ------------------------------------------------------------------------------

SECTIONS = ("record", "ledger", "startup", "regression")


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--quick", action="store_true", help="fewer repetitions")
    options.add_argument("--only", default=",".join(SECTIONS),
                         help=f"comma-separated sections to run, of: {', '.join(SECTIONS)}")
    args = options.parse_args()
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(chosen) - set(SECTIONS)
    if unknown:
        options.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    # status and patch list run once each way: on 1,000 patches they take seconds.
    reps, big_reps, cold_reps, view_reps, startup_reps = ((3, 1, 1, 1, 7) if args.quick
                                                         else (5, 2, 2, 1, 15))

    if SCRATCH.exists():
        shutil.rmtree(SCRATCH)
    SCRATCH.mkdir(parents=True)
    prune_stale_inputs()
    started = time.perf_counter()
    table = Table()
    try:
        if "record" in chosen:
            bench_record(table, reps, big_reps)
        if "ledger" in chosen:
            bench_ledger(table, reps, cold_reps, view_reps)
        if "startup" in chosen:
            bench_startup(table, startup_reps)
        if "regression" in chosen:
            from regression import bench_regression

            bench_regression(table, reps, measure, RG, WORK)
    except BenchError as exc:
        print(f"benchmark error: {exc}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(SCRATCH, ignore_errors=True)

    print(f"releasegate benchmarks{' (--quick)' if args.quick else ''}: {machine()}; "
          f"ledger factory {FACTORY_VERSION}; "
          f"times are the best of {reps} runs ({big_reps} at 500k, {cold_reps} for a cold "
          f"check, {view_reps} for status and patch list, {startup_reps} for start-up); "
          f"{time.perf_counter() - started:.0f} s in all\n")
    return report(table)


def machine() -> str:
    """Python, git, the CPUs and the system, as every benchmark's heading names them."""
    git_version = subprocess.run(["git", "--version"], capture_output=True,
                                 text=True).stdout.strip()
    return (f"Python {platform.python_version()}, {git_version}, {os.cpu_count()} CPUs, "
            f"{platform.system()} {platform.release()}")


def report(table: Table) -> int:
    """Print the table and how many of its targets were met; the exit status."""
    print(table.render())
    failed = table.failed
    judged = [r for r in table.rows if r.result in ("PASS", "FAIL")]
    print(f"\n{len(judged) - len(failed)} of {len(judged)} targets met"
          + (f"; missed: {'; '.join(r.measurement for r in failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
