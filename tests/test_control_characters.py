"""Control characters are refused where text comes in: manifests, releasegate.yaml,
checklist templates and answers, and the text options of the CLI.

Refused: C0 controls (U+0000-U+001F), DEL and C1 (U+007F-U+009F), the bidirectional
embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), lone surrogates and
noncharacters. A line break or tab is refused too, except in the texts that are
multi-line (docs/configuration.md, "Control characters"). Every refusal exits 2 with
one line naming the field, the character and its position, and records nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import PATCH, Cli, answers_file, fingerprint, git, junit_file

ESC, BEL, DEL, NEL, CSI = "\x1b", "\x07", "\x7f", "\x85", "\x9b"
RLO, LRI, PDI, LRM, RLM = "\u202e", "\u2066", "\u2069", "\u200e", "\u200f"


def refused(rg: Cli, *args: str, person: str | None = "alice") -> dict[str, Any]:
    """Run a command that must be refused with exit 2 and change nothing; its error."""
    before = fingerprint(rg.root)
    result = rg(*args, "--format", "json", person=person)
    assert result.exit_code == 2, result.output
    assert fingerprint(rg.root) == before
    error: dict[str, Any] = json.loads(result.stdout)["error"]
    assert error["exit_status"] == 2
    return error


def refused_text(rg: Cli, *args: str, person: str | None = "alice") -> str:
    """The one error line a refused command prints in text form."""
    before = fingerprint(rg.root)
    result = rg(*args, person=person)
    assert result.exit_code == 2, result.output
    assert fingerprint(rg.root) == before
    lines = result.stderr.splitlines()
    assert lines and lines[0].startswith("error: "), result.output
    return lines[0]


# -- the one validator ------------------------------------------------------------------

def test_the_validator_finds_the_first_refused_character_and_its_position() -> None:
    from releasegate.core.text import forbidden_character

    assert forbidden_character("plain text, 中文, émigré") is None
    assert forbidden_character(f"ab{ESC}[31m") == (2, ESC)
    assert forbidden_character(f"a{RLO}b{ESC}") == (1, RLO)
    for char in ("\0", BEL, "\r", "\x0b", "\x0c", DEL, NEL, CSI, "\x80", "\x9f", "\u202a",
                 RLO, LRI, "\u2067", "\u2068", PDI, "\ud800", "\ufffe", "\uffff", "\ufdd0"):
        assert forbidden_character(f"x{char}", multiline=True) == (1, char), repr(char)
    for char in ("\n", "\t"):
        assert forbidden_character(f"x{char}") == (1, char)
        assert forbidden_character(f"x{char}y", multiline=True) is None
    for allowed in (LRM, RLM, "\u200d", "\u00a0", "\u3000", "\U0001f600"):
        assert forbidden_character(f"x{allowed}y") is None, repr(allowed)


def test_the_problem_names_the_character_and_its_position_from_one() -> None:
    from releasegate.core.text import text_problem

    assert text_problem("fine") is None
    assert text_problem(f"ab{ESC}c") == ("contains a control character (U+001B ESCAPE) at "
                                         "position 3; remove it")
    assert text_problem(f"{BEL}") == ("contains a control character (U+0007 ALERT) at "
                                      "position 1; remove it")
    assert text_problem(f"a{CSI}") == ("contains a control character (U+009B CONTROL "
                                       "SEQUENCE INTRODUCER) at position 2; remove it")
    assert text_problem(f"ab{RLO}") == (
        "contains a bidirectional control character (U+202E RIGHT-TO-LEFT OVERRIDE) at "
        "position 3; remove it")
    assert text_problem("one\ntwo") == ("contains a line break (U+000A LINE FEED) at "
                                        "position 4; this text is one line")
    assert text_problem("one\ttwo") == ("contains a tab (U+0009 CHARACTER TABULATION) at "
                                        "position 4; this text is one line")
    assert text_problem("one\ntwo", multiline=True) is None


def test_check_text_raises_an_input_error_naming_the_option() -> None:
    from releasegate.core.errors import InputError
    from releasegate.core.text import check_text

    assert check_text("ok\nfine", "--comment", multiline=True) == "ok\nfine"
    with pytest.raises(InputError) as caught:
        check_text(f"ok{ESC}", "--comment", multiline=True)
    error = caught.value
    assert error.exit_status == 2 and error.code == "control-character"
    assert str(error) == ("--comment: contains a control character (U+001B ESCAPE) at "
                          "position 3; remove it")


def test_shown_text_replaces_what_would_be_refused_with_a_visible_escape() -> None:
    from releasegate.core.text import shown_line, shown_text

    hostile = f"Fix{ESC}[31m red{BEL}\nnext\tline{RLO}{DEL}{CSI}\ud800\ufffe"
    assert shown_text(hostile) == ("Fix\\x1b[31m red\\x07\nnext\tline\\u202e\\x7f\\x9b"
                                   "\\ud800\\ufffe")
    assert shown_line(hostile) == ("Fix\\x1b[31m red\\x07 next line\\u202e\\x7f\\x9b"
                                   "\\ud800\\ufffe")
    assert shown_line("a \r\n  b") == "a b"
    assert shown_text("a\r\nb\rc") == "a\nb\\x0dc"
    normal = "Fix interest accrual — 修复利息计提 (x2) \u200e"
    assert shown_line(normal) == normal and shown_text(normal) == normal


# -- manifests ----------------------------------------------------------------------------

MANIFEST = """\
id: CBS-2026-0042
system: core-banking
vendor: {vendor}
vendor_ref: {vendor_ref}
version: '7.4.2'
title: {title}
summary: {summary}
fixes:
  - Double interest accrual
  - {fix}
