"""Configuration errors point at the spot: file, line, key path, what was expected, and
a "did you mean" for near misses; and only committed configuration counts.

Each test commits a copy of tests/fixtures/config/pipeline.yaml (the example pipeline
written out in block style) with one thing broken, then runs `status` and `check`
the way a release manager would after the commit.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import PATCH, Cli, answers_file, fingerprint, git

PIPELINE = (Path(__file__).parent / "fixtures" / "config" / "pipeline.yaml").read_text(
    encoding="utf-8")


def commit_file(root: Path, path: str, text: str) -> None:
    (root / path).write_text(text, encoding="utf-8")
    git(root, "add", path)
    git(root, "commit", "-q", "-m", f"edit {path}")


def line_of(text: str, marker: str) -> int:
    assert text.count(marker) == 1, marker
    return text[:text.index(marker)].count("\n") + 1


def config_error(rg: Cli, root: Path) -> dict[str, Any]:
    """The error `status` and `check` both report, as JSON; nothing is written."""
    before = fingerprint(root)
    errors: list[dict[str, Any]] = []
    for args in (("status",), ("check", PATCH)):
        result = rg(*args, "--format", "json", person="alice")
        assert result.exit_code == 2, result.output
        errors.append(json.loads(result.stdout)["error"])
    assert errors[0] == errors[1]
    assert fingerprint(root) == before
    return errors[0]


@dataclass(frozen=True)
class Broken:
    old: str
    new: str
    marker: str  # text on the line the error must name
    key: str
    message: tuple[str, ...]  # what the message must say
    hint: str | None = None


CASES = {
    "unknown key": Broken(
        "      checklists:\n        - intake\n", "      checklist:\n        - intake\n",
        "checklist:\n        - intake", "environments[0].gate.checklist",
        ("unknown key 'checklist'", "expected one of: checklists, signatures, signoffs, tests"),
        "did you mean 'checklists'?"),
    "unknown role in signoffs": Broken(
        "        - role: app-owner\n  - name: prod", "        - role: app-ownr\n  - name: prod",
        "app-ownr", "environments[1].gate.signoffs[0].role", ("unknown role 'app-ownr'",),
        "did you mean 'app-owner'?"),
    "unknown checklist template": Broken(
        "        - intake\n", "        - intak\n", "intak\n", "environments[0].gate.checklists[0]",
        ("unknown checklist template 'intak'",), "did you mean 'intake'?"),
    "tests from a later environment": Broken(
        "        - env: dev\n", "        - env: prod\n", "env: prod",
        "environments[1].gate.tests[0].env",
        ("'prod' is not an earlier environment", "expected one of: dev")),
    "tests from a misspelt environment": Broken(
        "        - env: dev\n", "        - env: dve\n", "env: dve",
        "environments[1].gate.tests[0].env", ("'dve' is not an earlier environment",),
        "did you mean 'dev'?"),
    "max_failures not a number": Broken(
        "          max_failures: 0\n      signoffs:\n        - role: app-owner",
        "          max_failures: many\n      signoffs:\n        - role: app-owner",
        "max_failures: many", "environments[1].gate.tests[0].max_failures",
        ("integer", "'many'")),
    "duplicate environment": Broken(
        "  - name: prod", "  - name: test", "name: test\n    gate:\n      checklists:\n"
        "        - test-review", "environments[2].name",
        ("environment 'test' is listed twice",)),
    "bad time zone": Broken(
        "timezone: Asia/Shanghai", "timezone: Asia/Shangai", "timezone", "timezone",
        ("unknown time zone 'Asia/Shangai'",), "use an IANA name such as Asia/Shanghai or UTC"),
    "octal-looking version": Broken(
        "version: 1", "version: 0777", "version", "version", ("'0777'",)),
    "role listing an unknown person": Broken(
        "  app-owner: [bob]", "  app-owner: [bob, carl]", "app-owner: [bob, carl]",
        "roles.app-owner[1]", ("unknown person 'carl'",), "did you mean 'carol'?"),
    "duplicate e-mail": Broken(
        "    email: bob@bank.example", "    email: Alice@bank.example", "Alice@bank",
        "people.bob.email", ("Alice@bank.example is also the e-mail of 'alice'",)),
}


def test_the_fixture_pipeline_is_valid(submitted: Cli, ledger_root: Path) -> None:
    commit_file(ledger_root, "releasegate.yaml", PIPELINE)
    assert submitted("status", person="alice").exit_code == 0
    assert submitted("check", PATCH, person="alice").exit_code == 1


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_config_error_names_file_line_key_and_fix(case: str, submitted: Cli,
                                                    ledger_root: Path) -> None:
    broken = CASES[case]
    assert PIPELINE.count(broken.old) == 1
    text = PIPELINE.replace(broken.old, broken.new)
    commit_file(ledger_root, "releasegate.yaml", text)
    error = config_error(submitted, ledger_root)
    assert error["code"] == "config"
    assert error["file"] == "releasegate.yaml"
    assert error["line"] == line_of(text, broken.marker)
    assert error["key"] == broken.key
    for words in broken.message:
        assert words in error["message"]
    assert error.get("hint") == broken.hint


@pytest.mark.parametrize("value", ["yes", "on", "no"])
def test_yaml_1_1_booleans_are_not_booleans(value: str, submitted: Cli,
                                            ledger_root: Path) -> None:
    text = PIPELINE.replace("  four_eyes: true", f"  four_eyes: {value}")
    commit_file(ledger_root, "releasegate.yaml", text)
    error = config_error(submitted, ledger_root)
    assert (error["file"], error["line"], error["key"]) == (
        "releasegate.yaml", line_of(text, "four_eyes"), "rules.four_eyes")
    assert f"'{value}'" in error["message"]
    # What was expected: a boolean, which in releasegate.yaml is written true or false.
    assert "true or false" in error["message"] or "boolean" in error["message"]


@pytest.mark.parametrize("kind", ["soak: 72h", "windows:\n        allow: [Sat 22:00-Sun 04:00]"])
def test_an_unsupported_condition_kind_stops_the_gate(kind: str, submitted: Cli,
                                                      ledger_root: Path) -> None:
    text = PIPELINE.replace("  - name: prod\n    gate:\n",
                            f"  - name: prod\n    gate:\n      {kind}\n")
    commit_file(ledger_root, "releasegate.yaml", text)
    error = config_error(submitted, ledger_root)
    name = kind.split(":")[0]
    assert (error["file"], error["line"], error["key"]) == (
        "releasegate.yaml", line_of(text, f"{name}:"), f"environments[2].gate.{name}")
    assert error["message"].startswith(
        f"condition kind '{name}' is not supported by this version of releasegate")
    promote = submitted("promote", PATCH, person="alice")
    assert promote.exit_code == 2


def test_config_error_in_text_form(submitted: Cli, ledger_root: Path) -> None:
    broken = CASES["unknown key"]
    text = PIPELINE.replace(broken.old, broken.new)
    commit_file(ledger_root, "releasegate.yaml", text)
    result = submitted("status", person="alice")
    assert result.exit_code == 2
    line = line_of(text, broken.marker)
    assert result.stderr == (
        f"error: releasegate.yaml:{line}:7: environments[0].gate.checklist: unknown key "
        "'checklist'; expected one of: checklists, signatures, signoffs, tests\n"
        "  hint: did you mean 'checklists'?\n")


def test_a_broken_checklist_template_names_its_file(submitted: Cli, ledger_root: Path) -> None:
    path = ledger_root / "checklists" / "intake.yaml"
    original = path.read_text(encoding="utf-8")
    marker = "  - id: version-controlled\n    type: confirm"
    assert marker in original
    text = original.replace(marker, "  - id: version-controlled\n    type: checkbox")
    commit_file(ledger_root, "checklists/intake.yaml", text)
    error = config_error(submitted, ledger_root)
    assert error["file"] == "checklists/intake.yaml"
    assert error["line"] == line_of(text, "type: checkbox")
    assert error["key"] == "items[0].type"
    assert "'checkbox'" in error["message"]
    assert "confirm, text, choice, url" in error["message"]


UNCOMMITTED = ("warning: uncommitted changes in releasegate.yaml are ignored; commit them "
               "to apply\n")


def test_uncommitted_config_is_ignored(submitted: Cli, ledger_root: Path) -> None:
    # Carol is made an app-owner only in the working tree; the committed pipeline rules.
    path = ledger_root / "releasegate.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "app-owner: [bob]", "app-owner: [bob, carol]"), encoding="utf-8")
    before = fingerprint(ledger_root)
    refused = submitted("signoff", PATCH, "--env", "test", "--role", "app-owner",
                        person="carol")
    assert refused.exit_code == 2
    assert "carol does not hold role 'app-owner'" in refused.stderr
    assert fingerprint(ledger_root) == before


@pytest.mark.parametrize(("args", "person", "status"), [
    (("status",), "alice", 0),
    (("check", PATCH), "alice", 1),
    (("patch", "show", PATCH), "alice", 0),
    (("checklist", "fill", PATCH, "intake", "--env", "dev", "--answers", "ANSWERS"), "alice", 0),
    (("signoff", PATCH, "--env", "test", "--role", "app-owner"), "bob", 0),
    (("promote", PATCH), "alice", 1),
], ids=["status", "check", "patch show", "checklist fill", "signoff", "promote"])
def test_every_command_warns_that_uncommitted_config_is_ignored(
        args: tuple[str, ...], person: str, status: int, submitted: Cli, ledger_root: Path,
        inputs: Path) -> None:
    # Even a broken edit in the working tree leaves the committed pipeline in force.
    path = ledger_root / "releasegate.yaml"
    path.write_text("version: [\n", encoding="utf-8")
    answers = str(answers_file(inputs, "intake"))
    result = submitted(*(answers if a == "ANSWERS" else a for a in args), person=person)
    assert result.exit_code == status, result.output
    assert UNCOMMITTED in result.stderr
    assert path.read_text(encoding="utf-8") == "version: [\n"


def test_a_patch_in_an_environment_the_config_no_longer_has_is_an_error_not_a_crash(
        submitted: Cli, ledger_root: Path, inputs: Path) -> None:
    fill = submitted("checklist", "fill", PATCH, "intake", "--env", "dev", "--answers",
                     str(answers_file(inputs, "intake")), person="alice")
    assert fill.exit_code == 0
    assert submitted("promote", PATCH, person="alice").exit_code == 0
    renamed = PIPELINE.replace("  - name: dev\n", "  - name: development\n") \
        .replace("        - env: dev\n", "        - env: development\n")
    commit_file(ledger_root, "releasegate.yaml", renamed)
    for args in (("status",), ("check", PATCH), ("patch", "show", PATCH)):
        result = submitted(*args, person="alice")
        assert result.exit_code in (1, 2), (args, result.output)
        assert "internal error" not in result.stderr
        assert re.search(r"(?<![\w-])dev(?![\w-])", result.output), (args, result.output)
