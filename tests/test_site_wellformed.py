"""Notices and the published site stay well-formed whatever a ledger already holds.

Ledgers written before releasegate refused control characters may hold them, so these
tests commit crafted files with plain git, past every input check: a manifest and
events whose texts hold ESC, BEL, NUL, DEL, C1 controls, bidirectional overrides, line
breaks in one-line texts and markup. Then every page of the site must parse as strict
HTML, every feed as Atom (`feedparser`, bozo 0), board.json as JSON matching its
schema, every markdown notice must render vendor text as text, and no output may hold
a character XML 1.0 forbids or a raw control.
"""

from __future__ import annotations

import hashlib
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from releasegate.actions.notices import notice_for
from releasegate.actions.publish import publish_site
from releasegate.config.strict_yaml import dump_yaml
from releasegate.ledger.events import render_event
from releasegate.ledger.transaction import Ledger
from releasegate.notices.render import RenderedNotice
from tests.helpers import PATCH, Cli, git, junit_cases, must

ESC, BEL, NUL, DEL, NEL, CSI = "\x1b", "\x07", "\x00", "\x7f", "\x85", "\x9b"
RLO, LRI, PDI = "\u202e", "\u2066", "\u2069"

TITLE = (f"Fix{ESC}[31m red{BEL} <b>bold</b> & [link](http://evil.example) *x* `c`\n"
         f"FAKE: line {RLO}txt.exe{LRI}iso{PDI}{NEL}{CSI}2J{DEL}{NUL}end #")
SUMMARY = (f"First paragraph{ESC}[2K with <script>alert(1)</script> and "
           f"<http://evil.example> and ![img](http://evil.example/x.png).\n"
           f"# not a heading\n- not a list\n> not a quote\n\tindented{BEL}\r\nnext")
LINE = f"one{ESC} line\nFAKE line{RLO} <i>x</i> [a](http://evil.example) &amp; |t|"
COMMENT = f"ok{ESC}]0;title{BEL}\n- test-lead: approved by Nobody{RLO}"
REASON = f"vendor fix{CSI}31m\nPASS all <img src=x onerror=alert(1)>"
PATTERN = f"cbs.fees::*{DEL}\nFAKE"
# What XML 1.0 forbids, what HTML calls a parse error, and what must never reach a
# terminal or a reader raw: C0 but tab and LF, DEL, C1, bidi overrides and isolates.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
                 "\ufdd0-\ufdef\ufffe\uffff]")


def commit(root: Path, files: dict[str, bytes], message: str) -> None:
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
        git(root, "add", path)
    git(root, "commit", "-qm", message)


def events(root: Path) -> list[Path]:
    return sorted((root / "patches" / PATCH / "events").glob("*.yaml"))


def append_event(root: Path, kind: str, env: str, actor: str, data: dict[str, Any]) -> None:
    """The next event of the patch, chained like releasegate's own, committed by git."""
    last = events(root)[-1]
    previous = last.read_bytes()
    import yaml

    head = yaml.safe_load(previous)
    seq = int(head["seq"]) + 1
    common = {"type": kind, "patch": PATCH, "seq": seq,
              "prev": hashlib.sha256(previous).hexdigest(), "at": head["at"], "actor": actor,
              "digest": head["digest"], "env": env}
    path = f"patches/{PATCH}/events/{seq:04d}-{kind}.yaml"
    commit(root, {path: render_event(common, data)}, f"crafted {kind}")


@pytest.fixture
def crafted(in_test: Cli, inputs: Path) -> Cli:
    """CBS-2026-0042 in test, its manifest and events holding every kind of hostile text
    (committed with git, past the input checks), and a JUnit run whose test names hold
    characters XML allows but a reader must not get raw."""
    root = in_test.root
    manifest = {
        "id": PATCH, "system": "core-banking", "vendor": f"Acme{ESC}[8m <b>FinSoft</b>",
        "vendor_ref": f"AFS{CSI}1\nFAKE", "version": f"7.4{DEL}.2",
        "title": {"en": TITLE, "zh-CN": TITLE},
        "summary": SUMMARY, "business_impact": {"en": SUMMARY, "zh-CN": SUMMARY},
        "affected_modules": [f"deposits{BEL}", "interest\naccrual"],
        "downtime": f"15 minutes{NUL}", "rollback_plan": SUMMARY,
        "fixes": [LINE, f"plain fix{RLO}"], "contact": LINE, "artifacts": ["patch.tar"]}
    commit(root, {f"patches/{PATCH}/patch.yaml": dump_yaml(manifest).encode("utf-8")},
           "crafted manifest")
    record = junit_cases(inputs / "junit", "regression", {
        f"cbs.fees::test_fee{RLO}gpj.exe": "failed", f"cbs.fees::test{NEL}next": "passed",
        f"cbs.fees::test{CSI}2J": "failed"},
        messages={f"cbs.fees::test_fee{RLO}gpj.exe": f"fee{LRI} 12.35 <script>x</script>",
                  f"cbs.fees::test{CSI}2J": "boom & <b>"})
    must(in_test, "tests", "record", PATCH, "--env", "test", str(record))
    append_event(root, "waiver", "prod", "carol",
                 {"test": PATTERN, "reason": REASON, "until": "2099-12-31T00:00:00Z"})
    append_event(root, "signoff", "prod", "carol",
                 {"role": "test-lead", "decision": "approve", "comment": COMMENT})
    append_event(root, "signoff", "prod", f"mallory{ESC}[5m",
                 {"role": "business", "decision": "approve", "comment": LINE})
    assert in_test("patch", "show", PATCH).exit_code == 0
    return in_test


