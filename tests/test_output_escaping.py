"""Vendor and user text in every output: literal, never markup, never a terminal control.

JUnit is parsed with a real XML parser; markdown is rendered with markdown-it when it
is installed (else the escaped text is checked); the text views show control
characters escaped (\\x1b, \\n), so a title cannot forge lines of `status`.

Commands refuse control characters where text comes in, but a ledger holds what was
recorded before that, and what people commit to it by hand: the outputs do not rely on
the input checks. `record_unchecked` and `edit_title` put such texts in the ledger.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from releasegate.cli.ci_reports import escape_data, md_text, verdict_markdown, xml_text
from releasegate.cli.terminal import tty_text, verdict_text
from releasegate.core.model import Condition, Verdict
from tests.helpers import (
    PATCH,
    Cli,
    git,
    must,
    passing,
    record_regression,
    walk_to_prod,
    walk_to_test,
    write_manifest,
)

HOSTILE = "<script>alert(1)</script> [link](http://x)"
P1 = "CBS-2026-0001"
ESC_REASON = "vendor defect \x1b[31mVD-7\x1b[0m"


def render(markdown: str) -> str | None:
    """The HTML markdown-it makes of `markdown` (GitHub-like: tables on, raw HTML
    allowed); None when markdown-it is not installed."""
    try:
        from markdown_it import MarkdownIt  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return str(MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
               .render(markdown))


def assert_inert(markdown: str) -> None:
    """No live HTML and no link, in the source and (when possible) once rendered."""
    assert not re.search(r"(?<!\\)<", markdown)  # every < escaped: no HTML, no autolink
    assert not re.search(r"(?<!\\)\]\(", markdown)  # no [text](url)
    html = render(markdown)
    if html is not None:
        assert "<script" not in html
        assert "<a " not in html and "href" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def record_unchecked(rg: Cli, kind: str, env: str, data: dict[str, Any],
                     person: str = "carol") -> None:
    """Append an event of `kind` for PATCH through the ledger's write path without the
    commands' input checks, as an earlier releasegate recorded it."""
    from releasegate.actions.common import append_event, load_patch
    from releasegate.ledger.actor import resolve_actor
    from releasegate.ledger.pipeline import load_pipeline
    from releasegate.ledger.snapshot import Snapshot
    from releasegate.ledger.transaction import Ledger, Write

    ledger = Ledger(rg.root)

    def operation(snap: Snapshot) -> Write[None]:
        actor = resolve_actor(load_pipeline(snap), person, ledger.store)
        return append_event(load_patch(ledger, snap, PATCH), actor, kind, env, data,
                            f"{kind} for {env}")

    ledger.transact(operation)


def waive_unchecked(rg: Cli, test: str, reason: str) -> None:
    """A waiver for the prod gate by carol until the end of 2099, `reason` unchecked."""
    record_unchecked(rg, "waiver", "prod",
                     {"test": test, "reason": reason, "until": "2099-12-31T23:59:59Z"})


def edit_title(rg: Cli, title: str) -> None:
    """PATCH's title replaced in the ledger's copy of its manifest and committed, as a
    person with push access may do by hand (`title` is a YAML double-quoted text)."""
    path = rg.root / "patches" / PATCH / "patch.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  en: Fix interest accrual", f"  en: {title}"),
                    encoding="utf-8")
    git(rg.root, "commit", "-qam", "a title edited by hand")


def verdict_with(detail: str, name: str = "test: regression*") -> Verdict:
    return Verdict(PATCH, "test", "prod", "sha256:" + "1" * 64, (
        Condition("tests", name, "fail", detail),
        Condition("order", "order", "pass", "in test")))


# --- the helpers ------------------------------------------------------------------------


def test_xml_text_replaces_what_xml_forbids_and_keeps_the_rest() -> None:
    assert xml_text("a\x1bb\x00c\td\ne\rf\ufffe\u00e9") == "a\\x1bb\\x00c\td\ne\rf\\ufffe\u00e9"


