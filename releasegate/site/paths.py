"""Where each page and feed of the notice board lives, and links between them."""

from __future__ import annotations

import posixpath

MANIFEST = ".releasegate-site.json"
FEED_ENTRIES = 100  # newest notices per feed; older ones stay on the index

def language_root(lang: str, languages: tuple[str, ...]) -> str:
    """The folder of `lang`'s pages: the site root for the first language, else `<lang>/`."""
    return "" if lang == languages[0] else f"{lang}/"


def index_path(lang: str, languages: tuple[str, ...]) -> str:
    return language_root(lang, languages) + "index.html"


def board_path(lang: str, languages: tuple[str, ...]) -> str:
    return language_root(lang, languages) + "board.html"


def patch_path(patch: str, lang: str, languages: tuple[str, ...]) -> str:
    return f"{language_root(lang, languages)}patches/{patch}.html"


def feed_path(system: str | None, lang: str, languages: tuple[str, ...]) -> str:
    """The Atom feed of every system (None) or of one."""
    name = "all.atom" if system is None else f"systems/{system}.atom"
    return f"{language_root(lang, languages)}feeds/{name}"


def relative(target: str, page: str) -> str:
    """The link from the page at `page` to `target`, both relative to the site root."""
    return posixpath.relpath(target, posixpath.dirname(page) or ".")
