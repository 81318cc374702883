"""publish: the notice board as a static site, read as files and in a real browser.

The ledger is the demo's (two patches of core-banking in prod) plus a payments patch
just let into dev, so the board has a change on its way and the index two systems.
Browser tests drive headless Chromium (tests/browser.py) on the files themselves,
opened from disk; .ci/run installs Debian's chromium for them.
"""

from __future__ import annotations

import hashlib
import html
import json
import posixpath
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from releasegate.actions.evidence import fill_checklist
from releasegate.actions.notices import notice_for
from releasegate.actions.patches import submit_patch
from releasegate.actions.promote import promote
from releasegate.actions.publish import publish_site
from releasegate.demo import PATCH, run_demo
from releasegate.ledger.transaction import Ledger
from tests import browser
from tests.helpers import Cli

ATOM = "{http://www.w3.org/2005/Atom}"
PAY = "PAY-2026-0007"
PAY_MANIFEST = """\
id: PAY-2026-0007
system: payments-hub
vendor: Northwind Payments
title:
  en: Earlier cut-off for SEPA batches
  zh-CN: 提前SEPA批量截止时间
summary:
  en: SEPA batches close at 15:30 instead of 16:00.
  zh-CN: SEPA批量改为15:30截止（原为16:00）。
artifacts: [payhub-2.1.tar]
"""
TITLE_ZH = "修复月末最后一天开立账户的利息计提错误"
ANSWERS = {"version-controlled": "yes", "release-note-read": "yes", "risk": "low"}
DEV_REVIEW = {"walkthrough": "yes", "installed-cleanly": "yes",
              "data-migration": {"value": "n/a", "reason": "no data migration"}}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo's folder (ledger and site) with PAY-2026-0007 in dev; read-only."""
    home = tmp_path_factory.mktemp("publish-home")
    (home / ".gitconfig").write_text("[user]\n\tname = Demo\n\temail = demo@test.invalid\n"
                                     "[init]\n\tdefaultBranch = main\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        patch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
        patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        root = tmp_path_factory.mktemp("publish-demo") / "demo"
        ledger = run_demo(root, say=lambda _: None)
        shutil.copytree(root / "ledger", root / "demo-only-ledger", symlinks=True)
        drop = root / "payments-drop"
        drop.mkdir()
        (drop / "manifest.yaml").write_text(PAY_MANIFEST, encoding="utf-8")
        (drop / "payhub-2.1.tar").write_bytes(b"northwind payments hub 2.1\n" * 64)
        submit_patch(ledger, "alice", drop / "manifest.yaml")
        fill_checklist(ledger, "alice", PAY, "intake", "dev", ANSWERS)
        promote(ledger, "alice", PAY, "dev")
        publish_site(ledger, root / "site")
    yield root


@pytest.fixture
def copy(demo: Path, tmp_path: Path) -> Path:
    """A private copy of the demo folder, for tests that record or publish."""
    target = tmp_path / "demo"
    shutil.copytree(demo, target, symlinks=True)
    return target


def site_of(demo: Path) -> Path:
    return demo / "site"


def publish(ledger: Path, folder: Path, *extra: str) -> dict[str, Any]:
    result = Cli(ledger)("publish", str(folder), "--format", "json", *extra)
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def contents(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def html_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.html"))


class References(HTMLParser):
    """Every href and src of a page, and every style attribute."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self.styles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.links.append((tag, value))
            elif name == "style" and value:
                self.styles.append(value)


def references(page: Path) -> References:
    parser = References()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


# -- what is written ----------------------------------------------------------------------

def test_the_site_has_an_index_per_language_a_page_per_patch_the_board_and_feeds(
        demo: Path) -> None:
    files = set(contents(site_of(demo)))
    per_language = {"index.html", "board.html", "feeds/all.atom",
                    "feeds/systems/core-banking.atom", "feeds/systems/payments-hub.atom",
                    *(f"patches/{p}.html" for p in (PATCH, "CBS-2026-0031", PAY))}
    expected = ({*per_language, *(f"en/{p}" for p in per_language)}
                | {"board.json", "static/site.css", "static/site.js", ".releasegate-site.json"})
    assert files == expected
    index = (site_of(demo) / "index.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in index and 'href="en/index.html"' in index
    english = (site_of(demo) / "en" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in english and 'href="../index.html"' in english
    manifest = json.loads((site_of(demo) / ".releasegate-site.json").read_text())
    assert manifest["files"] == sorted(expected - {".releasegate-site.json"})


def test_a_patch_page_shows_the_business_notice_with_the_technical_details_folded(
        demo: Path) -> None:
    ledger = Ledger(demo / "ledger")
    for lang, page in (("zh-CN", f"patches/{PATCH}.html"), ("en", f"en/patches/{PATCH}.html")):
        page_html = (site_of(demo) / page).read_text(encoding="utf-8")
        business, _ = notice_for(ledger, PATCH, audience="business", lang=lang)
        technical, _ = notice_for(ledger, PATCH, audience="technical", lang=lang)
        assert business.html_fragment in page_html
        start = technical.html_fragment.index('<section class="rg-technical">')
        end = technical.html_fragment.index("</section>", start) + len("</section>")
        folded = page_html[page_html.index("<details"):page_html.index("</details>")]
        assert technical.html_fragment[start:end] in folded
        assert business.html_fragment not in folded
        assert f"<title>{business.subject}</title>" in page_html


def test_every_link_and_source_resolves_to_a_file_of_the_site(demo: Path) -> None:
    site = site_of(demo)
    checked = 0
    for page in html_files(site):
        here = page.relative_to(site).parent.as_posix()
        for tag, value in references(page).links:
            if value.startswith(("data:", "#")):
                continue
            assert not re.match(r"^[a-z][a-z0-9+.-]*:|^//|^/", value), (page, value)
            target = posixpath.normpath(posixpath.join(here, value.split("#")[0]
                                                       .split("?")[0]))
            assert not target.startswith(".."), (page, value)
            assert (site / target).is_file(), f"{page.relative_to(site)}: <{tag}> {value}"
            checked += 1
    assert checked > 90  # navigation, languages, stylesheets, scripts, notices, feeds


def test_nothing_on_the_site_refers_outside_it(demo: Path) -> None:
    site = site_of(demo)
    for page in html_files(site):
        found = references(page)
        outside = [v for _, v in found.links if re.match(r"^(https?:)?//", v, re.I)]
        assert outside == [], page
        assert not any("url(" in style for style in found.styles), page
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"<(script|img|iframe|link)[^>]+(src|href)=\"(https?:)?//", text)
    css = (site / "static" / "site.css").read_text(encoding="utf-8")
    assert "url(" not in css and "@import" not in css and "@font-face" not in css
    script = (site / "static" / "site.js").read_text(encoding="utf-8")
    assert not re.search(r"https?://|fetch\(|XMLHttpRequest|import\(", script)
    assert '"Noto Sans CJK SC", "Microsoft YaHei",\n    "PingFang SC"' in css


def test_the_feeds_are_atom_with_stable_ids_times_titles_links_and_html_content(
        demo: Path) -> None:
    site = site_of(demo)
    for path in sorted(site.rglob("*.atom")):
        feed = ET.parse(path).getroot()
        assert feed.tag == f"{ATOM}feed"
        assert feed.findtext(f"{ATOM}id", "").startswith("urn:uuid:")
        assert feed.findtext(f"{ATOM}title") and feed.findtext(f"{ATOM}author/{ATOM}name")
        entries = feed.findall(f"{ATOM}entry")
        assert entries, path
        stamps = [e.findtext(f"{ATOM}updated", "") for e in entries]
        assert feed.findtext(f"{ATOM}updated") == max(stamps)
        assert stamps == sorted(stamps, reverse=True)
        for entry in entries:
            assert entry.findtext(f"{ATOM}id", "").startswith("urn:uuid:")
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z",
                                entry.findtext(f"{ATOM}updated", ""))
            link = entry.find(f"{ATOM}link[@rel='alternate']")
            assert link is not None
            page = posixpath.normpath(posixpath.join(path.parent.relative_to(site).as_posix(),
                                                     link.get("href", "")))
            assert (site / page).is_file()
            content = entry.find(f"{ATOM}content")
            assert content is not None and content.get("type") == "html"
            assert '<article class="rg-notice' in (content.text or "")
            assert entry.findtext(f"{ATOM}title")
    systems = ET.parse(site / "en/feeds/systems/payments-hub.atom").getroot()
    terms = {c.get("term") for c in systems.iter(f"{ATOM}category")}
    assert terms == {"payments-hub"}
    everything = ET.parse(site / "feeds/all.atom").getroot()
    titles = [e.findtext(f"{ATOM}title", "") for e in everything.findall(f"{ATOM}entry")]
    assert len(titles) == 3 and any(TITLE_ZH in t for t in titles)


def test_feed_ids_stay_the_same_between_publishes_and_differ_between_languages(
        copy: Path, tmp_path: Path) -> None:
    publish(copy / "ledger", tmp_path / "again")

    def ids(path: Path) -> list[str]:
        return [e.text or "" for e in ET.parse(path).getroot().iter(f"{ATOM}id")]

    assert ids(site_of(copy) / "feeds/all.atom") == ids(tmp_path / "again/feeds/all.atom")
    assert not set(ids(tmp_path / "again/feeds/all.atom")) & set(
        ids(tmp_path / "again/en/feeds/all.atom"))


def test_the_board_shows_each_environment_and_what_a_patch_on_its_way_waits_for(
        demo: Path) -> None:
    board = (site_of(demo) / "en" / "board.html").read_text(encoding="utf-8")
    state = json.loads((site_of(demo) / "board.json").read_text(encoding="utf-8"))
    prod = next(e for e in state["environments"] if e["name"] == "prod")
    for patch in prod["patches"]:
        assert f"<code class=\"rg-digest\">{patch['digest']}</code>" in board
    way = board[board.index('id="way-PAY-2026-0007"'):]
    way = way[:way.index("</article>")]
    assert "development → test" in way
    dev = next(e for e in state["environments"] if e["name"] == "dev")
    waits = dev["patches"][0]["next"]["waiting_for"]
    assert waits and all(f"<td>{w}</td>" in html.unescape(way) for w in waits)
    assert re.search(r"checklists dev-review: not filled.*?</td><td>Bob Li \(app-owner\), "
                     r"Alice Wang \(release-manager\)</td>", way)
    assert "<td>Bob Li (app-owner)</td>" in way  # who signs off as app-owner


# -- stable and incremental -----------------------------------------------------------

def test_publishing_twice_writes_identical_files_and_nothing_the_second_time(
        copy: Path, tmp_path: Path) -> None:
    first = publish(copy / "ledger", tmp_path / "one")
    before = contents(tmp_path / "one")
    second = publish(copy / "ledger", tmp_path / "one")
    assert first["written"] == len(before) - 1 and first["unchanged"] == 0
    assert (second["written"], second["unchanged"], second["removed"]) == (0, len(before) - 1, 0)
    assert contents(tmp_path / "one") == before
    publish(copy / "ledger", tmp_path / "two")
    assert contents(tmp_path / "two") == before  # nothing depends on where it is written
    assert contents(site_of(copy)) == before  # nor on the cache: the demo rendered anew


def test_one_new_event_rewrites_only_that_patchs_pages_the_indexes_board_and_feeds(
        copy: Path) -> None:
    ledger = Ledger(copy / "ledger")
    before = contents(site_of(copy))
    fill_checklist(ledger, "bob", PAY, "dev-review", "test", DEV_REVIEW)
    done = publish(copy / "ledger", site_of(copy))
    changed = {f"{prefix}{name}" for prefix in ("", "en/")
               for name in (f"patches/{PAY}.html", "index.html", "board.html", "feeds/all.atom",
                            "feeds/systems/payments-hub.atom")} | {"board.json"}
    assert set(done["written_files"]) == changed
    assert (done["rendered"], done["removed"]) == (1, 0)
    after = contents(site_of(copy))
    assert {p for p in after if after[p] != before.get(p)} == changed


def test_files_releasegate_did_not_write_are_never_removed(copy: Path) -> None:
    site = site_of(copy)
    (site / "README.txt").write_text("hosted by the intranet team\n")
    (site / "patches" / "hand-made.html").write_text("<p>kept</p>\n")
    (copy / "outside.txt").write_text("not the site's\n")
    manifest = json.loads((site / ".releasegate-site.json").read_text())
    manifest["files"] += ["../outside.txt", "/etc/hostname", "patches/../../outside.txt"]
    (site / ".releasegate-site.json").write_text(json.dumps(manifest))
    done = publish(copy / "demo-only-ledger", site)  # the ledger without PAY-2026-0007
    assert sorted(done["removed_files"]) == sorted(
        [f"patches/{PAY}.html", f"en/patches/{PAY}.html", "feeds/systems/payments-hub.atom",
         "en/feeds/systems/payments-hub.atom"])
    assert (site / "README.txt").exists() and (site / "patches" / "hand-made.html").exists()
    assert (copy / "outside.txt").exists()
    assert not (site / "patches" / f"{PAY}.html").exists()


def test_a_title_with_markup_is_escaped_on_every_page_and_in_the_feeds(
        copy: Path, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "x.tar").write_bytes(b"x\n")
    (drop / "m.yaml").write_text(
        "id: CBS-2026-0099\nsystem: core-banking\nvendor: Acme <b>FinSoft</b>\n"
        "title: '<script>alert(\"rg\")</script> & <img src=x onerror=alert(1)>'\n"
        "artifacts: [x.tar]\n", encoding="utf-8")
    submit_patch(Ledger(copy / "ledger"), "alice", drop / "m.yaml")
    publish(copy / "ledger", site_of(copy))
    for page in html_files(site_of(copy)):
        text = page.read_text(encoding="utf-8")
        assert "<script>alert" not in text and "<img src=x" not in text, page
        assert "<b>FinSoft" not in text, page
    index = (site_of(copy) / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#34;rg&#34;)&lt;/script&gt; &amp; &lt;img" in index
    feed = ET.parse(site_of(copy) / "feeds/all.atom").getroot()
    entry = next(e for e in feed.iter(f"{ATOM}entry")
                 if "CBS-2026-0099" in (e.findtext(f"{ATOM}title") or ""))
    assert '<script>alert("rg")</script>' in (entry.findtext(f"{ATOM}title") or "")
    content = entry.findtext(f"{ATOM}content") or ""
    assert "&lt;script&gt;" in content and "<script>" not in content


# -- the command ------------------------------------------------------------------------

def test_publish_prints_the_index_and_the_counts(copy: Path, tmp_path: Path) -> None:
    result = Cli(copy / "ledger")("publish", str(tmp_path / "board"))
    assert result.exit_code == 0, result.output
    index, counts = result.stdout.splitlines()
    assert index == str((tmp_path / "board" / "index.html").resolve())
    assert re.fullmatch(r"19 written, 0 unchanged, 0 removed \(3 patches in zh-CN and en; "
                        r"0 rendered anew\)", counts)


def test_an_unwritable_folder_exits_2_with_a_message_saying_so(copy: Path,
                                                               tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    rg = Cli(copy / "ledger")
    result = rg("publish", str(blocker / "site"))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {blocker / 'site'}: cannot write the notice "
                                    "board here: Not a directory\n")
    assert "hint: choose a folder you may write to" in result.stderr
    doc = json.loads(rg("publish", str(blocker), "--format", "json").stdout)
    assert doc["error"]["code"] == "unwritable-dir" and doc["error"]["exit_status"] == 2
    assert doc["error"]["message"] == "cannot write the notice board here: it is a file"
    assert doc["error"]["file"] == str(blocker)


def test_the_demo_publishes_the_site_and_shows_the_business_notice_in_both_languages(
        tmp_path: Path) -> None:
    said: list[str] = []
    run_demo(tmp_path / "d", say=said.append)
    text = "\n".join(said)
    assert str((tmp_path / "d" / "site" / "index.html").resolve()) in text
    assert (tmp_path / "d" / "site" / "en" / f"patches/{PATCH}.html").is_file()
    assert f"# {TITLE_ZH}" in text
    assert "# Fix interest accrual on accounts opened on the last day of a month" in text
    assert "\n\n\n" not in text[text.index("== 9."):]


# -- in a browser ------------------------------------------------------------------------

@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[browser.Browser]:
    with browser.chromium(tmp_path / "chromium.log") as running:
        yield running


def url(site: Path, page: str) -> str:
    """The file:// address of a page of the site, with its query if any."""
    path, mark, query = page.partition("?")
    return (site / path).as_uri() + mark + query


def test_pages_load_from_disk_without_failed_requests_or_console_errors(
        demo: Path, chromium: browser.Browser) -> None:
    page = chromium.new_page()
    site = site_of(demo)
    for name in ("index.html", "en/index.html", "board.html", "en/board.html",
                 f"patches/{PATCH}.html", f"en/patches/{PAY}.html"):
        page.open(url(site, name))
        assert page.problems() == [], name
        requested = page.requests()
        assert requested and all(r.startswith("file://") for r in requested), requested
        top = "getComputedStyle(document.querySelector('.rg-top')).backgroundColor"
        assert page.evaluate(top) == "rgb(17, 24, 39)", name  # the stylesheet applies


def test_the_filters_and_search_hide_rows_and_without_script_all_rows_show(
        demo: Path, chromium: browser.Browser) -> None:
    page = chromium.new_page()
    shown = "Array.from(document.querySelectorAll('tr[data-rg-row]:not([hidden])'))" \
            ".map(r => r.querySelector('.rg-id').textContent).sort().join(' ')"
    page.open(url(demo / "site", "index.html?system=payments-hub"))
    assert page.evaluate(shown) == PAY
    assert page.evaluate("document.getElementById('rg-filters').hidden") is False
    assert page.evaluate("document.getElementById('rg-count').textContent") == "显示 1 / 3 条"
    page.open(url(demo / "site", "en/index.html?env=prod"))
    assert page.evaluate(shown) == f"CBS-2026-0031 {PATCH}"
    page.open(url(demo / "site", "index.html"))
    assert page.evaluate(shown) == f"CBS-2026-0031 {PATCH} {PAY}"
    search = ("(() => { const q = document.querySelector('input[name=q]'); q.value = '利息';"
              " q.dispatchEvent(new Event('input', {bubbles: true})); return 0; })()")
    page.evaluate(search)
    assert page.evaluate(shown) == PATCH
    page.evaluate("(() => { const q = document.querySelector('input[name=q]'); "
                  "q.value = 'no such thing'; q.dispatchEvent(new Event('input', "
                  "{bubbles: true})); return 0; })()")
    assert page.evaluate(shown) == ""
    assert page.evaluate("document.getElementById('rg-no-match').hidden") is False
    page.call("Emulation.setScriptExecutionDisabled", value=True)
    page.open(url(demo / "site", "index.html?system=payments-hub"))
    assert page.evaluate(shown) == f"CBS-2026-0031 {PATCH} {PAY}"
    assert page.evaluate("document.getElementById('rg-filters').hidden") is True


def test_chinese_text_renders_and_screenshots_show_the_pages(
        demo: Path, chromium: browser.Browser, tmp_path: Path) -> None:
    page = chromium.new_page()
    page.open(url(demo / "site", "index.html"), 1280, 900)
    assert TITLE_ZH in page.evaluate("document.body.innerText")
    assert page.evaluate("document.querySelector('h1').getBoundingClientRect().width") > 50
    index = browser.read_png(page.screenshot(tmp_path / "index.png"))
    assert (index.width, index.height) == (1280, 900) and index.byte_values > 100
    page.open(url(demo / "site", f"patches/{PATCH}.html"), 1280, 900)
    assert page.evaluate("document.querySelector('.rg-notice h1').textContent") == TITLE_ZH
    notice = browser.read_png(page.screenshot(tmp_path / "patch.png"))
    assert (notice.width, notice.height) == (1280, 900) and notice.byte_values > 100
    assert hashlib.sha256((tmp_path / "index.png").read_bytes()).digest() != \
        hashlib.sha256((tmp_path / "patch.png").read_bytes()).digest()


def test_on_a_phone_nothing_is_wider_than_the_screen(demo: Path,
                                                     chromium: browser.Browser,
                                                     tmp_path: Path) -> None:
    page = chromium.new_page()
    for name in ("index.html", "en/board.html", f"en/patches/{PATCH}.html"):
        page.open(url(demo / "site", name), 390, 844, mobile=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
        assert page.evaluate("window.innerWidth") == 390
    phone = browser.read_png(page.screenshot(tmp_path / "phone.png"))
    assert (phone.width, phone.height) == (390, 844)


def test_printing_hides_the_filters_and_unfolds_the_technical_details(
        demo: Path, chromium: browser.Browser) -> None:
    page = chromium.new_page()
    page.open(url(demo / "site", f"en/patches/{PATCH}.html"))
    visible = "document.querySelector('.rg-technical h2').checkVisibility()"
    assert page.evaluate(visible) is False
    page.call("Emulation.setEmulatedMedia", media="print")
    assert page.evaluate(visible) is True
    assert page.evaluate("getComputedStyle(document.querySelector('.rg-top')).display") == "none"
    page.open(url(demo / "site", "en/index.html"))
    assert page.evaluate(
        "getComputedStyle(document.getElementById('rg-filters')).display") == "none"