def test_md_text_escapes_markdown_and_html() -> None:
    assert md_text(HOSTILE) == "\\<script\\>alert(1)\\</script\\> \\[link\\](http://x)"
    assert md_text("*a* `b` | c \\ d ~e~ &amp; _f_") == \
        "\\*a\\* \\`b\\` \\| c \\\\ d \\~e\\~ \\&amp; \\_f\\_"
    assert md_text("month_end") == "month_end"  # inside a word `_` never emphasises
    assert md_text("two\nlines\r\nand\x1b") == "two lines and\\x1b"


def test_tty_text_shows_control_characters_escaped() -> None:
    assert tty_text("a\nb\x1b[31mc\td\x7f\u009b\u2028e") == "a\\nb\\x1b[31mc\\td\\x7f\\x9b\\u2028e"
    assert tty_text("修复利息计提 ok") == "修复利息计提 ok"


def test_annotation_data_carries_no_terminal_controls() -> None:
    assert escape_data("a\x1b[2Jb\nc") == "a\\x1b[2Jb%0Ac"


# --- markdown ---------------------------------------------------------------------------


def test_markdown_renders_a_hostile_detail_as_text() -> None:
    markdown = verdict_markdown(verdict_with(f"{HOSTILE} *bold* `code`"))

    assert_inert(markdown)
    html = render(markdown)
    if html is not None:
        assert "<em>" not in html and "<strong>" not in html
        assert html.count("<code>") == 1  # the digest's
        assert "*bold* `code`" in html


def test_markdown_names_hostile_tests_and_messages_as_text(rg: Cli, inputs: Path) -> None:
    walk_to_prod(rg, inputs, P1, passing("cbs.accrual", "month_end", "x`y"))
    walk_to_test(rg, inputs)
    record_regression(rg, inputs, PATCH,
                      {"cbs.accrual::month_end": "failed", "cbs.accrual::x`y": "failed"},
                      messages={"cbs.accrual::month_end": HOSTILE,
                                "cbs.accrual::x`y": "`ok` | <b>"})

    result = rg("check", PATCH, "--to", "prod", "--format", "markdown")

    assert result.exit_code == 1
    assert_inert(result.stdout)
    assert "- `cbs.accrual::month_end` (regression): \\<script\\>alert(1)\\</script\\> " \
           "\\[link\\](http://x)" in result.stdout
    assert "- ``cbs.accrual::x`y`` (regression): \\`ok\\` \\| \\<b\\>" in result.stdout


def test_markdown_keeps_a_hostile_waiver_reason_in_its_row(rg: Cli, inputs: Path) -> None:
    walk_to_test(rg, inputs)
    record_regression(rg, inputs, PATCH, {"cbs.accrual::month_end": "failed"})
    must(rg, "waive", PATCH, "--env", "prod", "--test", "cbs.accrual::month_end", "--reason",
         f"{HOSTILE} | x\ny", "--until", "2099-12-31", person="carol")  # may span lines

    result = rg("check", PATCH, "--to", "prod", "--format", "markdown")

    assert_inert(result.stdout)
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    waiver = [row for row in rows if row.startswith("| ⚠️ waived | waiver |")]
    assert len(waiver) == 1
    assert waiver[0].endswith("\\[link\\](http://x) \\| x y): cbs.accrual::month_end |")


# --- JUnit ------------------------------------------------------------------------------


def test_junit_with_an_esc_in_a_waiver_reason_is_well_formed(rg: Cli, inputs: Path) -> None:
    walk_to_test(rg, inputs)
    record_regression(rg, inputs, PATCH, {"cbs.accrual::month_end": "failed"})
    waive_unchecked(rg, "cbs.accrual::month_end", ESC_REASON)

    result = rg("check", PATCH, "--to", "prod", "--format", "junit")

    root = ElementTree.fromstring(result.stdout)  # raises when not well-formed
    assert "\x1b" not in result.stdout
    skipped = root.find(".//skipped")
    assert skipped is not None and "vendor defect \\x1b[31mVD-7\\x1b[0m" in (skipped.text or "")


# --- the terminal -------------------------------------------------------------------------


