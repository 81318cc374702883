"""Baselines in real ledgers: which earlier results a patch's regression run is held to.

The baseline of a suite for a patch in an environment is what the latest promotion of
another patch of the same system out of that environment counted. Every test walks
patches through the example pipeline with the CLI and reads `check` and `tests diff`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from releasegate.core import clock
from tests.helpers import (
    PATCH,
    Cli,
    conditions,
    edit_pipeline,
    fingerprint,
    gate_of,
    git,
    must,
    passing,
    record_regression,
    sign_prod_gate,
    walk_to_prod,
    walk_to_test,
    write_manifest,
)

P1, P2, P3 = "CBS-2026-0001", "CBS-2026-0002", "CBS-2026-0003"
RULE = ("tests", "test: regression*")
ABC = passing("cbs.accrual", "a", "b", "c")
AB = passing("cbs.accrual", "a", "b")


def row_of(rg: Cli, patch: str) -> dict[str, str]:
    return conditions(rg.json("check", patch, "--to", "prod"))[RULE]


def diff_json(rg: Cli, patch: str, *args: str) -> Any:
    result = rg("tests", "diff", patch, "--env", "test", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def promoted_at(rg: Cli, patch: str) -> str:
    """When `patch` last entered prod, as its log records it."""
    log = rg.json("patch", "log", patch)
    at: str = next(e["at"] for e in reversed(log)
                   if e["type"] == "promoted" and e["env"] == "prod")
    return at


def recording_file(rg: Cli, patch: str, suite: str = "regression", nth: int = -1) -> str:
    """The ledger path of the nth recording of `suite` in `patch`'s log."""
    files: list[str] = [e["file"] for e in rg.json("patch", "log", patch)
                        if e["type"] == "tests" and e["data"]["suite"] == suite]
    return files[nth]


# --- no baseline -----------------------------------------------------------------------


def test_the_first_patch_has_no_baseline_and_its_conditions_pass_saying_so(
        rg: Cli, inputs: Path) -> None:
    walk_to_test(rg, inputs, P1)
    record_regression(rg, inputs, P1, ABC)

    row = row_of(rg, P1)
    diff = rg("tests", "diff", P1, "--env", "test")

    assert row["status"] == "pass"
    assert row["detail"] == ("3 tests: 3 passed, 0 flaky, 0 failed, 0 errors, 0 skipped in "
                             "regression; baseline: no baseline for regression")
    assert diff.exit_code == 0
    assert diff.stdout == (
        "regression in test: no baseline yet (no other patch of this system has been "
        "promoted out of test)\n"
        "  new failures 0, still failing 0, fixed 0, missing 0, new tests 0, flaky 0\n")


def test_a_baseline_from_another_system_is_not_used(rg: Cli, inputs: Path) -> None:
    walk_to_prod(rg, inputs, "CARD-2026-0001", ABC, system="card-switch")
    walk_to_test(rg, inputs, P2)
    record_regression(rg, inputs, P2, AB)  # c would be missing against the card patch

    row = row_of(rg, P2)

    assert row["status"] == "pass"
    assert row["detail"].endswith("baseline: no baseline for regression")
    assert diff_json(rg, P2)["suites"][0]["baseline"] is None


# --- which promotion ---------------------------------------------------------------------


def test_the_baseline_rolls_forward_to_the_latest_promotion_out_of_test(
        rg: Cli, inputs: Path) -> None:
    walk_to_prod(rg, inputs, P1, AB)
    walk_to_test(rg, inputs, P2)
    record_regression(rg, inputs, P2, ABC)
    assert diff_json(rg, P2)["suites"][0]["baseline"]["patch"] == P1
    assert diff_json(rg, P2)["suites"][0]["new_tests"] == ["cbs.accrual::c"]
    sign_prod_gate(rg, inputs, P2)
    must(rg, "promote", P2, "--to", "prod")
    walk_to_test(rg, inputs, P3)
    record_regression(rg, inputs, P3, AB)

    row = row_of(rg, P3)
    baseline = diff_json(rg, P3)["suites"][0]["baseline"]

    # against P1 nothing would be missing; against P2, c is
    assert row["status"] == "fail"
    assert row["detail"].startswith("1 test of the baseline missing, more than the 0 "
                                    "allowed: cbs.accrual::c (")
    assert row["detail"].endswith(f"baseline: {P2} (promoted out of test at "
                                  f"{promoted_at(rg, P2)}))")
    assert baseline == {"patch": P2, "env": "test", "suite": "regression",
                        "promoted_at": promoted_at(rg, P2),
                        "event": recording_file(rg, P2)}