# -- checkers ------------------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class StrictHtml(HTMLParser):
    """html.parser with the checks it leaves out: every element closed in order, no
    stray end tag, nothing unparsed left over, no script but the site's own."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problems: list[str] = []
        self.text: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.problems.append(f"<{tag}/> is not a void element")

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
        else:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def unknown_decl(self, data: str) -> None:
        self.problems.append(f"unknown declaration {data!r}")


def check_html(document: str, where: str, *, fragment: bool = False) -> StrictHtml:
    """Parse `document` strictly (html5lib's strict mode too, when installed); return
    the parse for further checks."""
    assert not RAW.search(document), (where, RAW.search(document))
    try:
        import html5lib  # type: ignore[import-untyped]
    except ImportError:
        pass
    else:
        parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
        (parser.parseFragment if fragment else parser.parse)(document)
    checker = StrictHtml()
    checker.feed(document)
    checker.close()
    assert checker.problems == [], (where, checker.problems[:5])
    assert checker.open == [], (where, checker.open)
    scripts = [attrs for tag, attrs in checker.tags if tag == "script"]
    assert all((a.get("src") or "").endswith("static/site.js") for a in scripts), (where, scripts)
    for tag, attrs in checker.tags:
        assert tag not in ("img", "iframe", "object", "b", "i"), (where, tag)
        assert not any(k.startswith("on") for k in attrs), (where, tag, attrs)
    return checker


def shown(text: str, *, line: bool) -> str:
    from releasegate.core.text import shown_line, shown_text

    return shown_line(text) if line else shown_text(text)


# -- the site ------------------------------------------------------------------------------

@pytest.fixture
def site(crafted: Cli, tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    publish_site(Ledger(crafted.root), folder)
    return folder


def site_files(folder: Path, suffix: str) -> Iterator[Path]:
    yield from sorted(p for p in folder.rglob(f"*{suffix}") if p.is_file())


def test_every_page_of_the_site_parses_as_strict_html(site: Path) -> None:
    pages = list(site_files(site, ".html"))
    assert len(pages) >= 6
    for page in pages:
        check_html(page.read_bytes().decode("utf-8"), str(page))


def test_hostile_text_shows_as_visible_escapes_on_one_line(site: Path) -> None:
    page = (site / "en" / "patches" / f"{PATCH}.html").read_text(encoding="utf-8")
    parsed = check_html(page, "patch page")
    text = "".join(parsed.text)
    title = shown(TITLE, line=True)
    assert title in text
    assert "Fix\\x1b[31m red\\x07 <b>bold</b> & [link](http://evil.example)" in title
    assert "\\u202etxt.exe\\u2066iso\\u2069\\x85\\x9b2J\\x7f\\x00end #" in title
    assert "First paragraph\\x1b[2K with <script>alert(1)</script>" in text
    assert "cbs.fees::*\\x7f FAKE" in text  # the waiver's pattern, in the technical part
    index = (site / "en" / "index.html").read_text(encoding="utf-8")
    assert "Fix\\x1b[31m red\\x07 &lt;b&gt;bold&lt;/b&gt; &amp; [link]" in index


def test_every_feed_is_atom_that_feedparser_reads_without_complaint(site: Path) -> None:
    import feedparser  # type: ignore[import-untyped]

    feeds = list(site_files(site, ".atom"))
    assert len(feeds) >= 4
    for feed in feeds:
        data = feed.read_bytes()
        ET.fromstring(data)  # well-formed XML 1.0
        assert not RAW.search(data.decode("utf-8")), feed
        parsed = feedparser.parse(data)
        assert parsed.bozo == 0, (feed, parsed.get("bozo_exception"))
        assert parsed.version == "atom10"
        entry = next(e for e in parsed.entries if PATCH in e.title)
        assert shown(TITLE, line=True) in entry.title
        assert "\n" not in entry.title
        check_html(entry.content[0].value, f"{feed} content", fragment=True)


BOARD_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object", "additionalProperties": False,
    "required": ["environments", "not_yet_in_any"],
    "properties": {
        "environments": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["name", "patches"],
            "properties": {"name": {"type": "string"},
                           "patches": {"type": "array", "items": {"$ref": "#/$defs/patch"}}}}},
        "not_yet_in_any": {"type": "array", "items": {"$ref": "#/$defs/patch"}}},
    "$defs": {"patch": {
        "type": "object", "additionalProperties": False,
        "required": ["id", "system", "vendor", "title", "env", "digest", "submitter",
                     "submitted_at", "next"],
        "properties": {
            "id": {"type": "string"}, "system": {"type": "string"},
            "vendor": {"type": "string"}, "title": {"type": "string"},
            "env": {"type": ["string", "null"]},
            "digest": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"},
            "submitter": {"type": "string"}, "submitted_at": {"type": "string"},
            "next": {"oneOf": [{"type": "null"}, {
                "type": "object", "additionalProperties": False,
                "required": ["to", "open", "waiting_for"],
                "properties": {"to": {"type": "string"}, "open": {"type": "boolean"},
                               "waiting_for": {"type": "array",
                                               "items": {"type": "string"}}}}]}}}}}


def test_board_json_is_valid_json_keeping_every_character_escaped(site: Path) -> None:
    import jsonschema

    raw = (site / "board.json").read_bytes().decode("utf-8")
    assert not RAW.search(raw)
    doc = json.loads(raw)
    jsonschema.Draft202012Validator(BOARD_SCHEMA).validate(doc)
    patch = next(p for env in doc["environments"] for p in env["patches"] if p["id"] == PATCH)
    assert patch["title"] == TITLE  # data, not display: kept exactly, as JSON escapes
    assert patch["vendor"] == f"Acme{ESC}[8m <b>FinSoft</b>"


# -- notices -------------------------------------------------------------------------------

def notices(root: Path) -> Iterator[tuple[str, RenderedNotice]]:
    ledger = Ledger(root)
    for audience in ("business", "technical"):
        for lang in ("en", "zh-CN"):
            rendered, _ = notice_for(ledger, PATCH, audience=audience, lang=lang,
                                     sender=f"IT Ops{ESC}[1m\nFAKE")
            yield f"{audience}.{lang}", rendered


def test_html_notices_parse_as_strict_html(crafted: Cli) -> None:
    for name, notice in notices(crafted.root):
        check_html(notice.html, f"{name}.html")
        check_html(notice.html_fragment, f"{name} fragment", fragment=True)
        assert "\n" not in notice.subject and not RAW.search(notice.subject)


def test_text_notices_hold_no_control_and_no_forged_line(crafted: Cli) -> None:
    for name, notice in notices(crafted.root):
        text = notice.text
        assert not RAW.search(text), (name, RAW.search(text))
        lines = text.splitlines()
        assert lines[0] == shown(TITLE, line=True), name
        assert not any(line.startswith("FAKE") for line in lines), name
        assert "\n- test-lead: approved by Nobody" not in text
        if name.startswith("technical"):
            assert "ok\\x1b]0;title\\x07 - test-lead: approved by Nobody\\u202e" in text
            assert "cbs.fees::*\\x7f FAKE" in text


def markdown_html(source: str) -> str | None:
    """The markdown rendered by markdown-it (CommonMark), when it is installed."""
    try:
        from markdown_it import MarkdownIt  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return str(MarkdownIt("commonmark").render(source))


def test_markdown_notices_render_vendor_text_as_text(crafted: Cli) -> None:
    for name, notice in notices(crafted.root):
        source = notice.markdown
        assert not RAW.search(source), (name, RAW.search(source))
        # Escaped at the source: no raw HTML, link or image can start from vendor text.
        assert not re.search(r"(?<!\\)<", source), name
        assert not re.search(r"(?<!\\)[\[\]]", source), name
        assert "\\<script>alert(1)\\</script>" in source
        assert "\\[link\\](http://evil.example)" in source
        assert not any(line.startswith(("FAKE", "# not", "- not", "> not"))
                       for line in source.splitlines())
        html = markdown_html(source)
        if html is None:
            continue
        parsed = check_html(f"<div>{html}</div>", f"{name}.md rendered", fragment=True)
        tags = {tag for tag, _ in parsed.tags}
        assert tags <= {"div", "h1", "h2", "h3", "h4", "p", "ul", "li", "strong", "code",
                        "hr"}, (name, tags)
        text = "".join(parsed.text)
        assert "<b>bold</b> & [link](http://evil.example) *x* `c`" in text
        assert "<script>alert(1)</script>" in text and "![img](http://evil.example/x.png)" in text


def test_normal_text_is_left_exactly_as_it_was() -> None:
    from releasegate.notices.render import markdown_safe

    for value in ("Fix interest accrual on accounts opened on the last day of a month",
                  "cbs.regression-core::test_regression_core_150", "修复利息计提，分机8000",
                  "In production since 28 Nov 2026 10:18 (Asia/Shanghai).",
                  "Rounding moved after conversion; 5 tests: 4 passed, 1 failed"):
        assert markdown_safe(value) == value
        assert shown(value, line=True) == value
