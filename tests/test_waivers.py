"""Waivers: a test lead lets named failing tests through one gate, for one digest, until
a date. Real ledgers, real JUnit results, every command through the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from junitparser import JUnitXml, Skipped

from releasegate.core import clock
from tests.helpers import (
    PATCH,
    Cli,
    conditions,
    edit_pipeline,
    fingerprint,
    must,
    record_regression,
    sign_prod_gate,
    walk_to_test,
    write_manifest,
)

RULE = ("tests", "test: regression*")
REASON = "vendor defect VD-7, fixed in 7.4.3"
UNTIL = "2099-12-31"
END_OF_2099 = datetime(2100, 1, 1, tzinfo=UTC)  # the end of 2099-12-31 in UTC, the zone
MONTH_END = "cbs.accrual::month_end"
RUN = {MONTH_END: "failed", "cbs.accrual::leap_year": "passed", "cbs.fees::fx": "passed"}
THREE_FAILING = {MONTH_END: "failed", "cbs.accrual::leap_year": "error",
                 "cbs.fees::rounding": "failed", "cbs.fees::fx": "passed"}


def waive(rg: Cli, pattern: str, *, person: str = "carol", until: str = UNTIL,
          env: str = "prod", fmt: str = "text") -> Any:
    return rg("waive", PATCH, "--env", env, "--test", pattern, "--reason", REASON,
              "--until", until, "--format", fmt, person=person)


def instant(stamp: str) -> datetime:
    """A recorded UTC time stamp as a moment (however finely it is recorded)."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def recorded_until(rg: Cli) -> str:
    """The expiry of the patch's latest waiver, as the ledger recorded it."""
    waiver = [e for e in rg.json("patch", "log", PATCH) if e["type"] == "waiver"][-1]
    return str(waiver["data"]["until"])


def verdict(rg: Cli) -> dict[tuple[str, str], dict[str, str]]:
    return conditions(rg.json("check", PATCH, "--to", "prod"))


def refused(rg: Cli, *args: str, person: str = "carol") -> Any:
    """A waiver that must be refused: exit 2 and the ledger exactly as it was."""
    before = fingerprint(rg.root)
    result = rg(*args, person=person)
    assert result.exit_code == 2, result.output
    assert fingerprint(rg.root) == before
    return result


@pytest.fixture
def failing(in_test: Cli, inputs: Path) -> Cli:
    """CBS-2026-0042 in test with one failing regression test (no baseline yet)."""
    record_regression(in_test, inputs, PATCH, RUN,
                      messages={MONTH_END: "fee posted twice on month-end"})
    return in_test


# --- what a waiver does ----------------------------------------------------------------


def test_a_waiver_turns_the_named_failure_into_a_waived_row_and_opens_the_gate(
        failing: Cli, inputs: Path) -> None:
    assert verdict(failing)[RULE]["status"] == "fail"

    result = waive(failing, MONTH_END)

    assert result.exit_code == 0, result.output
    until = recorded_until(failing)
    assert instant(until) == END_OF_2099
    assert result.stdout == f"waived {MONTH_END} for {PATCH} (prod gate) until {until}\n"
    assert result.stderr == ""
    rows = verdict(failing)
    assert rows[("waiver", MONTH_END)] == {
        "kind": "waiver", "name": MONTH_END, "status": "waived",
        "detail": f"1 failing test waived by carol until {until} ({REASON}): {MONTH_END}"}
    assert rows[RULE]["status"] == "pass"
    sign_prod_gate(failing, inputs)
    promoted = must(failing, "promote", PATCH)
    assert f"promoted {PATCH} to prod" in promoted.stdout
    assert "WAIVED  waiver" in promoted.stdout


def test_waive_json_echoes_what_was_recorded(failing: Cli) -> None:
    result = waive(failing, MONTH_END, fmt="json")

    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc == {"patch": PATCH, "env": "prod", "test": MONTH_END, "reason": REASON,
                   "until": recorded_until(failing)}
    assert instant(doc["until"]) == END_OF_2099
    log = failing.json("patch", "log", PATCH)[-1]
    assert (log["type"], log["actor"], log["env"]) == ("waiver", "carol", "prod")


def test_a_date_expires_at_the_end_of_that_day_in_the_pipelines_time_zone(
        failing: Cli) -> None:
    edit_pipeline(failing.root, lambda config: config.update(timezone="Asia/Shanghai"))

    result = waive(failing, MONTH_END, fmt="json")

    assert instant(json.loads(result.stdout)["until"]) == datetime(2099, 12, 31, 16,
                                                                  tzinfo=UTC)


