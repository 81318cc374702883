"""Release notices: the demo's released patch against golden files, languages and their
fallbacks, escaping, ledger template overrides, kinds, and the e-mail form.

Regenerate the golden files with RELEASEGATE_UPDATE_GOLDEN=1, then read every one of
them before committing: they are what a bank's staff will read.
"""

from __future__ import annotations

import email
import email.policy
import itertools
import os
import re
import string
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from releasegate.actions.notices import notice_for
from releasegate.core import clock
from releasegate.core.errors import InputError
from releasegate.demo import run_demo
from releasegate.ledger.transaction import Ledger
from releasegate.notices import LANGUAGES
from releasegate.notices.catalogue import PHRASES
from releasegate.notices.render import build_email
from tests.helpers import (
    PATCH,
    Cli,
    edit_pipeline,
    git,
    must,
    passing,
    record_regression,
    sign_prod_gate,
    walk_to_prod,
    walk_to_test,
)

GOLDEN = Path(__file__).parent / "golden" / "notices"
UPDATE = os.environ.get("RELEASEGATE_UPDATE_GOLDEN") == "1"
START = datetime(2026, 11, 28, 2, 18, tzinfo=UTC)
FORMATS = {"md": "md", "txt": "text", "html": "html"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    """The demo ledger, built once with a clock that starts at START and moves on by a
    second each time it is read, so every event has its own, repeatable time stamp."""
    home = tmp_path_factory.mktemp("demo-home")
    (home / ".gitconfig").write_text("[user]\n\tname = Demo\n\temail = demo@test.invalid\n"
                                     "[init]\n\tdefaultBranch = main\n")
    ticks = itertools.count()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        patch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
        patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        patch.setattr(clock, "now", lambda: START + timedelta(seconds=next(ticks)))
        ledger = run_demo(tmp_path_factory.mktemp("demo") / "d", say=lambda _: None)
    yield Cli(ledger.root)


def notice(rg: Cli, *args: str) -> str:
    result = rg("notice", *args)
    assert result.exit_code == 0, result.output
    return result.stdout_bytes.decode("utf-8")


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path} is missing; run with RELEASEGATE_UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8")


