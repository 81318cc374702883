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
