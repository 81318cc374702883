"""Test runs as releasegate stores and compares them: per-test outcomes and counts.

No XML here: reading and comparing stored runs (a gate check) must not pay for the
parser. junit.py turns JUnit XML into these runs.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any, TextIO

from releasegate.core.errors import InputError
from releasegate.core.regression import JUnitRun

OUTCOMES = ("failed", "error", "flaky", "passed", "skipped")
MERGE_RANK = {outcome: rank for rank, outcome in enumerate(OUTCOMES)}
WITH_MESSAGE = frozenset({"failed", "error", "flaky"})
_SUMMARY_FORMAT = "releasegate.junit-summary/3"
_READ_FORMATS = frozenset({_SUMMARY_FORMAT, "releasegate.junit-summary/2"})  # /2: ids sorted
_FIRST_FORMAT = "releasegate.junit-summary/1"  # a test -> outcome map; still read


def merge_runs(runs: Sequence[JUnitRun]) -> JUnitRun:
    """Combine the files of one recording; a test seen twice keeps its worst outcome."""
    if len(runs) == 1:
        return runs[0]
    outcomes: dict[str, str] = {}
    messages: dict[str, str] = {}
    suites: dict[str, None] = {}
    for run in runs:
        for test, outcome in run.outcomes.items():
            previous = outcomes.get(test)
            if previous is None or MERGE_RANK[outcome] < MERGE_RANK[previous]:
                outcomes[test] = outcome
                if outcome in WITH_MESSAGE:
                    messages[test] = run.messages.get(test, "")
        suites.update(dict.fromkeys(run.suites))
    return summarise(outcomes, messages, tuple(suites))


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def run_from_json(data: bytes) -> JUnitRun:
    """Load a stored summary (SummaryWriter's); a damaged one raises InputError."""
    try:
        run = _run_from_doc(json.loads(data))
    except (ValueError, TypeError, KeyError, AttributeError):  # ValueError: not JSON/UTF-8
        run = None
    if run is None:
        raise InputError("the stored test summary is damaged; record the JUnit results again")
    return run


def _run_from_doc(doc: Any) -> JUnitRun | None:
    if doc.get("format") == _FIRST_FORMAT:  # written by releasegate 0.1 before 2026-11-28
        doc = {**doc, "format": _SUMMARY_FORMAT, "tests": _grouped(doc["outcomes"])}
    grouped, messages, suites = doc["tests"], doc["messages"], doc["suites"]
    if not (doc["format"] in _READ_FORMATS and isinstance(grouped, dict)
            and set(grouped) <= MERGE_RANK.keys() and isinstance(messages, dict)
            and isinstance(suites, list)
            and all(isinstance(ids, list) for ids in grouped.values())
            and all(isinstance(text, str) for text in [*messages.values(), *suites])):
        return None
    outcomes: dict[str, str] = {}
    for outcome in OUTCOMES:
        outcomes.update(dict.fromkeys(grouped.get(outcome, ()), outcome))
    run = summarise(outcomes, messages, tuple(suites))
    return run if doc["counts"] == _counts(run) else None


def _grouped(outcomes: Any) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for test, outcome in outcomes.items():
        grouped.setdefault(outcome, []).append(test)
    return grouped


def _counts(run: JUnitRun) -> dict[str, int]:
    return {"tests": run.tests, "passed": run.passed, "flaky": run.flaky,
            "failed": run.failed, "errors": run.errors, "skipped": run.skipped}


def summarise(outcomes: dict[str, str], messages: dict[str, str],
               suites: tuple[str, ...]) -> JUnitRun:
    return JUnitRun(**_count_map(Counter(outcomes.values())), outcomes=outcomes,
                    messages=messages, suites=suites)


def _count_map(per_outcome: Mapping[str, int]) -> dict[str, int]:
    """The counts releasegate reports (tests, passed, flaky, failed, errors, skipped)
    from the number of tests with each outcome."""
    return {"tests": sum(per_outcome.values()), "passed": per_outcome["passed"],
            "flaky": per_outcome["flaky"], "failed": per_outcome["failed"],
            "errors": per_outcome["error"], "skipped": per_outcome["skipped"]}


# -- writing a summary while a parser streams test cases -------------------------------

SLICE = 10_000  # ids held in memory per outcome before they go to a temporary file


class _Spool:
    """Items of one kind (the ids of one outcome, or messages) in the order they came:
    the latest slice in memory, earlier ones in a temporary file as one JSON fragment
    per line, so memory does not grow with the number of items."""

    def __init__(self, braces: str) -> None:
        self.pending: list[Any] = []
        self.count = 0  # items in earlier slices
        self._open, self._close = braces[0], braces[1]
        self._file: IO[str] | None = None

    def append(self, item: Any) -> None:
        self.pending.append(item)
        if len(self.pending) >= SLICE:
            self.flush()

    def flush(self) -> None:
        """Move the slice in memory to the file (`pending` stays the same list)."""
        if not self.pending:
            return
        if self._file is None:
            import tempfile  # only large runs spool, and gate checks read runs: stay light

            # Closed by close(): the spool outlives any one method.
            self._file = tempfile.TemporaryFile(  # noqa: SIM115
                "w+", encoding="utf-8", newline="\n")
        self._file.write(self._fragment(self.pending) + "\n")
        self.count += len(self.pending)
        self.pending.clear()

    def _fragment(self, items: list[Any]) -> str:
        value = dict(items) if self._open == "{" else items
        return _dump(value)[1:-1]

    def fragments(self) -> Iterator[str]:
        """The JSON text of every item, a slice at a time, without the brackets."""
        if self._file is not None:
            self._file.seek(0)
            yield from (line.rstrip("\n") for line in self._file)
        if self.pending:
            yield self._fragment(self.pending)

    def slices(self) -> Iterator[list[Any]]:
        """The items back, a slice at a time (messages as (id, message) pairs)."""
        for fragment in self.fragments():
            value = json.loads(self._open + fragment + self._close)
            yield list(value.items()) if self._open == "{" else value

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class SummaryWriter:
    """The stored summary of one JUnit file, built as a parser reports test cases.

    Memory holds the hash of each distinct test (about 100 bytes), never the ids: ids
    and messages are spooled to temporary files in slices. A test case whose hash was
    seen before is a repeat (or, very rarely, a different id with the same hash); repeats
    are kept aside and settled exactly by `finish`, which reads the ids back.

    The summary lists each outcome's ids in the order the file gives them, so the same
    file always gives the same bytes.
    """

    def __init__(self) -> None:
        self.seen: set[int] = set()
        self.ids = {outcome: _Spool("[]") for outcome in OUTCOMES}
        self.messages = _Spool("{}")
        self.suites: dict[str, None] = {}  # an ordered set
        self.repeats: list[tuple[str, str, str]] = []  # (test, outcome, message)
        self.counts: dict[str, int] = {}
        self._moved: dict[str, tuple[str, str]] = {}  # repeated test -> (outcome, message)

    def add(self, test: str, outcome: str, message: str = "") -> None:
        """One test case's outcome (parsers inline this for speed)."""
        key = hash(test)
        message = message if outcome in WITH_MESSAGE else ""
        if key in self.seen:
            self.repeats.append((test, outcome, message))
            return
        self.seen.add(key)
        self.ids[outcome].append(test)
        if outcome in WITH_MESSAGE:
            self.messages.append((test, message))

    def finish(self) -> dict[str, int]:
        """Settle repeated tests (worst outcome wins) and return the counts."""
        if self.repeats:
            self._settle()
        per_outcome = {outcome: spool.count + len(spool.pending)
                       for outcome, spool in self.ids.items()}
        for outcome, _ in self._moved.values():
            per_outcome[outcome] += 1
        self.counts = _count_map(per_outcome)
        return self.counts

    def _settle(self) -> None:
        suspects = {hash(test) for test, _, _ in self.repeats}
        messages = {test: text for part in self.messages.slices() for test, text in part
                    if hash(test) in suspects}
        merged: dict[str, tuple[str, str]] = {}  # first case of each suspect id, then merged
        for outcome, spool in self.ids.items():
            kept = _Spool("[]")
            for part in spool.slices():
                for test in part:
                    if hash(test) in suspects:
                        merged[test] = (outcome, messages.get(test, ""))
                    else:
                        kept.append(test)
            spool.close()
            self.ids[outcome] = kept
        kept_messages = _Spool("{}")
        for part in self.messages.slices():
            for test, text in part:
                if test not in merged:
                    kept_messages.append((test, text))
        self.messages.close()
        self.messages = kept_messages
        for test, outcome, message in self.repeats:
            previous = merged.get(test)  # None: a different id with an equal hash
            if previous is None or MERGE_RANK[outcome] < MERGE_RANK[previous[0]]:
                merged[test] = (outcome, message)
        self._moved = merged  # written after the others, in an order the file fixes
        self.repeats = []

    def entries(self) -> Iterator[tuple[str, str]]:
        """(outcome, test) for every distinct test. Call `finish` first."""
        for outcome, spool in self.ids.items():
            for part in spool.slices():
                for test in part:
                    yield outcome, test
        for test, (outcome, _) in self._moved.items():
            yield outcome, test

    def write(self, out: TextIO) -> None:
        """Write the summary, a slice at a time. Call `finish` first."""
        moved: dict[str, list[str]] = {outcome: [] for outcome in OUTCOMES}
        moved_messages: dict[str, str] = {}
        for test, (outcome, message) in self._moved.items():
            moved[outcome].append(test)
            if outcome in WITH_MESSAGE:
                moved_messages[test] = message
        out.write('{"counts":' + _dump(self.counts) + ',"format":' + _dump(_SUMMARY_FORMAT)
                  + ',"suites":' + _dump(list(self.suites)) + ',"tests":{')
        for i, outcome in enumerate(OUTCOMES):
            out.write(("," if i else "") + _dump(outcome) + ":[")
            _write_parts(out, self.ids[outcome].fragments(), moved[outcome])
            out.write("]")
        out.write('},"messages":{')
        _write_parts(out, self.messages.fragments(), moved_messages)
        out.write("}}")

    def close(self) -> None:
        for spool in [*self.ids.values(), self.messages]:
            spool.close()


def _write_parts(out: TextIO, fragments: Iterator[str], extra: list[str] | dict[str, str]
                 ) -> None:
    first = True
    for fragment in itertools.chain(fragments, [_dump(extra)[1:-1]]):
        if fragment:
            out.write(fragment if first else "," + fragment)
            first = False


def merged_counts(writers: Sequence[SummaryWriter]) -> dict[str, int]:
    """The counts of one recording of several files: a test in more than one file
    counts once, with its worst outcome. Exact, with memory for a hash per test."""
    if len(writers) == 1:
        return writers[0].counts
    worst: dict[int, int] = {}
    suspects: set[int] = set()
    for writer in writers:
        for outcome, test in writer.entries():
            key, rank = hash(test), MERGE_RANK[outcome]
            previous = worst.get(key)
            if previous is None:
                worst[key] = rank
            else:
                suspects.add(key)
                worst[key] = min(rank, previous)
    exact: dict[str, int] = {}  # the ids behind hashes seen more than once
    if suspects:
        for writer in writers:
            for outcome, test in writer.entries():
                if hash(test) in suspects:
                    exact[test] = min(exact.get(test, len(OUTCOMES)), MERGE_RANK[outcome])
        for key in suspects:
            del worst[key]
    ranks = Counter(worst.values()) + Counter(exact.values())
    per_outcome = {outcome: ranks[rank] for outcome, rank in MERGE_RANK.items()}
    return _count_map(per_outcome)
