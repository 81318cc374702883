"""The bytes of an XML file on their way to expat: encoding detection and transcoding.

expat reads UTF-8, UTF-16, ISO-8859-1 and US-ASCII itself; a file in any other
encoding its declaration names (GBK, Shift_JIS, ...) is decoded here in chunks and
passed on as UTF-8, so memory does not grow with the file.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import IO

from releasegate.core.errors import InputError

CHUNK = 256 * 1024


@dataclass(frozen=True)
class Encoding:
    """How the file's bytes reach expat: as they are, or transcoded to UTF-8."""

    codec: str  # Python codec of the bytes expat is given
    label: str  # the encoding's name as the user knows it
    declared: bool
    transcode_from: str | None = None


# expat reads these encodings itself; any other is decoded here and passed on as UTF-8.
_EXPAT_NATIVE = {"UTF-8": "utf-8", "US-ASCII": "ascii", "ISO-8859-1": "latin-1",
                 "UTF-16": "utf-16", "UTF-16LE": "utf-16-le", "UTF-16BE": "utf-16-be"}
_DECLARATION = re.compile(rb"<\?xml[^>]*?\sencoding\s*=\s*[\"']([A-Za-z][\w.:-]*)[\"']")
_BOMS = (
    (codecs.BOM_UTF8, Encoding("utf-8", "UTF-8", declared=True)),
    (codecs.BOM_UTF16_LE, Encoding("utf-16-le", "UTF-16", declared=True)),
    (codecs.BOM_UTF16_BE, Encoding("utf-16-be", "UTF-16", declared=True)),
)


def sniff_encoding(head: bytes, file: str) -> Encoding:
    """The file's encoding, from its byte order mark or XML declaration (XML 1.0 F.1)."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    match = _DECLARATION.match(head)
    if match is None:
        return Encoding("utf-8", "UTF-8", declared=False)
    name = match.group(1).decode("ascii")
    native = _EXPAT_NATIVE.get(name.upper())
    if native is not None:
        return Encoding(native, name, declared=True)
    try:  # the declaration was read as ASCII, so the encoding must agree with ASCII
        readable = "<?xml".encode(name) == b"<?xml"
    except LookupError:  # unknown, or a codec such as base64 that is not a text encoding
        readable = False
    if not readable:
        raise InputError(f"the XML declaration names the encoding {name!r}, which cannot be "
                         "read; save the file as UTF-8 and declare encoding=\"UTF-8\"",
                         file=file, line=1, column=match.start(1) + 1)
    return Encoding("utf-8", name, declared=True, transcode_from=name)


class ChunkReader:
    """The bytes expat reads: the file as it is, or transcoded to UTF-8 when expat cannot
    read its encoding. Enforces the size limit as it goes and keeps the latest bytes, so
    that an error can name the byte expat refused."""

    def __init__(self, handle: IO[bytes], head: bytes, encoding: Encoding, file: str,
                 max_bytes: int) -> None:
        self._handle, self._head, self._file, self._max = handle, head, file, max_bytes
        self._read = len(head)
        self._codec = encoding.transcode_from
        self._decoder = (codecs.getincrementaldecoder(self._codec)() if self._codec
                         else None)
        self.undecodable: int | None = None  # the first byte the declared codec refused
        self._previous, self._current, self._current_at = b"", b"", 0

    def read(self, size: int = CHUNK, /) -> bytes:
        """The next piece for expat; empty only at the end of the file."""
        while True:
            raw = self._next_raw(size)
            data = self._transcode(raw) if self._decoder else raw
            if data or not raw:
                break
        self._current_at += len(self._current)
        self._previous, self._current = self._current, data
        return data

    def close(self) -> None:
        """Nothing to release: the caller owns the file handle."""

    def bytes_at(self, index: int) -> bytes:
        """Up to four of the bytes expat was given, from `index`, if still at hand."""
        start = index - self._current_at + len(self._previous)
        return (self._previous + self._current)[start:start + 4] if start >= 0 else b""

    def _next_raw(self, size: int) -> bytes:
        if self._head:
            raw, self._head = self._head, b""
            return raw
        raw = self._handle.read(size)
        self._read += len(raw)
        if self._read > self._max:  # the file grew after its size was checked
            raise InputError(f"{self._file} is over the limit of {self._max} bytes; split "
                             "the test results into smaller files", file=self._file)
        return raw

    def _transcode(self, raw: bytes) -> bytes:
        assert self._decoder and self._codec
        if self.undecodable is not None:
            return b""
        try:
            return self._decoder.decode(raw, final=not raw).encode("utf-8")
        except UnicodeDecodeError as exc:
            # Pass on the text before the bad byte, then a byte UTF-8 never uses: expat
            # stops on it and reports its line and column like any other error's.
            self.undecodable = exc.object[exc.start]
            return exc.object[:exc.start].decode(self._codec, "replace").encode() + b"\xff"


def describe_invalid_token(raw: bytes, encoding: Encoding) -> str:
    char = raw.decode(encoding.codec, "replace")[:1]
    if char == "\ufffd":
        return describe_bad_byte(raw[0], encoding)
    if char and ((char < " " and char not in "\t\n\r") or char in "\ufffe\uffff"):
        return (f"the control character U+{ord(char):04X} is not allowed in XML; the "
                "producer must strip or escape it (it usually comes from captured output)")
    return "not well-formed XML (invalid token); fix the producer or record a valid report"


def describe_bad_byte(byte: int, encoding: Encoding) -> str:
    if encoding.declared:
        return (f"byte 0x{byte:02X} is not valid {encoding.label}, the encoding the file "
                "declares; re-save it in that encoding or declare the one it really uses")
    return (f"byte 0x{byte:02X} is not valid UTF-8 and the file declares no other encoding; "
            "save it as UTF-8 or declare its encoding, e.g. "
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>")
