"""Laying the site's pages out with jinja2, and the notices they embed.

Each publish compiles every template once: the site's own (shipped in the package,
`releasegate/site/templates/`) and the notices' (which a ledger may override). Pages
are HTML-escaped throughout; a notice's body arrives already escaped by its template.
Every link is relative to the page it is on, so the site opens from disk as well as
from a web server. No page, feed or board.json carries a control character a ledger
may hold: pages and feeds show it as a visible escape (`\x1b`), board.json as a JSON
escape, so that its data stay exact.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from releasegate import __version__
from releasegate.core.model import Pipeline
from releasegate.core.state import PatchState
from releasegate.core.text import escape_refused
from releasegate.notices.catalogue import phrase
from releasegate.notices.context import NoticeContext, Report
from releasegate.site.feeds import Feed, FeedEntry, build_feed
from releasegate.site.paths import (
    FEED_ENTRIES,
    board_path,
    feed_path,
    index_path,
    patch_path,
    relative,
)
from releasegate.site.rows import (
    Column,
    OnTheWay,
    Row,
    columns,
    index_rows,
    latest_stamp,
    local_time,
    on_the_way,
)

if TYPE_CHECKING:
    from releasegate.core.board import Board
    from releasegate.ledger.snapshot import Snapshot

STATIC = ("site.css", "site.js")
_TECHNICAL = '<section class="rg-technical">'
_SECTION_TAG = re.compile(r"<(/?)section\b[^>]*>", re.IGNORECASE)


@dataclass(frozen=True)
class NoticeHtml:
    """A patch's notice in one language: its subject and the two audiences' bodies."""

    subject: str
    business: str
    technical: str


@dataclass(frozen=True)
class PatchPage:
    """A patch's page in one language, with what its feed entry needs."""

    html: bytes
    subject: str
    business: str


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    path: str  # the same page in this language, relative to the site root


class SiteRenderer:
    """The site's templates and the notices' templates, compiled once per publish."""

    def __init__(self, snap: Snapshot | None, pipeline: Pipeline) -> None:
        import jinja2

        from releasegate.notices.render import NoticeTemplates

        self.pipeline = pipeline
        self.languages = pipeline.notice_settings().languages
        # render_notice builds its jinja2 environment anew for every notice (about
        # 25 ms each); sharing one across a publish compiles each template once.
        self._notices = NoticeTemplates(snap)
        self._env = jinja2.Environment(
            loader=jinja2.FunctionLoader(_load_template), undefined=jinja2.StrictUndefined,
            autoescape=True, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)

    # -- notices --------------------------------------------------------------------

    def notice(self, state: PatchState, report: Report | None, *, lang: str,
               kind: str) -> NoticeHtml:
        """The patch's business notice and the technical part of its technical one."""
        from releasegate.notices.context import build_context

        business = build_context(self.pipeline, state, None, audience="business",
                                 lang=lang, kind=kind)
        technical = build_context(self.pipeline, state, report, audience="technical",
                                  lang=lang, kind=kind)
        return NoticeHtml(subject=business.subject,
                          business=self._fragment("business", business, lang),
                          technical=technical_part(self._fragment("technical", technical,
                                                                  lang)))

    def _fragment(self, audience: str, notice: NoticeContext, lang: str) -> str:
        from releasegate.notices.render import tidy, translator

        values = {"notice": notice, "t": translator(lang)}
        return tidy(self._notices.render("html", f"{audience}.html.j2", values))

    # -- pages ----------------------------------------------------------------------

    def patch_page(self, state: PatchState, notice: NoticeHtml, lang: str) -> bytes:
        """A patch's page: the business notice, the technical details folded below."""
        from markupsafe import Markup

        path = patch_path(state.id, lang, self.languages)
        return self._page("patch.html.j2", path, lang,
                          lambda other: patch_path(state.id, other, self.languages),
                          subject=notice.subject, business=Markup(notice.business),
                          technical=Markup(notice.technical))

    def index_page(self, rows: list[Row], lang: str, *, systems: list[str],
                   latest: str | None) -> bytes:
        """The list of every notice, newest first, with its filters and feeds."""
        envs = [(name, label) for name, label in _env_choices(self.pipeline, lang)
                if any(r.env == name for r in rows)]
        feeds = [(system, feed_path(system, lang, self.languages))
                 for system in [None, *systems]]
        return self._page("index.html.j2", index_path(lang, self.languages), lang,
                          lambda other: index_path(other, self.languages), rows=rows,
                          systems=systems, envs=envs, latest=latest, feeds=feeds,
                          patch_href=lambda pid: patch_path(pid, lang, self.languages))

    def board_page(self, columns: list[Column], waiting: list[OnTheWay], lang: str) -> bytes:
        """What each environment holds and what each change on its way waits for."""
        return self._page("board.html.j2", board_path(lang, self.languages), lang,
                          lambda other: board_path(other, self.languages), columns=columns,
                          waiting=waiting,
                          patch_href=lambda pid: patch_path(pid, lang, self.languages))

    def _page(self, template: str, path: str, lang: str, same_page: Callable[[str], str],
              **values: Any) -> bytes:
        from releasegate.notices.render import tidy

        common = {
            "lang": lang, "page": path, "timezone": self.pipeline.timezone,
            "t": lambda key, **v: phrase(lang, key, **v),
            "url": lambda target: relative(target, path),
            "home": index_path(lang, self.languages),
            "board": board_path(lang, self.languages),
            "languages": [Language(code, phrase(code, f"lang.{code}"), same_page(code))
                          for code in self.languages]}
        html = self._env.get_template(template).render({**common, **values})
        return tidy(html).encode("utf-8")