FORGED = '"Fix\\nprod:\\n  CBS-2026-9999  Forged  [sha256:000000000000]\\x1b[2J"'


def test_status_prints_one_line_per_patch_whatever_its_title_holds(rg: Cli,
                                                                   inputs: Path) -> None:
    must(rg, "patch", "submit", str(write_manifest(inputs)))
    edit_title(rg, FORGED)

    result = rg("status")

    lines = result.stdout.splitlines()
    headings = [line for line in lines if re.match(r"  [^ ]", line)]
    assert result.exit_code == 0
    assert [line for line in lines if line.startswith("prod:")] == ["prod: (empty)"]
    assert len(headings) == 1
    assert headings[0].startswith(f"  {PATCH}  Fix\\nprod:\\n  CBS-2026-9999  Forged  "
                                  "[sha256:000000000000]\\x1b[2J  [sha256:")
    assert sum("CBS-2026-9999" in line for line in lines) == 1
    assert "\x1b" not in result.stdout


def test_patch_show_and_list_escape_the_title(rg: Cli, inputs: Path) -> None:
    must(rg, "patch", "submit", str(write_manifest(inputs)))
    edit_title(rg, FORGED)

    for args in (("patch", "show", PATCH), ("patch", "list")):
        result = rg(*args)
        assert "\x1b" not in result.stdout, args
        assert "Fix\\nprod:\\n  CBS-2026-9999" in result.stdout, args


def test_the_text_verdict_and_the_log_escape_a_waiver_reason(rg: Cli, inputs: Path) -> None:
    walk_to_test(rg, inputs)
    record_regression(rg, inputs, PATCH, {"cbs.accrual::month_end": "failed"})
    waive_unchecked(rg, "cbs.accrual::month_end", ESC_REASON + "\nFAIL  forged  row")

    for args in (("check", PATCH, "--to", "prod"), ("patch", "show", PATCH),
                 ("patch", "log", PATCH)):
        result = rg(*args)
        assert "\x1b" not in result.stdout, args
        assert "VD-7\\x1b[0m\\nFAIL  forged  row" in result.stdout, args
        assert not any(line.startswith("FAIL  forged") for line in result.stdout.splitlines())


def test_verdict_text_keeps_one_line_per_condition() -> None:
    text = verdict_text(verdict_with("one\ntwo\x1b[2K", name="test: a\rb"))

    lines = text.splitlines()
    assert len(lines) == 4  # the head, the digest, two conditions
    assert "test: a\\rb" in lines[2] and lines[2].endswith("one\\ntwo\\x1b[2K")


@pytest.mark.parametrize("fmt", ["text", "markdown", "junit"])
def test_check_output_never_carries_raw_control_characters(rg: Cli, inputs: Path,
                                                           fmt: str) -> None:
    walk_to_test(rg, inputs)
    record_regression(rg, inputs, PATCH, {"cbs.accrual::month_end": "failed"})
    waive_unchecked(rg, "cbs.accrual::month_end", ESC_REASON + "\x07\x9b")

    result = rg("check", PATCH, "--to", "prod", "--format", fmt)

    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", result.stdout)


def test_warnings_and_errors_reach_the_terminal_with_controls_escaped(
        capsys: pytest.CaptureFixture[str]) -> None:
    """Warnings and errors may quote what a ledger or a remote holds (a commit's
    subject, a path): the terminal gets escapes, never the controls themselves, and a
    warning's own line breaks stay."""
    from releasegate.cli.main import _report
    from releasegate.cli.output import warn
    from releasegate.core.errors import InputError

    warn(["act 'sign\x1b]0;owned\x07off' was dropped\nrepeat it", "plain \u202eevil"])
    status = _report(InputError("bad \x1b[2J value", hint="see \x9b31m"), False)

    err = capsys.readouterr().err
    assert status == 2
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", err)
    assert "sign\\x1b]0;owned\\x07off' was dropped\nrepeat it" in err
    assert "plain \\u202eevil" in err
    assert "error: bad \\x1b[2J value\n  hint: see \\x9b31m" in err
