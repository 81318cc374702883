"""Reading JUnit files in a child process: results, errors and clean-up as in-process."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from releasegate.core.errors import InputError
from releasegate.evidence.junit import merge_runs, parse_junit
from releasegate.evidence.junit_job import JUnitJob
from releasegate.evidence.runs import run_from_json

FIXTURES = Path(__file__).parent / "fixtures" / "junit"


def big_report(path: Path, cases: int = 60_000) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write("<testsuite name='s'>")
        for n in range(cases):
            out.write(f"<testcase classname='c' name='test_{n}'/>")
        out.write("</testsuite>")
    return path


@pytest.mark.parametrize("forks", [True, False])
def test_the_child_and_the_fallback_give_the_same_reading(
        monkeypatch: pytest.MonkeyPatch, forks: bool) -> None:
    if not forks:
        monkeypatch.delattr(os, "fork")
    files = [FIXTURES / "pytest.xml", FIXTURES / "duplicates.xml"]
    with JUnitJob(files) as job:
        assert (job._pid is not None) is forks
        reading = job.result()
        merged = merge_runs([parse_junit(path) for path in files])  # all in memory
        assert reading.counts == {"tests": merged.tests, "passed": merged.passed,
                                  "flaky": merged.flaky, "failed": merged.failed,
                                  "errors": merged.errors, "skipped": merged.skipped}
        assert reading.counts["tests"] == 12
        runs = [run_from_json(path.read_bytes()) for path in reading.summaries]
        assert [run.tests for run in runs] == [7, 5]
        scratch = job.scratch
    assert not scratch.exists()  # leaving the job removes its summaries


@pytest.mark.parametrize("forks", [True, False])
def test_a_bad_file_raises_in_the_parent_with_its_location(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: bool) -> None:
    if not forks:
        monkeypatch.delattr(os, "fork")
    bad = tmp_path / "bad.xml"
    bad.write_text("<testsuite name='s'>\n  <testcase name='a'>\n</testsuite>\n")
    with JUnitJob([FIXTURES / "pytest.xml", bad]) as job, pytest.raises(InputError) as caught:
        job.result()
    error = caught.value
    assert (error.file, error.line, error.column, error.code) == (str(bad), 3, 3, "bad-input")
    assert "closing tag does not match" in error.message


def test_leaving_early_stops_the_child(tmp_path: Path) -> None:
    report = big_report(tmp_path / "big.xml", 300_000)
    with JUnitJob([report]) as job:
        pid = job._pid
        assert pid is not None
    with pytest.raises(ChildProcessError):  # stopped and reaped: no zombie left behind
        os.waitpid(pid, os.WNOHANG)
    assert not job.scratch.exists()


def test_a_child_that_dies_is_reported_as_a_failure_not_a_result(tmp_path: Path) -> None:
    report = big_report(tmp_path / "big.xml", 300_000)
    with JUnitJob([report]) as job:
        assert job._pid is not None
        os.kill(job._pid, signal.SIGKILL)
        with pytest.raises(RuntimeError, match="stopped unexpectedly"):
            job.result()