def _env_choices(pipeline: Pipeline, lang: str) -> list[tuple[str, str]]:
    from releasegate.notices.catalogue import env_name

    return [*((n, env_name(lang, n)) for n in pipeline.env_names),
            ("", phrase(lang, "env.none"))]


def technical_part(fragment: str) -> str:
    """The technical section of a technical notice's body (its business part repeats
    the notice above it); the whole body when a ledger's template has no such section."""
    start = fragment.find(_TECHNICAL)
    if start < 0:
        return fragment
    depth = 0
    for tag in _SECTION_TAG.finditer(fragment, start):
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            return fragment[start:tag.end()] + "\n"
    return fragment


# -- the whole site ---------------------------------------------------------------------

def site_files(renderer: SiteRenderer, board: Board, pages: dict[tuple[str, str], PatchPage],
               ledger_id: str) -> dict[str, bytes]:
    """Every file of the site by its path: static files, and per language the index,
    the board, the patch pages and the feeds; `board.json` once."""
    from releasegate.core.board import board_json

    files = static_files()
    states = [view.state for view in board.patches]
    for lang in renderer.languages:
        files.update(_language_files(renderer, board, pages, lang, ledger_id))
        files.update({patch_path(s.id, lang, renderer.languages): pages[(s.id, lang)].html
                      for s in states})
    doc = escape_refused(json.dumps(board_json(board), ensure_ascii=False, indent=2),
                         json_escape)
    files["board.json"] = doc.encode("utf-8") + b"\n"
    return files


def json_escape(char: str) -> str:
    """`char` as a JSON string escape: `\u001b`, or a surrogate pair beyond the BMP."""
    if ord(char) < 0x10000:
        return f"\\u{ord(char):04x}"
    pair = char.encode("utf-16-be")
    return "".join(f"\\u{int.from_bytes(pair[i:i + 2], 'big'):04x}" for i in (0, 2))


def _language_files(renderer: SiteRenderer, board: Board,
                    pages: dict[tuple[str, str], PatchPage], lang: str,
                    ledger_id: str) -> dict[str, bytes]:
    from releasegate.notices.context import default_kind

    pipeline, languages = renderer.pipeline, renderer.languages
    states = [view.state for view in board.patches]
    kinds = {s.id: default_kind(pipeline, s) for s in states}
    rows = index_rows(pipeline, states, kinds, lang)
    systems = sorted({r.system for r in rows})
    latest = local_time(pipeline, rows[0].updated) if rows else None
    files = {
        index_path(lang, languages): renderer.index_page(rows, lang, systems=systems,
                                                          latest=latest),
        board_path(lang, languages): renderer.board_page(columns(board, lang),
                                                          on_the_way(board, lang), lang)}
    by_id = {s.id: s for s in states}
    for system in [None, *systems]:
        chosen = [r for r in rows if system is None or r.system == system][:FEED_ENTRIES]
        path = feed_path(system, lang, languages)
        entries = [_feed_entry(by_id[r.patch], r, pages[(r.patch, lang)], path, renderer,
                               lang) for r in chosen]
        files[path] = build_feed(_feed(system, lang, path, renderer), entries, ledger_id)
    return files


def _feed(system: str | None, lang: str, path: str, renderer: SiteRenderer) -> Feed:
    title = (phrase(lang, "feed.title.all") if system is None
             else phrase(lang, "feed.title.system", system=system))
    return Feed(key="all" if system is None else f"system:{system}", lang=lang, title=title,
                author=phrase(lang, "site.author"),
                index_href=relative(index_path(lang, renderer.languages), path),
                self_href=relative(path, path))


def _feed_entry(state: PatchState, row: Row, page: PatchPage, path: str,
                renderer: SiteRenderer, lang: str) -> FeedEntry:
    return FeedEntry(patch=state.id, kind=row.kind, system=row.system, title=page.subject,
                     updated=latest_stamp(state), published=state.events[0].at,
                     href=relative(patch_path(state.id, lang, renderer.languages), path),
                     html=page.business)


# -- package files ---------------------------------------------------------------------

def _load_template(name: str) -> str | None:
    resource = resources.files("releasegate.site") / "templates" / name
    return resource.read_text(encoding="utf-8") if resource.is_file() else None


def static_files() -> dict[str, bytes]:
    """The stylesheet and script every page links to, by their path in the site."""
    folder = resources.files("releasegate.site") / "static"
    return {f"static/{name}": (folder / name).read_bytes() for name in STATIC}


@lru_cache(maxsize=1)
def renderer_fingerprint() -> str:
    """What a cached page depends on besides the ledger: this releasegate's version,
    templates, stylesheet, script and phrases."""
    from releasegate.notices.catalogue import PHRASES

    digest = hashlib.sha256(__version__.encode())
    for package in ("releasegate.site", "releasegate.notices"):
        for folder in ("templates", "static", ""):
            base = resources.files(package) / folder if folder else resources.files(package)
            if base.is_dir():
                for item in sorted(base.iterdir(), key=lambda i: i.name):
                    if item.is_file() and (folder or item.name.endswith(".py")):
                        digest.update(item.name.encode() + b"\0" + item.read_bytes())
    # How values are made display text decides every page too.
    digest.update((resources.files("releasegate.core") / "text.py").read_bytes())
    digest.update(json.dumps(PHRASES, sort_keys=True).encode())
    return digest.hexdigest()
