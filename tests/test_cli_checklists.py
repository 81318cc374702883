"""`checklist fill`: answers from a file or from prompts, what is refused, what counts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests.helpers import PATCH, Cli, answers_file, fingerprint, git

DEV_REVIEW = ("walkthrough: 'yes'\ninstalled-cleanly: 'yes'\n"
              "data-migration: {value: n/a, reason: no data migration}\n")


def fill(rg: Cli, template: str, env: str, answers: Path | None, person: str = "alice",
         *extra: str, input: str | None = None) -> Result:
    args = ["checklist", "fill", PATCH, template, "--env", env, *extra]
    if answers is not None:
        args += ["--answers", str(answers)]
    return rg(*args, person=person, input=input)


def refused_fill(rg: Cli, template: str, env: str, answers: Path | None,
                 person: str = "alice", input: str | None = None) -> dict[str, Any]:
    """A refused filling: exit 2, nothing changed; returns the JSON error."""
    before = fingerprint(rg.root)
    result = fill(rg, template, env, answers, person, "--format", "json", input=input)
    assert result.exit_code == 2, result.output
    assert fingerprint(rg.root) == before
    error: dict[str, Any] = json.loads(result.stdout)["error"]
    assert error["exit_status"] == 2
    return error


def row(rg: Cli, template: str, to: str) -> dict[str, str]:
    verdict = json.loads(rg("check", PATCH, "--to", to, "--format", "json").stdout)
    found: list[dict[str, str]] = [c for c in verdict["conditions"]
                                   if c["kind"] == "checklists" and c["name"] == template]
    assert len(found) == 1
    return found[0]


def recorded_answers(rg: Cli) -> dict[str, Any]:
    event = rg.json("patch", "log", PATCH)[-1]
    assert event["type"] == "checklist"
    answers: dict[str, Any] = event["data"]["answers"]
    return answers


@pytest.fixture
def in_dev(submitted: Cli, inputs: Path) -> Cli:
    """CBS-2026-0042 in dev: its test gate (dev-review) waits to be filled."""
    assert fill(submitted, "intake", "dev", answers_file(inputs, "intake")).exit_code == 0
    assert submitted("promote", PATCH, person="alice").exit_code == 0
    return submitted


@pytest.fixture
def interactive(monkeypatch: pytest.MonkeyPatch) -> None:
    """A person at the terminal: fill prompts instead of asking for --answers."""
    monkeypatch.setattr("releasegate.cli.evidence.interactive", lambda: True)


# --- answers from a file -------------------------------------------------------------


def test_fill_records_yes_choice_and_url_answers(submitted: Cli, inputs: Path,
                                                 ledger_root: Path) -> None:
    answers = answers_file(inputs, "intake", "version-controlled: 'yes'\n"
                           "release-note-read: 'yes'\nrisk: medium\n"
                           "problem-ticket: https://itsm.bank.example/PRB-1187\n")
    result = fill(submitted, "intake", "dev", answers)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"recorded checklist intake for {PATCH} (dev gate)"
    assert git(ledger_root, "log", "-1", "--format=%s").strip() == \
        f"{PATCH}: checklist intake for dev by alice"
    assert recorded_answers(submitted) == {
        "version-controlled": {"value": "yes"}, "release-note-read": {"value": "yes"},
        "risk": {"value": "medium"},
        "problem-ticket": {"value": "https://itsm.bank.example/PRB-1187"}}
    condition = row(submitted, "intake", "dev")
    assert condition["status"] == "pass"
    assert condition["detail"].startswith("completed by alice at ")


def test_fill_records_na_with_its_reason_and_free_text(in_dev: Cli, inputs: Path) -> None:
    answers = answers_file(inputs, "dev-review", DEV_REVIEW + "notes: two findings, fixed\n")
    result = fill(in_dev, "dev-review", "test", answers, "bob", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "patch": PATCH, "env": "test", "template": "dev-review",
        "answers": {"walkthrough": {"value": "yes"}, "installed-cleanly": {"value": "yes"},
                    "data-migration": {"value": "n/a", "reason": "no data migration"},
                    "notes": {"value": "two findings, fixed"}}}
    assert row(in_dev, "dev-review", "test")["status"] == "pass"


def test_fill_refuses_an_unknown_item_and_suggests_the_near_one(in_dev: Cli,
                                                                inputs: Path) -> None:
    answers = answers_file(inputs, "dev-review", "walkthruogh: 'yes'\n")
    error = refused_fill(in_dev, "dev-review", "test", answers, "bob")
    assert "'dev-review' has no item 'walkthruogh'" in error["message"]
    assert error["hint"] == "did you mean 'walkthrough'?"
    assert (error["file"], error["line"], error["key"]) == (str(answers), 1, "walkthruogh")


def test_fill_refuses_na_where_the_item_does_not_allow_it(in_dev: Cli, inputs: Path) -> None:
    answers = answers_file(inputs, "dev-review", "walkthrough: 'yes'\n"
                           "installed-cleanly: {value: n/a, reason: vendor did it}\n"
                           "data-migration: 'yes'\n")
    error = refused_fill(in_dev, "dev-review", "test", answers, "bob")
    assert error["message"] == "'installed-cleanly' may not be answered n/a"
    assert (error["line"], error["key"]) == (2, "installed-cleanly")


def test_fill_refuses_na_without_a_reason(in_dev: Cli, inputs: Path) -> None:
    answers = answers_file(inputs, "dev-review", "walkthrough: 'yes'\n"
                           "installed-cleanly: 'yes'\ndata-migration: n/a\n")
    error = refused_fill(in_dev, "dev-review", "test", answers, "bob")
    assert error["message"] == "n/a needs a reason"
    assert error["key"] == "data-migration"
    assert "reason:" in error["hint"]


def test_fill_refuses_a_choice_not_offered(submitted: Cli, inputs: Path) -> None:
    answers = answers_file(inputs, "intake", "version-controlled: 'yes'\n"
                           "release-note-read: 'yes'\nrisk: lwo\n")
    error = refused_fill(submitted, "intake", "dev", answers)
    assert error["message"] == "expected one of low, medium, high; got 'lwo'"
    assert (error["line"], error["key"]) == (3, "risk")
    assert error["hint"] == "did you mean 'low'?"


def test_fill_refuses_a_url_that_is_not_http(submitted: Cli, inputs: Path) -> None:
    answers = answers_file(inputs, "intake", "version-controlled: 'yes'\n"
                           "release-note-read: 'yes'\nrisk: low\n"
                           "problem-ticket: itsm/PRB-1187\n")
    error = refused_fill(submitted, "intake", "dev", answers)
    assert error["message"] == "expected an http(s) URL; got 'itsm/PRB-1187'"
    assert error["key"] == "problem-ticket"


def test_fill_refuses_a_missing_required_item(submitted: Cli, inputs: Path) -> None:
    answers = answers_file(inputs, "intake", "version-controlled: 'yes'\nrisk: low\n")
    error = refused_fill(submitted, "intake", "dev", answers)
    assert error["message"] == "required item 'release-note-read' is not answered"
    assert error["file"] == str(answers)
    result = fill(submitted, "intake", "dev", answers)
    assert "required item 'release-note-read' is not answered" in result.stderr


def test_fill_refuses_a_confirm_answer_that_is_not_yes_or_no(submitted: Cli,
                                                            inputs: Path) -> None:
    answers = answers_file(inputs, "intake", "version-controlled: 'yes'\n"
                           "release-note-read: maybe\nrisk: low\n")
    error = refused_fill(submitted, "intake", "dev", answers)
    assert error["message"] == "expected yes or no; got 'maybe'"


def test_fill_refuses_answers_that_are_not_a_map(submitted: Cli, inputs: Path) -> None:
    answers = answers_file(inputs, "intake", "- version-controlled\n- 'yes'\n")
    error = refused_fill(submitted, "intake", "dev", answers)
    assert error["message"] == "answers must be a map of item id to answer"


def test_fill_refuses_an_answers_file_that_does_not_exist(submitted: Cli,
                                                         inputs: Path) -> None:
    error = refused_fill(submitted, "intake", "dev", inputs / "nope.yaml")
    assert error["message"].startswith("cannot read")
    assert error["file"] == str(inputs / "nope.yaml")


def test_answering_no_is_recorded_but_the_gate_row_fails_naming_the_item(
        in_dev: Cli, inputs: Path, ledger_root: Path) -> None:
    head = git(ledger_root, "rev-parse", "HEAD")
    answers = answers_file(inputs, "dev-review", DEV_REVIEW.replace("walkthrough: 'yes'",
                                                                    "walkthrough: 'no'"))
    result = fill(in_dev, "dev-review", "test", answers, "bob")
    assert result.exit_code == 0, result.output
    assert git(ledger_root, "rev-parse", "HEAD") != head
    assert recorded_answers(in_dev)["walkthrough"] == {"value": "no"}
    condition = row(in_dev, "dev-review", "test")
    assert condition["status"] == "fail"
    assert "bob: 'walkthrough' answered no" in condition["detail"]


def test_fill_refuses_a_person_without_the_templates_roles(submitted: Cli,
                                                          inputs: Path) -> None:
    error = refused_fill(submitted, "intake", "dev", answers_file(inputs, "intake"), "carol")
    assert error["message"] == ("carol may not fill 'intake': it needs one of the roles "
                                "release-manager")


def test_fill_refuses_a_template_the_gate_does_not_list(submitted: Cli,
                                                        inputs: Path) -> None:
    error = refused_fill(submitted, "intake", "test", answers_file(inputs, "intake"))
    assert error["message"] == ("the test gate does not ask for checklist 'intake'; it asks "
                                "for: dev-review")
    error = refused_fill(submitted, "intak", "dev", answers_file(inputs, "intake"))
    assert error["message"] == "unknown checklist template 'intak'"
    assert error["hint"] == "did you mean 'intake'?"


def test_fill_refuses_a_gate_the_patch_has_passed(in_dev: Cli, inputs: Path) -> None:
    error = refused_fill(in_dev, "intake", "dev", answers_file(inputs, "intake"))
    assert "already in dev" in error["message"]


def test_fill_without_answers_and_without_a_terminal_is_refused(submitted: Cli) -> None:
    before = fingerprint(submitted.root)
    result = fill(submitted, "intake", "dev", None, input="yes\nyes\n\nlow\n")
    assert result.exit_code == 2
    assert "no answers given and no terminal to ask on" in result.stderr
    assert "pass --answers FILE" in result.stderr
    assert fingerprint(submitted.root) == before


def test_the_latest_filling_by_a_person_counts(in_dev: Cli, inputs: Path) -> None:
    good = answers_file(inputs / "good", "dev-review", DEV_REVIEW)
    bad = answers_file(inputs / "bad", "dev-review",
                       DEV_REVIEW.replace("installed-cleanly: 'yes'",
                                          "installed-cleanly: 'no'"))
    assert fill(in_dev, "dev-review", "test", bad, "bob").exit_code == 0
    assert row(in_dev, "dev-review", "test")["status"] == "fail"
    assert fill(in_dev, "dev-review", "test", good, "bob").exit_code == 0
    assert row(in_dev, "dev-review", "test")["status"] == "pass"
    assert fill(in_dev, "dev-review", "test", bad, "bob").exit_code == 0
    condition = row(in_dev, "dev-review", "test")
    assert condition["status"] == "fail"
    assert "bob: 'installed-cleanly' answered no" in condition["detail"]


# --- answers from prompts ------------------------------------------------------------


@pytest.mark.usefixtures("interactive")
def test_fill_prompts_item_by_item_on_a_terminal(submitted: Cli) -> None:
    result = fill(submitted, "intake", "dev", None,
                  input="yes\nyes\nhttps://itsm.bank.example/PRB-1187\nmedium\n")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("Patch intake (intake)\n")
    order = ["The delivered version is recorded", "The vendor's release note has been read",
             "Link to the problem ticket this patch addresses (optional, Enter to skip)",
             "Initial risk assessment"]
    assert [out.index(text) for text in order] == sorted(out.index(text) for text in order)
    assert f"recorded checklist intake for {PATCH} (dev gate)" in out
    assert recorded_answers(submitted) == {
        "version-controlled": {"value": "yes"}, "release-note-read": {"value": "yes"},
        "problem-ticket": {"value": "https://itsm.bank.example/PRB-1187"},
        "risk": {"value": "medium"}}
    assert row(submitted, "intake", "dev")["status"] == "pass"


@pytest.mark.usefixtures("interactive")
def test_prompts_ask_again_on_a_bad_answer_and_ask_why_for_na(in_dev: Cli) -> None:
    result = fill(in_dev, "dev-review", "test", None, "bob",
                  input="maybe\nyes\nyes\nn/a\nno data migration in this patch\n\n")
    assert result.exit_code == 0, result.output
    assert "'maybe' is not one of 'yes', 'no'" in result.output
    assert "why does it not apply?" in result.stdout
    assert recorded_answers(in_dev) == {
        "walkthrough": {"value": "yes"}, "installed-cleanly": {"value": "yes"},
        "data-migration": {"value": "n/a", "reason": "no data migration in this patch"}}
    assert row(in_dev, "dev-review", "test")["status"] == "pass"


@pytest.mark.usefixtures("interactive")
def test_prompts_cut_short_record_nothing(submitted: Cli) -> None:
    before = fingerprint(submitted.root)
    result = fill(submitted, "intake", "dev", None, input="yes\n")
    assert result.exit_code == 2
    assert "aborted; nothing recorded" in result.stderr
    assert fingerprint(submitted.root) == before


@pytest.mark.usefixtures("interactive")
def test_prompts_are_not_shown_for_a_template_the_gate_does_not_list(submitted: Cli) -> None:
    before = fingerprint(submitted.root)
    result = fill(submitted, "dev-review", "dev", None, input="yes\nyes\nyes\n\n")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "the dev gate does not ask for checklist 'dev-review'" in result.stderr
    assert fingerprint(submitted.root) == before


@pytest.mark.usefixtures("interactive")
def test_a_bad_url_typed_at_the_prompt_is_refused(submitted: Cli) -> None:
    before = fingerprint(submitted.root)
    result = fill(submitted, "intake", "dev", None, input="yes\nyes\nPRB-1187\nlow\n")
    assert result.exit_code == 2
    assert "problem-ticket: expected an http(s) URL; got 'PRB-1187'" in result.stderr
    assert fingerprint(submitted.root) == before
