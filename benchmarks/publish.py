"""The notice board's performance: `releasegate publish` on a 1,000-patch ledger.

Run from the repository root with the package installed:

    python benchmarks/publish.py               # 1,000 patches, best of 3 warm runs
    python benchmarks/publish.py --patches 200 --reps 1

The ledger comes from benchmarks/ledger_factory.py (built once, cached under
benchmarks/.work/ledgers/) and is copied to benchmarks/.work/scratch/ so that the
change recorded here never touches the cached one. Every figure is a whole
`releasegate publish DIR --format json` process:

- cold, nothing derived: no .git/releasegate (patch states, baselines, pages) and an
  empty folder, as after a fresh clone of the ledger (information only);
- cold site: the ledger's derived caches are warm, but no page is cached and the
  folder is empty: the first publish of a ledger that is in use;
- warm: nothing changed since the last publish; nothing may be written;
- one change: after a checklist is filled on one patch in test, only that patch's
  pages, the indexes, the board and the feeds of all systems and of its system may
  be written.

Target: each of the last three under 10 s. Exits 1 when one is missed or when the
files written are not the expected ones.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from ledger_factory import (  # noqa: E402
    ANSWERS,
    cached_ledger,
    history_of,
    patch_id,
    system_of,
)
from run import child_env  # noqa: E402  (the environment every measured run gets)

WORK = HERE / ".work"
SCRATCH = WORK / "scratch"
TARGET = 10.0  # seconds
CHANGED = 5  # ledger_factory patch number 5: in test, its prod gate open


@dataclass(frozen=True)
class Run:
    label: str
    seconds: float
    doc: dict[str, Any]


def releasegate() -> str:
    beside = Path(sys.executable).parent / "releasegate"
    found = str(beside) if beside.exists() else shutil.which("releasegate")
    if not found:
        sys.exit("the releasegate command is not installed in this environment")
    return found


def publish(ledger: Path, site: Path, label: str) -> Run:
    """One whole `releasegate publish` process, timed."""
    command = [releasegate(), "--ledger", str(ledger), "publish", str(site), "--format", "json"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=child_env())
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{label}: publish exited {done.returncode}:\n{done.stderr}")
    return Run(label, seconds, json.loads(done.stdout))


def best_of(reps: int, ledger: Path, site: Path, label: str) -> Run:
    runs = [publish(ledger, site, label) for _ in range(reps)]
    return min(runs, key=lambda r: r.seconds)


def scratch_ledger(patches: int) -> Path:
    source = cached_ledger(WORK, patches)
    target = SCRATCH / f"publish-{source.name}"
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "-a", str(source), str(target)], check=True)
    return target


def record_one_change(ledger: Path, patch: str) -> None:
    """A second change-readiness checklist on `patch`, as erin fills it in."""
    from releasegate.actions.evidence import fill_checklist
    from releasegate.ledger.transaction import Ledger

    answers = {**ANSWERS["change-readiness"], "on-call": "Erin Liu (primary), Carol Zhang"}
    fill_checklist(Ledger(ledger), "erin", patch, "change-readiness", "prod", answers)


def expected_after_change(patch: str, system: str, languages: list[str]) -> set[str]:
    names = [f"patches/{patch}.html", "index.html", "board.html", "feeds/all.atom",
             f"feeds/systems/{system}.atom"]
    folders = ["" if i == 0 else f"{lang}/" for i, lang in enumerate(languages)]
    return {folder + name for folder in folders for name in names} | {"board.json"}


def row(run: Run, target: bool) -> str:
    d = run.doc
    verdict = ("PASS" if run.seconds < TARGET else "FAIL") if target else "info"
    return (f"| {run.label} | {run.seconds:.2f} s | {d['written']} | {d['unchanged']} | "
            f"{d['removed']} | {d['rendered']} | {f'< {TARGET:.0f} s' if target else ''} | "
            f"{verdict} |")


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--patches", type=int, default=1000)
    options.add_argument("--reps", type=int, default=3, help="repetitions of warm runs")
    args = options.parse_args()
    ledger = scratch_ledger(args.patches)
    site = SCRATCH / "publish-site"
    shutil.rmtree(site, ignore_errors=True)
    shutil.rmtree(ledger / ".git" / "releasegate", ignore_errors=True)
    runs = [(publish(ledger, site, "cold, nothing derived (no .git/releasegate, empty "
                                  "folder)"), False)]
    shutil.rmtree(site)
    shutil.rmtree(ledger / ".git" / "releasegate" / "site")
    runs.append((publish(ledger, site, "cold site (ledger caches warm, no page cached, "
                                       "empty folder)"), True))
    runs.append((best_of(args.reps, ledger, site, "warm, nothing changed"), True))
    patch = patch_id(CHANGED)
    assert history_of(CHANGED) == "open", "the changed patch must be in test"
    record_one_change(ledger, patch)
    changed = publish(ledger, site, f"one change (a checklist on {patch})")
    runs.append((changed, True))
    print(f"publish, {runs[0][0].doc['patches']} patches, languages "
          f"{', '.join(runs[0][0].doc['languages'])}; Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs; warm: best of {args.reps}")
    print("| measurement | time | written | unchanged | removed | rendered | target | result |")
    print("|---|---|---|---|---|---|---|---|")
    for run, target in runs:
        print(row(run, target))
    written = sorted(changed.doc["written_files"])
    print(f"\nwritten after the change ({len(written)}): {', '.join(written)}")
    return verdict(runs, set(written), changed.doc["languages"])


def verdict(runs: list[tuple[Run, bool]], written: set[str], languages: list[str]) -> int:
    expected = expected_after_change(patch_id(CHANGED), system_of(CHANGED).name, languages)
    problems = [f"{run.label}: {run.seconds:.2f} s" for run, target in runs
                if target and run.seconds >= TARGET]
    if runs[2][0].doc["written"] != 0:
        problems.append("the warm publish wrote files")
    if written != expected:
        problems.append(f"after the change, expected {sorted(expected)}")
    for problem in problems:
        print(f"MISSED: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
