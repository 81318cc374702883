"""How fast and how lean releasegate.junit.read_junit is, against its floor and a peer.

Generates JUnit XML files in a temporary directory and prints one table:

- bare expat: `xml.parsers.expat` over the same file with no handlers, the floor for
  any parser built on expat;
- read_junit: parsing into the summary `tests record` stores (ids spooled to
  temporary files, a hash per test in memory), then writing that summary;
- junitparser: `junitparser.JUnitXml.fromfile`, which loads the whole tree, alone and
  followed by the walk that yields the same per-test outcomes;
- the ratios of those times, and the peak traced memory (tracemalloc) of read_junit
  and the summary's writing, for 100,000 and 500,000 test cases.

With --entry-points it also times the other defusedxml entry points that were
considered (ElementTree.iterparse, sax.parse with a ContentHandler).

Run from the repository root: `python benchmarks/junit_parse.py`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.parsers import expat
from xml.sax.handler import ContentHandler

import defusedxml.ElementTree
import defusedxml.sax
import junitparser

from releasegate.evidence.junit import read_junit

CASES_PER_SUITE = 1000


def write_junit(path: Path, cases: int) -> None:
    """A pytest-like report: 1 case in 97 fails, 1 in 53 is skipped (~150 bytes a case)."""
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="utf-8"?>\n<testsuites>\n')
        for first in range(0, cases, CASES_PER_SUITE):
            suite = first // CASES_PER_SUITE
            out.write(f'  <testsuite name="suite-{suite:04d}" tests="{CASES_PER_SUITE}">\n')
            for case in range(first, min(cases, first + CASES_PER_SUITE)):
                out.write(_testcase(suite, case))
            out.write("  </testsuite>\n")
        out.write("</testsuites>\n")


def _testcase(suite: int, case: int) -> str:
    head = (f'    <testcase classname="tests.integration.test_module_{suite:04d}.'
            f'TestPromotionGate" name="test_case_{case:07d}_rejects_stale_signoff" '
            f'time="0.{case % 1000:03d}"')
    if case % 97 == 0:
        return (head + '>\n      <failure message="AssertionError: gate open" '
                'type="AssertionError">Traceback (most recent call last)\n'
                "AssertionError: gate open</failure>\n    </testcase>\n")
    if case % 53 == 0:
        return head + '>\n      <skipped message="needs the vendor sandbox"/>\n    </testcase>\n'
    return head + "/>\n"


def best_seconds(action: Callable[[], object], repeat: int) -> float:
    """The fastest of `repeat` runs: the least disturbed by other work on the machine."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def bare_expat(path: Path) -> None:
    """Parse with no handlers at all."""
    with path.open("rb") as handle:
        expat.ParserCreate().ParseFile(handle)


def junitparser_load(path: Path) -> None:
    """Load the file the way junitparser's users do."""
    junitparser.JUnitXml.fromfile(str(path))


def junitparser_outcomes(path: Path) -> None:
    """Load with junitparser and walk it to the per-test outcomes parse_junit returns."""
    outcomes = {}
    for suite in junitparser.JUnitXml.fromfile(str(path)):
        for case in suite:
            results = case.result
            outcomes[f"{case.classname}::{case.name}"] = (
                type(results[0]).__name__ if results else "passed")


def defused_iterparse(path: Path) -> None:
    """The ElementTree entry point, clearing each element as it ends."""
    ids = {}
    for _, element in defusedxml.ElementTree.iterparse(str(path), forbid_dtd=True):
        if element.tag == "testcase":
            ids[f"{element.get('classname', '')}::{element.get('name')}"] = "passed"
            element.clear()


class _Ids(ContentHandler):
    def __init__(self) -> None:
        super().__init__()
        self.ids: dict[str, str] = {}

    def startElement(self, name: str, attrs: Any) -> None:
        if name == "testcase":
            self.ids[f"{attrs.get('classname', '')}::{attrs.get('name')}"] = "passed"


def defused_sax(path: Path) -> None:
    """The SAX entry point with an ordinary ContentHandler."""
    defusedxml.sax.parse(str(path), _Ids(), forbid_dtd=True)


def read_and_write(path: Path) -> int:
    """What `tests record` does with one file before it commits: read it, write the
    summary to a file. Returns the summary's size in bytes."""
    writer = read_junit(path)
    try:
        with tempfile.TemporaryFile("w+", encoding="utf-8") as out:
            writer.write(out)
            return out.tell()
    finally:
        writer.close()


def peak_megabytes(path: Path) -> tuple[float, float]:
    """Peak memory traced while read_junit reads `path` and writes its summary, and the
    summary's size, in MB."""
    tracemalloc.start()
    try:
        size = read_and_write(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak / 1e6, size / 1e6


def main() -> None:
    """Generate the files, measure, print the table."""
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--cases", type=int, default=100_000)
    options.add_argument("--big-cases", type=int, default=500_000)
    options.add_argument("--repeat", type=int, default=7)
    options.add_argument("--entry-points", action="store_true",
                         help="also time the other defusedxml entry points")
    args = options.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        small, big = Path(directory, "small.xml"), Path(directory, "big.xml")
        write_junit(small, args.cases)
        rows = measure(small, args)
        write_junit(big, args.big_cases)
        memory = [(args.cases, *peak_megabytes(small), small.stat().st_size),
                  (args.big_cases, *peak_megabytes(big), big.stat().st_size)]
    print_table(rows, memory, args.cases, small_size=memory[0][3])


def measure(path: Path, args: argparse.Namespace) -> list[tuple[str, float]]:
    """Best times of each contender on `path`."""
    contenders: list[tuple[str, Callable[[], object]]] = [
        ("bare expat (no handlers)", lambda: bare_expat(path)),
        ("read_junit + write summary", lambda: read_and_write(path)),
        ("junitparser JUnitXml.fromfile", lambda: junitparser_load(path)),
        ("junitparser fromfile + walk to outcomes", lambda: junitparser_outcomes(path)),
    ]
    if args.entry_points:
        contenders += [("defusedxml ElementTree.iterparse", lambda: defused_iterparse(path)),
                       ("defusedxml sax.parse + ContentHandler", lambda: defused_sax(path))]
    return [(label, best_seconds(action, args.repeat)) for label, action in contenders]


def print_table(rows: list[tuple[str, float]], memory: list[tuple[int, float, float, int]],
                cases: int, small_size: int) -> None:
    """The measurements, each time also as a multiple of bare expat and of parse_junit."""
    floor, ours = rows[0][1], dict(rows)["read_junit + write summary"]
    print(f"{cases:,} test cases, {small_size / 1e6:.1f} MB; best of several runs")
    print(f"{'':40s} {'ms':>8s} {'x expat':>8s} {'x read_junit':>14s}")
    for label, seconds in rows:
        print(f"{label:40s} {seconds * 1000:8.1f} {seconds / floor:8.2f} "
              f"{seconds / ours:14.2f}")
    print(f"\n{'read_junit memory, MB':40s} {'peak':>8s} {'summary':>8s} {'file':>8s}")
    for count, peak, kept, size in memory:
        print(f"{f'{count:,} test cases':40s} {peak:8.1f} {kept:8.1f} {size / 1e6:8.1f}")


if __name__ == "__main__":
    main()
