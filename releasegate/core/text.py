"""Texts given once or per language, and picking one language from them."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping

# A text given once, or per language ({"en": ..., "zh-CN": ...}).
Text = Mapping[str, str]
ANY_LANGUAGE = ""


def text_in(text: Text, lang: str = "en") -> str:
    """The text in `lang`, else the untagged text, else any language given."""
    for key in (lang, ANY_LANGUAGE, "en", "zh-CN"):
        if key in text:
            return text[key]
    return next(iter(text.values()), "")


# -- characters a text may not hold ----------------------------------------------------
#
# Refused wherever text comes in (manifests, releasegate.yaml, checklist templates and
# answers, the CLI's text options), and shown as visible escapes wherever text goes out
# (notices, the site), because ledgers written before the check may hold them:
#   C0 controls U+0000-U+001F, DEL and C1 U+007F-U+009F (terminal escapes, NUL, BEL, CR);
#   the bidirectional embeddings, overrides and isolates U+202A-U+202E, U+2066-U+2069
#   (they reorder what a reader sees; the marks LRM/RLM U+200E/U+200F stay allowed);
#   lone surrogates and noncharacters (no UTF-8 or XML 1.0 document can carry them).
# A line break (LF, U+2028, U+2029) or tab is allowed only in a text that is multi-line.

_BIDI = "\u202a-\u202e\u2066-\u2069"
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane + 0xFFFE)}{chr(plane + 0xFFFF)}" for plane in range(0, 0x110000, 0x10000))
_NEVER = f"\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff{_NONCHARACTERS}"
_LINE_ONLY = "\t\n\u2028\u2029"  # refused only in a one-line text
_IN_TEXT = re.compile(f"[{_NEVER}]")  # a multi-line text: LF and tab allowed
_IN_LINE = re.compile(f"[\t\n\u2028\u2029{_NEVER}]")  # a one-line text
# The same rule for JSON Schema (ECMA-262 and Python both read it); the loaders check
# with the expressions above, so the schemas only tell editors.
SCHEMA_LINE_PATTERN = ("^[^\\u0000-\\u001F\\u007F-\\u009F\\u2028\\u2029\\u202A-\\u202E"
                       "\\u2066-\\u2069\\uFDD0-\\uFDEF\\uFFFE\\uFFFF]*$")
SCHEMA_TEXT_PATTERN = ("^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F\\u202A-\\u202E"
                       "\\u2066-\\u2069\\uFDD0-\\uFDEF\\uFFFE\\uFFFF]*$")

# Unicode's names for the controls (unicodedata has none for them).
_C0 = ("NULL", "START OF HEADING", "START OF TEXT", "END OF TEXT", "END OF TRANSMISSION",
       "ENQUIRY", "ACKNOWLEDGE", "ALERT", "BACKSPACE", "CHARACTER TABULATION", "LINE FEED",
       "LINE TABULATION", "FORM FEED", "CARRIAGE RETURN", "SHIFT OUT", "SHIFT IN",
       "DATA LINK ESCAPE", "DEVICE CONTROL ONE", "DEVICE CONTROL TWO",
       "DEVICE CONTROL THREE", "DEVICE CONTROL FOUR", "NEGATIVE ACKNOWLEDGE",
       "SYNCHRONOUS IDLE", "END OF TRANSMISSION BLOCK", "CANCEL", "END OF MEDIUM",
       "SUBSTITUTE", "ESCAPE", "INFORMATION SEPARATOR FOUR", "INFORMATION SEPARATOR THREE",
       "INFORMATION SEPARATOR TWO", "INFORMATION SEPARATOR ONE")
_C1 = ("PADDING CHARACTER", "HIGH OCTET PRESET", "BREAK PERMITTED HERE", "NO BREAK HERE",
       "INDEX", "NEXT LINE", "START OF SELECTED AREA", "END OF SELECTED AREA",
       "CHARACTER TABULATION SET", "CHARACTER TABULATION WITH JUSTIFICATION",
       "LINE TABULATION SET", "PARTIAL LINE FORWARD", "PARTIAL LINE BACKWARD",
       "REVERSE LINE FEED", "SINGLE SHIFT TWO", "SINGLE SHIFT THREE", "DEVICE CONTROL STRING",
       "PRIVATE USE ONE", "PRIVATE USE TWO", "SET TRANSMIT STATE", "CANCEL CHARACTER",
       "MESSAGE WAITING", "START OF GUARDED AREA", "END OF GUARDED AREA", "START OF STRING",
       "SINGLE GRAPHIC CHARACTER INTRODUCER", "SINGLE CHARACTER INTRODUCER",
       "CONTROL SEQUENCE INTRODUCER", "STRING TERMINATOR", "OPERATING SYSTEM COMMAND",
       "PRIVACY MESSAGE", "APPLICATION PROGRAM COMMAND")


def forbidden_character(text: str, *, multiline: bool = False) -> tuple[int, str] | None:
    """The first character `text` may not hold and its index (from 0), or None.

    `multiline`: the text may hold line breaks (LF) and tabs."""
    found = (_IN_TEXT if multiline else _IN_LINE).search(text)
    return (found.start(), found.group()) if found else None


def character_name(char: str) -> str:
    """`U+001B ESCAPE`: the code point and its name."""
    code = ord(char)
    if code < 0x20:
        name = _C0[code]
    elif code == 0x7F:
        name = "DELETE"
    elif 0x80 <= code <= 0x9F:
        name = _C1[code - 0x80]
    elif 0xD800 <= code <= 0xDFFF:
        name = "SURROGATE"
    else:
        name = unicodedata.name(char, "NONCHARACTER")
    return f"U+{code:04X} {name}"


def _kind(char: str) -> str:
    if char in "\n\u2028\u2029":
        return "a line break"
    if char == "\t":
        return "a tab"
    if "\u202a" <= char <= "\u202e" or "\u2066" <= char <= "\u2069":
        return "a bidirectional control character"
    if "\ud800" <= char <= "\udfff":
        return "a lone surrogate"
    if ord(char) > 0x9F:
        return "a noncharacter"
    return "a control character"


def text_problem(text: str, *, multiline: bool = False) -> str | None:
    """What is wrong with `text`, said for people (the position counts from 1), or None:
    `contains a control character (U+001B ESCAPE) at position 3; remove it`."""
    found = forbidden_character(text, multiline=multiline)
    if found is None:
        return None
    index, char = found
    fix = "this text is one line" if char in _LINE_ONLY else "remove it"
    return f"contains {_kind(char)} ({character_name(char)}) at position {index + 1}; {fix}"


def text_hint(text: str, *, multiline: bool = False) -> str | None:
    """A hint for the problem `text_problem` names, where one helps."""
    found = forbidden_character(text, multiline=multiline)
    if found is None or found[1] not in _LINE_ONLY:
        return None
    if found[1] == "\n" and found[0] == len(text) - 1:
        return ("a YAML block scalar ('|' or '>') ends in a line break; write the text on "
                "the line itself, or use '|-' or '>-'")
    return "write it on one line"


def check_text(text: str, where: str, *, multiline: bool = False) -> str:
    """`text` when it holds no character `forbidden_character` refuses; else an
    InputError (exit 2) naming `where`, the field or option it came from."""
    from releasegate.core.errors import InputError

    problem = text_problem(text, multiline=multiline)
    if problem is not None:
        raise InputError(problem, key=where, code="control-character",
                         hint=text_hint(text, multiline=multiline))
    return text


def _visible(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 \
        else f"\\U{code:08x}"


_BREAKS = re.compile(r"[ \t]*(?:\r\n|[\n\t\u2028\u2029])[ \t\r\n\u2028\u2029]*")


def shown_text(text: str) -> str:
    """A multi-line text as output may show it: line breaks (CRLF becomes LF) and tabs
    kept, every other character that input refuses as a visible escape (`\\x1b`)."""
    if _IN_TEXT.search(text) is None:
        return text
    return _IN_TEXT.sub(_visible, text.replace("\r\n", "\n"))


def shown_line(text: str) -> str:
    """A text as one line of output: line breaks and tabs (with the blanks around them)
    become one space, every other character that input refuses a visible escape."""
    if _IN_LINE.search(text) is None:
        return text
    return _IN_TEXT.sub(_visible, _BREAKS.sub(" ", text))


def escape_refused(text: str, escape: Callable[[str], str]) -> str:
    """`text` with each character a multi-line text may not hold replaced by
    `escape(char)`: for formats with escapes of their own, such as JSON's `\\u001b`."""
    return _IN_TEXT.sub(lambda found: escape(found.group()), text)
