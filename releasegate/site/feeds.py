"""Atom 1.0 feeds of the notices: one of every system, and one per system.

Built with ElementTree from values releasegate holds (nothing untrusted is parsed);
a character XML 1.0 forbids, or any other control character, is written as a visible
escape (`\x1b`), so that every feed stays well-formed.
Ids are UUID URNs derived from the ledger's first commit, so they stay the same
from one publish to the next and differ between ledgers; times are the events'
own, so an unchanged ledger gives byte-identical feeds. Links are relative to the
feed, as Atom allows.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from releasegate.core.text import shown_line, shown_text

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
EMPTY_FEED_UPDATED = "1970-01-01T00:00:00Z"


@dataclass(frozen=True)
class FeedEntry:
    """A notice as a feed carries it."""

    patch: str
    kind: str
    system: str
    title: str
    updated: str  # RFC 3339, UTC
    published: str
    href: str  # the patch's page, relative to the feed
    html: str  # the notice's body


@dataclass(frozen=True)
class Feed:
    key: str  # "all", or "system:<name>"
    lang: str
    title: str
    author: str
    index_href: str  # the index page, relative to the feed
    self_href: str


def stable_id(ledger_id: str, *parts: str) -> str:
    """A URN that names the same thing in every publish of this ledger."""
    name = "/".join(("releasegate", ledger_id, *parts))
    return uuid.uuid5(uuid.NAMESPACE_URL, name).urn


def build_feed(feed: Feed, entries: Sequence[FeedEntry], ledger_id: str) -> bytes:
    """The Atom document of `entries` (newest first, as given)."""
    # Plain tag names under a default namespace declared by hand: ElementTree would
    # otherwise invent a prefix (ns0:) for every element.
    root = ET.Element("feed", {"xmlns": ATOM, XML_LANG: feed.lang})
    _text(root, "id", stable_id(ledger_id, "feed", feed.key, feed.lang))
    _text(root, "title", feed.title)
    _text(root, "updated", max((e.updated for e in entries), default=EMPTY_FEED_UPDATED))
    author = ET.SubElement(root, "author")
    _text(author, "name", feed.author)
    _link(root, "self", feed.self_href, "application/atom+xml")
    _link(root, "alternate", feed.index_href, "text/html")
    _text(root, "generator", "releasegate")
    for entry in entries:
        _entry(root, entry, feed.lang, ledger_id)
    ET.indent(root)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body + b"\n"


def _entry(root: ET.Element, entry: FeedEntry, lang: str, ledger_id: str) -> None:
    node = ET.SubElement(root, "entry")
    _text(node, "id", stable_id(ledger_id, "notice", entry.patch, entry.kind, lang))
    _text(node, "title", entry.title)
    _text(node, "updated", entry.updated)
    _text(node, "published", entry.published)
    _link(node, "alternate", entry.href, "text/html")
    ET.SubElement(node, "category", {"term": shown_line(entry.system)})
    content = _text(node, "content", entry.html)
    content.set("type", "html")


def _text(parent: ET.Element, tag: str, value: str) -> ET.Element:
    node = ET.SubElement(parent, tag)
    node.text = shown_text(value)
    return node


def _link(parent: ET.Element, rel: str, href: str, media: str) -> None:
    ET.SubElement(parent, "link", {"rel": rel, "type": media, "href": shown_line(href)})
