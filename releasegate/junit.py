"""Streaming JUnit XML: the per-test outcomes of result files, merged and stored.

JUnit XML arrives from many producers (pytest, Surefire, Gradle, jest, go, ctest,
PHPUnit) and is evidence from outside, so it is read as untrusted input: through
defusedxml with DTDs, entities and external references forbidden, with a size limit
checked before reading, and without ever building a document tree, so memory grows
only with the number of distinct tests. Counts are recomputed from the <testcase>
elements; the producers' own tests=/failures= attributes are not trusted, and their
time= attributes are not kept at all (so a malformed time cannot fail a recording).
"""

from __future__ import annotations

import codecs
import json
import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat
from xml.sax import SAXParseException
from xml.sax.xmlreader import InputSource

from defusedxml import DefusedXmlException, DTDForbidden
from defusedxml.expatreader import DefusedExpatParser

from releasegate.errors import InputError

OUTCOMES = ("failed", "error", "flaky", "passed", "skipped")
DEFAULT_MAX_BYTES = 200 * 1024 * 1024

_MERGE_RANK = {outcome: rank for rank, outcome in enumerate(OUTCOMES)}
# Within one <testcase> a skip marker loses to any failure, unlike between duplicates,
# where a run that passed outranks one that was skipped.
_CASE_RANK = {"failed": 0, "error": 1, "flaky": 2, "skipped": 3, "passed": 4}
_CHILD_OUTCOMES = {
    "failure": "failed", "rerunFailure": "failed",
    "error": "error", "rerunError": "error",
    "flakyFailure": "flaky", "flakyError": "flaky",
    "skipped": "skipped",
}
_WITH_MESSAGE = frozenset({"failed", "error", "flaky"})
_MESSAGE_MAX = 200
_TEXT_CAP = 8192  # enough text to find a message's first line; stack traces run on
_CHUNK = 256 * 1024
_SUMMARY_FORMAT = "releasegate.junit-summary/1"

# Entry point, measured on a 100,000-testcase file (11.7 MB; CPython 3.11, expat 2.5):
# bare expat, no handlers 75 ms; defusedxml.ElementTree.iterparse with clear() 347 ms;
# defusedxml.sax.parse with a ContentHandler 227 ms; defusedxml's SAX driver
# (expatreader.DefusedExpatParser) with our callbacks bound straight to its expat
# parser 150 ms; junitparser.JUnitXml.fromfile 354 ms. The driver keeps defusedxml's
# guards and SAX's streaming, and skips the per-element AttributesImpl wrapping.


@dataclass(frozen=True)
class JUnitRun:
    """The outcome of every test in one recording, with counts derived from them."""

    tests: int
    passed: int
    flaky: int
    failed: int
    errors: int
    skipped: int
    outcomes: dict[str, str]
    messages: dict[str, str]
    suites: tuple[str, ...]


@dataclass(frozen=True)
class _Encoding:
    """How the file's bytes reach expat: as they are, or transcoded to UTF-8."""

    codec: str  # Python codec of the bytes expat is given
    label: str  # the encoding's name as the user knows it
    declared: bool
    transcode_from: str | None = None


def parse_junit(
    path: Path, *, display_name: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> JUnitRun:
    """Read one JUnit XML file into per-test outcomes, streaming.

    Any problem with the file (unreadable, over `max_bytes`, not well-formed, hostile,
    not JUnit) raises InputError naming `display_name` (or the path), with line and
    1-based column where there is one. A file without test cases is not an error.
    """
    file = display_name or str(path)
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > max_bytes:
                raise InputError(
                    f"{file} is {size} bytes, over the limit of {max_bytes} bytes; "
                    "split the test results into smaller files", file=file)
            if size == 0:
                raise InputError("the file is empty, not JUnit XML; the test run may have "
                                 "stopped before writing its report", file=file, line=1, column=1)
            return _parse_stream(handle, file, max_bytes)
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}; check the path "
                         "and its permissions", file=file) from None


