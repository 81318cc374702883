"""Regression comparison: what a patch's test results changed against the baseline.

The baseline of a suite is what the most recent promotion of another patch of the
same system out of the same environment counted: the last run good enough to ship.
Pure functions over the stored runs (`JUnitRun`); loading runs and finding baselines
is releasegate.evidence's job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class JUnitRun:
    """The outcome of every test in one recording, with counts derived from them."""

    tests: int
    passed: int
    flaky: int
    failed: int
    errors: int
    skipped: int
    outcomes: dict[str, str]  # "classname::name" -> one of OUTCOMES
    messages: dict[str, str]  # first line of the message, for failed, error and flaky
    suites: tuple[str, ...]


FAILING = frozenset({"failed", "error"})
PASSING = frozenset({"passed", "flaky"})
CLASSES = ("new_failures", "still_failing", "fixed", "missing", "new_tests", "flaky")


@dataclass(frozen=True)
class EvidenceOf:
    """The stored files one `tests` event relies on, as the event recorded them: each
    summary's file name (the raw file's sha256) and the sha256 of the summary itself
    (None for events recorded before summaries were hashed), and the event's counts."""

    event: str
    files: tuple[str, ...] = ()
    summaries: tuple[str | None, ...] = ()
    counts: tuple[tuple[str, int], ...] = ()

    @classmethod
    def of(cls, event: str, files: Iterable[Mapping[str, Any]],
           counts: Mapping[str, Any]) -> EvidenceOf:
        listed = tuple(files)
        return cls(event, tuple(str(f["sha256"]) for f in listed),
                   tuple(str(f["summary_sha256"]) if f.get("summary_sha256") else None
                         for f in listed),
                   tuple(sorted((str(k), int(v)) for k, v in counts.items())))


@dataclass(frozen=True)
class BaselineRef:
    """Which recorded results serve as a baseline, and why."""

    patch: str
    env: str
    suite: str
    promoted_at: str
    tests_event: str
    evidence: EvidenceOf = EvidenceOf("")
    height: int = 0  # the promotion's commit number in the ledger

    def to_dict(self) -> dict[str, str]:
        return {"patch": self.patch, "env": self.env, "suite": self.suite,
                "promoted_at": self.promoted_at, "event": self.tests_event}


@dataclass(frozen=True)
class SuiteResults:
    """One suite's latest results for a patch, with its baseline when there is one."""

    env: str
    suite: str
    run: JUnitRun
    tests_event: str
    baseline: BaselineRef | None = None
    baseline_run: JUnitRun | None = None


@dataclass(frozen=True)
class Comparison:
    env: str
    suite: str
    baseline: BaselineRef | None
    new_failures: tuple[str, ...] = ()
    still_failing: tuple[str, ...] = ()
    fixed: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    new_tests: tuple[str, ...] = ()
    flaky: tuple[str, ...] = ()
    messages: Mapping[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in CLASSES}

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"env": self.env, "suite": self.suite,
                               "baseline": self.baseline.to_dict() if self.baseline else None,
                               "counts": self.counts()}
        for name in CLASSES:
            doc[name] = list(getattr(self, name))
        doc["messages"] = {t: self.messages[t] for t in self.new_failures if t in self.messages}
        return doc


def compare(results: SuiteResults) -> Comparison:
    """Classify every test of the current run against the baseline run."""
    now = results.run.outcomes
    flaky = _sorted(t for t, o in now.items() if o == "flaky")
    if results.baseline_run is None:
        return Comparison(results.env, results.suite, None, flaky=flaky,
                          messages=results.run.messages)
    before = results.baseline_run.outcomes
    new_failures, still_failing, fixed, new_tests = [], [], [], []
    for test, outcome in now.items():
        old = before.get(test)
        if old is None:
            new_tests.append(test)
        elif outcome in FAILING and old in PASSING:
            new_failures.append(test)
        elif outcome in FAILING and old in FAILING:
            still_failing.append(test)
        elif outcome in PASSING and old in FAILING:
            fixed.append(test)
    missing = [t for t in before if t not in now]
    return Comparison(results.env, results.suite, results.baseline,
                      new_failures=_sorted(new_failures), still_failing=_sorted(still_failing),
                      fixed=_sorted(fixed), missing=_sorted(missing),
                      new_tests=_sorted(new_tests), flaky=flaky,
                      messages=results.run.messages)


def _sorted(tests: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(tests))
