"""Refused input: exit status 2, one message saying what and where, and no change at all.

Every test takes a fingerprint of the ledger (branch, HEAD, index, working tree)
before the refused command and compares it after: "nothing recorded" means nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from releasegate.ledger.store import GitStore
from tests.helpers import (
    PATCH,
    Cli,
    answers_file,
    fingerprint,
    git,
    junit_file,
    write_manifest,
)

BAD_IDS = ["../x", "a..b", "CBS-2026-00４2", "A" * 65, ""]
ALIAS_BOMB = ("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
              "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
              "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
              "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n")


def refused(rg: Cli, root: Path, *args: str, person: str | None = "alice") -> dict[str, Any]:
    """Run a command that must be refused; return the JSON error it printed."""
    before = fingerprint(root)
    result = rg(*args, "--format", "json", person=person)
    assert result.exit_code == 2, result.output
    assert fingerprint(root) == before
    error: dict[str, Any] = json.loads(result.stdout)["error"]
    assert error["exit_status"] == 2
    return error


@pytest.fixture
def in_dev(submitted: Cli, inputs: Path) -> Cli:
    """CBS-2026-0042 in dev, so that good test results could be recorded."""
    for args, person in [
        (("checklist", "fill", PATCH, "intake", "--env", "dev", "--answers",
          str(answers_file(inputs, "intake"))), "alice"),
        (("promote", PATCH), "alice"),
    ]:
        result = submitted(*args, person=person)
        assert result.exit_code == 0, result.output
    return submitted


# --- identifiers -----------------------------------------------------------------------

Files = dict[str, Path]

COMMANDS_TAKING_AN_ID: dict[str, Callable[[str, Files], tuple[str, ...]]] = {
    "patch revise": lambda i, f: ("patch", "revise", i, "--artifact", str(f["artifact"])),
    "patch show": lambda i, f: ("patch", "show", i),
    "patch log": lambda i, f: ("patch", "log", i),
    "checklist fill": lambda i, f: ("checklist", "fill", i, "intake", "--env", "dev",
                                    "--answers", str(f["answers"])),
    "tests record": lambda i, f: ("tests", "record", i, "--env", "dev", str(f["junit"])),
    "signoff": lambda i, f: ("signoff", i, "--env", "test", "--role", "app-owner"),
    "check": lambda i, f: ("check", i),
    "promote": lambda i, f: ("promote", i),
}


@pytest.mark.parametrize("command", sorted(COMMANDS_TAKING_AN_ID))
def test_a_bad_patch_id_is_refused_by_every_command(command: str, in_dev: Cli,
                                                    ledger_root: Path, inputs: Path) -> None:
    files = {"artifact": inputs / "v2.tar", "answers": answers_file(inputs, "intake"),
             "junit": junit_file(inputs, "smoke", 3)}
    files["artifact"].write_bytes(b"payload-2\n")
    person = "bob" if command == "signoff" else "alice"
    for bad in BAD_IDS:
        args = COMMANDS_TAKING_AN_ID[command](bad, files)
        before = fingerprint(ledger_root)
        result = in_dev(*args, person=person)
        assert result.exit_code == 2, (bad, result.output)
        assert f"error: invalid patch id {bad!r}" in result.stderr, (bad, result.stderr)
        assert fingerprint(ledger_root) == before
        error = refused(in_dev, ledger_root, *args, person=person)
        assert error["code"] == "invalid-id"


def test_a_bad_patch_id_in_a_manifest_is_refused(rg: Cli, ledger_root: Path,
                                                 inputs: Path) -> None:
    for bad in ["../x", "a..b", "A" * 65]:
        manifest = write_manifest(inputs, "placeholder")
        manifest.write_text(manifest.read_text().replace("id: placeholder", f"id: '{bad}'"))
        error = refused(rg, ledger_root, "patch", "submit", str(manifest))
        assert (error["file"], error["line"], error["key"]) == (str(manifest), 1, "id")
        assert error["message"].startswith("expected an id")
        assert repr(bad) in error["message"]


def test_an_unknown_patch_is_refused_with_a_suggestion(submitted: Cli,
                                                       ledger_root: Path) -> None:
    error = refused(submitted, ledger_root, "check", "CBS-2026-0043")
    assert error["message"] == "unknown patch 'CBS-2026-0043'"
    assert error["hint"] == f"did you mean '{PATCH}'?"


ENV_OPTIONS: dict[str, Callable[[Files], tuple[str, ...]]] = {
    "checklist fill --env": lambda f: ("checklist", "fill", PATCH, "intake", "--env", "tst",
                                       "--answers", str(f["answers"])),
    "tests record --env": lambda f: ("tests", "record", PATCH, "--env", "tst", str(f["junit"])),
    "signoff --env": lambda f: ("signoff", PATCH, "--env", "tst", "--role", "app-owner"),
    "check --to": lambda f: ("check", PATCH, "--to", "tst"),
    "promote --to": lambda f: ("promote", PATCH, "--to", "tst"),
}


@pytest.mark.parametrize("option", sorted(ENV_OPTIONS))
def test_an_unknown_environment_is_refused_on_every_option(option: str, in_dev: Cli,
                                                           ledger_root: Path,
                                                           inputs: Path) -> None:
    files = {"answers": answers_file(inputs, "intake"), "junit": junit_file(inputs, "smoke", 3)}
    person = "bob" if option.startswith("signoff") else "alice"
    error = refused(in_dev, ledger_root, *ENV_OPTIONS[option](files), person=person)
    assert error["message"].startswith("unknown environment 'tst'")
    assert "dev, test, prod" in error["message"]
    assert error["hint"] == "did you mean 'test'?"


def test_a_bad_suite_name_is_refused(in_dev: Cli, ledger_root: Path, inputs: Path) -> None:
    error = refused(in_dev, ledger_root, "tests", "record", PATCH, "--env", "dev",
                    str(junit_file(inputs, "smoke", 3)), "--suite", "../smoke")
    assert error["message"].startswith("invalid suite name '../smoke'")


@pytest.mark.parametrize(("args", "person", "code", "message", "hint"), [
    (("checklist", "fill", PATCH, "intak", "--env", "dev", "--answers", "INTAKE"), "alice",
     "unknown-template", "unknown checklist template 'intak'", "did you mean 'intake'?"),
    (("checklist", "fill", PATCH, "intake", "--env", "test", "--answers", "INTAKE"), "alice",
     "not-in-gate", "the test gate does not ask for checklist 'intake'; it asks for: dev-review",
     None),
    (("signoff", PATCH, "--env", "test", "--role", "busines"), "dave", "not-in-gate",
     "the test gate asks for no sign-off from role 'busines'; it asks for: app-owner", None),
    (("signoff", PATCH, "--env", "test", "--role", "app-owner"), "carol", "not-allowed",
     "carol does not hold role 'app-owner'", "holders of app-owner: bob"),
    (("checklist", "fill", PATCH, "intake", "--env", "dev", "--answers", "INTAKE"), "bob",
     "not-allowed", "bob may not fill 'intake': it needs one of the roles release-manager",
     None),
], ids=["unknown template", "template of another gate", "role the gate does not ask for",
        "role not held", "checklist role not held"])
def test_acts_outside_the_pipeline_are_refused(args: tuple[str, ...], person: str, code: str,
                                               message: str, hint: str | None, submitted: Cli,
                                               ledger_root: Path, inputs: Path) -> None:
    intake = str(answers_file(inputs, "intake"))
    error = refused(submitted, ledger_root, *(intake if a == "INTAKE" else a for a in args),
                    person=person)
    assert (error["code"], error["message"], error.get("hint")) == (code, message, hint)


def test_evidence_for_a_gate_already_passed_is_refused(in_dev: Cli, ledger_root: Path,
                                                       inputs: Path) -> None:
    error = refused(in_dev, ledger_root, "checklist", "fill", PATCH, "intake", "--env", "dev",
                    "--answers", str(answers_file(inputs, "intake")))
    assert error["code"] == "gate-passed"
    assert error["message"].startswith(f"{PATCH} is already in dev")


@pytest.mark.parametrize(("answers", "line", "key", "words", "hint"), [
    ("version-controlled: 'yes'\nrelease-note-red: 'yes'\nrisk: low\n", 2,
     "release-note-red", "'intake' has no item 'release-note-red'",
     "did you mean 'release-note-read'?"),
    ("version-controlled: maybe\nrelease-note-read: 'yes'\nrisk: low\n", 1,
     "version-controlled", "expected yes or no; got 'maybe'", None),
    ("version-controlled: 'yes'\nrelease-note-read: 'yes'\nrisk: lowish\n", 3, "risk",
     "expected one of low, medium, high; got 'lowish'", "did you mean 'low'?"),
], ids=["unknown item", "confirm not yes or no", "choice not offered"])
def test_bad_answers_name_file_line_and_item(answers: str, line: int, key: str, words: str,
                                             hint: str | None, submitted: Cli,
                                             ledger_root: Path, inputs: Path) -> None:
    path = answers_file(inputs, "intake", answers)
    error = refused(submitted, ledger_root, "checklist", "fill", PATCH, "intake", "--env", "dev",
                    "--answers", str(path))
    assert (error["file"], error["line"], error["key"]) == (str(path), line, key)
    assert words in error["message"]
    assert error.get("hint") == hint


# --- manifests -------------------------------------------------------------------------


def manifest_with(inputs: Path, change: str, text: str, new: str = "") -> Path:
    path = write_manifest(inputs)
    original = path.read_text(encoding="utf-8")
    if change == "append":
        path.write_text(original + text, encoding="utf-8")
    else:
        assert text in original
        path.write_text(original.replace(text, new), encoding="utf-8")
    return path


def test_manifest_syntax_error_names_the_line(rg: Cli, ledger_root: Path, inputs: Path) -> None:
    path = manifest_with(inputs, "replace", "vendor: Acme FinSoft", "vendor: [Acme FinSoft")
    error = refused(rg, ledger_root, "patch", "submit", str(path))
    assert (error["file"], error["line"]) == (str(path), 4)
    assert error["message"].startswith("invalid YAML")


def test_manifest_unknown_key_suggests_the_near_one(rg: Cli, ledger_root: Path,
                                                   inputs: Path) -> None:
    path = manifest_with(inputs, "append", "sumary: Fixes the accrual\n")
    error = refused(rg, ledger_root, "patch", "submit", str(path))
    assert (error["file"], error["line"], error["key"]) == (str(path), 10, "sumary")
    assert error["message"].startswith("unknown key 'sumary'")
    assert error["hint"] == "did you mean 'summary'?"


def test_manifest_missing_required_key(rg: Cli, ledger_root: Path, inputs: Path) -> None:
    path = manifest_with(inputs, "replace", "vendor: Acme FinSoft\n")
    error = refused(rg, ledger_root, "patch", "submit", str(path))
    assert error["file"] == str(path)
    assert error["message"] == "missing required key 'vendor'"


def test_manifest_python_tag_is_refused_and_never_run(rg: Cli, ledger_root: Path,
                                                      inputs: Path, tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    path = manifest_with(inputs, "append",
                         f"summary: !!python/object/apply:os.system ['touch {marker}']\n")
    error = refused(rg, ledger_root, "patch", "submit", str(path))
    assert (error["file"], error["line"]) == (str(path), 10)
    assert error["message"] == "tags are not allowed (found '!!python/object/apply:os.system')"
    assert not marker.exists()


def test_manifest_alias_bomb_is_refused(rg: Cli, ledger_root: Path, inputs: Path) -> None:
    path = manifest_with(inputs, "append", ALIAS_BOMB)
    error = refused(rg, ledger_root, "patch", "submit", str(path))
    assert (error["file"], error["line"]) == (str(path), 10)
    assert error["message"] == "anchors and aliases are not allowed (found '&a')"


def test_manifest_duplicate_key_names_both_lines(rg: Cli, ledger_root: Path,
                                                 inputs: Path) -> None:
    path = manifest_with(inputs, "append", "vendor: Someone Else\n")
    error = refused(rg, ledger_root, "patch", "submit", str(path))
    assert (error["file"], error["line"]) == (str(path), 10)
    assert error["message"] == "duplicate key 'vendor' (first on line 3)"


def test_manifest_text_field_given_a_list(rg: Cli, ledger_root: Path, inputs: Path) -> None:
    path = manifest_with(inputs, "replace",
                         "title:\n  en: Fix interest accrual\n  zh-CN: 修复利息计提\n",
                         "title: [Fix, interest, accrual]\n")
    error = refused(rg, ledger_root, "patch", "submit", str(path))
    assert (error["file"], error["line"], error["key"]) == (str(path), 6, "title")
    assert error["message"].startswith("expected a text")
    assert error["message"].endswith("got a list")


def test_manifest_over_the_size_limit(rg: Cli, ledger_root: Path, inputs: Path) -> None:
    path = manifest_with(inputs, "append", "summary: |\n" + ("  " + "x" * 99 + "\n") * 3000)
    error = refused(rg, ledger_root, "patch", "submit", str(path))
    assert error["file"] == str(path)
    assert "over the limit of" in error["message"]


# --- JUnit evidence --------------------------------------------------------------------

HOSTILE_JUNIT = {
    "xxe": (b'<?xml version="1.0"?>\n'
            b'<!DOCTYPE testsuite [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
            b'<testsuite name="smoke"><testcase name="a">&xxe;</testcase></testsuite>\n',
            2, "may not contain a DTD"),
    "entity-bomb": (b'<?xml version="1.0"?>\n<!DOCTYPE testsuite [\n <!ENTITY lol "lol">\n'
                    b' <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n'
                    b' <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">\n'
                    b']>\n<testsuite name="&lol3;"/>\n', 2, "may not contain a DTD"),
    "dtd": (b'<?xml version="1.0"?>\n<!DOCTYPE testsuite SYSTEM "junit.dtd">\n'
            b'<testsuite name="smoke"/>\n', 2, "may not contain a DTD"),
    "truncated": (b'<testsuite name="smoke">\n<testcase name="a"/>\n<testcase name="b">\n',
                  4, "looks truncated"),
    "empty": (b"", 1, "the file is empty"),
    "not-junit": (b'<html>\n<body/></html>\n', 1, "not a JUnit XML file (root element <html>)"),
    "latin-1-undeclared": (b'<testsuite name="smoke">\n<testcase name="caf\xe9"/>\n'
                           b'</testsuite>\n', 2, "byte 0xE9 is not valid UTF-8"),
    "control-character": (b'<testsuite name="smoke">\n<testcase name="a">'
                          b'<failure message="x\x01y"/></testcase>\n</testsuite>\n',
                          2, "control character U+0001"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_JUNIT))
def test_hostile_junit_is_refused_naming_file_and_line(kind: str, in_dev: Cli,
                                                       ledger_root: Path, inputs: Path) -> None:
    content, line, words = HOSTILE_JUNIT[kind]
    path = inputs / "smoke.xml"
    path.write_bytes(content)
    error = refused(in_dev, ledger_root, "tests", "record", PATCH, "--env", "dev", str(path))
    assert (error["file"], error["line"]) == (str(path), line)
    assert words in error["message"]
    # A good report of the same suite is then accepted: the refusal was about the file.
    good = in_dev("tests", "record", PATCH, "--env", "dev", str(junit_file(inputs, "smoke", 3)),
                  person="alice")
    assert good.exit_code == 0, good.output


# --- people ----------------------------------------------------------------------------


def test_the_submitter_signing_is_refused(rg: Cli, ledger_root: Path, inputs: Path) -> None:
    assert rg("patch", "submit", str(write_manifest(inputs)), person="bob").exit_code == 0
    error = refused(rg, ledger_root, "signoff", PATCH, "--env", "test", "--role", "app-owner",
                    person="bob")
    assert error["code"] == "four-eyes"
    assert error["message"] == f"bob submitted {PATCH} and may not sign it off (four eyes)"


@pytest.mark.parametrize("args", [
    ("promote", PATCH),
    ("signoff", PATCH, "--env", "test", "--role", "app-owner"),
    ("patch", "revise", PATCH, "--artifact", "ARTIFACT"),
])
def test_an_unknown_person_is_refused(args: tuple[str, ...], submitted: Cli,
                                      ledger_root: Path, inputs: Path) -> None:
    (inputs / "v2.tar").write_bytes(b"payload-2\n")
    args = tuple(str(inputs / "v2.tar") if a == "ARTIFACT" else a for a in args)
    error = refused(submitted, ledger_root, *args, person="mallory")
    assert error["code"] == "unknown-person"
    assert error["message"].startswith("unknown person 'mallory'")
    near = refused(submitted, ledger_root, *args, person="alcie")
    assert near["hint"] == "did you mean 'alice'?"


def test_answers_file_with_an_alias_bomb_is_refused(submitted: Cli, ledger_root: Path,
                                                    inputs: Path) -> None:
    path = answers_file(inputs, "intake", ALIAS_BOMB)
    error = refused(submitted, ledger_root, "checklist", "fill", PATCH, "intake",
                    "--env", "dev", "--answers", str(path))
    assert (error["file"], error["line"]) == (str(path), 1)
    assert error["message"] == "anchors and aliases are not allowed (found '&a')"


# --- a write that dies half-way ----------------------------------------------------------


@pytest.mark.parametrize(("interruption", "status", "words"), [
    (KeyboardInterrupt, 2, "aborted; nothing recorded"),
    (RuntimeError, 4, "internal error"),
])
def test_a_write_killed_before_the_branch_moves_leaves_the_ledger_as_it_was(
        interruption: type[BaseException], status: int, words: str, submitted: Cli,
        ledger_root: Path, inputs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    written: list[str] = []

    def die(self: GitStore, ref: str, new: str, old: str | None, reason: str) -> bool:
        written.append(new)
        raise interruption("killed")

    monkeypatch.setattr(GitStore, "compare_and_swap", die)
    before = fingerprint(ledger_root)
    fill = ("checklist", "fill", PATCH, "intake", "--env", "dev", "--answers",
            str(answers_file(inputs, "intake")))
    result = submitted(*fill, person="alice")
    assert result.exit_code == status
    assert words in result.stderr
    assert fingerprint(ledger_root) == before
    # The commit was written as an object, but nothing points at it.
    assert len(written) == 1
    assert git(ledger_root, "cat-file", "-t", written[0]).strip() == "commit"
    assert git(ledger_root, "branch", "--contains", written[0]) == ""

    monkeypatch.undo()
    assert submitted(*fill, person="alice").exit_code == 0
    assert (ledger_root / f"patches/{PATCH}/events/0002-checklist.yaml").is_file()
    assert git(ledger_root, "status", "--porcelain") == ""