def test_a_time_with_its_offset_is_kept_in_utc(failing: Cli) -> None:
    result = waive(failing, MONTH_END, until="2099-12-31T18:00+08:00", fmt="json")

    assert instant(json.loads(result.stdout)["until"]) == datetime(2099, 12, 31, 10,
                                                                  tzinfo=UTC)


def test_a_glob_waives_every_failing_test_it_matches_and_only_those(
        in_test: Cli, inputs: Path) -> None:
    record_regression(in_test, inputs, PATCH, THREE_FAILING)

    must(in_test, "waive", PATCH, "--env", "prod", "--test", "cbs.accrual::*", "--reason",
         REASON, "--until", UNTIL, person="carol")
    some = verdict(in_test)
    must(in_test, "waive", PATCH, "--env", "prod", "--test", "*::round?ng", "--reason",
         REASON, "--until", UNTIL, person="carol")
    every = verdict(in_test)

    assert some[("waiver", "cbs.accrual::*")]["detail"] == (
        f"2 failing tests waived by carol until {recorded_until(in_test)} ({REASON}): "
        "cbs.accrual::leap_year, cbs.accrual::month_end")
    assert some[RULE]["status"] == "fail"
    assert some[RULE]["detail"].startswith("1 failed or errored, more than the 0 allowed (")
    assert every[("waiver", "*::round?ng")]["status"] == "waived"
    assert every[RULE]["status"] == "pass"


def test_a_parametrized_test_id_is_waived_as_written(in_test: Cli, inputs: Path) -> None:
    # "[EUR]" would be a character class as a glob; the id as written still matches
    record_regression(in_test, inputs, PATCH, {"cbs.fees::fee[EUR]": "failed",
                                                "cbs.fees::fee[USD]": "passed"})

    result = waive(in_test, "cbs.fees::fee[EUR]")

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    rows = verdict(in_test)
    assert rows[("waiver", "cbs.fees::fee[EUR]")]["status"] == "waived"
    assert rows[RULE]["status"] == "pass"


def test_a_waiver_matching_no_failing_test_is_recorded_with_a_warning(failing: Cli) -> None:
    # the glob covers the whole "classname::name": a bare test name matches nothing
    result = waive(failing, "month_end")

    assert result.exit_code == 0, result.output
    assert result.stderr == "warning: waiver 'month_end' matches no failing test at present\n"
    rows = verdict(failing)
    assert rows[("waiver", "month_end")] == {
        "kind": "waiver", "name": "month_end", "status": "pass",
        "detail": f"matches no failing test; waived by carol until {recorded_until(failing)} "
                  f"({REASON})"}
    assert rows[RULE]["status"] == "fail"


def test_an_expired_waiver_does_nothing(failing: Cli,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 11, 28, 12, 0, tzinfo=UTC))
    assert waive(failing, MONTH_END, until="2027-01-31").exit_code == 0
    assert verdict(failing)[("waiver", MONTH_END)]["status"] == "waived"

    # a second past the expiry, the end of 2027-01-31 in UTC
    monkeypatch.setattr(clock, "now", lambda: datetime(2027, 2, 1, 0, 0, 1, tzinfo=UTC))
    rows = verdict(failing)

    assert [key for key in rows if key[0] == "waiver"] == []
    assert rows[RULE]["status"] == "fail"
    assert rows[RULE]["detail"].startswith("1 failed or errored, more than the 0 allowed (")


def test_a_waiver_for_an_earlier_digest_does_nothing(failing: Cli, inputs: Path) -> None:
    assert waive(failing, MONTH_END).exit_code == 0
    artifact = write_manifest(inputs / "v2", content=b"payload-2\n").parent / "patch.tar"
    must(failing, "patch", "revise", PATCH, "--artifact", str(artifact))
    walk_to_test(failing, inputs)
    record_regression(failing, inputs, PATCH, RUN)

    rows = verdict(failing)

    assert [key for key in rows if key[0] == "waiver"] == []
    assert rows[RULE]["status"] == "fail"


def test_a_new_waiver_makes_earlier_signoffs_for_the_gate_stale(failing: Cli) -> None:
    must(failing, "signoff", PATCH, "--env", "prod", "--role", "business", person="dave")
    assert verdict(failing)[("signoffs", "business")]["status"] == "pass"

    assert waive(failing, MONTH_END).exit_code == 0
    waiver_file = failing.json("patch", "log", PATCH)[-1]["file"].rsplit("/", 1)[-1]

    row = verdict(failing)[("signoffs", "business")]
    assert row["status"] == "fail"
    assert f"dave signed before newer evidence ({waiver_file}); stale" in row["detail"]


