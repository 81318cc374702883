"""Mail header fields from ledger text: cleaned, encoded and folded here, for every header.

A patch title or a person's name is text anyone with write access to the ledger chose.
`header_text` makes it one line the way every output of releasegate does
(`core.text.shown_line`): line breaks and tabs become a space, and each character that
input refuses (C0 and C1 controls, DEL, the bidi embeddings, overrides and isolates
U+202A-U+202E and U+2066-U+2069, lone surrogates, noncharacters) a visible escape such
as `\\x1b`; so a title holding "\\r\\nBcc: ..." stays one Subject and no terminal escape
reaches a mail reader.

The field is then encoded and folded here rather than by the `email` package, whose
folder (CPython 3.11) doubles a space before an encoded word at a fold and drops one
between encoded words. The rules (RFC 5322, RFC 2047):

- a word of printable ASCII that does not look like an encoded word is written as is;
- a run of other words becomes UTF-8 base64 encoded words of at most 75 characters,
  each holding whole characters, with the spaces between the run's words inside them;
- a fold (CRLF and a space) only ever takes the place of a space between two words, or
  sits between two encoded words of one run, where decoders ignore it;
- no line is longer than 78 characters, except a first line holding a long name.

The `set_*` functions store the result with `EmailMessage.set_raw`; the message's
policy must not refold it (`refold_source="none"`).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage

from releasegate.core.text import shown_line

LINE = 78  # characters per header line (RFC 5322 asks for at most 78)
WORD = 75  # characters per encoded word (RFC 2047)
NAME_CHARS = 200  # a display name longer than this is cut

_SPACES = re.compile(" {2,}")
_PLAIN = re.compile(r"[!-~]+")  # printable ASCII, no space
_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")
_ADDR_SPEC = re.compile(r"[^\s<>()\[\],;:\\\"@]+@[^\s<>()\[\],;:\\\"@]+")
_NAMED = re.compile(r"(.*?) ?<([^<>]*)>")
_PREFIX = "=?utf-8?b?"
_SUFFIX = "?="


def header_text(value: str) -> str:
    """`value` as one line fit for a header: `shown_line` (controls and bidi overrides
    as visible escapes, line breaks and tabs as spaces), runs of spaces made one, no
    space at the ends."""
    return _SPACES.sub(" ", shown_line(value)).strip(" ")


def set_text(message: EmailMessage, name: str, value: str) -> None:
    """Set unstructured header `name` (Subject, Content-Language, ...) to `value`."""
    message.set_raw(name, _fold(name, _unstructured(header_text(value).split(" "))))


def set_addresses(message: EmailMessage, name: str, items: Iterable[str]) -> None:
    """Set address header `name` (From, To) to `items`, each an address with or without
    a display name ("李四 <li@bank.example>"). Raises ValueError naming an item that
    holds no plain ASCII address."""
    tokens: list[Token] = []
    for item in items:
        if tokens:
            tokens[-1] = Token(tokens[-1].text + ",")
        tokens += _mailbox(item)
    if not tokens:
        raise ValueError(f"{name} needs an address")
    message.set_raw(name, _fold(name, tokens))


def address_of(item: str) -> str:
    """The addr-spec of `item` ("Name <a@b>" or "a@b"); ValueError when there is none."""
    return _split(item)[1]


def _split(item: str) -> tuple[str, str]:
    """The display name and the address of `item`: "Name <a@b>", '"Name" <a@b>' or
    "a@b". The name is taken as written up to the "<", specials and all."""
    text = header_text(item)
    found = _NAMED.fullmatch(text)
    display, address = (found.group(1), found.group(2)) if found else ("", text)
    if len(display) > 1 and display[0] == display[-1] == '"':
        display = re.sub(r"\\(.)", r"\1", display[1:-1])
    if not _ADDR_SPEC.fullmatch(address) or not address.isascii():
        raise ValueError(f"not a usable e-mail address: {item!r}")
    return header_text(display)[:NAME_CHARS], address


@dataclass(frozen=True)
class Token:
    """A word of a field body: written as is, or (`encode`) as encoded words."""

    text: str
    encode: bool = False


def _mailbox(item: str) -> list[Token]:
    display, address = _split(item)
    return [*_phrase(display), Token(f"<{address}>")] if display else [Token(address)]


def _phrase(display: str) -> list[Token]:
    words = display.split(" ")
    if all(_ATOM.fullmatch(w) and "=?" not in w for w in words):
        return [Token(w) for w in words]
    if display.isascii():
        return [Token('"' + display.replace("\\", "\\\\").replace('"', '\\"') + '"')]
    # One encoded word for the whole name: decoders differ on the space between two
    # encoded words of a name (Python keeps it, RFC 2047 drops it).
    return [Token(_encoded(display))]


def _unstructured(words: Sequence[str]) -> list[Token]:
    """Plain words as they are; each run of other words one token to encode, the
    spaces between its words inside it."""
    tokens: list[Token] = []
    run: list[str] = []
    for word in words:
        if _PLAIN.fullmatch(word) and "=?" not in word and len(word) < LINE - 1:
            if run:
                tokens.append(Token(" ".join(run), encode=True))
                run = []
            tokens.append(Token(word))
        elif word:
            run.append(word)
    if run:
        tokens.append(Token(" ".join(run), encode=True))
    return tokens


def _fold(name: str, tokens: Sequence[Token]) -> str:
    """The field body: `tokens` separated by spaces, a fold where a line would pass
    LINE; a token to encode becomes as many encoded words as the lines need."""
    lines = [f"{name}:"]
    for token in tokens:
        if token.encode:
            _fold_run(lines, token.text)
        elif lines == [f"{name}:"] or len(lines[-1]) + 1 + len(token.text) <= LINE:
            lines[-1] += " " + token.text  # the first word stays on the name's line
        else:
            lines.append(" " + token.text)
    lines[0] = lines[0][len(name) + 2:]
    return "\n".join(lines)


def _fold_run(lines: list[str], text: str) -> None:
    while text:
        count = _fitting(text, min(WORD, LINE - len(lines[-1]) - 1))
        if count == 0:
            lines.append("")
            continue
        lines[-1] += " " + _encoded(text[:count])
        text = text[count:]


def _fitting(text: str, room: int) -> int:
    """How many of the first characters of `text` fit in one encoded word of `room`
    characters."""
    budget = (room - len(_PREFIX) - len(_SUFFIX)) // 4 * 3  # UTF-8 bytes
    used = count = 0
    for char in text:
        used += len(char.encode("utf-8"))
        if used > budget:
            break
        count += 1
    return count


def _encoded(text: str) -> str:
    return _PREFIX + base64.b64encode(text.encode("utf-8")).decode("ascii") + _SUFFIX
