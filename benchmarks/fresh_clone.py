"""releasegate on a 10,000-patch ledger in a fresh `git clone`, as a CI job meets it.

Run from the repository root with the package installed:

    python benchmarks/fresh_clone.py                  # 10,000 patches: 2.5 to 5 minutes
    python benchmarks/fresh_clone.py --quick          # fewer repetitions: 2 to 5 minutes
    python benchmarks/fresh_clone.py --patches 1000   # the same lines on 1,000 patches

Most of the difference is the untimed `git clone` of 10,000 patches: 20 s to nearly
3 minutes on this machine, as busy as its disk is.

The ledger is `ledger_factory.py`'s (10,000 patches, 200,000 events, one commit per
act), cached under benchmarks/.work/ledgers and read back through the CLI once
(`run.factory_ledger`); the first run builds it (2 to 3 minutes, and about 2.5 GB on
disk). Its patches are numbered by history (see ledger_factory): a number ending in
1, 2 or 3 (modulo 5) is in prod, 4 in test with the prod gate closed (a failing
regression test, the business owner rejected), 0 in test with the prod gate open. The
measured patches are the highest numbered of their kind, those at the end of the
ledger, as the patches a release is working on are: `check` and `patch show` read
the highest numbered closed patch; each `promote` records a different open patch
without dependencies (a number ending in 5); each `signoff` goes to a different
closed patch, on which dave, the example pipeline's business owner, rejected earlier,
so his approval is a new, valid act.

The situation of each run:

- **Fresh clone**: `git clone -q LEDGER DIR` and `git -C DIR remote remove origin`
  (a recording `promote` then has no upstream to push to), outside the timing. A
  local clone: git links the source's pack files instead of packing them anew, and
  checks out the working tree (312,000 files at 10,000 patches), so the ledger is
  cloned once and that clone serves every line, in this order: the reads, the
  promotions, the sign-offs. Nothing under `.git/releasegate/` (releasegate's
  derived caches), which a clone never has.
- **Cold**: `.git/releasegate/` deleted just before the run, so the clone is as
  a fresh one, bar the commits of the acts measured before in it (each repetition
  deletes the folder rather than cloning again).
- **Warm**: the same command again, right after the cold run, in the same clone.

Every figure is a whole `releasegate` process started from run.py's wrapper
(`run.measure`): wall time, the peak resident set of the process and the git
processes it waited for, and their CPU time (user + system, `RUSAGE_CHILDREN`).
Times are the best of the repetitions, memory the largest seen. Every run has a
60 s time limit and its exit status is checked (`check` on the closed gate must exit
1, everything else 0); each promotion and sign-off is also checked to have recorded
what it should (the patch in prod; the act as the newest commit).

The lines:

1. `check ID --to prod`, cold (< 1 s) and warm (< 0.3 s).
2. `patch show ID`, cold (< 1 s).
3. `--as alice promote ID --to prod` on an open gate, which records the promotion,
   cold (< 1.5 s).
4. `status`, cold (< 3 s) and warm (< 1 s).
5. `patch list`, warm (< 0.5 s); cold for information.
6. The peak memory of each command above, of all its runs (< 200 MB); `signoff`'s
   for information.
7. The floor of a whole-ledger view: one `git cat-file --batch` reading every event
   blob of the ledger, fed their ids from a file (the ids are listed with `git
   ls-tree -r HEAD patches/` before, untimed; the process is started by `sh -c 'exec
   git cat-file --batch < FILE'`), plus the start of an interpreter (`python -c
   pass`); the two are timed apart and their best times added. Cold `status` against
   it: ≤ 3x. `status`, the cat-file and the interpreter run in turn in each
   repetition.
8. Cold `status` per patch at 1,000 and at 10,000 patches, each in a fresh clone of
   its own ledger (at 10,000 the runs of line 4): the cost per patch at 10,000 must
   be no more than at 1,000 (with `--patches N`: at N/10, at most 1,000, and N).
9. The CPU time of a write: `--as dave signoff ID --env prod --role business`, cold,
   in the 10,000-patch clone against the same act on patch 4 of the factory's
   10-patch ledger, cloned afresh for every run (so also cold); the two run in turn
   in each repetition. Best CPU time against best CPU time: ≤ 1.5x.

Prints one table (`| measurement | value | baseline | ratio | target | result |`).
Exit status: 0 every target met, 1 a target missed, 2 a measured command misbehaved
(wrong exit status, stopped at the time limit, a write that did not record), so the
figures would mean nothing. Clones go to benchmarks/.work/scratch-fresh-clone/,
removed at the end. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from ledger_factory import EVENTS_PER_PATCH, history_of, patch_id  # noqa: E402
from ledger_factory import VERSION as FACTORY_VERSION  # noqa: E402
from run import (  # noqa: E402
    PYTHON,
    RG,
    WORK,
    BenchError,
    Run,
    Table,
    best,
    clear_derived_caches,
    cli,
    factory_ledger,
    machine,
    measure,
    peak_mb,
    prune_stale_inputs,
    ratio,
    report,
    sec,
    side_by_side,
    timed,
)

SCRATCH = WORK / "scratch-fresh-clone"  # not run.py's scratch folder, which run.py empties
LIMIT = 60.0  # seconds; a measured run still going then is stopped
SMALL_WRITE_LEDGER = 10  # patches in the ledger the write is compared with
SMALL_WRITE_PATCH = 4  # its patch signed off: in test, prod gate closed, dave rejected
MEMORY_LIMIT_MB = 200.0
CAT_FILE = 'exec git cat-file --batch < "$1"'


# -- running things ---------------------------------------------------------------------

def rg(ledger: Path, *args: str, actor: str | None = None, ok: Sequence[int] = (0,)) -> Run:
    """One whole releasegate process on `ledger`, measured; stopped after LIMIT."""
    who = ["--as", actor] if actor else []
    run = measure([*RG, "--ledger", str(ledger), *who, *args], ok=ok, timeout=LIMIT)
    if run.rc is None:
        raise BenchError(f"releasegate {' '.join(args)} on {ledger.name} was stopped at the "
                         f"{LIMIT:.0f} s time limit")
    return run


def fresh_clone(source: Path, name: str) -> tuple[Path, float]:
    """A clone of `source` without its origin and without derived caches; seconds taken."""
    target = SCRATCH / name
    if target.exists():
        shutil.rmtree(target)
    started = time.perf_counter()
    subprocess.run(["git", "clone", "-q", str(source), str(target)], check=True,
                   capture_output=True)
    subprocess.run(["git", "-C", str(target), "remote", "remove", "origin"], check=True,
                   capture_output=True)
    if (target / ".git" / "releasegate").exists():
        raise BenchError(f"the clone {target} has derived caches already")
    return target, time.perf_counter() - started


def cpu(runs: list[Run]) -> float:
    """The best CPU time (user + system, with the git processes waited for)."""
    return min(r.cpu_seconds for r in runs)


def newest_subject(ledger: Path) -> str:
    return subprocess.run(["git", "-C", str(ledger), "log", "-1", "--format=%s"],
                          capture_output=True, text=True, check=True).stdout.strip()


def highest(patches: int, history: str, count: int, *, no_depends: bool = False) -> list[str]:
    """The `count` highest numbered patches of that history (see ledger_factory)."""
    found = [n for n in range(patches, 0, -1) if history_of(n) == history
             and not (no_depends and n % 10 in (0, 2))]
    if len(found) < count:
        raise BenchError(f"{patches} patches hold only {len(found)} with history {history}")
    return [patch_id(n) for n in found[:count]]


def expect_env(ledger: Path, pid: str, env: str) -> None:
    shown = json.loads(cli(ledger, "patch", "show", pid, "--format", "json").stdout)
    if shown.get("env") != env:
        raise BenchError(f"{pid} is in {shown.get('env')}, not {env}, in {ledger.name}")


# -- the lines --------------------------------------------------------------------------

class Bench:
    def __init__(self, table: Table, patches: int, reps: int, view_reps: int,
                 write_reps: int) -> None:
        self.table, self.patches = table, patches
        self.reps, self.view_reps, self.write_reps = reps, view_reps, write_reps
        self.size = f"{patches:,} patches"
        self.peaks: dict[str, list[Run]] = {}  # line 6: every run, by command
        self.check_cold = 0.0  # line 1's cold check, which promote's evaluation repeats
        self.info_only: set[str] = set()  # commands whose peak is not judged

    def keep(self, command: str, runs: list[Run], *, judged: bool = True) -> list[Run]:
        self.peaks.setdefault(command, []).extend(runs)
        if not judged:
            self.info_only.add(command)
        return runs

    def reads(self, clone: Path) -> list[Run]:
        """Lines 1, 2, 4, 5 and 7; the cold status runs, for line 8."""
        t = self.table
        closed = highest(self.patches, "closed", 1)[0]
        expect_env(clone, closed, "test")  # untimed, then the caches it made go
        t.section(f"1-2. one patch ({closed}, in test, prod gate closed), {self.size}, "
                  "fresh clone")
        cold: list[Run] = []
        warm: list[Run] = []
        for _ in range(self.reps):
            clear_derived_caches(clone)
            cold.append(rg(clone, "check", closed, "--to", "prod", ok=(1,)))
            warm.append(rg(clone, "check", closed, "--to", "prod", ok=(1,)))
        self.keep("check", cold + warm)
        t_cold, t_warm = best(cold), best(warm)
        self.check_cold = t_cold
        t.add("check ID --to prod, cold", sec(t_cold), f"{sec(t_warm)} warm",
              ratio(t_cold, t_warm), "< 1 s", passed=t_cold < 1)
        t.add("check ID --to prod, warm", sec(t_warm), f"{sec(t_cold)} cold",
              ratio(t_warm, t_cold), "< 0.3 s", passed=t_warm < 0.3)
        shows = []
        for _ in range(self.reps):
            clear_derived_caches(clone)
            shows.append(rg(clone, "patch", "show", closed))
        self.keep("patch show", shows)
        t_show = best(shows)
        t.add("patch show ID, cold", sec(t_show), f"{sec(t_cold)} check, cold",
              ratio(t_show, t_cold), "< 1 s", passed=t_show < 1)

        # Line 7's floor: every event blob, by one git cat-file --batch.
        listed = subprocess.run(["git", "-C", str(clone), "ls-tree", "-r", "HEAD", "patches/"],
                                capture_output=True, text=True, check=True).stdout
        blobs = [line.split()[2] for line in listed.splitlines()
                 if "/events/" in line.split("\t", 1)[1]]
        if len(blobs) != self.patches * EVENTS_PER_PATCH:
            raise BenchError(f"{len(blobs)} event blobs in {clone.name}, expected "
                             f"{self.patches * EVENTS_PER_PATCH}")
        ids = SCRATCH / "event-blobs.txt"
        ids.write_text("\n".join(blobs) + "\n")
        checked = subprocess.run(["sh", "-c", 'exec git cat-file --batch-check < "$1"', "sh",
                                  str(ids)], cwd=clone, capture_output=True, text=True,
                                 check=True).stdout.splitlines()
        if len(checked) != len(blobs) or any(not line.endswith(tuple("0123456789"))
                                             or " blob " not in line for line in checked):
            raise BenchError(f"git cat-file does not find every event blob of {clone.name}")

        t.section(f"4, 7. status, {self.size}, fresh clone, against reading every event blob")
        status_warm: list[Run] = []

        def status_cold(_: int) -> Run:
            clear_derived_caches(clone)
            run = rg(clone, "status")
            status_warm.append(rg(clone, "status"))
            return run

        def cat_file(_: int) -> Run:
            run = measure(["sh", "-c", CAT_FILE, "sh", str(ids)], cwd=clone, timeout=LIMIT)
            if run.rc is None:
                raise BenchError(f"git cat-file --batch was stopped at {LIMIT:.0f} s")
            return run

        runs = side_by_side({"status": status_cold, "cat-file": cat_file,
                             "python": lambda _: measure([PYTHON, "-c", "pass"])},
                            self.view_reps)
        status_runs = self.keep("status", runs["status"])
        self.keep("status", status_warm)
        s_cold, s_warm = best(status_runs), best(status_warm)
        t_cat, t_py = best(runs["cat-file"]), best(runs["python"])
        floor = t_cat + t_py
        t.add("status, cold", sec(s_cold), f"{sec(s_warm)} warm", ratio(s_cold, s_warm),
              "< 3 s", passed=s_cold < 3)
        t.add("status, warm", sec(s_warm), f"{sec(s_cold)} cold", ratio(s_warm, s_cold),
              "< 1 s", passed=s_warm < 1)
        t.add("status, cold, against the floor", sec(s_cold),
              f"{sec(floor)} floor = git cat-file --batch of {len(blobs):,} event blobs "
              f"{sec(t_cat)} ({peak_mb(runs['cat-file']):.0f} MB) + python -c pass "
              f"{sec(t_py)}", ratio(s_cold, floor), "≤ 3x floor", passed=s_cold <= 3 * floor)

        t.section(f"5. patch list, {self.size}, fresh clone")
        list_cold: list[Run] = []
        list_warm: list[Run] = []
        for _ in range(self.view_reps):
            clear_derived_caches(clone)
            list_cold.append(rg(clone, "patch", "list"))
            list_warm.append(rg(clone, "patch", "list"))
        self.keep("patch list", list_cold + list_warm)
        l_cold, l_warm = best(list_cold), best(list_warm)
        t.add("patch list, warm", sec(l_warm), f"{sec(l_cold)} cold", ratio(l_warm, l_cold),
              "< 0.5 s", passed=l_warm < 0.5)
        t.add("patch list, cold (info)", timed(list_cold), f"{sec(s_cold)} status, cold",
              ratio(l_cold, s_cold))
        return status_runs

    def promote(self, clone: Path) -> None:
        """Line 3: a recording promote, each repetition on an open patch of its own."""
        t = self.table
        opened = highest(self.patches, "open", self.write_reps, no_depends=True)
        t.section(f"3. promote into prod on an open gate (records), {self.size}, fresh clone")
        runs = []
        for pid in opened:
            clear_derived_caches(clone)
            runs.append(rg(clone, "promote", pid, "--to", "prod", actor="alice"))
            subject = newest_subject(clone)
            if not subject.startswith(f"{pid}: promoted to prod"):
                raise BenchError(f"promote {pid} exited 0 but the newest commit is {subject!r}")
        self.keep("promote", runs)
        t_promote = best(runs)
        t.add("promote ID --to prod, cold, gate open", f"{sec(t_promote)} ({cpu(runs):.3f} s "
              "CPU)", f"{sec(self.check_cold)} check, cold (closed gate)",
              ratio(t_promote, self.check_cold), "< 1.5 s", passed=t_promote < 1.5)

    def write_cpu(self, clone: Path) -> None:
        """Line 9: a sign-off's CPU time, here against the 10-patch ledger."""
        t = self.table
        small_source = factory_ledger(SMALL_WRITE_LEDGER)
        small_pid = patch_id(SMALL_WRITE_PATCH)
        if history_of(SMALL_WRITE_PATCH) != "closed":
            raise BenchError(f"patch {SMALL_WRITE_PATCH} no longer has the closed history")
        targets = highest(self.patches, "closed", self.write_reps + 1)[1:]  # not check's
        t.section(f"9. signoff (a write), cold, {self.size} fresh clone against "
                  f"{SMALL_WRITE_LEDGER} patches fresh clone")
        act = ("signoff", "--env", "prod", "--role", "business")
        expected = "approve for prod as business by dave"

        def signed(ledger: Path, pid: str, run: Run) -> Run:
            subject = newest_subject(ledger)
            if subject != f"{pid}: {expected}":
                raise BenchError(f"signoff {pid} exited 0 but the newest commit is {subject!r}")
            return run

        def big(rep: int) -> Run:
            clear_derived_caches(clone)
            pid = targets[rep]
            return signed(clone, pid, rg(clone, act[0], pid, *act[1:], actor="dave"))

        def small(rep: int) -> Run:
            ledger, _ = fresh_clone(small_source, f"small-{rep}")
            run = signed(ledger, small_pid, rg(ledger, act[0], small_pid, *act[1:],
                                               actor="dave"))
            shutil.rmtree(ledger, ignore_errors=True)
            return run

        contenders: dict[str, Callable[[int], Run]] = {"big": big, "small": small}
        runs = side_by_side(contenders, self.write_reps)
        self.keep("signoff", runs["big"], judged=False)
        c_big, c_small = cpu(runs["big"]), cpu(runs["small"])
        t.add("signoff, CPU time (user + sys, with git)", f"{c_big:.3f} s CPU",
              f"{c_small:.3f} s CPU on {SMALL_WRITE_LEDGER} patches", ratio(c_big, c_small),
              "≤ 1.5x", passed=c_big <= 1.5 * c_small)
        t.add("signoff, wall time (info)", sec(best(runs["big"])),
              f"{sec(best(runs['small']))} on {SMALL_WRITE_LEDGER} patches, "
              f"{peak_mb(runs['small']):.0f} MB", ratio(best(runs["big"]), best(runs["small"])))

    def scaling(self, status_runs: list[Run], small_patches: int) -> None:
        """Line 8: cold status per patch, at a tenth of the patches and at all."""
        t = self.table
        source = factory_ledger(small_patches)
        clone, _ = fresh_clone(source, f"status-{small_patches}")
        small_runs = []
        for _ in range(self.view_reps):
            clear_derived_caches(clone)
            small_runs.append(rg(clone, "status"))
        shutil.rmtree(clone, ignore_errors=True)
        t_small, t_big = best(small_runs), best(status_runs)
        per_small, per_big = t_small / small_patches, t_big / self.patches
        t.section(f"8. status per patch, cold, fresh clones: {small_patches:,} against "
                  f"{self.patches:,} patches")
        t.add(f"status per patch, {self.size}", f"{per_big * 1000:.3f} ms",
              f"{per_small * 1000:.3f} ms at {small_patches:,} patches ({sec(t_small)}; "
              f"{sec(t_big)} at {self.patches:,})", ratio(per_big, per_small),
              "≤ 1x (flat or falling)", passed=per_big <= per_small)

    def memory(self) -> None:
        """Line 6: the peak resident set of every command measured, of all its runs."""
        self.table.section(f"6. peak memory (the process and the git processes it waited for), "
                           f"{self.size}")
        for command, runs in self.peaks.items():
            mb = peak_mb(runs)
            if command in self.info_only:
                self.table.add(f"{command}, peak RSS (info)", f"{mb:.0f} MB")
            else:
                self.table.add(f"{command}, peak RSS", f"{mb:.0f} MB", target="< 200 MB",
                               passed=mb < MEMORY_LIMIT_MB)