@pytest.mark.parametrize("second_clock", [5, 4], ids=["same second", "clock behind"])
def test_the_promotion_recorded_last_is_the_baseline_whatever_the_clocks_say(
        rg: Cli, inputs: Path, monkeypatch: pytest.MonkeyPatch, second_clock: int) -> None:
    # Two CI runners share the ledger; the second promotes after the first (the ledger's
    # history says so) within the same second, or with its clock a second behind.
    def clock_at(second: int) -> None:
        moment = datetime(2026, 11, 28, 3, 0, second, tzinfo=UTC)
        monkeypatch.setattr(clock, "now", lambda: moment)

    clock_at(5)
    walk_to_prod(rg, inputs, "CBS-2026-0099", AB)
    clock_at(second_clock)
    walk_to_prod(rg, inputs, P1, ABC)  # recorded after 0099
    clock_at(6)
    walk_to_test(rg, inputs, P2)
    record_regression(rg, inputs, P2, AB)

    row = row_of(rg, P2)

    assert diff_json(rg, P2)["suites"][0]["baseline"]["patch"] == P1
    assert row["status"] == "fail"
    assert "1 test of the baseline missing" in row["detail"]


def test_a_patch_is_never_its_own_baseline_after_a_revision(rg: Cli, inputs: Path) -> None:
    walk_to_prod(rg, inputs, P2, AB)
    walk_to_prod(rg, inputs, P1, ABC)  # P1's own promotion is the latest one
    must(rg, "patch", "revise", P1, "--artifact",
         str(write_manifest(inputs / "v2", P1, content=b"payload-2\n").parent / "patch.tar"))
    walk_to_test(rg, inputs, P1)
    record_regression(rg, inputs, P1, AB)

    row = row_of(rg, P1)

    # against its own earlier run c would be missing; against P2 nothing is
    assert row["status"] == "pass"
    assert row["detail"].endswith(f"baseline: {P2} (promoted out of test at "
                                  f"{promoted_at(rg, P2)})")
    assert diff_json(rg, P1)["suites"][0]["baseline"]["patch"] == P2


def test_the_baseline_is_the_recording_the_promotion_counted(rg: Cli, inputs: Path) -> None:
    walk_to_test(rg, inputs, P1)
    record_regression(rg, inputs, P1, AB)
    record_regression(rg, inputs, P1, ABC)  # the rerun: the latest recording counts
    record_regression(rg, inputs, P1, passing("cbs.perf", "p95"), suite="perf")
    sign_prod_gate(rg, inputs, P1)
    must(rg, "promote", P1, "--to", "prod")
    walk_to_test(rg, inputs, P2)
    record_regression(rg, inputs, P2, AB)
    record_regression(rg, inputs, P2, passing("cbs.perf", "p99"), suite="perf")

    row = row_of(rg, P2)
    doc = diff_json(rg, P2)

    assert row["status"] == "fail"
    assert "1 test of the baseline missing, more than the 0 allowed: cbs.accrual::c" in \
        row["detail"]
    suites = {s["suite"]: s for s in doc["suites"]}
    assert suites["regression"]["baseline"]["event"] == recording_file(rg, P1, nth=1)
    assert suites["regression"]["missing"] == ["cbs.accrual::c"]
    # the prod gate counted no perf results, so perf has no baseline
    assert suites["perf"]["baseline"] is None


def test_the_same_suite_in_another_environment_is_not_a_baseline(
        rg: Cli, inputs: Path) -> None:
    def test_gate_counts_every_dev_suite(config: dict[str, Any]) -> None:
        gate_of(config, "test")["tests"][0]["suites"] = ["*"]

    edit_pipeline(rg.root, test_gate_counts_every_dev_suite)
    # P1 ran regression in dev; the test gate counted it when P1 left dev
    walk_to_test(rg, inputs, P1, dev={"smoke": passing("smoke", "login"), "regression": ABC})
    walk_to_test(rg, inputs, P2)
    record_regression(rg, inputs, P2, AB)

    row = row_of(rg, P2)

    assert row["status"] == "pass"
    assert row["detail"].endswith("baseline: no baseline for regression")
    assert diff_json(rg, P2)["suites"][0]["baseline"] is None
    dev = rg.json("tests", "diff", P2, "--env", "dev")["suites"][0]
    assert (dev["suite"], dev["baseline"]["patch"], dev["baseline"]["env"]) == \
        ("smoke", P1, "dev")


# --- tests diff and check --format json ----------------------------------------------------

BEFORE = {"cbs.fees::month_end": "passed", "cbs.fees::rounding": "failed",
          "cbs.fees::fx": "failed", "cbs.fees::legacy": "passed", "cbs.fees::retry": "passed",
          "cbs.fees::steady": "passed"}
