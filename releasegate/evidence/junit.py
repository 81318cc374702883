"""Streaming JUnit XML: the per-test outcomes of result files, merged and stored.

JUnit XML comes from many producers (pytest, Surefire, Gradle, jest, go, ctest,
PHPUnit) and is evidence from outside, so it is read as untrusted input: only from a
regular file (opened without blocking, so a FIFO or /dev/zero is refused at once), through
defusedxml with DTDs, entities and external references forbidden, with a size limit
checked before reading, and without building a document tree, so memory grows only
with the number of distinct tests. Counts are recomputed from the <testcase> elements,
never taken from the producers' tests=/failures= attributes; time= attributes are not
kept, so an odd one (`1,234.5`, `n/a`) cannot fail a recording.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat
from xml.sax import SAXParseException
from xml.sax.xmlreader import InputSource

from defusedxml import DefusedXmlException, DTDForbidden
from defusedxml.expatreader import DefusedExpatParser

from releasegate.core.errors import InputError
from releasegate.core.regression import JUnitRun
from releasegate.evidence.artifacts import open_regular
from releasegate.evidence.runs import (
    OUTCOMES,
    SLICE,
    WITH_MESSAGE,
    SummaryWriter,
    merge_runs,
    run_from_json,
)
from releasegate.evidence.xml_bytes import (
    CHUNK,
    ChunkReader,
    Encoding,
    describe_bad_byte,
    describe_invalid_token,
    sniff_encoding,
)

DEFAULT_MAX_BYTES = 200 * 1024 * 1024

# Inside one <testcase> a skip marker loses to any failure; between duplicates, a run
# that passed outranks one that was skipped (MERGE_RANK).
_CASE_RANK = {"failed": 0, "error": 1, "flaky": 2, "skipped": 3, "passed": 4}
_CHILD_OUTCOMES = {
    "failure": "failed", "rerunFailure": "failed", "error": "error", "rerunError": "error",
    "flakyFailure": "flaky", "flakyError": "flaky", "skipped": "skipped",
}
__all__ = ["DEFAULT_MAX_BYTES", "OUTCOMES", "JUnitRun", "SummaryWriter", "merge_runs",
           "parse_junit", "read_junit", "run_from_json", "summary_json"]

_ROOTS = ("testsuites", "testsuite")
_MESSAGE_MAX = 200
_TEXT_CAP = 8192  # enough text to find a message's first line; stack traces run on

# Why defusedxml's SAX driver (expatreader.DefusedExpatParser) with our callbacks bound
# straight to its expat parser: best of 9 on 100,000 test cases (14.4 MB; CPython 3.11,
# expat 2.5; benchmarks/junit_parse.py): bare expat, no handlers 82 ms; this 206 ms
# (2.5x); defusedxml.sax.parse with a ContentHandler that only collects ids 245 ms (SAX
# wraps each element's attributes in an AttributesImpl); defusedxml.ElementTree.iterparse
# 335 ms (defusedxml uses the pure-Python XMLParser); junitparser.JUnitXml.fromfile 259 ms,
# ~500 ms with the walk to outcomes. Do-nothing Python callbacks alone cost 1.6x the bare
# parse and keeping the 100,000 ids ~0.5x more, so 2x is out of reach for Python.


def read_junit(
    path: Path, *, display_name: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> SummaryWriter:
    """Read one JUnit XML file, streaming, into the summary releasegate stores.

    Any problem with the file (unreadable, over `max_bytes`, not well-formed, hostile,
    not JUnit) raises InputError naming `display_name` (or the path), with line and
    1-based column where there is one. A file without test cases is not an error.
    The caller closes the returned writer (it may hold temporary files).
    """
    file = display_name or str(path)
    writer = SummaryWriter()
    try:
        with open_regular(path, "file", display=file) as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > max_bytes:
                raise InputError(f"{file} is {size} bytes, over the limit of {max_bytes} "
                                 "bytes; split the test results into smaller files", file=file)
            if size == 0:
                raise InputError("the file is empty, not JUnit XML; the test run may have "
                                 "stopped before writing its report", file=file, line=1, column=1)
            _parse_stream(handle, file, max_bytes, writer)
    except OSError as exc:
        writer.close()
        raise InputError(f"cannot read the file ({exc.strerror or exc}); check the path and "
                         "its permissions", file=file) from None
    except BaseException:
        writer.close()
        raise
    writer.finish()
    return writer


def summary_json(
    path: Path, *, display_name: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> bytes:
    """read_junit's summary as the bytes `tests record` stores, held in memory."""
    writer = read_junit(path, display_name=display_name, max_bytes=max_bytes)
    try:
        text = io.StringIO()
        writer.write(text)
    finally:
        writer.close()
    return text.getvalue().encode("utf-8")