def test_waived_tests_are_never_reported_as_passed(failing: Cli, inputs: Path,
                                                   tmp_path: Path) -> None:
    assert waive(failing, MONTH_END).exit_code == 0
    sign_prod_gate(failing, inputs)

    junit = failing("check", PATCH, "--format", "junit", "-o", str(tmp_path / "gate.xml"))
    markdown = failing("check", PATCH, "--format", "markdown")

    assert junit.exit_code == 0 and markdown.exit_code == 0
    cases = {case.name: case for suite in JUnitXml.fromfile(str(tmp_path / "gate.xml"))
             for case in suite}
    waived = cases[f"waiver: {MONTH_END}"]
    assert [type(r) for r in waived.result] == [Skipped]
    assert (waived.result[0].text or "").startswith("1 failing test waived by carol")
    assert not waived.is_passed
    assert (f"| ⚠️ waived | waiver | {MONTH_END} | 1 failing test waived by carol until "
            f"{recorded_until(failing)} ({REASON}): {MONTH_END} |") in markdown.stdout
    # the tests condition still reports the failure; it is not counted among the passed
    assert "3 tests: 2 passed, 0 flaky, 1 failed" in cases["tests: test: regression*"].system_out


# --- who may waive, and what is refused --------------------------------------------------


def test_the_submitter_may_never_waive_even_as_a_test_lead(failing: Cli) -> None:
    def alice_leads_tests_too(config: dict[str, Any]) -> None:
        config["roles"]["test-lead"] = ["carol", "alice"]

    edit_pipeline(failing.root, alice_leads_tests_too)

    result = refused(failing, "waive", PATCH, "--env", "prod", "--test", MONTH_END,
                     "--reason", REASON, "--until", UNTIL, "--format", "json", person="alice")

    error = json.loads(result.stdout)["error"]
    assert error["code"] == "four-eyes"
    assert error["message"] == (f"alice submitted or re-delivered {PATCH} and may not waive "
                                "its failures")


def test_a_role_not_listed_in_waivers_by_may_not_waive(failing: Cli) -> None:
    result = refused(failing, "waive", PATCH, "--env", "prod", "--test", MONTH_END,
                     "--reason", REASON, "--until", UNTIL, person="bob")

    assert "error: bob may not waive failing tests; waivers are for: test-lead" in \
        result.stderr


def test_with_waivers_by_empty_nobody_may_waive(failing: Cli) -> None:
    edit_pipeline(failing.root, lambda config: config["rules"].update(waivers_by=[]))

    result = refused(failing, "waive", PATCH, "--env", "prod", "--test", MONTH_END,
                     "--reason", REASON, "--until", UNTIL)

    assert "carol may not waive failing tests; waivers are for: nobody " \
        "(rules.waivers_by is empty)" in result.stderr
    assert "hint: list the roles under rules.waivers_by" in result.stderr


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--until", "2020-01-01", "--until 2020-01-01 is in the past"),
    ("--until", "next friday", "--until 'next friday' is not a date (YYYY-MM-DD)"),
    ("--until", "2099-13-01", "--until '2099-13-01' is not a date (YYYY-MM-DD)"),
    ("--until", "2099-12-01T10:00", "--until '2099-12-01T10:00' is not a date"),
    ("--test", " ", "--test must be a glob on 'classname::name'"),
    ("--reason", " ", "--reason must say why the failures may be waived"),
    ("--env", "test", f"{PATCH} is already in test; evidence for the test gate can no "
                      "longer change anything"),
    ("--env", "prd", "unknown environment 'prd' (--env)"),
])
def test_a_bad_waiver_is_refused_and_records_nothing(failing: Cli, option: str, value: str,
                                                     message: str) -> None:
    given = {"--env": "prod", "--test": MONTH_END, "--reason": REASON, "--until": UNTIL,
             option: value}
    args = [arg for pair in given.items() for arg in pair]

    result = refused(failing, "waive", PATCH, *args)

    assert message in result.stderr


def test_a_gate_without_a_tests_condition_has_nothing_to_waive(submitted: Cli) -> None:
    result = refused(submitted, "waive", PATCH, "--env", "dev", "--test", MONTH_END,
                     "--reason", REASON, "--until", UNTIL)

    assert "error: the dev gate has no tests condition; there is nothing to waive" in \
        result.stderr
