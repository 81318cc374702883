"""A first-time user's stumbles: global options after the command, the people example
`init` writes, templates naming roles the pipeline lacks, the interactive checklist."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from releasegate.cli.main import cli, hoist_global_options
from tests.helpers import PATCH, Cli, edit_pipeline, fingerprint, git


def invoke(*argv: str, input: str | None = None, env: dict[str, str] | None = None
           ) -> Result:
    """releasegate with exactly these arguments (no --ledger or --as added)."""
    return CliRunner().invoke(cli, list(argv), input=input, env=env, catch_exceptions=False)


def last_event(root: Path) -> dict[str, object]:
    result = invoke("--ledger", str(root), "patch", "log", PATCH, "--format", "json")
    assert result.exit_code == 0, result.output
    event: dict[str, object] = json.loads(result.stdout)[-1]
    return event


# --- --as and --ledger before or after the command -------------------------------------


def test_global_options_after_the_command(in_test: Cli) -> None:
    root = str(in_test.root)
    result = invoke("signoff", PATCH, "--env", "prod", "--role", "business", "--as", "dave",
                    "--ledger", root)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"approved {PATCH} for prod as business"
    event = last_event(in_test.root)
    assert (event["type"], event["actor"]) == ("signoff", "dave")


def test_global_options_after_the_command_with_equals(in_test: Cli) -> None:
    result = invoke("signoff", PATCH, "--as=dave", "--env", "prod", "--role", "business",
                    f"--ledger={in_test.root}")
    assert result.exit_code == 0, result.output
    assert last_event(in_test.root)["actor"] == "dave"


def test_global_options_around_a_command_group(submitted: Cli) -> None:
    root = str(submitted.root)
    for argv in (["patch", "show", PATCH, "--ledger", root],
                 ["patch", "--ledger", root, "show", PATCH],
                 ["patch", "show", f"--ledger={root}", PATCH, "--format", "json"],
                 ["--ledger", root, "patch", "show", PATCH]):
        result = invoke(*argv)
        assert result.exit_code == 0, (argv, result.output)
        assert PATCH in result.stdout


def test_global_options_on_both_sides_the_later_wins(in_test: Cli) -> None:
    result = invoke("--ledger", str(in_test.root), "--as", "erin", "signoff", PATCH, "--env",
                    "prod", "--role", "business", "--as", "dave")
    assert result.exit_code == 0, result.output
    assert last_event(in_test.root)["actor"] == "dave"


def test_an_option_value_that_looks_like_a_global_option_is_a_value(in_test: Cli) -> None:
    result = invoke("--ledger", str(in_test.root), "signoff", PATCH, "--env", "prod",
                    "--role", "business", "--comment", "--as", "--as", "dave")
    assert result.exit_code == 0, result.output
    event = last_event(in_test.root)
    assert event["actor"] == "dave"
    assert json.dumps(event).count('"--as"') == 1  # the comment


def test_after_the_end_of_options_nothing_is_moved(submitted: Cli) -> None:
    before = fingerprint(submitted.root)
    result = invoke("--ledger", str(submitted.root), "patch", "show", "--", "--as")
    assert result.exit_code == 2, result.output
    assert "'--as'" in result.stderr  # read as the patch id
    assert fingerprint(submitted.root) == before


def test_a_global_option_without_its_value_is_a_usage_error(submitted: Cli) -> None:
    result = invoke("--ledger", str(submitted.root), "patch", "show", PATCH, "--as")
    assert result.exit_code == 2
    assert "'--as' requires an argument" in result.stderr


@pytest.mark.parametrize(("argv", "expected"), [
    (["signoff", "X", "--as", "dave"], ["--as", "dave", "signoff", "X"]),
    (["signoff", "X", "--as=dave", "--ledger", "L"], ["--as=dave", "--ledger", "L",
                                                       "signoff", "X"]),
    (["signoff", "X", "--comment", "--as", "--as", "d"], ["--as", "d", "signoff", "X",
                                                          "--comment", "--as"]),
    (["patch", "show", "--", "--as", "d"], ["patch", "show", "--", "--as", "d"]),
    (["check", "X", "-o", "--as", "--as", "d"], ["--as", "d", "check", "X", "-o", "--as"]),
    (["check", "X", "-o--as", "--as", "d"], ["--as", "d", "check", "X", "-o--as"]),
    (["check", "X", "--format=json", "--as", "d"], ["--as", "d", "check", "X",
                                                    "--format=json"]),
    (["--ledger", "L", "status"], ["--ledger", "L", "status"]),
    (["--asx", "d", "status"], ["--asx", "d", "status"]),
])
def test_hoisting_moves_only_global_options_with_their_values(argv: list[str],
                                                              expected: list[str]) -> None:
    assert hoist_global_options(cli, argv) == expected


def test_hoisting_refuses_a_global_option_without_its_value() -> None:
    with pytest.raises(click.UsageError, match="'--ledger' requires an argument"):
        hoist_global_options(cli, ["patch", "show", "X", "--ledger"])


# --- the people example init writes --------------------------------------------------------


def uncomment_examples(text: str) -> str:
    """Each indented comment line (`  # alice: {...}`) with its `# ` taken away, the way
    a person uncomments an example; the top-level comments that explain stay."""
    return re.sub(r"(?m)^([ ]+)# ?", r"\1", text)


def test_the_people_example_init_writes_loads_once_uncommented(tmp_path: Path) -> None:
    root = tmp_path / "ledger"
    assert invoke("init", str(root)).exit_code == 0
    config = root / "releasegate.yaml"
    text = config.read_text(encoding="utf-8")
    uncommented = uncomment_examples(text)
    assert uncommented != text
    assert "alice: {name: Alice Wang, email: alice@bank.example}" in uncommented
    config.write_text(uncommented, encoding="utf-8")
    git(root, "commit", "-qam", "people from the example")
    result = invoke("--ledger", str(root), "status")
    assert result.exit_code == 0, result.output
    from releasegate.ledger.pipeline import load_pipeline
    from releasegate.ledger.transaction import Ledger

    pipeline = load_pipeline(Ledger(root).snapshot())
    assert set(pipeline.people) >= {"alice", "bob"}


def test_the_ledger_init_writes_loads_as_it_is(tmp_path: Path) -> None:
    root = tmp_path / "ledger"
    assert invoke("init", str(root)).exit_code == 0
    result = invoke("--ledger", str(root), "status")
    assert result.exit_code == 0, result.output


# --- checklist templates naming roles the pipeline lacks ------------------------------------


def test_a_template_naming_a_removed_role_says_how_to_fix_it(ledger_root: Path) -> None:
    def drop_release_manager(config: dict[str, Any]) -> None:
        del config["roles"]["release-manager"]

    edit_pipeline(ledger_root, drop_release_manager, "no release managers")
    before = fingerprint(ledger_root)
    result = invoke("--ledger", str(ledger_root), "status")
    assert result.exit_code == 2, result.output
    assert fingerprint(ledger_root) == before
    message = result.stderr
    assert message.startswith("error: checklists/change-readiness.yaml: roles: checklist "
                              "template 'change-readiness' names role 'release-manager'")
    assert "add `release-manager: [PERSON, ...]` under roles: in releasegate.yaml" in message
    assert "or take 'release-manager' out of roles: in checklists/change-readiness.yaml" \
        in message


# --- the interactive checklist ---------------------------------------------------------------

ENGLISH = {"LANG": "C.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """A person at the terminal: `checklist fill` prompts instead of asking for --answers."""
    monkeypatch.setattr("releasegate.cli.evidence.interactive", lambda: True)


def fill_at_terminal(rg: Cli, typed: list[str], *extra: str,
                     env: dict[str, str] | None = None) -> Result:
    return rg("checklist", "fill", PATCH, "intake", "--env", "dev", *extra, person="alice",
              input="".join(line + "\n" for line in typed), env=env or ENGLISH)


def recorded(rg: Cli) -> dict[str, Any]:
    event = rg.json("patch", "log", PATCH)[-1]
    assert event["type"] == "checklist"
    answers: dict[str, Any] = event["data"]["answers"]
    return answers


@pytest.mark.usefixtures("terminal")
def test_a_wrong_url_is_asked_again_and_nothing_else_is_lost(submitted: Cli) -> None:
    result = fill_at_terminal(submitted, ["yes", "yes", "PRB-1187", "itsm/PRB-1187",
                                          "https://itsm.bank.example/PRB-1187", "low"])
    assert result.exit_code == 0, result.output
    assert result.stderr.count("expected an http(s) URL") == 2, result.stderr
    assert "got 'PRB-1187'" in result.stderr
    assert result.stdout.count("Link to the problem ticket") == 3
    assert f"recorded checklist intake for {PATCH} (dev gate)" in result.stdout
    assert recorded(submitted) == {
        "version-controlled": {"value": "yes"}, "release-note-read": {"value": "yes"},
        "problem-ticket": {"value": "https://itsm.bank.example/PRB-1187"},
        "risk": {"value": "low"}}


@pytest.mark.usefixtures("terminal")
@pytest.mark.parametrize(("typed", "stored"), [
    (["y", "n"], ("yes", "no")), (["Y", "N"], ("yes", "no")),
    (["YES", "No"], ("yes", "no")), (["  yes ", "nO"], ("yes", "no"))])
def test_confirm_items_take_y_and_n(submitted: Cli, typed: list[str],
                                    stored: tuple[str, str]) -> None:
    result = fill_at_terminal(submitted, [*typed, "", "low"])
    assert result.exit_code == 0, result.output
    answers = recorded(submitted)
    assert (answers["version-controlled"]["value"],
            answers["release-note-read"]["value"]) == stored
    assert "problem-ticket" not in answers  # optional, skipped with Enter


@pytest.mark.usefixtures("terminal")
def test_other_bad_answers_are_asked_again(submitted: Cli) -> None:
    result = fill_at_terminal(submitted, ["maybe", "y", "", "yes", "", "urgent", "", "HIGH"])
    assert result.exit_code == 0, result.output
    assert "'maybe' is not one of 'yes', 'no'" in result.stderr
    assert "'urgent' is not one of 'low', 'medium', 'high'" in result.stderr
    answers = recorded(submitted)
    assert answers["risk"] == {"value": "high"}
    assert answers["release-note-read"] == {"value": "yes"}


@pytest.mark.usefixtures("terminal")
def test_prompts_follow_lang(submitted: Cli) -> None:
    result = fill_at_terminal(submitted, ["y", "y", "", "low"], "--lang", "zh-CN")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("补丁接收 (intake)\n")
    assert "已登记交付版本，并与厂商发布说明一致" in result.stdout
    assert "（可选，直接回车跳过）" in result.stdout
    assert "The delivered version" not in result.stdout


@pytest.mark.usefixtures("terminal")
@pytest.mark.parametrize(("env", "chinese"), [
    ({"LANG": "zh_CN.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}, True),
    ({"LANG": "zh_TW.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}, True),
    ({"LANG": "en_US.UTF-8", "LC_ALL": "zh_CN.UTF-8", "LC_MESSAGES": ""}, True),
    ({"LANG": "zh_CN.UTF-8", "LC_ALL": "", "LC_MESSAGES": "en_GB.UTF-8"}, False),
    ({"LANG": "zh_CN.UTF-8", "LC_ALL": "C", "LC_MESSAGES": ""}, False),
    ({"LANG": "de_DE.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}, False),
    ({"LANG": "", "LC_ALL": "", "LC_MESSAGES": ""}, False)])
def test_prompts_follow_the_locale(submitted: Cli, env: dict[str, str], chinese: bool) -> None:
    result = fill_at_terminal(submitted, ["y", "y", "", "low"], env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("补丁接收 (intake)\n" if chinese
                                    else "Patch intake (intake)\n"), result.stdout


@pytest.mark.usefixtures("terminal")
def test_lang_beats_the_locale(submitted: Cli) -> None:
    result = fill_at_terminal(submitted, ["y", "y", "", "low"], "--lang", "en",
                              env={"LANG": "zh_CN.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""})
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Patch intake (intake)\n")


@pytest.mark.usefixtures("terminal")
def test_a_wrong_url_in_chinese_is_asked_again_in_chinese(submitted: Cli) -> None:
    result = fill_at_terminal(submitted, ["是", "y", "y", "PRB-1187",
                                          "https://itsm.bank.example/PRB-1187", "low"],
                              "--lang", "zh-CN")
    assert result.exit_code == 0, result.output
    assert "'是' 不是 'yes'、'no' 之一" in result.stderr
    assert "需要 http(s) 链接，收到 'PRB-1187'" in result.stderr
    assert recorded(submitted)["problem-ticket"] == {
        "value": "https://itsm.bank.example/PRB-1187"}


def test_an_unknown_lang_is_refused(submitted: Cli) -> None:
    before = fingerprint(submitted.root)
    result = fill_at_terminal(submitted, [], "--lang", "fr")
    assert result.exit_code == 2
    assert "'fr' is not one of 'en', 'zh-CN'" in result.stderr
    assert fingerprint(submitted.root) == before
