"""Input that is not what it seems: files that are no regular files, expiry times out of
range, a patch that depends on itself.

A manifest, an artifact (`--artifact` or listed in the manifest), an answers file
(`--answers`) and a JUnit file are read only when they are regular files (a symlink to
one is fine): /dev/zero, a FIFO with no writer, a directory or a symlink to a device
is refused at once with exit status 2, naming the file, and nothing is recorded.
Each command runs in its own process with a time limit, so a hang fails the test
instead of blocking the suite.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from releasegate.core.clock import parse_until, stamp
from releasegate.core.errors import InputError
from tests.helpers import PATCH, Cli, answers_file, fingerprint, junit_file, write_manifest

KINDS = ("dev-zero", "fifo", "directory", "symlink-to-dev-zero")
LIMIT_SECONDS = 20


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


def run(root: Path, *args: str, person: str = "alice") -> Ran:
    """`releasegate --ledger root --as person ARGS` in a child process (and its own
    process group, so that a forked helper stuck on a file is stopped too), failing
    the test when it does not finish within LIMIT_SECONDS."""
    command = [sys.executable, "-m", "releasegate", "--ledger", str(root), "--as", person,
               *args]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=LIMIT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"`releasegate {' '.join(args)}` still ran after {LIMIT_SECONDS} s")
    return Ran(process.returncode, stdout, stderr)


def strange(kind: str, folder: Path) -> Path:
    """A path in `folder` (or /dev/zero itself) that is not a regular file."""
    if kind == "dev-zero":
        return Path("/dev/zero")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"strange-{kind}"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    else:
        path.symlink_to("/dev/zero")
    return path


def refused(root: Path, path: Path, *args: str, person: str = "alice") -> str:
    """Run a command that names `path`; it must be refused at once with exit status 2,
    naming the file, with nothing recorded. Returns standard error."""
    before = fingerprint(root)
    ran = run(root, *args, person=person)
    assert ran.returncode == 2, (args, ran.stdout, ran.stderr)
    assert fingerprint(root) == before
    assert ran.stdout == ""
    assert ran.stderr.startswith("error: "), ran.stderr
    assert str(path) in ran.stderr, ran.stderr
    if path.is_dir():  # click names a directory before releasegate opens anything
        assert "is a directory" in ran.stderr, ran.stderr
    else:
        assert "not a regular file" in ran.stderr, ran.stderr
        assert ran.stderr.count("\n") == 1, ran.stderr  # one line
    return ran.stderr


@pytest.mark.parametrize("kind", KINDS)
def test_a_manifest_must_be_a_regular_file(rg: Cli, tmp_path: Path, kind: str) -> None:
    path = strange(kind, tmp_path / "odd")
    message = refused(rg.root, path, "patch", "submit", str(path))
    if kind != "directory":
        assert "manifest" in message


@pytest.mark.parametrize("kind", KINDS)
def test_an_artifact_option_must_be_a_regular_file(rg: Cli, inputs: Path, tmp_path: Path,
                                                   kind: str) -> None:
    path = strange(kind, tmp_path / "odd")
    message = refused(rg.root, path, "patch", "submit", str(write_manifest(inputs)),
                      "--artifact", str(path))
    if kind != "directory":
        assert "artifact" in message


@pytest.mark.parametrize("kind", KINDS)
def test_a_revised_artifact_must_be_a_regular_file(submitted: Cli, tmp_path: Path,
                                                   kind: str) -> None:
    path = strange(kind, tmp_path / "odd")
    refused(submitted.root, path, "patch", "revise", PATCH, "--artifact", str(path))


@pytest.mark.parametrize("kind", ["fifo", "directory", "symlink-to-dev-zero"])
def test_an_artifact_the_manifest_lists_must_be_a_regular_file(rg: Cli, inputs: Path,
                                                               kind: str) -> None:
    manifest = write_manifest(inputs)
    path = strange(kind, inputs)
    manifest.write_text(manifest.read_text(encoding="utf-8").replace(
        "[patch.tar]", f"[patch.tar, {path.name}]"), encoding="utf-8")
    before = fingerprint(rg.root)
    ran = run(rg.root, "patch", "submit", str(manifest))
    assert ran.returncode == 2, ran.stderr
    assert fingerprint(rg.root) == before
    assert str(path) in ran.stderr
    assert "artifact" in ran.stderr
    assert "not a regular file" in ran.stderr
    assert ran.stderr.count("\n") == 1, ran.stderr


@pytest.mark.parametrize("kind", KINDS)
def test_an_answers_file_must_be_a_regular_file(submitted: Cli, tmp_path: Path,
                                                kind: str) -> None:
    path = strange(kind, tmp_path / "odd")
    message = refused(submitted.root, path, "checklist", "fill", PATCH, "intake", "--env",
                      "dev", "--answers", str(path))
    if kind != "directory":
        assert "answers" in message


@pytest.mark.parametrize("kind", KINDS)
def test_a_junit_file_must_be_a_regular_file(submitted: Cli, tmp_path: Path, kind: str,
                                             inputs: Path) -> None:
    path = strange(kind, tmp_path / "odd")
    refused(submitted.root, path, "tests", "record", PATCH, "--env", "dev", str(path))
    # also when it comes after a good file
    refused(submitted.root, path, "tests", "record", PATCH, "--env", "dev",
            str(junit_file(inputs, "smoke", 2)), str(path))


# --- what is accepted ------------------------------------------------------------------


def test_symlinks_to_regular_files_are_read(rg: Cli, inputs: Path, tmp_path: Path) -> None:
    manifest = write_manifest(inputs)
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "manifest.yaml").symlink_to(manifest)
    (linked / "extra.bin").write_bytes(b"extra\n")
    (linked / "extra-link.bin").symlink_to(linked / "extra.bin")
    # the manifest's own artifact is found next to the manifest as given (the link)
    (linked / "patch.tar").symlink_to(inputs / "patch.tar")
    result = rg("patch", "submit", str(linked / "manifest.yaml"), "--artifact",
                str(linked / "extra-link.bin"), person="alice")
    assert result.exit_code == 0, result.output
    assert "extra-link.bin  6 bytes" in result.stdout
    answers = tmp_path / "answers-link.yaml"
    answers.symlink_to(answers_file(inputs, "intake"))
    result = rg("checklist", "fill", PATCH, "intake", "--env", "dev", "--answers",
                str(answers), person="alice")
    assert result.exit_code == 0, result.output


# --- size limits -------------------------------------------------------------------------


def test_a_manifest_over_the_limit_is_refused(rg: Cli, inputs: Path) -> None:
    manifest = write_manifest(inputs, extra="# " + "x" * (300 * 1024) + "\n")
    before = fingerprint(rg.root)
    result = rg("patch", "submit", str(manifest), person="alice")
    assert result.exit_code == 2
    assert fingerprint(rg.root) == before
    assert str(manifest) in result.stderr
    assert "over the limit of 262144 bytes" in result.stderr


def test_an_answers_file_over_the_limit_is_refused(submitted: Cli, inputs: Path) -> None:
    path = answers_file(inputs, "intake", "# " + "x" * (2 * 1024 * 1024) + "\n")
    before = fingerprint(submitted.root)
    result = submitted("checklist", "fill", PATCH, "intake", "--env", "dev", "--answers",
                       str(path), person="alice")
    assert result.exit_code == 2
    assert fingerprint(submitted.root) == before
    assert str(path) in result.stderr
    assert "over the limit of 1048576 bytes" in result.stderr


def test_a_junit_file_over_the_limit_is_refused_without_reading_it(submitted: Cli,
                                                                   inputs: Path) -> None:
    path = inputs / "huge.xml"
    with path.open("wb") as handle:  # sparse: its size says 200 MiB and a byte
        handle.truncate(200 * 1024 * 1024 + 1)
    before = fingerprint(submitted.root)
    ran = run(submitted.root, "tests", "record", PATCH, "--env", "dev", str(path))
    assert ran.returncode == 2, ran.stderr
    assert fingerprint(submitted.root) == before
    assert str(path) in ran.stderr
    assert "over the limit of 209715200 bytes" in ran.stderr


# --- expiry times out of range -----------------------------------------------------------


@pytest.mark.parametrize("until", [
    "9999-12-31", "9999-12-31T23:59:59+00:00", "9999-12-31T23:00-05:00",
    "0001-01-01", "0001-01-01T00:00+05:00", "0001-01-01T00:00Z", "1969-12-31"])
def test_waive_until_out_of_range_names_the_range(in_test: Cli, until: str) -> None:
    before = fingerprint(in_test.root)
    result = in_test("waive", PATCH, "--env", "prod", "--test", "cbs::*", "--reason",
                     "known vendor defect", "--until", until, person="carol")
    assert result.exit_code == 2, result.output
    assert fingerprint(in_test.root) == before
    assert result.stderr.startswith(f"error: --until {until!r} is out of range"), result.stderr
    assert "between 1970-01-01 and 9999-12-30" in result.stderr


@pytest.mark.parametrize("until", [
    "2099-12-31T18:00+24:00", "2099-12-31T18:00+99:00", "2099-12-31T18:00-25:00",
    "2099-12-31T18:00+15:00", "2099-12-31T18:00-12:30", "2099-12-31T18:00+14:00:01",
    "2099-12-31T18:00+0900:00"])
def test_waive_until_with_an_absurd_offset_is_refused(in_test: Cli, until: str) -> None:
    before = fingerprint(in_test.root)
    result = in_test("waive", PATCH, "--env", "prod", "--test", "cbs::*", "--reason",
                     "known vendor defect", "--until", until, person="carol")
    assert result.exit_code == 2, result.output
    assert fingerprint(in_test.root) == before
    assert result.stderr.startswith(f"error: --until {until!r}"), result.stderr
    assert "-12:00 and +14:00" in result.stderr or "is not a date" in result.stderr


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "Etc/GMT+12"])
def test_the_ends_of_the_range_are_accepted_in_every_zone(zone: str) -> None:
    latest = parse_until("9999-12-30", zone)
    assert stamp(latest, millis=False).startswith("9999-12-3")
    assert stamp(parse_until("9999-12-30T23:59:59-12:00", zone)) == "9999-12-31T11:59:59.000Z"
    assert stamp(parse_until("1970-01-01T00:00+14:00", zone)) == "1969-12-31T10:00:00.000Z"
    assert stamp(parse_until("1970-01-01", zone), millis=False).startswith("19")
    assert parse_until("2099-12-31T18:00+14:00", zone) < parse_until("2099-12-31T18:00-12:00",
                                                                       zone)


@pytest.mark.parametrize("until", ["10000-01-01", "9999-13-01", "2026-02-30", "soon", ""])
def test_what_is_no_date_says_what_is_expected(until: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_until(until, "UTC")
    assert caught.value.code == "bad-time"
    assert "YYYY-MM-DD" in str(caught.value)


# --- a patch that depends on itself ------------------------------------------------------


@pytest.mark.parametrize("spelled", [PATCH, PATCH.lower()])
def test_a_patch_that_depends_on_itself_is_refused_at_submit(rg: Cli, inputs: Path,
                                                             spelled: str) -> None:
    manifest = write_manifest(inputs, extra=f"depends_on: [CBS-2026-0001, {spelled}]\n")
    before = fingerprint(rg.root)
    result = rg("patch", "submit", str(manifest), person="alice")
    assert result.exit_code == 2, result.output
    assert fingerprint(rg.root) == before
    assert result.stderr.startswith(f"error: {manifest}:"), result.stderr
    assert "depends_on" in result.stderr
    assert "itself" in result.stderr
