"""What the gate reports carry and the shape CI servers accept.

The failing tests are named (as `waive --test` takes them) wherever their count is
shown, baseline or not; `check --format junit` validates against the JUnit schemas
Jenkins reads: the xunit-plugin's junit-10.xsd and the JUnit 4 schema of Jenkins'
JUnit plugin (jenkins-junit.xsd), both under tests/fixtures/xsd/ with their source on
their first line.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import xmlschema

from releasegate.cli.ci_reports import verdict_junit
from releasegate.core.model import Condition, Verdict
from tests.helpers import (
    PATCH,
    Cli,
    answers_file,
    conditions,
    must,
    passing,
    record_regression,
    sign_prod_gate,
    walk_to_prod,
    walk_to_test,
    write_manifest,
)
from tests.test_output_escaping import waive_unchecked

XSD = Path(__file__).parent / "fixtures" / "xsd"
SCHEMAS = ("junit-10.xsd", "jenkins-junit.xsd")
DEV_TESTS = ("tests", "dev: smoke*")
PROD_TESTS = ("tests", "test: regression*")
MONTH_END = "cbs.accrual::month_end"
LEAP_YEAR = "cbs.accrual::leap_year"
RUN = {MONTH_END: "failed", LEAP_YEAR: "error", "cbs.fees::fx": "passed"}


@cache
def schema(name: str) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD / name))


def assert_valid_junit(text: str) -> ElementTree.Element:
    """Well-formed XML that both schemas accept; returns the root."""
    root = ElementTree.fromstring(text)
    for name in SCHEMAS:
        errors = [f"{e.path}: {e.reason}" for e in schema(name).iter_errors(text)]
        assert errors == [], f"{name}: {errors}"
    return root


def in_dev(rg: Cli, inputs: Path, smoke: dict[str, str]) -> None:
    """PATCH submitted, in dev, with `smoke` recorded there: the test gate is next."""
    folder = inputs / PATCH
    must(rg, "patch", "submit", str(write_manifest(folder)))
    must(rg, "checklist", "fill", PATCH, "intake", "--env", "dev", "--answers",
         str(answers_file(folder, "intake")))
    must(rg, "promote", PATCH, "--to", "dev")
    record_regression(rg, inputs, PATCH, smoke, suite="smoke", env="dev")


# --- 2. the failing tests are named ---------------------------------------------------


def test_check_names_the_failing_tests_of_a_rule_that_only_counts(rg: Cli,
                                                                 inputs: Path) -> None:
    in_dev(rg, inputs, {"smoke::login": "failed", "smoke::balance": "passed",
                        "smoke::transfer": "error"})

    text = rg("check", PATCH, "--to", "test")
    doc = rg.json("check", PATCH, "--to", "test")
    markdown = rg("check", PATCH, "--to", "test", "--format", "markdown")

    detail = conditions(doc)[DEV_TESTS]["detail"]
    assert "1 failed, 1 errors, 0 skipped in smoke; failing: smoke::login, smoke::transfer" \
        in detail
    assert "failing: smoke::login, smoke::transfer" in text.stdout
    assert "failing: smoke::login, smoke::transfer" in markdown.stdout
    assert doc["failing_tests"] == [
        {"env": "dev", "suite": "smoke", "test": "smoke::login", "outcome": "failed"},
        {"env": "dev", "suite": "smoke", "test": "smoke::transfer", "outcome": "error"}]


def test_past_20_failing_tests_the_rest_are_counted(rg: Cli, inputs: Path) -> None:
    in_dev(rg, inputs, {f"smoke::t{i:02d}": "failed" for i in range(25)})

    doc = rg.json("check", PATCH, "--to", "test")

    detail = conditions(doc)[DEV_TESTS]["detail"]
    shown = ", ".join(f"smoke::t{i:02d}" for i in range(20))
    assert f"failing: {shown} and 5 more" in detail
    assert len(doc["failing_tests"]) == 25  # JSON lists every one


def test_a_passing_run_names_nothing(rg: Cli, inputs: Path) -> None:
    in_dev(rg, inputs, passing("smoke", "login"))

    doc = rg.json("check", PATCH, "--to", "test")

    assert "failing" not in conditions(doc)[DEV_TESTS]["detail"]
    assert doc["failing_tests"] == []


def test_without_a_baseline_the_comparing_rule_names_its_failures(closed: Cli) -> None:
    doc = closed.json("check", PATCH, "--to", "prod")

    detail = conditions(doc)[PROD_TESTS]["detail"]
    assert f"failing: {LEAP_YEAR}, {MONTH_END}; baseline: no baseline for regression" in detail
    assert [f["test"] for f in doc["failing_tests"]] == [LEAP_YEAR, MONTH_END]


def test_a_named_test_is_what_waive_takes(closed: Cli, inputs: Path) -> None:
    named = [f["test"] for f in closed.json("check", PATCH, "--to", "prod")["failing_tests"]]

    for test in named:
        must(closed, "waive", PATCH, "--env", "prod", "--test", test, "--reason", "VD-7",
             "--until", "2099-12-31", person="carol")

    rows = conditions(closed.json("check", PATCH, "--to", "prod"))
    assert [rows[("waiver", t)]["status"] for t in named] == ["waived", "waived"]
    assert rows[PROD_TESTS]["status"] == "pass"


def test_tests_diff_without_a_baseline_lists_the_failing_tests(closed: Cli) -> None:
    text = closed("tests", "diff", PATCH, "--env", "test")
    doc = closed.json("tests", "diff", PATCH, "--env", "test")

    assert text.exit_code == 0
    assert f"  failing:\n    {LEAP_YEAR}  error: leap_year\n    {MONTH_END}  failed: month_end" \
        in text.stdout
    assert doc["suites"][0]["failing"] == [LEAP_YEAR, MONTH_END]


def test_patch_show_names_the_failing_tests(closed: Cli) -> None:
    text = closed("patch", "show", PATCH)

    assert text.exit_code == 0
    assert f"failing: {LEAP_YEAR}, {MONTH_END}" in text.stdout


@pytest.fixture
def closed(in_test: Cli, inputs: Path) -> Cli:
    """PATCH in test with a failure and an error in regression (no baseline), unsigned."""
    record_regression(in_test, inputs, PATCH, RUN)
    return in_test


# --- 4. JUnit that CI servers accept --------------------------------------------------


def junit(rg: Cli, *args: str) -> tuple[int, str]:
    result = rg("check", PATCH, *args, "--format", "junit")
    return result.exit_code, result.stdout


def test_the_schemas_are_the_published_ones() -> None:
    for name in SCHEMAS:
        first = (XSD / name).read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("<!-- From https://github.com/"), name
    # jenkins-junit.xsd has no `skipped` on <testsuites>; both refuse unknown attributes
    bad = '<testsuites skipped="0"><testsuite name="x" tests="0" failures="0" errors="0"/>' \
          "</testsuites>"
    for name in SCHEMAS:
        assert not schema(name).is_valid(bad), name


def test_a_closed_gate_with_failures_validates(closed: Cli) -> None:
    status, text = junit(closed, "--to", "prod")

    root = assert_valid_junit(text)
    assert status == 1
    assert root.tag == "testsuites"
    assert len(root.findall("testsuite/testcase/failure")) == 7


def test_an_open_gate_validates(in_test: Cli, inputs: Path) -> None:
    record_regression(in_test, inputs, PATCH, passing("cbs.accrual", "month_end", "fx"))
    sign_prod_gate(in_test, inputs)

    status, text = junit(in_test, "--to", "prod")

    root = assert_valid_junit(text)
    assert status == 0
    assert root.findall(".//failure") == [] and root.findall(".//skipped") == []


def test_waived_rows_validate_and_read_as_skipped(closed: Cli, inputs: Path) -> None:
    for test in (MONTH_END, LEAP_YEAR):
        must(closed, "waive", PATCH, "--env", "prod", "--test", test, "--reason",
             "vendor defect VD-7 <fixed in 7.4.3> & \"soon\"", "--until", "2099-12-31",
             person="carol")
    sign_prod_gate(closed, inputs)

    status, text = junit(closed, "--to", "prod")

    root = assert_valid_junit(text)
    assert status == 0
    skipped = root.findall(".//testcase/skipped")
    assert len(skipped) == 2
    assert all('<fixed in 7.4.3> & "soon"' in (s.text or "") for s in skipped)
    suite = root.find("testsuite")
    assert suite is not None and suite.get("skipped") == "2"


def test_a_gate_already_passed_validates_with_one_passing_case(rg: Cli, inputs: Path) -> None:
    walk_to_test(rg, inputs)

    status, text = junit(rg, "--to", "test")

    root = assert_valid_junit(text)
    assert status == 0
    cases = root.findall(".//testcase")
    assert len(cases) == 1 and list(cases[0].iter("failure")) == []


def test_text_with_special_characters_validates(rg: Cli, inputs: Path) -> None:
    shipped = {"cbs.fx::t<1>": "passed", 'cbs.fx::"quoted" & more': "passed"}
    walk_to_prod(rg, inputs, "CBS-2026-0001", shipped)
    walk_to_test(rg, inputs)
    record_regression(rg, inputs, PATCH, dict.fromkeys(shipped, "failed"),
                      messages={"cbs.fx::t<1>": "expected <b>1</b> & got ]]> \u00e9\u4e2d"})
    waive_unchecked(rg, "cbs.fx::t<1>", "ESC \x1b[31m red, bell \x07, tab\t, \ufffe & <b>")

    status, text = junit(rg, "--to", "prod")

    root = assert_valid_junit(text)
    assert status == 1
    waived = root.find(".//testcase[@name='waiver: cbs.fx::t<1>']/skipped")
    assert waived is not None and "ESC \\x1b[31m red, bell \\x07" in (waived.text or "")
    assert "\x1b" not in text and "\x07" not in text


@pytest.mark.parametrize("odd", ["\x00", "\x1b", "\x0b", "\ud800", "\ufffe", "\uffff"])
def test_characters_xml_forbids_never_reach_the_document(odd: str) -> None:
    verdict = Verdict(PATCH, "test", "prod", "sha256:" + "1" * 64, (
        Condition("tests", f"test: a{odd}", "fail", f"detail {odd} <&> ]]>"),
        Condition("waiver", f"x{odd}::y", "waived", f"reason {odd}"),
        Condition("order", "order", "pass", "in test")))

    text = verdict_junit(verdict)

    root = assert_valid_junit(text)
    assert odd not in text
    failure = root.find(".//failure")
    assert failure is not None
    shown = odd.encode("unicode_escape", "backslashreplace").decode()
    assert failure.get("message") == f"detail {shown} <&> ]]>"


def test_the_json_failing_list_is_valid_json_for_scripts(closed: Cli) -> None:
    result = closed("check", PATCH, "--to", "prod", "--format", "json")

    doc: Any = json.loads(result.stdout)
    assert set(doc["failing_tests"][0]) == {"env", "suite", "test", "outcome"}