def submit(rg: Cli, folder: Path, manifest: str, patch: str = PATCH) -> None:
    """Submit `patch` with `manifest` (its id and artifact lines are added)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "patch.tar").write_bytes(b"payload\n")
    path = folder / f"{patch}.yaml"
    path.write_text(f"id: {patch}\nsystem: core-banking\nvendor: Acme FinSoft\n"
                    f"artifacts: [patch.tar]\n{manifest}", encoding="utf-8")
    must(rg, "patch", "submit", str(path))


# -- the demo's released patch, whole ----------------------------------------------------

@pytest.mark.parametrize("audience", ["business", "technical"])
@pytest.mark.parametrize("lang", ["en", "zh-CN"])
@pytest.mark.parametrize("ext", FORMATS)
def test_released_demo_patch_notice_matches_its_golden_file(demo: Cli, audience: str,
                                                            lang: str, ext: str) -> None:
    text = notice(demo, PATCH, "--audience", audience, "--lang", lang, "--format",
                  FORMATS[ext])
    check_golden(f"{audience}.{lang}.{ext}", text)


def test_the_business_notice_shows_no_digest_and_no_test_jargon(demo: Cli) -> None:
    detail = demo.json("patch", "show", PATCH)
    hashes = [detail["digest"].removeprefix("sha256:")]
    hashes += [a["sha256"] for a in detail["artifacts"]]
    for lang in ("en", "zh-CN"):
        for fmt in FORMATS.values():
            text = notice(demo, PATCH, "--lang", lang, "--format", fmt)
            assert "sha256" not in text.lower()
            assert not any(h in text for h in hashes)
            assert "regression" not in text and "test-lead" not in text


def test_the_released_technical_notice_shows_the_promotion_and_its_sign_offs(
        demo: Cli) -> None:
    text = notice(demo, PATCH, "--audience", "technical", "--lang", "en")
    digest = demo.json("patch", "show", PATCH)["digest"]
    assert f"Patch digest: `{digest}`" in text
    assert re.search(r"Passed: Alice Wang promoted the change into production on "
                     r"28 Nov 2026 10:\d\d \(Asia/Shanghai\)\.", text)
    for role, name in (("test-lead", "Carol Zhang"), ("app-owner", "Bob Li"),
                       ("business", "Dave Chen"), ("change-manager", "Erin Liu")):
        assert re.search(rf"- {role}: approved by {name} on 28 Nov 2026 10:\d\d "
                         r"\(Asia/Shanghai\)\n", text), role
    assert "- cbs-7.4.2-hf3.tar (18,432 bytes), sha256 `6f4d77296f01" in text
    assert "Compared with the results of CBS-2026-0031" in text


# -- kinds ---------------------------------------------------------------------------------

def test_the_kind_defaults_to_upcoming_before_the_last_environment(in_test: Cli) -> None:
    text = notice(in_test, PATCH, "--lang", "en", "--format", "text")
    assert text.startswith("Fix interest accrual\n====================\nUpcoming change · ")
    assert ("Not scheduled yet. The change is now in test and waits for approval to enter "
            "production.") in text
    zh = notice(in_test, PATCH, "--lang", "zh-CN")
    assert "尚未排定上线时间。该变更目前处于测试环境，正在等待进入生产环境的审批。" in zh


def test_the_kind_defaults_to_released_in_the_last_environment(demo: Cli) -> None:
    result = demo("notice", PATCH, "--lang", "en", "--format", "eml")
    subject = email.message_from_bytes(result.stdout_bytes, policy=email.policy.default)[
        "Subject"]
    assert subject.startswith("[Released] CBS-2026-0042: Fix interest accrual")


def test_a_notice_that_would_be_untrue_is_refused(in_test: Cli, demo: Cli) -> None:
    early = in_test("notice", PATCH, "--kind", "released")
    assert early.exit_code == 2
    assert "has not reached prod" in early.stderr and "--kind upcoming" in early.stderr
    late = demo("notice", PATCH, "--kind", "upcoming")
    assert late.exit_code == 2 and "already in prod" in late.stderr


def test_a_rolled_back_notice_is_given_when_asked_for(demo: Cli) -> None:
    text = notice(demo, PATCH, "--kind", "rolled-back", "--lang", "en")
    assert "**Rolled back · System core-banking · Reference CBS-2026-0042**" in text
    assert ("The change has been withdrawn from production; the previous version is in use "
            "again.") in text
    assert "## Known problems it was meant to fix (still open)" in text


@pytest.mark.parametrize("args", [("--kind", "withdrawn"), ("--lang", "fr"),
                                  ("--audience", "board"), ("--format", "pdf")])
def test_unknown_choices_are_usage_errors(demo: Cli, args: tuple[str, ...]) -> None:
    result = demo("notice", PATCH, *args)
    assert result.exit_code == 2
    assert f"Invalid value for '{args[0]}'" in result.stderr


def test_an_unknown_patch_is_a_usage_error(demo: Cli) -> None:
    result = demo("notice", "CBS-2026-0043")
    assert result.exit_code == 2
    assert "unknown patch 'CBS-2026-0043'" in result.stderr


# -- languages -------------------------------------------------------------------------------

def test_the_catalogues_have_the_same_phrases_with_the_same_placeholders() -> None:
    assert set(PHRASES) == set(LANGUAGES)
    assert set(PHRASES["en"]) == set(PHRASES["zh-CN"])
    fields = {lang: {key: sorted(f for _, f, _, _ in string.Formatter().parse(value) if f)
                     for key, value in phrases.items()} for lang, phrases in PHRASES.items()}
    assert fields["en"] == fields["zh-CN"]
    assert all(value.strip() for phrases in PHRASES.values() for value in phrases.values())


def test_a_text_missing_in_the_readers_language_falls_back_with_a_marker(
        rg: Cli, inputs: Path) -> None:
    submit(rg, inputs, "title: {en: Fix the month-end batch, zh-CN: 修复月末批处理}\n"
                       "summary: {zh-CN: 月末批处理不再中断。}\n"
                       "business_impact: {en: Statements are produced on time.}\n"
                       "fixes: [{en: Month-end batch stops}]\n")
    en = notice(rg, PATCH, "--lang", "en", "--format", "text")
    assert "\n(in Chinese) 月末批处理不再中断。\n" in en
    assert "\nStatements are produced on time.\n" in en
    zh = notice(rg, PATCH, "--lang", "zh-CN", "--format", "text")
    assert "\n月末批处理不再中断。\n" in zh
    assert "\n（英文原文）Statements are produced on time.\n" in zh
    assert "\n- （英文原文）Month-end batch stops\n" in zh
    assert not re.search(r"^(\(in Chinese\)|（英文原文）)\s*$", en + zh, re.MULTILINE)


def test_a_text_given_without_a_language_is_shown_as_is(rg: Cli, inputs: Path) -> None:
    submit(rg, inputs, "title: Restart the card switch nightly\n"
                       "downtime: 5 minutes at 02:00\ncontact: Card operations, ext. 4100\n")
    for lang in ("en", "zh-CN"):
        text = notice(rg, PATCH, "--lang", lang, "--format", "text")
        assert text.startswith("Restart the card switch nightly\n")
        assert "\n5 minutes at 02:00\n" in text and "\nCard operations, ext. 4100\n" in text
        assert "(in " not in text and "原文" not in text


def test_the_language_and_contact_default_from_the_pipeline(rg: Cli, inputs: Path) -> None:
    def change(config: dict[str, object]) -> None:
        config["notices"] = {"languages": ["en", "zh-CN"],
                             "contact": {"en": "Change desk, ext. 1234",
                                         "zh-CN": "变更台，分机1234"}}

    edit_pipeline(rg.root, change)
    submit(rg, inputs, "title: {en: Fix the month-end batch, zh-CN: 修复月末批处理}\n")
    text = notice(rg, PATCH)
    assert text.startswith("# Fix the month-end batch\n")
    assert "## Contact\n\nChange desk, ext. 1234\n" in text
    assert "## What changes\n\nThe vendor gave no further description.\n" in text
    assert "## Expected downtime\n\nNot stated for this change" in text
    assert "not stated" in text  # business functions
    zh = notice(rg, PATCH, "--lang", "zh-CN")
    assert "## 联系方式\n\n变更台，分机1234\n" in zh


# -- escaping --------------------------------------------------------------------------------

HOSTILE = ('title: "<script>alert(1)</script> Fix & go"\n'
           'summary: "# not a heading\\n- not a list\\n1. not a list either\\n> not a quote"\n')


def test_html_escapes_manifest_texts(rg: Cli, inputs: Path) -> None:
    submit(rg, inputs, HOSTILE)
    page = notice(rg, PATCH, "--format", "html", "--lang", "en")
    assert "<script>" not in page
    assert "<h1>&lt;script&gt;alert(1)&lt;/script&gt; Fix &amp; go</h1>" in page
    assert "<title>[Upcoming change] CBS-2026-0042: &lt;script&gt;" in page
    assert page.startswith("<!DOCTYPE html>\n<html lang=\"en\">")
    assert not re.search(r"\b(src|href)=|@import|url\(", page), "no external requests"


def test_markdown_keeps_manifest_texts_from_becoming_markup(rg: Cli, inputs: Path) -> None:
    submit(rg, inputs, HOSTILE)
    text = notice(rg, PATCH, "--lang", "en")
    assert text.startswith("# \\<script>alert(1)\\</script> Fix & go\n")  # no live HTML
    assert ("\n\\# not a heading\n\\- not a list\n1\\. not a list either\n\\> not a quote\n"
            in text)
    plain = notice(rg, PATCH, "--lang", "en", "--format", "text")
    assert "\n# not a heading\n- not a list\n1. not a list either\n> not a quote\n" in plain


# -- template overrides ------------------------------------------------------------------------

def commit_template(root: Path, name: str, source: str) -> None:
    (root / "templates").mkdir(exist_ok=True)
    (root / "templates" / name).write_text(source, encoding="utf-8")
    git(root, "add", f"templates/{name}")
    git(root, "commit", "-qm", f"notice template {name}")


def test_a_committed_template_override_is_used_and_uncommitted_edits_are_not(
        submitted: Cli) -> None:
    root = submitted.root
    (root / "templates").mkdir()
    (root / "templates" / "business.md.j2").write_text("never committed\n")
    result = submitted("notice", PATCH)
    assert result.stdout.startswith("# 修复利息计提\n")
    assert "uncommitted changes in templates/business.md.j2 are ignored" in result.stderr
    commit_template(root, "business.md.j2", "Notice {{ notice.patch }}: {{ notice.title }}\n")
    (root / "templates" / "business.md.j2").write_text("edited, not committed\n")
    result = submitted("notice", PATCH)
    assert result.exit_code == 0
    assert result.stdout == "Notice CBS-2026-0042: 修复利息计提\n"
    assert "uncommitted changes in templates/business.md.j2 are ignored" in result.stderr
    assert notice(submitted, PATCH, "--format", "text").startswith("修复利息计提\n")


def test_an_override_can_build_on_the_built_in_template(submitted: Cli) -> None:
    commit_template(submitted.root, "business.html.j2",
                    '{% extends "builtin/business.html.j2" %}\n{% block technical %}'
                    "<p>Branch staff: see the intranet page.</p>{% endblock %}\n")
    page = notice(submitted, PATCH, "--format", "html", "--lang", "en")
    assert "<p>Branch staff: see the intranet page.</p><section>\n<h2>Contact</h2>" in page


@pytest.mark.parametrize(("value", "problem"), [
    ("branch_manager", "'branch_manager' is undefined"),
    ("notice.branch_manager", "has no attribute 'branch_manager'")])
def test_an_override_using_an_unknown_value_fails_naming_the_template(
        submitted: Cli, value: str, problem: str) -> None:
    commit_template(submitted.root, "business.txt.j2",
                    f"{{{{ notice.title }}}}\n\n{{{{ {value} }}}}\n")
    result = submitted("notice", PATCH, "--format", "text")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: templates/business.txt.j2:3: cannot render the ledger's "
        "templates/business.txt.j2: ")
    assert problem in result.stderr
    with pytest.raises(InputError) as caught:
        notice_for(Ledger(submitted.root), PATCH)
    assert (caught.value.code, caught.value.file, caught.value.line) == (
        "template", "templates/business.txt.j2", 3)


def test_an_override_asking_for_an_unknown_phrase_fails(submitted: Cli) -> None:
    commit_template(submitted.root, "business.md.j2", '{{ t("h.nothing") }}\n')
    result = submitted("notice", PATCH)
    assert result.exit_code == 2
    assert "templates/business.md.j2:1" in result.stderr
    assert "no phrase 'h.nothing'" in result.stderr


def test_an_override_extending_itself_is_refused(submitted: Cli) -> None:
    commit_template(submitted.root, "business.md.j2", '{% extends "business.md.j2" %}\n')
    result = submitted("notice", PATCH)
    assert result.exit_code == 2
    assert "'builtin/business.md.j2'" in result.stderr


# -- the technical notice of an upcoming patch --------------------------------------------------

def test_the_technical_notice_shows_new_failures_waivers_and_sign_offs(
        rg: Cli, inputs: Path) -> None:
    earlier = "CBS-2026-0001"
    walk_to_prod(rg, inputs, earlier, {**passing("reg", "a", "b"), "reg::c": "failed"},
                 waive=("reg::c",))
    walk_to_test(rg, inputs, PATCH, content=b"payload-2\n")
    record_regression(rg, inputs, PATCH, {"reg::a": "failed", "reg::b": "failed",
                                          **passing("reg", "c", "d")},
                      messages={"reg::a": "balance off by one cent"})
    must(rg, "waive", PATCH, "--env", "prod", "--test", "reg::b", "--reason",
         "vendor defect AFS-7", "--until", "2099-12-31", person="carol")
    must(rg, "signoff", PATCH, "--env", "prod", "--role", "business", person="dave")
    text = notice(rg, PATCH, "--audience", "technical", "--lang", "en")
    digest = rg.json("patch", "show", PATCH)["digest"]
    assert f"- Patch digest: `{digest}`\n" in text
    assert re.search(r"- patch\.tar \(10 bytes\), sha256 `[0-9a-f]{64}`\n", text)
    assert ("Compared with the results of CBS-2026-0001, which left test on " in text)
    assert ("- New failures (passed in the baseline, fail now):\n"
            "  - reg::a — balance off by one cent\n"
            "- Fixed (failed in the baseline, pass now):\n  - reg::c\n") in text
    assert ("- reg::b: waived by Carol Zhang until 1 Jan 2100 00:00 (UTC). Reason: vendor "
            "defect AFS-7\n") in text
    assert "Current verdict: closed; the conditions marked failed must be met first." in text
    assert "- **Failed** · Tests (test: regression*): 1 failed or errored" in text
    assert re.search(r"- business: approved by Dave Chen on \d{1,2} \w{3} \d{4} \d\d:\d\d "
                     r"\(UTC\)\n", text)
    released = notice(rg, earlier, "--audience", "technical", "--lang", "en")
    assert ("- reg::c: waived by Carol Zhang until 1 Jan 2100 00:00 (UTC). Reason: known "
            "vendor defect\n") in released
    assert "No baseline yet: no other patch of this system has left test." in released

    must(rg, "waive", PATCH, "--env", "prod", "--test", "reg::a", "--reason", "accepted",
         "--until", "2099-12-31", person="carol")
    sign_prod_gate(rg, inputs, PATCH)
    must(rg, "promote", PATCH, "--to", "prod")
    later = notice(rg, earlier, "--audience", "technical", "--lang", "en")
    assert "No baseline yet: no other patch of this system has left test." in later, \
        "a later release must not become the baseline of an earlier one"
    shipped = notice(rg, PATCH, "--audience", "technical", "--lang", "en")
    assert "- New failures (passed in the baseline, fail now): none\n" in shipped
    assert "- reg::a: waived by Carol Zhang" in shipped


# -- e-mail ----------------------------------------------------------------------------------------

def test_the_eml_is_a_multipart_alternative_message_in_utf8(demo: Cli, tmp_path: Path) -> None:
    out = tmp_path / "notice.eml"
    result = demo("notice", PATCH, "--format", "eml", "-o", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    raw = out.read_bytes()
    assert raw.isascii() and b"\r\n" in raw
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == ("【已上线】CBS-2026-0042：修复月末最后一天开立账户的利息计提"
                                  "错误")
    assert message["From"] == "releasegate <noreply@releasegate.invalid>"
    assert message["To"] is None
    assert message["MIME-Version"] == "1.0"
    assert message["Date"] and re.fullmatch(r"<[^@\s]+@releasegate\.invalid>",
                                            message["Message-ID"])
    plain, html = list(message.iter_parts())
    assert (plain.get_content_type(), plain.get_content_charset()) == ("text/plain", "utf-8")
    assert (html.get_content_type(), html.get_content_charset()) == ("text/html", "utf-8")
    assert plain.get_content() == notice(demo, PATCH, "--format", "text").replace("\n", "\r\n")
    assert "<h1>修复月末最后一天开立账户的利息计提错误</h1>" in html.get_content()


def test_the_eml_takes_a_sender_and_recipients(demo: Cli) -> None:
    result = demo("notice", PATCH, "--format", "eml", "--lang", "en", "--from",
                  "IT Operations <itops@bank.example>", "--to", "Branches <br@bank.example>",
                  "--to", "ops@bank.example")
    message = email.message_from_bytes(result.stdout_bytes, policy=email.policy.default)
    assert message["From"] == "IT Operations <itops@bank.example>"
    assert message["To"] == "Branches <br@bank.example>, ops@bank.example"
    assert message["Message-ID"].endswith("@bank.example>")
    plain = message.get_body(("plain",))
    assert plain is not None
    assert "Issued by IT Operations <itops@bank.example>." in plain.get_content()


def test_build_email_refuses_what_is_not_an_address(demo: Cli) -> None:
    rendered, _ = notice_for(Ledger(demo.root), PATCH, lang="en")
    message = build_email(rendered, "", ["a@bank.example"])
    assert message["From"] == "releasegate <noreply@releasegate.invalid>"
    with pytest.raises(InputError) as caught:
        build_email(rendered, "releasegate", [])
    assert caught.value.code == "bad-address"
    with pytest.raises(InputError):
        build_email(rendered, "x@bank.example", ["ok@bank.example\r\nBcc: evil@x.example"])


def test_render_notice_gives_every_shape(demo: Cli) -> None:
    rendered, warnings = notice_for(Ledger(demo.root), PATCH, audience="technical",
                                    lang="zh-CN")
    assert warnings == []
    assert (rendered.patch, rendered.kind, rendered.audience, rendered.lang) == (
        PATCH, "released", "technical", "zh-CN")
    assert "\n" not in rendered.subject
    assert rendered.html_fragment.startswith('<article class="rg-notice rg-released" '
                                             'lang="zh-CN">')
    assert rendered.html_fragment.rstrip("\n") in rendered.html
    assert rendered.markdown.startswith("# 修复月末最后一天开立账户的利息计提错误\n")


@pytest.mark.skipif(UPDATE, reason="the golden files are being written")
def test_no_stray_golden_files() -> None:
    names = {p.name for p in GOLDEN.iterdir()}
    assert names == {f"{a}.{lang}.{ext}" for a in ("business", "technical")
                     for lang in ("en", "zh-CN") for ext in FORMATS}
