"""Regression classification and the tests rule's regression options, without a ledger.

Runs come from small JUnit files parsed as `tests record` parses them; comparisons and
verdicts come from the pure functions `compare` and `evaluate_gate`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from releasegate.core.gates.evaluate import evaluate_gate
from releasegate.core.model import (
    Condition,
    Environment,
    Event,
    Gate,
    Manifest,
    Person,
    Pipeline,
    Rules,
)
from releasegate.core.model import TestsRule as ResultsRule  # a Test* name would be collected
from releasegate.core.regression import BaselineRef, Comparison, EvidenceOf, SuiteResults, compare
from releasegate.core.state import COUNT_KEYS, PatchState, fold
from releasegate.evidence.junit import JUnitRun, parse_junit
from tests.helpers import junit_cases, passing

PATCH_ID = "CBS-2026-0042"
DIGEST = "sha256:" + "1" * 64
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
BASELINE = BaselineRef("CBS-2026-0031", "test", "regression", "2026-11-20T08:00:00Z",
                       "patches/CBS-2026-0031/events/0012-tests.yaml",
                       EvidenceOf("patches/CBS-2026-0031/events/0012-tests.yaml", ("ab" * 32,)))
RULE_NAME = "test: regression*"


@pytest.fixture
def run(tmp_path: Path) -> Any:
    """run(outcomes, messages=None) -> the JUnitRun `tests record` would store."""
    made: list[Path] = []

    def make(outcomes: dict[str, str], messages: dict[str, str] | None = None) -> JUnitRun:
        folder = tmp_path / f"run-{len(made)}"
        made.append(folder)
        return parse_junit(junit_cases(folder, "regression", outcomes, messages))

    return make


def results(now: JUnitRun, before: JUnitRun | None) -> SuiteResults:
    return SuiteResults("test", "regression", now, "patches/CBS-2026-0042/events/0009-tests.yaml",
                        BASELINE if before is not None else None, before)


# --- compare -------------------------------------------------------------------------


def test_every_test_lands_in_its_class_against_the_baseline(run: Any) -> None:
    before = run({"c::broke": "passed", "c::still": "failed", "c::healed": "failed",
                  "c::gone": "passed", "c::steady": "passed", "c::wobbly": "passed"})
    now = run({"c::broke": "failed", "c::still": "failed", "c::healed": "passed",
               "c::steady": "passed", "c::wobbly": "flaky", "c::added": "passed"},
              {"c::broke": "fee posted twice"})

    comparison = compare(results(now, before))

    assert comparison == Comparison(
        "test", "regression", BASELINE, new_failures=("c::broke",), still_failing=("c::still",),
        fixed=("c::healed",), missing=("c::gone",), new_tests=("c::added",),
        flaky=("c::wobbly",), messages=now.messages)
    assert comparison.counts() == {"new_failures": 1, "still_failing": 1, "fixed": 1,
                                   "missing": 1, "new_tests": 1, "flaky": 1}


def test_an_error_counts_as_failing_on_either_side(run: Any) -> None:
    before = run({"c::erred_now": "passed", "c::erred_before": "error",
                  "c::erred_both": "error", "c::erred_then_passed": "error"})
    now = run({"c::erred_now": "error", "c::erred_before": "failed",
               "c::erred_both": "error", "c::erred_then_passed": "passed"})

    comparison = compare(results(now, before))

    assert comparison.new_failures == ("c::erred_now",)
    assert comparison.still_failing == ("c::erred_before", "c::erred_both")
    assert comparison.fixed == ("c::erred_then_passed",)


def test_a_test_that_passed_on_a_rerun_is_flaky_and_passing(run: Any) -> None:
    before = run({"c::was_flaky": "flaky", "c::was_failing": "failed", "c::ok": "passed"})
    now = run({"c::was_flaky": "failed", "c::was_failing": "flaky", "c::ok": "flaky"})

    comparison = compare(results(now, before))

    assert comparison.flaky == ("c::ok", "c::was_failing")
    # flaky passed (on a rerun) in the baseline, so failing now is a new failure
    assert comparison.new_failures == ("c::was_flaky",)
    assert comparison.fixed == ("c::was_failing",)
    assert comparison.still_failing == ()


def test_without_a_baseline_nothing_is_new_missing_or_fixed(run: Any) -> None:
    now = run({"c::a": "failed", "c::b": "passed", "c::c": "flaky"})

    comparison = compare(results(now, None))

    assert comparison.baseline is None
    assert comparison.counts() == {"new_failures": 0, "still_failing": 0, "fixed": 0,
                                   "missing": 0, "new_tests": 0, "flaky": 1}
    assert comparison.to_dict()["baseline"] is None


def test_new_failures_keep_the_first_line_of_their_message(run: Any) -> None:
    before = run(passing("c", "broke", "erred", "steady") | {"c::still": "failed"})
    now = run({"c::broke": "failed", "c::erred": "error", "c::steady": "passed",
               "c::still": "failed"},
              {"c::broke": "fee posted twice\n  at Ledger.post(Ledger.java:42)",
               "c::erred": "NullPointerException", "c::still": "old defect"})

    doc = compare(results(now, before)).to_dict()

    assert doc == {
        "env": "test", "suite": "regression", "baseline": BASELINE.to_dict(),
        "counts": {"new_failures": 2, "still_failing": 1, "fixed": 0, "missing": 0,
                   "new_tests": 0, "flaky": 0},
        "new_failures": ["c::broke", "c::erred"], "still_failing": ["c::still"],
        "fixed": [], "missing": [], "new_tests": [], "flaky": [],
        # only the new failures' messages: they are what a reader must act on
        "messages": {"c::broke": "fee posted twice", "c::erred": "NullPointerException"}}


# --- the tests rule with per-test results ------------------------------------------------


def pipeline(rule: ResultsRule, waivers_by: tuple[str, ...] = ("test-lead",)) -> Pipeline:
    """dev -> test -> prod; the prod gate holds only `rule`."""
    return Pipeline(
        version=1, timezone="UTC",
        environments=(Environment("dev", Gate()), Environment("test", Gate()),
                      Environment("prod", Gate(tests=(rule,)))),
        people={p: Person(p, p.title()) for p in ("alice", "carol")},
        roles={"test-lead": ("carol",)}, rules=Rules(waivers_by=waivers_by))


def event(seq: int, kind: str, actor: str, env: str | None, **data: Any) -> Event:
    return Event(type=kind, patch=PATCH_ID, seq=seq, prev=None,
                 at=f"2026-11-28T10:{seq:02d}:00Z", actor=actor, digest=DIGEST, env=env,
                 data=data, path=f"patches/{PATCH_ID}/events/{seq:04d}-{kind}.yaml",
                 sha256=f"{seq:064x}")


def state_with(current: JUnitRun, *, waivers: tuple[tuple[str, str], ...] = ()) -> PatchState:
    """A patch in test whose regression run is `current`; waivers are (pattern, until)."""
    manifest = Manifest(id=PATCH_ID, system="core-banking", vendor="Acme FinSoft",
                        title={"en": "Fix interest accrual"})
    counts = {k: getattr(current, k) for k in COUNT_KEYS}
    events = [event(1, "submitted", "alice", None,
                    artifacts=[{"name": "patch.tar", "size": 1, "sha256": "a" * 64}]),
              event(2, "promoted", "alice", "dev"), event(3, "promoted", "alice", "test"),
              event(4, "tests", "alice", "test", suite="regression", counts=counts, files=[])]
    for pattern, until in waivers:
        events.append(event(len(events) + 1, "waiver", "carol", "prod", test=pattern,
                            reason="vendor defect VD-7", until=until))
    return fold(manifest, events)


def gate_rows(rule: ResultsRule, now: JUnitRun, before: JUnitRun | None,
              waivers: tuple[tuple[str, str], ...] = ()) -> list[Condition]:
    state = state_with(now, waivers=waivers)
    loaded = SuiteResults("test", "regression", now, state.tests[0].event.path,
                          BASELINE if before is not None else None, before)
    verdict = evaluate_gate(pipeline(rule), state, "prod",
                            results={("test", "regression"): loaded}, now=NOW)
    return [c for c in verdict.conditions if c.kind in ("tests", "waiver")]


def row_of(rule: ResultsRule, now: JUnitRun, before: JUnitRun | None) -> Condition:
    (row,) = gate_rows(rule, now, before)
    assert row.kind == "tests" and row.name == RULE_NAME
    return row


def rule(**options: Any) -> ResultsRule:
    return ResultsRule(env="test", suites=("regression*",), **options)


BASELINE_NOTE = "baseline: CBS-2026-0031 (promoted out of test at 2026-11-20T08:00:00Z)"


def test_no_new_failures_fails_on_a_test_that_passed_in_the_baseline(run: Any) -> None:
    before = run(passing("c", "a", "b"))
    now = run({"c::a": "failed", "c::b": "passed"})

    row = row_of(rule(no_new_failures=True), now, before)

    assert row.status == "fail"
    assert row.detail == ("1 new failure: c::a (2 tests: 1 passed, 0 flaky, 1 failed, "
                          f"0 errors, 0 skipped in regression; {BASELINE_NOTE})")
    assert row_of(rule(), now, before).status == "pass"  # the option off: not checked


def test_no_new_failures_passes_with_no_baseline_and_says_so(run: Any) -> None:
    now = run({"c::a": "failed", "c::b": "passed"})

    row = row_of(rule(no_new_failures=True, no_missing_tests=0), now, None)

    assert row.status == "pass"
    assert row.detail.endswith("; baseline: no baseline for regression")


def test_no_missing_tests_true_allows_none_to_go_missing(run: Any) -> None:
    before = run(passing("c", "a", "b", "c"))
    now = run(passing("c", "a", "b"))

    row = row_of(rule(no_missing_tests=0), now, before)

    assert row.status == "fail"
    assert row.detail.startswith("1 test of the baseline missing, more than the 0 allowed: "
                                 "c::c (2 tests:")


@pytest.mark.parametrize(("kept", "status"), [(("a", "b", "c"), "pass"), (("a", "b"), "fail")])
def test_no_missing_tests_as_a_number_allows_that_many_to_go_missing(
        run: Any, kept: tuple[str, ...], status: str) -> None:
    before = run(passing("c", "a", "b", "c", "d", "e"))
    now = run(passing("c", *kept))

    row = row_of(rule(no_missing_tests=2), now, before)

    assert row.status == status
    if status == "fail":
        assert row.detail.startswith("3 tests of the baseline missing, more than the 2 "
                                     "allowed: c::c, c::d, c::e")


def test_flaky_deny_fails_on_a_test_that_passed_only_on_a_rerun(run: Any) -> None:
    now = run({"c::a": "flaky", "c::b": "passed"})

    denied = row_of(rule(flaky="deny", max_failures=0), now, None)
    allowed = row_of(rule(max_failures=0), now, None)  # allow is the default

    assert denied.status == "fail"
    assert denied.detail.startswith("1 flaky (passed only on a rerun), and flaky: deny (")
    assert allowed.status == "pass"
    assert allowed.detail.startswith("2 tests: 1 passed, 1 flaky, 0 failed")


def test_known_failures_allow_lists_still_failing_tests_without_counting_them(
        run: Any) -> None:
    before = run({"c::old": "failed", "c::ok": "passed"})
    now = run({"c::old": "failed", "c::ok": "passed"})

    allowed = row_of(rule(max_failures=0, known_failures="allow"), now, before)
    denied = row_of(rule(max_failures=0, known_failures="deny"), now, before)

    assert allowed.status == "pass"
    assert allowed.detail == ("2 tests: 1 passed, 0 flaky, 1 failed, 0 errors, 0 skipped in "
                              f"regression; 1 known failure allowed: c::old; {BASELINE_NOTE}")
    assert denied.status == "fail"
    assert denied.detail.startswith("1 failed or errored, more than the 0 allowed (")


def test_known_failures_allow_still_counts_a_new_failure(run: Any) -> None:
    before = run({"c::old": "failed", "c::ok": "passed"})
    now = run({"c::old": "failed", "c::ok": "failed"})

    row = row_of(rule(max_failures=0, known_failures="allow"), now, before)

    assert row.status == "fail"
    assert row.detail.startswith("1 failed or errored, more than the 0 allowed (")
    assert "1 known failure allowed: c::old" in row.detail


def test_known_failures_allow_without_a_baseline_counts_every_failure(run: Any) -> None:
    now = run({"c::old": "failed", "c::ok": "passed"})

    row = row_of(rule(max_failures=0, known_failures="allow"), now, None)

    assert row.status == "fail"
    assert row.detail.startswith("1 failed or errored, more than the 0 allowed (")


def test_a_rule_that_compares_fails_closed_when_per_test_results_are_absent(
        run: Any) -> None:
    now = run(passing("c", "a"))
    state = state_with(now)

    verdict = evaluate_gate(pipeline(rule(no_new_failures=True)), state, "prod", results={},
                            now=NOW)

    row = next(c for c in verdict.conditions if c.kind == "tests")
    assert (row.status, row.detail) == ("fail", "per-test results could not be loaded")
    assert not verdict.open


def test_an_active_waiver_turns_a_failure_into_a_waived_row(run: Any) -> None:
    before = run(passing("c", "a", "b"))
    now = run({"c::a": "failed", "c::b": "passed"})

    tests, waiver = gate_rows(rule(max_failures=0, no_new_failures=True), now, before,
                              waivers=(("c::a", "2026-12-31T00:00:00Z"),))

    assert tests.status == "pass"
    assert waiver == Condition("waiver", "c::a", "waived",
                               "1 failing test waived by carol until 2026-12-31T00:00:00Z "
                               "(vendor defect VD-7): c::a")


def test_an_expired_waiver_leaves_the_failure_failing(run: Any) -> None:
    before = run(passing("c", "a", "b"))
    now = run({"c::a": "failed", "c::b": "passed"})

    rows = gate_rows(rule(max_failures=0, no_new_failures=True), now, before,
                     waivers=(("c::a", "2026-11-28T11:59:59Z"),))

    assert [(r.kind, r.status) for r in rows] == [("tests", "fail")]
    assert "1 new failure: c::a" in rows[0].detail