AFTER = {"cbs.fees::month_end": "failed", "cbs.fees::rounding": "failed",
         "cbs.fees::fx": "passed", "cbs.fees::retry": "flaky", "cbs.fees::steady": "passed",
         "cbs.fees::new_rate": "passed"}
MESSAGE = "fee posted twice on month-end\n  at Fees.post(Fees.java:88)"


@pytest.fixture
def compared(rg: Cli, inputs: Path) -> Cli:
    """P1 shipped with two waived failures; P2 in test with one of every class."""
    walk_to_prod(rg, inputs, P1, BEFORE, waive=("cbs.fees::rounding", "cbs.fees::fx"))
    walk_to_test(rg, inputs, P2)
    record_regression(rg, inputs, P2, AFTER, messages={"cbs.fees::month_end": MESSAGE})
    return rg


def expected_comparison(rg: Cli, *, diff: bool = True) -> dict[str, Any]:
    """One suite's comparison as JSON; `tests diff` also lists the failing tests, with
    every failing test's message, which the gate report's regressions leave out."""
    shown: dict[str, Any] = {"env": "test", "suite": "regression",
            "baseline": {"patch": P1, "env": "test", "suite": "regression",
                         "promoted_at": promoted_at(rg, P1),
                         "event": recording_file(rg, P1)},
            "counts": {"new_failures": 1, "still_failing": 1, "fixed": 1, "missing": 1,
                       "new_tests": 1, "flaky": 1},
            "new_failures": ["cbs.fees::month_end"], "still_failing": ["cbs.fees::rounding"],
            "fixed": ["cbs.fees::fx"], "missing": ["cbs.fees::legacy"],
            "new_tests": ["cbs.fees::new_rate"], "flaky": ["cbs.fees::retry"],
            "messages": {"cbs.fees::month_end": "fee posted twice on month-end"}}
    if diff:
        shown["messages"] = {**shown["messages"], "cbs.fees::rounding": "failed: rounding"}
        shown["failing"] = ["cbs.fees::month_end", "cbs.fees::rounding"]
    return shown


def test_tests_diff_lists_each_class_new_failures_first_with_their_message(
        compared: Cli) -> None:
    result = compared("tests", "diff", P2, "--env", "test")

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"regression in test: against {P1} (promoted out of test at "
        f"{promoted_at(compared, P1)})\n"
        "  new failures 1, still failing 1, fixed 1, missing 1, new tests 1, flaky 1\n"
        "  new failures:\n"
        "    cbs.fees::month_end  fee posted twice on month-end\n"
        "  still failing:\n"
        "    cbs.fees::rounding\n"
        "  fixed:\n"
        "    cbs.fees::fx\n"
        "  missing:\n"
        "    cbs.fees::legacy\n"
        "  new tests:\n"
        "    cbs.fees::new_rate\n"
        "  flaky:\n"
        "    cbs.fees::retry\n")


def test_tests_diff_json_gives_per_suite_the_baseline_and_the_test_ids(
        compared: Cli) -> None:
    assert diff_json(compared, P2) == {"patch": P2, "env": "test",
                                       "suites": [expected_comparison(compared)]}


def test_check_json_carries_the_regressions_behind_its_tests_condition(
        compared: Cli) -> None:
    result = compared("check", P2, "--to", "prod", "--format", "json")
    doc = json.loads(result.stdout)

    assert result.exit_code == 1
    assert doc["regressions"] == [expected_comparison(compared, diff=False)]
    row = conditions(doc)[RULE]
    assert row["status"] == "fail"
    assert row["detail"].startswith(
        "1 failed or errored, more than the 0 allowed; 1 new failure: cbs.fees::month_end; "
        "1 test of the baseline missing, more than the 0 allowed: cbs.fees::legacy (")
    assert "1 known failure allowed: cbs.fees::rounding" in row["detail"]


def test_tests_diff_suite_picks_one_suite_and_refuses_an_unknown_one(
        compared: Cli, inputs: Path) -> None:
    record_regression(compared, inputs, P2, passing("cbs.perf", "p95"), suite="perf")
    before = fingerprint(compared.root)

    only = diff_json(compared, P2, "--suite", "regression")
    typo = compared("tests", "diff", P2, "--env", "test", "--suite", "regresion")
    unknown = compared("tests", "diff", P2, "--env", "test", "--suite", "smoke")

    assert [s["suite"] for s in diff_json(compared, P2)["suites"]] == ["perf", "regression"]
    assert only == {"patch": P2, "env": "test", "suites": [expected_comparison(compared)]}
    assert typo.exit_code == 2
    assert "no results of suite 'regresion' recorded in test for this digest" in typo.stderr
    assert "did you mean 'regression'?" in typo.stderr
    assert unknown.exit_code == 2
    assert "hint: recorded suites: regression, perf" in unknown.stderr
    assert fingerprint(compared.root) == before