# -- main ------------------------------------------------------------------------------

def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--quick", action="store_true", help="fewer repetitions")
    options.add_argument("--patches", type=int, default=10_000,
                         help="patches in the measured ledger (default 10000; line 8 "
                              "compares with a tenth of them, at most 1000)")
    args = options.parse_args()
    if args.patches < 100:
        options.error("--patches: at least 100")
    reps, view_reps, write_reps = (3, 2, 2) if args.quick else (5, 3, 3)
    small_patches = min(1000, args.patches // 10)

    if SCRATCH.exists():
        shutil.rmtree(SCRATCH)
    SCRATCH.mkdir(parents=True)
    prune_stale_inputs()
    started = time.perf_counter()
    table = Table()
    bench = Bench(table, args.patches, reps, view_reps, write_reps)
    try:
        ready = time.perf_counter()
        source = factory_ledger(args.patches)
        factory_ledger(small_patches)
        factory_ledger(SMALL_WRITE_LEDGER)
        print(f"  ledgers ready in {time.perf_counter() - ready:.1f} s", file=sys.stderr)
        clone, cloned = fresh_clone(source, "ledger")
        print(f"  cloned {args.patches:,} patches in {cloned:.1f} s", file=sys.stderr)
        status_runs = bench.reads(clone)
        bench.promote(clone)
        bench.write_cpu(clone)
        shutil.rmtree(clone, ignore_errors=True)
        bench.scaling(status_runs, small_patches)
        bench.memory()
    except BenchError as exc:
        print(f"benchmark error: {exc}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(SCRATCH, ignore_errors=True)

    print(f"releasegate in a fresh clone{' (--quick)' if args.quick else ''}: "
          f"{args.patches:,} patches, {args.patches * EVENTS_PER_PATCH:,} events; "
          f"{machine()}; ledger factory {FACTORY_VERSION}; "
          f"git clone {cloned:.0f} s (untimed); times are the best of {reps} runs "
          f"({view_reps} for status and patch list, {write_reps} for promote and signoff); "
          f"{time.perf_counter() - started:.0f} s in all\n")
    return report(table)


if __name__ == "__main__":
    sys.exit(main())
