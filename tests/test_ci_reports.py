"""Gate reports for CI: JUnit XML, markdown step summaries and GitHub annotations.

A CI job runs `check` and reads its exit status, a JUnit file its test reporter shows,
a markdown table for the step summary, and ::error annotations on the run's page.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from junitparser import Failure, JUnitXml

from releasegate.cli.ci_reports import (
    escape_data,
    escape_property,
    github_annotations,
    verdict_markdown,
)
from releasegate.core.model import Condition, Verdict
from tests.helpers import (
    PATCH,
    Cli,
    edit_pipeline,
    fingerprint,
    gate_of,
    record_regression,
    walk_to_prod,
    walk_to_test,
)

P1, P2 = "CBS-2026-0001", "CBS-2026-0002"
MONTH_END = "cbs.accrual::month_end"
RUN = {MONTH_END: "failed", "cbs.accrual::leap_year": "error", "cbs.fees::fx": "passed"}


@pytest.fixture
def closed(in_test: Cli, inputs: Path) -> Cli:
    """CBS-2026-0042 in test with a failure and an error in regression, nothing signed."""
    record_regression(in_test, inputs, PATCH, RUN)
    return in_test


def check(rg: Cli, *args: str, env: dict[str, str] | None = None) -> Any:
    return rg("check", PATCH, "--to", "prod", *args, env=env)


def junit_cases_in(text: str) -> list[Any]:
    """The test cases of a JUnit document, as a CI test reporter reads them."""
    return [case for suite in JUnitXml.fromstring(text.encode()) for case in suite]


def failed_rows(rg: Cli) -> list[dict[str, str]]:
    doc = json.loads(check(rg, "--format", "json").stdout)
    return [c for c in doc["conditions"] if c["status"] == "fail"]


# --- JUnit ---------------------------------------------------------------------------


def test_junit_report_has_a_test_case_per_condition_and_failures_carry_the_reason(
        closed: Cli, tmp_path: Path) -> None:
    report = tmp_path / "gate.xml"
    doc = json.loads(check(closed, "--format", "json").stdout)

    result = check(closed, "--format", "junit", "-o", str(report))

    assert result.exit_code == 1
    assert result.stdout == ""
    (suite,) = list(JUnitXml.fromfile(str(report)))
    cases = list(suite)
    assert [c.name for c in cases] == [f"{c['kind']}: {c['name']}" for c in doc["conditions"]]
    assert {c.classname for c in cases} == {f"releasegate.{PATCH}.prod"}
    for case, row in zip(cases, doc["conditions"], strict=True):
        if row["status"] == "fail":
            assert [type(r) for r in case.result] == [Failure]
            assert case.result[0].message == row["detail"]
        else:
            assert case.is_passed, case.name
    assert (suite.tests, suite.failures, suite.skipped) == (9, 7, 0)
    tests_case = next(c for c in cases if c.name == "tests: test: regression*")
    assert tests_case.result[0].message.startswith(
        "2 failed or errored, more than the 0 allowed (3 tests: 1 passed, 0 flaky, 1 failed, "
        "1 errors, 0 skipped in regression")


def test_junit_report_to_standard_output_is_the_same_document(closed: Cli,
                                                              tmp_path: Path) -> None:
    report = tmp_path / "gate.xml"
    check(closed, "--format", "junit", "-o", str(report))

    result = check(closed, "--format", "junit")

    assert result.exit_code == 1
    assert result.stdout == report.read_text(encoding="utf-8")
    assert len(junit_cases_in(result.stdout)) == 9


@pytest.mark.parametrize("where", ["missing folder", "a folder"])
def test_an_unwritable_output_path_exits_2_and_changes_nothing(
        closed: Cli, tmp_path: Path, where: str) -> None:
    target = tmp_path / "missing" / "gate.xml" if where == "missing folder" else tmp_path
    before = fingerprint(closed.root)

    result = check(closed, "--format", "junit", "-o", str(target))

    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    if where == "missing folder":
        assert f"cannot write {target}" in result.stderr
    assert fingerprint(closed.root) == before


# --- markdown ------------------------------------------------------------------------


def test_markdown_is_a_compact_table_of_the_verdict(closed: Cli) -> None:
    digest = json.loads(check(closed, "--format", "json").stdout)["digest"]

    result = check(closed, "--format", "markdown")

    assert result.exit_code == 1
    assert result.stdout == (
        f"### releasegate: {PATCH} test → prod: gate closed\n"
        "\n"
        f"Digest `{digest}`\n"
        "\n"
        "| status | condition | name | detail |\n"
        "|---|---|---|---|\n"
        "| ✅ pass | order | order | in test, next in order is prod |\n"
        "| ✅ pass | depends | depends | no dependencies |\n"
        "| ❌ fail | checklists | test-review | not filled for this digest; to be filled by "
        "test-lead |\n"
        "| ❌ fail | checklists | change-readiness | not filled for this digest; to be filled by "
        "change-manager or release-manager |\n"
        "| ❌ fail | tests | test: regression\\* | 2 failed or errored, more than the 0 allowed "
        "(3 tests: 1 passed, 0 flaky, 1 failed, 1 errors, 0 skipped in regression; failing: "
        "cbs.accrual::leap_year, cbs.accrual::month_end; baseline: "
        "no baseline for regression) |\n"
        "| ❌ fail | signoffs | test-lead | needs 1 approval from role test-lead; has 0 |\n"
        "| ❌ fail | signoffs | app-owner | needs 1 approval from role app-owner; has 0 |\n"
        "| ❌ fail | signoffs | business | needs 1 approval from role business; has 0 |\n"
        "| ❌ fail | signoffs | change-manager | needs 1 approval from role change-manager; "
        "has 0 |\n")


@pytest.fixture
def sixty_new_failures(rg: Cli, inputs: Path) -> Cli:
    """P1 shipped with 60 passing tests; P2 in test fails every one of them."""
    names = [f"cbs.posting::t{i:02d}" for i in range(60)]
    walk_to_prod(rg, inputs, P1, dict.fromkeys(names, "passed"))
    walk_to_test(rg, inputs, P2)
    messages = {name: f"expected 1.00, got 2.00 in {name[-3:]}" for name in names}
    messages["cbs.posting::t00"] = "amount | 1.00 != 2.00\n  at Posting.java:12"
    record_regression(rg, inputs, P2, dict.fromkeys(names, "failed"), messages=messages)
    return rg


def test_markdown_lists_new_failures_with_messages_and_truncates_past_50(
        sixty_new_failures: Cli) -> None:
    result = sixty_new_failures("check", P2, "--to", "prod", "--format", "markdown")

    lines = result.stdout.splitlines()
    start = lines.index("**New failures (60)**")
    listed = lines[start + 2:]
    assert result.exit_code == 1
    assert listed[0] == "- `cbs.posting::t00` (regression): amount \\| 1.00 != 2.00"
    assert listed[1] == "- `cbs.posting::t01` (regression): expected 1.00, got 2.00 in t01"
    assert listed[49] == "- `cbs.posting::t49` (regression): expected 1.00, got 2.00 in t49"
    assert listed[50:] == ["- … and 10 more"]
    tests_row = next(line for line in lines if line.startswith("| ❌ fail | tests |"))
    assert ("60 new failures: cbs.posting::t00, cbs.posting::t01, cbs.posting::t02, "
            "cbs.posting::t03, cbs.posting::t04 (+55 more)") in tests_row


# --- GitHub Actions ------------------------------------------------------------------


def test_step_summary_gets_the_markdown_appended_on_every_check(
        closed: Cli, tmp_path: Path) -> None:
    summary = tmp_path / "step-summary.md"
    summary.write_text("## build\n\nok\n", encoding="utf-8")
    markdown = check(closed, "--format", "markdown").stdout
    text = check(closed).stdout

    first = check(closed, env={"GITHUB_STEP_SUMMARY": str(summary)})
    second = check(closed, env={"GITHUB_STEP_SUMMARY": str(summary)})

    assert (first.exit_code, second.exit_code) == (1, 1)
    assert first.stdout == text  # the job log still shows the text verdict
    assert summary.read_text(encoding="utf-8") == (
        "## build\n\nok\n" + markdown + "\n" + markdown + "\n")


def test_an_unwritable_step_summary_is_a_warning_not_a_failure(closed: Cli,
                                                               tmp_path: Path) -> None:
    summary = tmp_path / "missing" / "summary.md"

    result = check(closed, env={"GITHUB_STEP_SUMMARY": str(summary)})

    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"warning: could not append to GITHUB_STEP_SUMMARY ({summary}): ")


def test_github_actions_annotates_each_failed_condition_and_nothing_else(
        closed: Cli) -> None:
    failed = failed_rows(closed)

    result = check(closed, env={"GITHUB_ACTIONS": "true"})

    annotations = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert result.exit_code == 1
    assert len(annotations) == len(failed) == 7
    assert annotations[0] == (f"::error title={PATCH} → prod%3A checklists test-review::"
                              "not filled for this digest; to be filled by test-lead")
    assert not any("order" in line or "depends" in line for line in annotations)
    assert check(closed).stdout.count("::error") == 0  # only inside GitHub Actions


@pytest.mark.parametrize("fmt", ["json", "junit", "markdown"])
def test_with_a_document_on_stdout_annotations_go_to_stderr(closed: Cli, fmt: str) -> None:
    result = check(closed, "--format", fmt, env={"GITHUB_ACTIONS": "true"})

    assert result.exit_code == 1
    if fmt == "json":
        assert json.loads(result.stdout)["open"] is False
    elif fmt == "junit":
        assert len(junit_cases_in(result.stdout)) == 9
    else:
        assert result.stdout.startswith("### releasegate: ")
    assert "::error" not in result.stdout
    assert len([line for line in result.stderr.splitlines()
                if line.startswith("::error title=")]) == 7


def test_annotations_escape_percent_newlines_colons_and_commas(in_test: Cli,
                                                               inputs: Path) -> None:
    # A line break cannot reach a pattern any more (releasegate.yaml refuses control
    # characters); test_escaping_follows_the_workflow_command_rules covers %0D%0A.
    pattern = "perf 100%, p95: fast load*"

    def odd_suite_pattern(config: dict[str, Any]) -> None:
        gate_of(config, "prod")["tests"][0]["suites"] = ["regression*", pattern]

    edit_pipeline(in_test.root, odd_suite_pattern)
    record_regression(in_test, inputs, PATCH, {"cbs.fees::fx": "passed"})

    result = check(in_test, "--format", "json", env={"GITHUB_ACTIONS": "true"})

    assert result.exit_code == 1
    assert (f"::error title={PATCH} → prod%3A tests test%3A regression*%2C perf 100%25%2C "
            "p95%3A fast load*::no results recorded in test for this digest from a suite "
            "matching 'perf 100%25, p95: fast load*'") in result.stderr.splitlines()


def test_escaping_follows_the_workflow_command_rules() -> None:
    text = "100% done\r\nnext: a, b %0A"

    assert escape_data(text) == "100%25 done%0D%0Anext: a, b %250A"
    assert escape_property(text) == "100%25 done%0D%0Anext%3A a%2C b %250A"


def test_only_failed_conditions_become_annotations() -> None:
    verdict = Verdict("CBS-2026-0042", "test", "prod", "sha256:" + "1" * 64, (
        Condition("order", "order", "pass", "in test"),
        Condition("tests", "test: a, b", "fail", "50% skipped\nsee: log, twice"),
        Condition("waiver", "cbs::x", "waived", "1 failing test waived"),
        Condition("signoffs", "business", "fail", "needs 1 approval")))

    assert github_annotations(verdict) == [
        "::error title=CBS-2026-0042 → prod%3A tests test%3A a%2C b::50%25 skipped%0Asee: "
        "log, twice",
        "::error title=CBS-2026-0042 → prod%3A signoffs business::needs 1 approval"]


def test_markdown_keeps_each_condition_on_one_table_row_whatever_its_detail_holds() -> None:
    # a carriage return alone ends a line in markdown (CommonMark), as a newline does
    verdict = Verdict("CBS-2026-0042", "test", "prod", "sha256:" + "1" * 64, (
        Condition("tests", "test: regression*", "fail", "one | two\r\nthree\rfour"),
        Condition("order", "order", "pass", "in test")))

    lines = verdict_markdown(verdict).splitlines()

    rows = [line for line in lines if line.startswith("| ")]
    assert len(rows) == 3  # the header and one row per condition
    assert rows[1].startswith("| ❌ fail | tests | test: regression\\* | one \\| two")
    assert rows[1].endswith("four |")
    assert rows[2] == "| ✅ pass | order | order | in test |"