def parse_junit(
    path: Path, *, display_name: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> JUnitRun:
    """read_junit, with the summary loaded back as a JUnitRun (every id in memory)."""
    return run_from_json(summary_json(path, display_name=display_name, max_bytes=max_bytes))


def _parse_stream(handle: IO[bytes], file: str, max_bytes: int, writer: SummaryWriter
                  ) -> None:
    head = handle.read(CHUNK)
    encoding = sniff_encoding(head, file)
    chunks = ChunkReader(handle, head, encoding, file, max_bytes)
    summary = _Summary(file, writer)
    source = InputSource()
    source.setByteStream(chunks)
    if encoding.transcode_from is not None:
        source.setEncoding("UTF-8")  # overrides the declaration, which names the original
    try:
        _Reader(summary).parse(source)
    except SAXParseException as exc:
        raise _syntax_error(exc.getException(), summary, chunks, encoding) from None
    except DefusedXmlException as exc:
        raise summary.error(_forbidden_message(exc)) from None
    except (ValueError, LookupError) as exc:  # expat's hook for encodings it lacks
        raise summary.error(f"the file's encoding cannot be read ({exc}); save it as UTF-8 "
                            "without a conflicting byte order mark") from None


class _Summary:
    """expat's callbacks: each test case's outcome, handed to a SummaryWriter."""

    def __init__(self, file: str, writer: SummaryWriter) -> None:
        self.file = file
        self.writer = writer
        self.suites = writer.suites
        self._seen = writer.seen
        self._pending = {outcome: spool.pending for outcome, spool in writer.ids.items()}
        self.root: str | None = None
        self.parser: Any = None
        self._depth = 0  # open <testsuite> elements
        self._case: str | None = None
        self._outcome = "passed"
        self._message = ""  # set by _child whenever an outcome comes with a message
        self._capture: str | None = None  # the element whose text becomes the message
        self._text: list[str] = []
        self._text_size = 0

    def attach(self, parser: Any) -> None:
        """Take over the callbacks of a fresh expat parser."""
        self.parser = parser
        parser.buffer_text = True
        parser.StartElementHandler = self._start_root
        parser.EndElementHandler = self._end
        # Without a handler expat skips text instead of calling into Python for it.
        parser.CharacterDataHandler = None
        parser.ProcessingInstructionHandler = None

    def error(self, message: str) -> InputError:
        """An InputError at the parser's current position."""
        return InputError(message, file=self.file, line=self.parser.CurrentLineNumber,
                          column=self.parser.CurrentColumnNumber + 1)

    def _start_root(self, name: str, attrs: dict[str, str]) -> None:
        self.root = name
        if name not in _ROOTS:
            raise self.error(_not_junit(name))
        self.parser.StartElementHandler = self._start
        self._start(name, attrs)

    # _start and _end run for every element of files with 10^5 test cases, so the
    # common path (a <testcase> opening and closing) is written out inline.
    def _start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "testcase":
            if not self._depth:
                return  # outside every <testsuite>: not a result
            case = attrs.get("name")
            if case is None:
                raise self.error("<testcase> has no name attribute; every test case needs "
                                 "a name (classname is optional)")
            self._case = f"{attrs.get('classname', '')}::{case}"
            self._outcome = "skipped" if attrs.get("status") == "notrun" else "passed"
        elif name == "testsuite":
            self._depth += 1
            suite = attrs.get("name")
            if suite is not None:
                self.suites[suite] = None
        elif self._case is not None:
            outcome = _CHILD_OUTCOMES.get(name)
            if outcome is not None:
                self._child(name, outcome, attrs)

    def _end(self, name: str) -> None:
        if name == "testcase":
            test, outcome = self._case, self._outcome
            if test is None:
                return
            self._case = None
            key = hash(test)  # SummaryWriter.add, written out
            if key in self._seen or outcome in WITH_MESSAGE:
                self.writer.add(test, outcome, self._message)
                return
            self._seen.add(key)
            pending = self._pending[outcome]
            pending.append(test)
            if len(pending) >= SLICE:
                self.writer.ids[outcome].flush()
        elif name == "testsuite":
            self._depth -= 1
        elif name == self._capture:
            self._message = _first_line("".join(self._text))
            self._capture, self._text = None, []
            self.parser.CharacterDataHandler = None

    def _child(self, name: str, outcome: str, attrs: dict[str, str]) -> None:
        if _CASE_RANK[outcome] >= _CASE_RANK[self._outcome]:
            return  # an earlier or weightier child already decided
        self._outcome = outcome
        if outcome in WITH_MESSAGE:
            self._message = _first_line(attrs.get("message", ""))
            if not self._message:  # then the element's text says what went wrong
                self._capture, self._text, self._text_size = name, [], 0
                self.parser.CharacterDataHandler = self._collect

    def _collect(self, text: str) -> None:
        self._text.append(text)
        self._text_size += len(text)
        if self._text_size > _TEXT_CAP:
            self.parser.CharacterDataHandler = None


def _first_line(text: str) -> str:
    return text.strip().partition("\n")[0].strip()[:_MESSAGE_MAX]


class _Reader(DefusedExpatParser):  # type: ignore[misc]  # defusedxml has no type hints
    """defusedxml's SAX driver with the expat callbacks pointed at a _Summary."""

    def __init__(self, summary: _Summary) -> None:
        super().__init__(bufsize=CHUNK, forbid_dtd=True, forbid_entities=True,
                         forbid_external=True)
        self._summary = summary

    def reset(self) -> None:
        """Make a fresh expat parser with defusedxml's guards, then claim its callbacks."""
        super().reset()
        self._summary.attach(self._parser)


def _not_junit(root: str) -> str:
    return (f"not a JUnit XML file (root element <{root}>); expected <testsuites> or "
            "<testsuite>: record the test runner's JUnit report, not another file")


def _forbidden_message(exc: DefusedXmlException) -> str:
    if not isinstance(exc, DTDForbidden):
        return "JUnit XML may not use entities; remove the entity declarations and references"
    if (exc.name or "").lower() == "html":  # an HTML page saved in place of the report
        return _not_junit(exc.name)
    return ("JUnit XML may not contain a DTD (it can declare entities that read local files "
            "or expand without end); remove the <!DOCTYPE> declaration")


_TRUNCATED = ("the file ends before its root element is closed; it looks truncated (did "
              "the test run stop while writing it?): record the complete report")
_SYNTAX_MESSAGES = {  # keyed by expat's own error strings
    expat.errors.XML_ERROR_UNCLOSED_TOKEN: _TRUNCATED,
    expat.errors.XML_ERROR_PARTIAL_CHAR: _TRUNCATED,
    expat.errors.XML_ERROR_TAG_MISMATCH: "a closing tag does not match the element it "
    "closes; the producer wrote malformed XML",
    expat.errors.XML_ERROR_JUNK_AFTER_DOC_ELEMENT: "there is more after the root element "
    "ends (were two reports joined into one file?); record each report as its own file",
    expat.errors.XML_ERROR_UNDEFINED_ENTITY: "the file uses an undefined entity; only &lt; "
    "&gt; &amp; &quot; &apos; and numeric references exist, so write a literal & as &amp;",
    expat.errors.XML_ERROR_BAD_CHAR_REF: "a character reference names a character XML "
    "forbids (such as &#1;); the producer must strip control characters from test output",
    expat.errors.XML_ERROR_INCORRECT_ENCODING: "the XML declaration names an encoding that "
    "does not match the file's bytes; correct the declaration or re-save the file",
}


def _syntax_error(cause: Any, summary: _Summary, chunks: ChunkReader,
                  encoding: Encoding) -> InputError:
    """An InputError for what expat refused, saying how to put it right."""
    reason = expat.ErrorString(cause.code)
    if chunks.undecodable is not None:
        message = describe_bad_byte(chunks.undecodable, encoding)
    elif reason == expat.errors.XML_ERROR_NO_ELEMENTS:
        message = _TRUNCATED if summary.root else (
            "the file contains no XML element; expected JUnit XML with a <testsuites> or "
            "<testsuite> root element")
    elif reason == expat.errors.XML_ERROR_INVALID_TOKEN:
        message = describe_invalid_token(chunks.bytes_at(summary.parser.ErrorByteIndex), encoding)
    else:
        message = _SYNTAX_MESSAGES.get(reason) or (
            f"not well-formed XML ({reason}); fix the producer or record a valid report")
    return InputError(message, file=summary.file, line=cause.lineno, column=cause.offset + 1)