def merge_runs(runs: Sequence[JUnitRun]) -> JUnitRun:
    """Combine the files of one recording; a test seen twice keeps its worst outcome."""
    outcomes: dict[str, str] = {}
    messages: dict[str, str] = {}
    suites: dict[str, None] = {}
    for run in runs:
        for test, outcome in run.outcomes.items():
            previous = outcomes.get(test)
            if previous is None or _MERGE_RANK[outcome] < _MERGE_RANK[previous]:
                outcomes[test] = outcome
                if outcome in _WITH_MESSAGE:
                    messages[test] = run.messages.get(test, "")
        suites.update(dict.fromkeys(run.suites))
    return _summarise(outcomes, messages, tuple(suites))


def run_to_json(run: JUnitRun) -> bytes:
    """The stored summary of a run: compact JSON with sorted keys, so equal runs give equal
    bytes (and equal content digests)."""
    doc = {
        "format": _SUMMARY_FORMAT,
        "counts": _counts(run),
        "outcomes": run.outcomes,
        "messages": run.messages,
        "suites": list(run.suites),
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def run_from_json(data: bytes) -> JUnitRun:
    """Load a summary written by run_to_json; a damaged one raises InputError."""
    try:
        doc = json.loads(data)
    except ValueError as exc:  # also covers bytes that are not UTF-8
        raise _damaged(f"it is not JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != _SUMMARY_FORMAT:
        raise _damaged(f"it is not in the {_SUMMARY_FORMAT} format")
    outcomes, messages, suites = doc.get("outcomes"), doc.get("messages"), doc.get("suites")
    if not (isinstance(outcomes, dict) and isinstance(messages, dict)
            and isinstance(suites, list)):
        raise _damaged("outcomes, messages or suites are missing")
    if not _only_outcomes(outcomes.values()) or not all(
            isinstance(item, str) for item in [*messages.values(), *suites]):
        raise _damaged("it holds values that are not outcomes or text")
    run = _summarise(outcomes, messages, tuple(suites))
    if doc.get("counts") != _counts(run):
        raise _damaged("its counts do not match its outcomes")
    return run


def _counts(run: JUnitRun) -> dict[str, int]:
    return {"tests": run.tests, "passed": run.passed, "flaky": run.flaky,
            "failed": run.failed, "errors": run.errors, "skipped": run.skipped}


def _only_outcomes(values: Any) -> bool:
    try:
        return set(values) <= _MERGE_RANK.keys()
    except TypeError:  # an unhashable value, so certainly not an outcome
        return False


def _damaged(why: str) -> InputError:
    return InputError(f"the stored test summary is damaged: {why}; record the JUnit "
                      "results again")


def _summarise(outcomes: dict[str, str], messages: dict[str, str],
               suites: tuple[str, ...]) -> JUnitRun:
    counts = Counter(outcomes.values())
    return JUnitRun(tests=len(outcomes), passed=counts["passed"], flaky=counts["flaky"],
                    failed=counts["failed"], errors=counts["error"],
                    skipped=counts["skipped"], outcomes=outcomes, messages=messages,
                    suites=suites)


def _parse_stream(handle: IO[bytes], file: str, max_bytes: int) -> JUnitRun:
    head = handle.read(_CHUNK)
    encoding = _sniff(head, file)
    chunks = _Chunks(handle, head, encoding, file, max_bytes)
    summary = _Summary(file)
    source = InputSource()
    source.setByteStream(chunks)
    if encoding.transcode_from is not None:
        source.setEncoding("UTF-8")  # overrides the declaration, which names the original
    try:
        _Reader(summary).parse(source)
    except SAXParseException as exc:
        raise _syntax_error(exc, summary, chunks, encoding) from None
    except DefusedXmlException as exc:
        raise summary.error(_forbidden_message(exc)) from None
    except (ValueError, LookupError) as exc:  # expat's unknown-encoding hook
        raise summary.error(f"cannot decode the file ({exc}); save it as UTF-8") from None
    return _summarise(summary.outcomes, summary.messages, tuple(summary.suites))


# expat reads these encodings itself; any other is decoded here and passed on as UTF-8.
_EXPAT_NATIVE = {"UTF-8": "utf-8", "US-ASCII": "ascii", "ISO-8859-1": "latin-1",
                 "UTF-16": "utf-16", "UTF-16LE": "utf-16-le", "UTF-16BE": "utf-16-be"}
_DECLARATION = re.compile(rb"<\?xml[^>]*?\sencoding\s*=\s*[\"']([A-Za-z][\w.:-]*)[\"']")
_UTF8 = _Encoding("utf-8", "UTF-8", declared=True)
_BOMS = (
    (codecs.BOM_UTF8, _UTF8),
    # before UTF-16 LE: its byte order mark starts the same way
    (codecs.BOM_UTF32_LE, _Encoding("utf-8", "UTF-32", True, transcode_from="utf-32")),
    (codecs.BOM_UTF32_BE, _Encoding("utf-8", "UTF-32", True, transcode_from="utf-32")),
    (codecs.BOM_UTF16_LE, _Encoding("utf-16-le", "UTF-16", declared=True)),
    (codecs.BOM_UTF16_BE, _Encoding("utf-16-be", "UTF-16", declared=True)),
    (b"<\x00", _Encoding("utf-16-le", "UTF-16", declared=False)),
    (b"\x00<", _Encoding("utf-16-be", "UTF-16", declared=False)),
)


def _sniff(head: bytes, file: str) -> _Encoding:
    """The file's encoding, from its byte order mark or XML declaration (XML 1.0 F.1)."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    match = _DECLARATION.match(head)
    if match is None:
        return _Encoding("utf-8", "UTF-8", declared=False)
    name = match.group(1).decode("ascii")
    native = _EXPAT_NATIVE.get(name.upper())
    if native is not None:
        return _Encoding(native, name, declared=True)
    try:
        readable = "<?xml".encode(name) == b"<?xml"
    except LookupError:  # unknown, or a codec such as base64 that is not a text encoding
        readable = False
    if not readable:
        raise InputError(f"the XML declaration names the encoding {name!r}, which cannot be "
                         "read; save the file as UTF-8 and declare encoding=\"UTF-8\"",
                         file=file, line=1, column=match.start(1) + 1)
    return _Encoding("utf-8", name, declared=True, transcode_from=name)


class _Chunks:
    """The byte stream expat reads: the file as it is or transcoded to UTF-8, enforcing
    the size limit as it goes and keeping the latest bytes to explain errors."""

    def __init__(self, handle: IO[bytes], head: bytes, encoding: _Encoding, file: str,
                 max_bytes: int) -> None:
        self._handle, self._head, self._file, self._max = handle, head, file, max_bytes
        self._read = len(head)
        codec = encoding.transcode_from
        self._codec = codec
        self._decoder = None if codec is None else codecs.getincrementaldecoder(codec)()
        self._previous, self._current, self._current_at = b"", b"", 0
        self._line, self._column = 1, 0  # where the transcoded text has reached

    def read(self, size: int = _CHUNK, /) -> bytes:
        """The next piece for expat; empty only at the end of the file."""
        while True:
            raw = self._next_raw(size)
            data = raw if self._decoder is None else self._transcode(raw)
            if data or not raw:
                break
        self._current_at += len(self._current)
        self._previous, self._current = self._current, data
        return data

    def close(self) -> None:
        """Nothing to release: the caller owns the file handle."""

    def bytes_at(self, index: int) -> bytes:
        """Up to four bytes expat was given at `index`, if they are still at hand."""
        start = self._current_at - len(self._previous)
        if index < start:
            return b""
        return (self._previous + self._current)[index - start:index - start + 4]

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
        assert self._decoder is not None and self._codec is not None
        try:
            text = self._decoder.decode(raw, final=not raw)
        except UnicodeDecodeError as exc:
            self._advance(exc.object[:exc.start].decode(self._codec, "replace"))
            raise InputError(
                f"byte 0x{exc.object[exc.start]:02X} is not valid {self._codec}, the "
                "encoding the XML declaration names; declare the encoding the file really "
                "uses", file=self._file, line=self._line, column=self._column + 1) from None
        self._advance(text)
        return text.encode("utf-8")

    def _advance(self, text: str) -> None:
        newlines = text.count("\n")
        if newlines:
            self._line += newlines
            self._column = len(text) - text.rfind("\n") - 1
        else:
            self._column += len(text)


class _Summary:
    """The outcome of every test case seen so far, fed by expat's callbacks."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.outcomes: dict[str, str] = {}
        self.messages: dict[str, str] = {}
        self.suites: dict[str, None] = {}  # an ordered set
        self.root: str | None = None
        self.parser: Any = None
        self._depth = 0  # open <testsuite> elements
        self._case: str | None = None
        self._outcome = "passed"
        self._message = ""
        self._capture: str | None = None  # the element whose text becomes the message
        self._text: list[str] = []
        self._text_size = 0

    def attach(self, parser: Any) -> None:
        """Take over the element callbacks of a fresh expat parser."""
        self.parser = parser
        parser.buffer_text = True
        parser.StartElementHandler = self._start_root
        parser.EndElementHandler = self._end
        # Text between elements is never needed; without a handler expat skips it.
        parser.CharacterDataHandler = None
        parser.ProcessingInstructionHandler = None

    def error(self, message: str) -> InputError:
        """An InputError at the parser's current position."""
        return InputError(message, file=self.file, line=self.parser.CurrentLineNumber,
                          column=self.parser.CurrentColumnNumber + 1)

    def _start_root(self, name: str, attrs: dict[str, str]) -> None:
        self.root = name
        if name not in ("testsuites", "testsuite"):
            raise self.error(f"not a JUnit XML file (root element <{name}>); expected "
                             "<testsuites> or <testsuite>: record the test runner's JUnit "
                             "report, not another file")
        self.parser.StartElementHandler = self._start
        self._start(name, attrs)

    # _start and _end run for every element of files with 10^5 test cases, so the common
    # path (a <testcase> opening and closing) is written out inline rather than in helpers.
    def _start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "testcase":
            if not self._depth:
                return  # outside every <testsuite>: not a result
            case = attrs.get("name")
            if case is None:
                raise self.error("<testcase> has no name attribute; every test case needs a "
                                 "name (classname is optional)")
            self._case = f"{attrs.get('classname', '')}::{case}"
            self._outcome = "skipped" if attrs.get("status") == "notrun" else "passed"
            self._message = ""
        elif self._case is not None:
            outcome = _CHILD_OUTCOMES.get(name)
            if outcome is not None:
                self._child(name, outcome, attrs)
        elif name == "testsuite":
            self._depth += 1
            suite = attrs.get("name")
            if suite is not None:
                self.suites[suite] = None

    def _end(self, name: str) -> None:
        if name == "testcase":
            test, outcome = self._case, self._outcome
            if test is None:
                return
            self._case = None
            previous = self.outcomes.get(test)
            if previous is None or _MERGE_RANK[outcome] < _MERGE_RANK[previous]:
                self.outcomes[test] = outcome
                if outcome in _WITH_MESSAGE:
                    self.messages[test] = self._message
        elif name == "testsuite":
            self._depth -= 1
        elif name == self._capture:
            self._stop_capture()

    def _child(self, name: str, outcome: str, attrs: dict[str, str]) -> None:
        if _CASE_RANK[outcome] >= _CASE_RANK[self._outcome]:
            return  # an earlier or weightier child already decided
        self._outcome = outcome
        if outcome not in _WITH_MESSAGE:
            return
        self._message = _first_line(attrs.get("message", ""))
        if not self._message:
            self._capture, self._text, self._text_size = name, [], 0
            self.parser.CharacterDataHandler = self._collect

    def _collect(self, text: str) -> None:
        self._text.append(text)
        self._text_size += len(text)
        if self._text_size > _TEXT_CAP:
            self.parser.CharacterDataHandler = None

    def _stop_capture(self) -> None:
        self._message = _first_line("".join(self._text))
        self._capture, self._text = None, []
        self.parser.CharacterDataHandler = None


def _first_line(text: str) -> str:
    return text.strip().partition("\n")[0].strip()[:_MESSAGE_MAX]


class _Reader(DefusedExpatParser):  # type: ignore[misc]  # defusedxml has no type hints
    """defusedxml's SAX driver with the expat callbacks pointed at a _Summary."""

    def __init__(self, summary: _Summary) -> None:
        super().__init__(bufsize=_CHUNK, forbid_dtd=True, forbid_entities=True,
                         forbid_external=True)
        self._summary = summary

    def reset(self) -> None:
        """Make a fresh expat parser with defusedxml's guards, then claim its callbacks."""
        super().reset()
        self._summary.attach(self._parser)


def _forbidden_message(exc: DefusedXmlException) -> str:
    if isinstance(exc, DTDForbidden):
        return ("JUnit XML may not contain a DTD (it can declare entities that read local "
                "files or expand without end); remove the <!DOCTYPE> declaration")
    return ("JUnit XML may not declare or reference entities; remove the entity "
            "declarations and references")


_ERR = {name: expat.errors.codes[getattr(expat.errors, name)] for name in (
    "XML_ERROR_NO_ELEMENTS", "XML_ERROR_INVALID_TOKEN", "XML_ERROR_UNCLOSED_TOKEN",
    "XML_ERROR_PARTIAL_CHAR", "XML_ERROR_TAG_MISMATCH", "XML_ERROR_JUNK_AFTER_DOC_ELEMENT",
    "XML_ERROR_UNDEFINED_ENTITY", "XML_ERROR_BAD_CHAR_REF", "XML_ERROR_UNKNOWN_ENCODING",
    "XML_ERROR_INCORRECT_ENCODING")}
_TRUNCATED = ("the file ends before its root element is closed; it looks truncated (did "
              "the test run stop while writing it?): record the complete report")
_SYNTAX_MESSAGES = {
    _ERR["XML_ERROR_UNCLOSED_TOKEN"]: _TRUNCATED,
    _ERR["XML_ERROR_PARTIAL_CHAR"]: _TRUNCATED,
    _ERR["XML_ERROR_TAG_MISMATCH"]: "a closing tag does not match the element it closes; "
    "the producer wrote malformed XML",
    _ERR["XML_ERROR_JUNK_AFTER_DOC_ELEMENT"]: "there is more after the root element ends "
    "(were two reports joined into one file?); record each report as its own file",
    _ERR["XML_ERROR_UNDEFINED_ENTITY"]: "the file uses an undefined entity; only &lt; &gt; "
    "&amp; &quot; &apos; and numeric references are allowed, so write a literal & as &amp;",
    _ERR["XML_ERROR_BAD_CHAR_REF"]: "a character reference names a character XML forbids "
    "(such as &#1;); the producer must strip control characters from test output",
    _ERR["XML_ERROR_UNKNOWN_ENCODING"]: "the XML declaration names an encoding that cannot "
    "be read; save the file as UTF-8",
    _ERR["XML_ERROR_INCORRECT_ENCODING"]: "the XML declaration names an encoding that does "
    "not match the file's bytes; correct the declaration or re-save the file",
}


def _syntax_error(exc: SAXParseException, summary: _Summary, chunks: _Chunks,
                  encoding: _Encoding) -> InputError:
    """An InputError for what expat refused, saying how to put it right."""
    cause: Any = exc.getException()
    code: int = cause.code
    if code == _ERR["XML_ERROR_NO_ELEMENTS"]:
        message = _TRUNCATED if summary.root else (
            "the file contains no XML element; expected JUnit XML with a <testsuites> or "
            "<testsuite> root element")
    elif code == _ERR["XML_ERROR_INVALID_TOKEN"]:
        message = _invalid_token(chunks.bytes_at(summary.parser.ErrorByteIndex), encoding)
    else:
        message = _SYNTAX_MESSAGES.get(code) or (
            f"not well-formed XML ({exc.getMessage()}); fix the producer or record a valid "
            "report")
    return InputError(message, file=summary.file, line=cause.lineno, column=cause.offset + 1)


def _invalid_token(raw: bytes, encoding: _Encoding) -> str:
    char = _first_char(raw, encoding.codec)
    if char is None and raw:
        if encoding.declared:
            return (f"byte 0x{raw[0]:02X} is not valid {encoding.label}, the encoding the "
                    "file declares; re-save it in that encoding or declare the one it uses")
        return (f"byte 0x{raw[0]:02X} is not valid UTF-8 and the file declares no other "
                "encoding; save it as UTF-8 or declare its encoding, e.g. "
                "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>")
    if char is not None and ((char < " " and char not in "\t\n\r") or char in "\ufffe\uffff"):
        return (f"the control character U+{ord(char):04X} is not allowed in XML; the "
                "producer must strip or escape it (it usually comes from captured test output)")
    return "not well-formed XML (invalid token); fix the producer or record a valid report"


def _first_char(raw: bytes, codec: str) -> str | None:
    for size in range(1, min(len(raw), 4) + 1):
        try:
            return raw[:size].decode(codec)[:1] or None
        except UnicodeDecodeError:
            continue
    return None
