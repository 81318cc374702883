"""A write's blobs, trees and commit are stored by releasegate itself as git's loose
objects, byte for byte what git would store, and left to git wherever git would
store them otherwise."""

from __future__ import annotations

import os
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from releasegate.actions.evidence import fill_checklist
from releasegate.ledger import loose
from releasegate.ledger.store import GitStore
from releasegate.ledger.transaction import Ledger
from tests.helpers import PATCH, Cli, git

INTAKE = {"version-controlled": "yes", "release-note-read": "yes", "risk": "low"}
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


@pytest.mark.parametrize(("name", "email"), [
    ("releasegate", "releasegate@releasegate.invalid"),
    (" .Dr. <Who>, ", "<who@bank.example>"),
    ("Zoë Ørsted", "zoe@bank.example"),
    ("李雷", "li@bank.example"),
    ("two\nlines", "a\nb@bank.example"),
    ("'quoted'", "\"q\"@bank.example"),
])
@pytest.mark.parametrize("message", ["one line", "an act\n\nLedger-Height: 3\n", "ends\n\n"])
@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_a_commit_releasegate_stores_is_the_one_git_would_store(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, email: str,
        message: str, zone: str) -> None:
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
        now = int(time.time())
        line = loose.ident(name, email, now)
        assert line is not None
        forced = f"@{now} {line.rsplit(' ', 1)[1]}"
        theirs = subprocess.run(
            ["git", "-C", str(tmp_path), "commit-tree", EMPTY_TREE], input=message.encode(),
            capture_output=True, check=True, env={
                **os.environ, "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
                "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email,
                "GIT_AUTHOR_DATE": forced, "GIT_COMMITTER_DATE": forced}).stdout.decode()
        ours = loose.store(tmp_path / ".git" / "objects", "commit",
                           loose.commit_body(EMPTY_TREE, None, line, message))
        assert ours == theirs.strip()
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_name_git_would_refuse_is_left_to_git() -> None:
    assert loose.ident(" <.,> ", "x@bank.example") is None


def git_calls_of_a_write(root: Path) -> list[str]:
    """The git commands a checklist filling runs through the write wrapper."""
    calls: list[str] = []
    call = GitStore._call

    def counting(self: GitStore, command: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(command)
        return call(self, command, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(GitStore, "_call", counting)
        fill_checklist(Ledger(root), "alice", PATCH, "intake", "dev", INTAKE)
    return calls


def test_a_write_stores_its_objects_without_git_and_git_finds_them_sound(
        submitted: Cli, ledger_root: Path) -> None:
    before = set(git(ledger_root, "rev-list", "--objects", "--all").split())
    calls = git_calls_of_a_write(ledger_root)
    assert "hash_object" not in calls and "commit_tree" not in calls
    subprocess.run(["git", "-C", str(ledger_root), "fsck", "--strict", "--no-dangling"],
                   check=True, capture_output=True)
    new = set(git(ledger_root, "rev-list", "--objects", "--all").split()) - before
    files = [ledger_root / ".git" / "objects" / sha[:2] / sha[2:] for sha in new
             if len(sha) == 40]
    assert files and all(stat.S_IMODE(f.stat().st_mode) == 0o444 for f in files)
    assert git(ledger_root, "status", "--porcelain") == ""
    assert git(ledger_root, "log", "-1", "--format=%an <%ae>").strip() == \
        "Alice Wang <alice@bank.example>"


@pytest.mark.parametrize("setting", [("core.sharedRepository", "group"),
                                     ("core.compression", "9")])
def test_where_git_would_store_objects_otherwise_git_stores_them(
        submitted: Cli, ledger_root: Path, setting: tuple[str, str]) -> None:
    git(ledger_root, "config", *setting)
    calls = git_calls_of_a_write(ledger_root)
    assert "hash_object" in calls and "commit_tree" in calls
    subprocess.run(["git", "-C", str(ledger_root), "fsck", "--strict", "--no-dangling"],
                   check=True, capture_output=True)
    assert submitted.json("patch", "show", PATCH)["id"] == PATCH


def test_a_date_forced_through_the_environment_is_honoured_as_git_would(
        submitted: Cli, ledger_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_COMMITTER_DATE", "@1767225600 +0000")
    calls = git_calls_of_a_write(ledger_root)
    assert "commit_tree" in calls and "hash_object" not in calls
    assert git(ledger_root, "log", "-1", "--format=%cd", "--date=raw").strip() == "1767225600 +0000"


def test_where_releasegate_cannot_write_an_object_git_is_asked_and_the_act_recorded(
        submitted: Cli, ledger_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure to write a loose object (a full disk, a folder not writable) hands
    the write to git, whose own message would say what is wrong."""
    def failing(objects: Path, kind: str, body: bytes) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(loose, "store", failing)
    calls = git_calls_of_a_write(ledger_root)
    assert "hash_object" in calls and "commit_tree" in calls
    monkeypatch.undo()
    subprocess.run(["git", "-C", str(ledger_root), "fsck", "--strict", "--no-dangling"],
                   check=True, capture_output=True)
    assert git(ledger_root, "status", "--porcelain") == ""
    assert "checklist" in git(ledger_root, "log", "-1", "--format=%s")
