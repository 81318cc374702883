"""Texts given once or per language, and picking one language from them."""

from __future__ import annotations

from collections.abc import Mapping

# A text given once, or per language ({"en": ..., "zh-CN": ...}).
Text = Mapping[str, str]
ANY_LANGUAGE = ""


def text_in(text: Text, lang: str = "en") -> str:
    """The text in `lang`, else the untagged text, else any language given."""
    for key in (lang, ANY_LANGUAGE, "en", "zh-CN"):
        if key in text:
            return text[key]
    return next(iter(text.values()), "")