def test_tests_diff_without_results_in_the_environment_exits_2(
        rg: Cli, inputs: Path) -> None:
    walk_to_test(rg, inputs, P1)

    result = rg("tests", "diff", P1, "--env", "test")

    assert result.exit_code == 2
    assert f"no test results recorded in test for {P1}'s current digest" in result.stderr


# --- the regression options end to end ---------------------------------------------------


def set_prod_rule(rg: Cli, **options: Any) -> None:
    def change(config: dict[str, Any]) -> None:
        gate_of(config, "prod")["tests"][0].update(options)

    edit_pipeline(rg.root, change, f"prod tests rule: {options}")


def test_no_missing_tests_1_lets_one_baseline_test_go_missing_but_not_two(
        rg: Cli, inputs: Path) -> None:
    set_prod_rule(rg, no_missing_tests=1)
    walk_to_prod(rg, inputs, P1, ABC)
    walk_to_test(rg, inputs, P2)
    record_regression(rg, inputs, P2, AB)

    one_missing = row_of(rg, P2)
    record_regression(rg, inputs, P2, passing("cbs.accrual", "a"))
    two_missing = row_of(rg, P2)

    assert one_missing["status"] == "pass"
    assert two_missing["status"] == "fail"
    assert two_missing["detail"].startswith(
        "2 tests of the baseline missing, more than the 1 allowed: cbs.accrual::b, "
        "cbs.accrual::c (")


def test_flaky_deny_closes_the_gate_on_a_test_that_passed_only_on_a_rerun(
        in_test: Cli, inputs: Path) -> None:
    record_regression(in_test, inputs, PATCH, AB | {"cbs.accrual::c": "flaky"})
    allowed = row_of(in_test, PATCH)
    set_prod_rule(in_test, flaky="deny")

    denied = row_of(in_test, PATCH)

    assert allowed["status"] == "pass"
    assert denied["status"] == "fail"
    assert denied["detail"] == (
        "1 flaky (passed only on a rerun), and flaky: deny (3 tests: 2 passed, 1 flaky, "
        "0 failed, 0 errors, 0 skipped in regression; baseline: no baseline for regression)")


def test_a_fresh_clone_finds_the_baseline_in_history_or_its_systems_rows_as_the_index_does(
        rg: Cli, inputs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the baseline index (a fresh CI clone), a single-patch command reads
    promotions newest first from git's history, and past the walk's limit the board
    rows of the patch's own system, instead of indexing every patch; the baseline and
    the verdict are the ones the whole index gives, and a patch whose row no longer
    counts (removed with plain git) is read from its events."""
    from releasegate.evidence import baselines
    from releasegate.ledger.transaction import Ledger

    walk_to_prod(rg, inputs, P1, AB)
    walk_to_test(rg, inputs, P2)
    record_regression(rg, inputs, P2, ABC)
    sign_prod_gate(rg, inputs, P2)
    must(rg, "promote", P2, "--to", "prod")
    walk_to_prod(rg, inputs, "PAY-2026-0001", AB, system="payments-hub")
    walk_to_test(rg, inputs, P3)
    record_regression(rg, inputs, P3, AB)
    index = rg.root / ".git" / "releasegate" / "baselines.pickle"
    index.unlink(missing_ok=True)

    walked = (rg.json("check", P3, "--to", "prod"), diff_json(rg, P3))
    monkeypatch.setattr(baselines, "WALK_LIMIT", 0)
    from_rows = (rg.json("check", P3, "--to", "prod"), diff_json(rg, P3))
    assert not index.exists()  # nothing indexed
    ledger = Ledger(rg.root)
    baselines.shipped_index(ledger, ledger.snapshot())  # the whole index, as verify has it
    assert index.exists()
    indexed = (rg.json("check", P3, "--to", "prod"), diff_json(rg, P3))

    assert walked == from_rows == indexed
    assert from_rows[1]["suites"][0]["baseline"]["patch"] == P2
    assert conditions(from_rows[0])[RULE]["status"] == "fail"

    rows = [p for p in git(rg.root, "ls-files", "board").split() if p.endswith(f"/{P2}.json")]
    git(rg.root, "rm", "-q", *rows)
    git(rg.root, "commit", "-qm", "drop a row")
    index.unlink()
    assert diff_json(rg, P3)["suites"][0]["baseline"]["patch"] == P2
