"""Fail closed, and only closed: a suite that ran nothing fails its tests condition
even beside a suite that ran; a gate the patch already passed is not reported closed.

Real ledgers, real JUnit files, every command through the CLI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import (
    PATCH,
    Cli,
    conditions,
    edit_pipeline,
    gate_of,
    junit_cases,
    must,
    passing,
    record_regression,
    walk_to_test,
)

PROD_TESTS = ("tests", "test: regression*")
RAN = passing("cbs.accrual", "month_end", "leap_year", "fx")


def record_file(rg: Cli, path: Path, env: str = "test") -> Any:
    return must(rg, "tests", "record", PATCH, "--env", env, str(path))


def empty_suite(inputs: Path, suite: str, skipped: int = 0) -> Path:
    """A JUnit file of `suite` with no test case, or only skipped ones."""
    cases = {f"{suite}::skip_{i}": "skipped" for i in range(skipped)}
    return junit_cases(inputs / "empty", suite, cases)


def prod_row(rg: Cli) -> dict[str, str]:
    return conditions(rg.json("check", PATCH, "--to", "prod"))[PROD_TESTS]


# --- 1. a counted suite that executed nothing fails the condition --------------------


@pytest.mark.parametrize(("skipped", "said"), [(0, "0 tests, 0 skipped"),
                                                (4, "4 tests, 4 skipped")])
def test_an_empty_suite_fails_the_condition_although_another_matching_suite_ran(
        rg: Cli, inputs: Path, skipped: int, said: str) -> None:
    walk_to_test(rg, inputs)
    record_regression(rg, inputs, PATCH, RAN, suite="regression-core")
    record_file(rg, empty_suite(inputs, "regression-ui", skipped))

    row = prod_row(rg)
    result = rg("check", PATCH, "--to", "prod")

    assert result.exit_code == 1
    assert row["status"] == "fail"
    assert row["detail"].startswith(f"nothing executed in regression-ui ({said})")
    assert "regression-core" not in row["detail"].split("(")[0]  # only the empty suite named
    assert "in regression-core, regression-ui" in row["detail"]  # both suites still counted


def test_every_empty_suite_is_named(rg: Cli, inputs: Path) -> None:
    walk_to_test(rg, inputs)
    record_regression(rg, inputs, PATCH, RAN, suite="regression-core")
    record_file(rg, empty_suite(inputs, "regression-api"))
    record_file(rg, empty_suite(inputs, "regression-ui", 2))

    detail = prod_row(rg)["detail"]

    assert detail.startswith("nothing executed in regression-api (0 tests, 0 skipped); "
                             "nothing executed in regression-ui (2 tests, 2 skipped)")


def test_rerecording_the_empty_suite_with_tests_opens_the_condition_again(
        rg: Cli, inputs: Path) -> None:
    walk_to_test(rg, inputs)
    record_regression(rg, inputs, PATCH, RAN, suite="regression-core")
    record_file(rg, empty_suite(inputs, "regression-ui"))
    assert prod_row(rg)["status"] == "fail"

    record_regression(rg, inputs, PATCH, passing("ui", "login"), suite="regression-ui")

    assert prod_row(rg)["status"] == "pass"


def test_an_empty_suite_no_pattern_matches_does_not_touch_the_condition(
        rg: Cli, inputs: Path) -> None:
    walk_to_test(rg, inputs)
    record_regression(rg, inputs, PATCH, RAN, suite="regression-core")

    result = record_file(rg, empty_suite(inputs, "perf"))

    assert prod_row(rg)["status"] == "pass"
    assert ("warning: perf: nothing executed (0 tests, 0 skipped); no gate's tests "
            "condition counts this suite") in result.stderr
    assert "will fail" not in result.stderr


def test_the_record_warning_names_the_condition_that_will_fail(rg: Cli, inputs: Path) -> None:
    walk_to_test(rg, inputs)
    record_regression(rg, inputs, PATCH, RAN, suite="regression-core")

    result = record_file(rg, empty_suite(inputs, "regression-ui", 3))

    assert ("warning: regression-ui: nothing executed (3 tests, 3 skipped); the tests "
            "condition test: regression* of the prod gate will fail") in result.stderr
    assert prod_row(rg)["status"] == "fail"  # the warning is true


def test_the_record_warning_names_every_gate_whose_pattern_matches(
        rg: Cli, inputs: Path) -> None:
    def second_rule(config: dict[str, Any]) -> None:
        gate_of(config, "prod")["tests"].append({"env": "test", "suites": ["*-ui"]})

    edit_pipeline(rg.root, second_rule)
    walk_to_test(rg, inputs)

    result = record_file(rg, empty_suite(inputs, "regression-ui"))

    assert ("the tests conditions test: regression* and test: *-ui of the prod gate will "
            "fail") in result.stderr


# --- 3. a patch already in the environment -------------------------------------------


def test_check_of_the_environment_a_patch_is_in_exits_0_and_says_so(rg: Cli,
                                                                    inputs: Path) -> None:
    walk_to_test(rg, inputs)

    text = rg("check", PATCH, "--to", "test")
    doc = rg("check", PATCH, "--to", "test", "--format", "json")
    markdown = rg("check", PATCH, "--to", "test", "--format", "markdown")

    assert (text.exit_code, doc.exit_code, markdown.exit_code) == (0, 0, 0)
    assert "already in test" in text.stdout
    assert "CLOSED" not in text.stdout and "FAIL" not in text.stdout
    parsed = json.loads(doc.stdout)
    assert parsed["already_in"] == "test"
    assert parsed["open"] is True
    assert [c["status"] for c in parsed["conditions"]] == ["pass"]
    assert "already in test" in markdown.stdout


def test_a_rerun_deploy_job_checks_then_promotes_without_stopping(rg: Cli,
                                                                  inputs: Path) -> None:
    walk_to_test(rg, inputs)  # the first run promoted to test

    check = rg("check", PATCH, "--to", "test")
    promote = rg("promote", PATCH, "--to", "test", person="alice")

    assert (check.exit_code, promote.exit_code) == (0, 0)
    assert "already in test" in promote.stdout


def test_the_json_of_a_gate_not_yet_passed_has_no_already_in(rg: Cli, inputs: Path) -> None:
    walk_to_test(rg, inputs)

    doc = rg.json("check", PATCH, "--to", "prod")

    assert doc["already_in"] is None
    assert doc["open"] is False


def test_a_patch_past_the_environment_is_still_refused(rg: Cli, inputs: Path) -> None:
    walk_to_test(rg, inputs)

    result = rg("check", PATCH, "--to", "dev")

    assert result.exit_code == 1
    assert "already past dev" in result.stdout


def test_a_revised_patch_is_not_already_in_the_environment_of_its_old_digest(
        rg: Cli, inputs: Path) -> None:
    walk_to_test(rg, inputs)
    drop = inputs / "v2"
    drop.mkdir()
    (drop / "patch.tar").write_bytes(b"payload-2\n")
    must(rg, "patch", "revise", PATCH, "--artifact", str(drop / "patch.tar"), person="alice")

    result = rg("check", PATCH, "--to", "test", "--format", "json")

    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["already_in"] is None
    assert doc["open"] is False