contact: {contact}
affected_modules: [deposits, {module}]
artifacts: [patch.tar]
"""
GOOD = {"vendor": "Acme FinSoft", "vendor_ref": "AFS-1", "title": "Fix interest accrual",
        "summary": "Daily interest was accrued twice.", "fix": "Wrong fee",
        "contact": "Vendor desk", "module": "interest"}


def manifest(inputs: Path, **values: str) -> tuple[Path, str]:
    inputs.mkdir(parents=True, exist_ok=True)
    (inputs / "patch.tar").write_bytes(b"payload\n")
    text = MANIFEST.format(**{**GOOD, **values})
    path = inputs / "manifest.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text


@pytest.mark.parametrize(("field", "value", "key", "problem"), [
    ("title", r'"ab\ec"', "title",
     "contains a control character (U+001B ESCAPE) at position 3; remove it"),
    ("title", '{en: "Fix\\ainterest", zh-CN: 修复}', "title.en",
     "contains a control character (U+0007 ALERT) at position 4; remove it"),
    ("title", r'"Fix\nFake line"', "title",
     "contains a line break (U+000A LINE FEED) at position 4; this text is one line"),
    ("title", r'"Fix\tinterest"', "title",
     "contains a tab (U+0009 CHARACTER TABULATION) at position 4; this text is one line"),
    ("title", r'"Fix \u202eevil"', "title",
     "contains a bidirectional control character (U+202E RIGHT-TO-LEFT OVERRIDE) at "
     "position 5; remove it"),
    ("title", r'"\u2066isolated\u2069"', "title",
     "contains a bidirectional control character (U+2066 LEFT-TO-RIGHT ISOLATE) at "
     "position 1; remove it"),
    ("vendor", r'"Acme\x7f"', "vendor",
     "contains a control character (U+007F DELETE) at position 5; remove it"),
    ("vendor_ref", r'"AFS\x9b1"', "vendor_ref",
     "contains a control character (U+009B CONTROL SEQUENCE INTRODUCER) at position 4; "
     "remove it"),
    ("summary", r'"Accrued\0 twice"', "summary",
     "contains a control character (U+0000 NULL) at position 8; remove it"),
    ("summary", r'"Accrued\r\ntwice"', "summary",
     "contains a control character (U+000D CARRIAGE RETURN) at position 8; remove it"),
    ("fix", r'"Wrong\nfee"', "fixes[1]",
     "contains a line break (U+000A LINE FEED) at position 6; this text is one line"),
    ("contact", r'"Desk\N"', "contact",
     "contains a control character (U+0085 NEXT LINE) at position 5; remove it"),
    ("module", r'"interest\e"', "affected_modules[1]",
     "contains a control character (U+001B ESCAPE) at position 9; remove it"),
])
def test_a_manifest_text_with_a_control_character_is_refused_naming_line_and_key(
        rg: Cli, inputs: Path, field: str, value: str, key: str, problem: str) -> None:
    path, text = manifest(inputs, **{field: value})
    error = refused(rg, "patch", "submit", str(path))
    assert error["file"] == str(path)
    assert error["line"] == next(i for i, line in enumerate(text.splitlines(), 1)
                                 if value in line)
    assert error["key"] == key
    assert error["message"] == problem
    assert not (rg.root / "patches").exists()


def test_the_refusal_is_one_line_naming_file_line_key_character_and_position(
        rg: Cli, inputs: Path) -> None:
    path, _ = manifest(inputs, title=r'"ab\ec"')
    line = refused_text(rg, "patch", "submit", str(path))
    assert line == (f"error: {path}:6:1: title: contains a control character (U+001B "
                    "ESCAPE) at position 3; remove it")
    assert ESC not in line


def test_a_trailing_line_break_from_a_block_scalar_gets_a_hint(rg: Cli, inputs: Path) -> None:
    path, _ = manifest(inputs, title=">\n  Fix interest accrual")
    error = refused(rg, "patch", "submit", str(path))
    assert error["key"] == "title"
    assert error["message"] == ("contains a line break (U+000A LINE FEED) at position 21; "
                                "this text is one line")
    assert "'>-'" in error["hint"]


def test_an_id_with_a_trailing_line_break_is_refused(rg: Cli, inputs: Path) -> None:
    path, text = manifest(inputs)
    path.write_text(text.replace("id: CBS-2026-0042", 'id: "CBS-2026-0042\\n"'),
                    encoding="utf-8")
    error = refused(rg, "patch", "submit", str(path))
    assert error["key"] == "id"
    assert "line break (U+000A LINE FEED) at position 14" in error["message"]


def test_a_key_with_a_control_character_is_refused_without_echoing_it(
        rg: Cli, inputs: Path) -> None:
    path, text = manifest(inputs)
    path.write_text(text + '"note\\e[2J": x\n', encoding="utf-8")
    error = refused(rg, "patch", "submit", str(path))
    assert error["message"] == ("the key 'note\\x1b[2J' contains a control character "
                                "(U+001B ESCAPE) at position 5; remove it")
    assert ESC not in json.dumps(error, ensure_ascii=False)


def test_multi_line_manifest_texts_keep_line_breaks_and_tabs(rg: Cli, inputs: Path) -> None:
    path, _ = manifest(inputs, summary=r'"First line.\n\tIndented second line."',
                       title=f'"Fix interest {LRM}accrual{RLM}"')
    text = path.read_text(encoding="utf-8")
    text += ("business_impact: |\n  Deposits: correct again.\n  Loans: unchanged.\n"
             "downtime: \"15 minutes\\n(rolling restart)\"\n"
             "rollback_plan: |\n  1. Reinstall hf2.\n  2.\tRerun the batch.\n")
    path.write_text(text, encoding="utf-8")
    result = rg("patch", "submit", str(path), person="alice")
    assert result.exit_code == 0, result.output


# -- releasegate.yaml and checklist templates ---------------------------------------------

def commit_file(root: Path, path: str, text: str) -> None:
    (root / path).write_text(text, encoding="utf-8")
    git(root, "add", path)
    git(root, "commit", "-q", "-m", f"edit {path}")


@pytest.mark.parametrize(("old", "new", "key", "problem"), [
    ("name: Alice Wang", 'name: "Alice\\e]0;pwned\\aWang"', "people.alice.name",
     "contains a control character (U+001B ESCAPE) at position 6; remove it"),
    ("name: Bob Li", 'name: "Bob\\nLi"', "people.bob.name",
     "contains a line break (U+000A LINE FEED) at position 4; this text is one line"),
    ("email: carol@bank.example", 'email: "carol\\u202e@bank.example"', "people.carol.email",
     "contains a bidirectional control character (U+202E RIGHT-TO-LEFT OVERRIDE) at "
     "position 6; remove it"),
    ('suites: ["smoke*"]', 'suites: ["smoke*\\t"]', "environments[1].gate.tests[0].suites[0]",
     "contains a tab (U+0009 CHARACTER TABULATION) at position 7; this text is one line"),
])
def test_releasegate_yaml_texts_with_control_characters_stop_every_command(
        submitted: Cli, old: str, new: str, key: str, problem: str) -> None:
    pipeline = (Path(__file__).parent / "fixtures" / "config" / "pipeline.yaml").read_text(
        encoding="utf-8")
    assert pipeline.count(old) == 1
    text = pipeline.replace(old, new)
    commit_file(submitted.root, "releasegate.yaml", text)
    error = refused(submitted, "status")
    assert error["code"] == "config" and error["file"] == "releasegate.yaml"
    assert error["line"] == text[:text.index(new)].count("\n") + 1
    assert error["key"] == key
    assert error["message"] == problem


def test_a_notice_contact_with_a_control_character_is_refused(submitted: Cli) -> None:
    root = submitted.root
    text = (root / "releasegate.yaml").read_text(encoding="utf-8")
    text += 'notices:\n  contact: {en: "IT desk\\a", zh-CN: IT服务台}\n'
    commit_file(root, "releasegate.yaml", text)
    error = refused(submitted, "status")
    assert error["key"] == "notices.contact.en"
    assert error["message"] == ("contains a control character (U+0007 ALERT) at position 8; "
                                "remove it")


def test_a_checklist_template_text_with_a_control_character_is_refused(
        submitted: Cli) -> None:
    root = submitted.root
    path = "checklists/intake.yaml"
    text = (root / path).read_text(encoding="utf-8")
    old = "en: Initial risk assessment"
    text = text.replace(old, 'en: "Initial risk\\e[8m assessment"')
    commit_file(root, path, text)
    error = refused(submitted, "status")
    assert error["code"] == "config" and error["file"] == path
    assert error["key"] == "items[3].text.en"
    assert error["message"] == ("contains a control character (U+001B ESCAPE) at "
                                "position 13; remove it")


# -- checklist answers ----------------------------------------------------------------------

@pytest.mark.parametrize(("answers", "key", "problem"), [
    ("version-controlled: 'yes'\nrelease-note-read: 'yes'\nrisk: \"low\\e\"\n", "risk",
     "contains a control character (U+001B ESCAPE) at position 4; remove it"),
    ("version-controlled: \"yes\\n\"\nrelease-note-read: 'yes'\nrisk: low\n",
     "version-controlled",
     "contains a line break (U+000A LINE FEED) at position 4; this text is one line"),
    ("version-controlled: 'yes'\nrelease-note-read: 'yes'\nrisk: low\n"
     "problem-ticket: \"https://tickets.example/\\u202e1\"\n", "problem-ticket",
     "contains a bidirectional control character (U+202E RIGHT-TO-LEFT OVERRIDE) at "
     "position 25; remove it"),
    ("version-controlled: 'yes'\nrelease-note-read: 'yes'\nrisk: low\n\"ri\\ask\": low\n", None,
     "the key 'ri\\x07sk' contains a control character (U+0007 ALERT) at position 3; "
     "remove it"),
])
def test_answers_with_control_characters_are_refused_naming_file_line_and_item(
        submitted: Cli, inputs: Path, answers: str, key: str | None, problem: str) -> None:
    path = answers_file(inputs, "intake", answers)
    error = refused(submitted, "checklist", "fill", PATCH, "intake", "--env", "dev",
                    "--answers", str(path))
    assert error["file"] == str(path)
    assert error.get("key") == key
    assert error["message"] == problem


def test_text_answers_and_na_reasons_may_span_lines_but_not_hold_controls(
        submitted: Cli, inputs: Path) -> None:
    good = ("walkthrough: 'yes'\ninstalled-cleanly: 'yes'\n"
            "data-migration: {value: n/a, reason: \"no stored data;\\n\\tschema unchanged\"}\n"
            "notes: |\n  Rounding moved after conversion.\n  Walked through with the vendor.\n")
    bad_reason = good.replace("no stored data;", "no stored\\b data;")
    bad_note = good.replace("Rounding moved", "Rounding \u2067moved")
    error = refused(submitted, "checklist", "fill", PATCH, "dev-review", "--env", "test",
                    "--answers", str(answers_file(inputs, "dev-review", bad_reason)),
                    person="bob")
    assert error["key"] == "data-migration.reason"
    assert error["message"] == ("contains a control character (U+0008 BACKSPACE) at "
                                "position 10; remove it")
    error = refused(submitted, "checklist", "fill", PATCH, "dev-review", "--env", "test",
                    "--answers", str(answers_file(inputs, "dev-review", bad_note)),
                    person="bob")
    assert error["key"] == "notes"
    assert "U+2067 RIGHT-TO-LEFT ISOLATE" in error["message"]
    result = submitted("checklist", "fill", PATCH, "dev-review", "--env", "test",
                       "--answers", str(answers_file(inputs, "dev-review", good)),
                       person="bob")
    assert result.exit_code == 0, result.output


def test_prompted_answers_are_checked_the_same_way(in_test: Cli) -> None:
    from releasegate.actions.evidence import normalize_answers
    from releasegate.core.errors import InputError
    from releasegate.ledger.pipeline import load_pipeline
    from releasegate.ledger.transaction import Ledger

    pipeline = load_pipeline(Ledger(in_test.root).snapshot())
    template = pipeline.templates["dev-review"]
    answers = {"walkthrough": "yes", "installed-cleanly": "yes",
               "data-migration": {"value": "n/a", "reason": "none"},
               "notes": f"found{ESC}]8;;http://x{ESC}\\"}
    with pytest.raises(InputError) as caught:
        normalize_answers(template, answers)
    assert caught.value.key == "notes"
    assert caught.value.message == ("contains a control character (U+001B ESCAPE) at "
                                    "position 6; remove it")


# -- command-line texts -------------------------------------------------------------------

def test_a_signoff_comment_with_a_control_character_is_refused(in_test: Cli) -> None:
    error = refused(in_test, "signoff", PATCH, "--env", "prod", "--role", "test-lead",
                    "--comment", f"looks fine{ESC}[2K", person="carol")
    assert error["code"] == "control-character" and error["key"] == "--comment"
    assert error["message"] == ("contains a control character (U+001B ESCAPE) at "
                                "position 11; remove it")
    line = refused_text(in_test, "signoff", PATCH, "--env", "prod", "--role", "test-lead",
                        "--comment", f"ok{BEL}", person="carol")
    assert line == ("error: --comment: contains a control character (U+0007 ALERT) at "
                    "position 3; remove it")


def test_a_signoff_comment_may_span_lines(in_test: Cli) -> None:
    result = in_test("signoff", PATCH, "--env", "prod", "--role", "test-lead", "--comment",
                     "Regression green.\n\tNo open findings.", person="carol")
    assert result.exit_code == 0, result.output


def test_a_signoff_role_with_a_line_break_is_refused(in_test: Cli) -> None:
    error = refused(in_test, "signoff", PATCH, "--env", "prod", "--role", "test-lead\n",
                    person="carol")
    assert error["key"] == "--role"
    assert error["message"] == ("contains a line break (U+000A LINE FEED) at position 10; "
                                "this text is one line")


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--reason", f"vendor fix due{ESC}[8m", "contains a control character (U+001B ESCAPE) "
     "at position 15; remove it"),
    ("--reason", f"{RLO}due next week", "contains a bidirectional control character "
     "(U+202E RIGHT-TO-LEFT OVERRIDE) at position 1; remove it"),
    ("--test", "cbs.fees::*\nPASS all", "contains a line break (U+000A LINE FEED) at "
     "position 12; this text is one line"),
    ("--test", f"cbs.fees::{DEL}*", "contains a control character (U+007F DELETE) at "
     "position 11; remove it"),
])
def test_waiver_texts_with_control_characters_are_refused(
        in_test: Cli, option: str, value: str, message: str) -> None:
    args = {"--test": "cbs.fees::*", "--reason": "vendor fix due", option: value}
    error = refused(in_test, "waive", PATCH, "--env", "prod", "--test", args["--test"],
                    "--reason", args["--reason"], "--until", "2099-12-31", person="carol")
    assert error["code"] == "control-character" and error["key"] == option
    assert error["message"] == message


def test_a_waiver_reason_may_span_lines(in_test: Cli) -> None:
    result = in_test("waive", PATCH, "--env", "prod", "--test", "cbs.fees::*", "--reason",
                     "Vendor fix due next week.\nFee differs by 0.01.", "--until",
                     "2099-12-31", person="carol")
    assert result.exit_code == 0, result.output


def test_a_suite_name_with_a_control_character_is_refused_naming_the_option(
        in_test: Cli, inputs: Path) -> None:
    error = refused(in_test, "tests", "record", PATCH, "--env", "test", "--suite",
                    f"regression{ESC}", str(junit_file(inputs, "regression", 3)))
    assert error["code"] == "control-character" and error["key"] == "--suite"
    assert error["message"] == ("contains a control character (U+001B ESCAPE) at "
                                "position 11; remove it")


@pytest.mark.parametrize("name", [f"patch{ESC}.tar", "patch\n.tar", f"patch{RLO}rat.exe"])
def test_an_artifact_file_name_with_a_control_character_is_refused(
        submitted: Cli, inputs: Path, name: str) -> None:
    folder = inputs / "drop"
    folder.mkdir()
    (folder / name).write_bytes(b"payload-2\n")
    error = refused(submitted, "patch", "revise", PATCH, "--artifact", str(folder / name))
    assert error["key"] == "--artifact"
    assert "at position 6" in error["message"]
    path, _ = manifest(inputs / "new")
    error = refused(submitted, "patch", "submit", str(path), "--artifact", str(folder / name))
    assert error["key"] == "--artifact"


# -- the schemas say the same, for editors --------------------------------------------------

def test_the_manifest_schema_refuses_control_characters_too() -> None:
    import jsonschema

    from releasegate.config.schema import load_schema

    validator = jsonschema.Draft202012Validator(load_schema("manifest"))
    good = {"id": "CBS-1", "system": "core", "vendor": "Acme", "title": "Fix",
            "summary": "Line one.\n\tLine two.", "fixes": ["Wrong fee"],
            "contact": {"en": "Desk"}, "affected_modules": ["fees"], "artifacts": ["x.tar"]}
    assert list(validator.iter_errors(good)) == []
    for key, value in (("title", f"Fix{ESC}"), ("title", "Fix\ninjected"),
                       ("title", {"en": f"Fix{RLO}"}), ("summary", f"ok{BEL}"),
                       ("vendor", f"Acme{DEL}"), ("fixes", [f"fee{CSI}"]),
                       ("contact", f"Desk{LRI}"), ("affected_modules", ["fe\tes"]),
                       ("vendor_ref", "a\x00"), ("version", "7.4\x1f"),
                       ("artifacts", [f"x{ESC}.tar"])):
        assert list(validator.iter_errors({**good, key: value})), (key, value)


def test_the_pipeline_schema_refuses_control_characters_in_names_and_contact() -> None:
    import jsonschema

    from releasegate.config.schema import load_schema

    validator = jsonschema.Draft202012Validator(load_schema("pipeline"))
    base: dict[str, Any] = {"version": 1, "environments": [{"name": "dev", "gate": None}]}
    assert list(validator.iter_errors({**base, "people": {"a": {"name": "Alice Wang"}}})) == []
    assert list(validator.iter_errors({**base, "people": {"a": {"name": f"Alice{ESC}"}}}))
    assert list(validator.iter_errors({**base, "notices": {"contact": f"Desk{BEL}"}}))
    assert list(validator.iter_errors({**base, "notices": {"contact": "Desk\nfake"}}))
