"""Regression comparison at scale: `tests diff` and `check` against a baseline.

Builds (and caches under benchmarks/.work/) a ledger where CBS-BASE shipped N test
results out of test and CBS-NEW recorded N results of the same suite with a few new
failures, then times both commands whole-process at 10k, 100k and 500k tests.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
VERSION = "regression-3"
ANSWERS = {
    "intake": {"version-controlled": "yes", "release-note-read": "yes", "risk": "low"},
    "dev-review": {"walkthrough": "yes", "installed-cleanly": "yes",
                   "data-migration": {"value": "n/a", "reason": "none"}},
    "test-review": {"regression-run": "yes", "fix-verified": "yes",
                    "business-verification": "yes"},
    "change-readiness": {"rollback-tested": "yes", "window-agreed": "yes",
                         "notice-sent": "yes", "on-call": "erin"},
}
SIGNERS = (("carol", "test-lead"), ("bob", "app-owner"), ("dave", "business"),
           ("erin", "change-manager"))


def write_junit(path: Path, cases: int, failing: set[int]) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write('<testsuite name="regression-core">\n')
        for i in range(cases):
            body = '<failure message="boom"/>' if i in failing else ""
            out.write(f'<testcase classname="cbs.regression.module{i % 50:02d}" '
                      f'name="test_case_{i:07d}">{body}</testcase>\n')
        out.write("</testsuite>\n")
    return path


def build(work: Path, cases: int) -> Path:
    """The two-patch ledger for `cases` tests, built once per version."""
    root = work / f"{VERSION}-{cases}"
    if (root / "ledger" / ".git").exists():
        return root / "ledger"
    sys.path.insert(0, str(HERE.parent))
    from releasegate.actions.evidence import fill_checklist, record_tests, sign_off, waive
    from releasegate.actions.patches import submit_patch
    from releasegate.actions.promote import promote
    from releasegate.actions.setup import init_ledger
    from releasegate.ledger.transaction import Ledger

    root.mkdir(parents=True, exist_ok=True)
    init_ledger(root / "ledger", example=True)
    ledger = Ledger(root / "ledger")
    for pid, failing in (("CBS-BASE", {5}), ("CBS-NEW", {5, 7, 9})):
        drop = root / pid
        drop.mkdir()
        (drop / "patch.tar").write_bytes(pid.encode())
        (drop / "m.yaml").write_text(f"id: {pid}\nsystem: core-banking\nvendor: Acme\n"
                                     f"title: {pid}\nartifacts: [patch.tar]\n")
        submit_patch(ledger, "alice", drop / "m.yaml")
        fill_checklist(ledger, "alice", pid, "intake", "dev", ANSWERS["intake"])
        promote(ledger, "alice", pid)
        smoke = drop / "smoke.xml"
        smoke.write_text('<testsuite name="smoke"><testcase name="a"/></testsuite>')
        record_tests(ledger, "alice", pid, "dev", [smoke], "smoke")
        fill_checklist(ledger, "bob", pid, "dev-review", "test", ANSWERS["dev-review"])
        sign_off(ledger, "bob", pid, "test", "app-owner")
        promote(ledger, "alice", pid)
        record_tests(ledger, "alice", pid, "test",
                     [write_junit(drop / "regression-core.xml", cases, failing)])
        if pid == "CBS-BASE":
            waive(ledger, "carol", pid, "prod", "*::test_case_0000005", "known", "2099-01-01")
            fill_checklist(ledger, "carol", pid, "test-review", "prod", ANSWERS["test-review"])
            fill_checklist(ledger, "erin", pid, "change-readiness", "prod",
                           ANSWERS["change-readiness"])
            for person, role in SIGNERS:
                sign_off(ledger, person, pid, "prod", role)
            result, _ = promote(ledger, "alice", pid)
            assert result.recorded, result.verdict
        (drop / "regression-core.xml").unlink()
    return root / "ledger"


def bench_regression(table: Any, reps: int, measure: Callable[..., Any],
                     rg: list[str], work: Path) -> None:
    """Rows for the table: diff and check at 10k, 100k and 500k tests."""
    table.section("4. regression comparison against a baseline (whole process)")
    per_k: dict[str, list[float]] = {"diff": [], "check": []}
    for cases in (10_000, 100_000, 500_000):
        ledger = build(work, cases)
        runs = {
            "diff": [measure([*rg, "--ledger", str(ledger), "tests", "diff", "CBS-NEW",
                              "--env", "test", "--format", "json"]) for _ in range(reps)],
            "check": [measure([*rg, "--ledger", str(ledger), "check", "CBS-NEW",
                               "--format", "json"], ok=(1,)) for _ in range(reps)],
        }
        for name, done in runs.items():
            seconds = min(r.seconds for r in done)
            rss = max(r.maxrss_kb for r in done) / 1024
            per_k[name].append(seconds / cases * 1000)
            label = f"tests {name}" if name == "diff" else "check"
            if cases == 100_000:
                table.add(f"{label}, {cases // 1000}k vs {cases // 1000}k baseline, time",
                          f"{seconds:.3f} s", target="< 1 s", passed=seconds < 1.0)
                table.add(f"{label}, {cases // 1000}k vs {cases // 1000}k baseline, peak RSS",
                          f"{rss:.1f} MB", target="< 150 MB", passed=rss < 150)
            else:
                table.add(f"{label}, {cases // 1000}k vs {cases // 1000}k baseline (info)",
                          f"{seconds:.3f} s, {rss:.1f} MB",
                          ratio=f"{seconds / cases * 1000 * 1000:.2f} ms per 1k tests")
    for name, values in per_k.items():
        table.add(f"{name}: ms per 1k tests at 10k / 100k / 500k (info)",
                  " / ".join(f"{v * 1000:.2f}" for v in values))
