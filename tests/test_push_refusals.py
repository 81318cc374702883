"""Errors that tell the truth: a remote that refuses a push for good is not retried and
is quoted; a ref that cannot move is not reported as a race; a second command in the
same clone is waited for; git's own failures come out as one line."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from releasegate.actions.setup import init_ledger
from tests.helpers import PATCH, Cli, answers_file, fingerprint, git, must, write_manifest


def _shared(tmp_path: Path, *, bare: bool = True) -> tuple[Cli, Path]:
    remote = tmp_path / ("shared.git" if bare else "checked-out")
    if bare:
        git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    else:
        git(tmp_path, "init", "-q", "-b", "main", str(remote))
        git(remote, "commit", "-q", "--allow-empty", "-m", "someone's work")
    clone = tmp_path / "clone"
    init_ledger(clone, example=True)
    git(clone, "remote", "add", "origin", str(remote))
    if bare:
        git(clone, "push", "-q", "-u", "origin", "main")
    else:
        git(clone, "fetch", "-q", "origin")
        git(clone, "reset", "-q", "--hard", "origin/main")
        init_ledger(tmp_path / "again", example=True)  # the pipeline files, committed anew
        for name in ("releasegate.yaml", "checklists"):
            subprocess.run(["cp", "-r", str(tmp_path / "again" / name), str(clone)], check=True)
        git(clone, "add", "-A")
        git(clone, "commit", "-qm", "pipeline")
        git(clone, "branch", "-q", "-u", "origin/main")
    return Cli(clone), remote


def _one_line_and_a_hint(stderr: str) -> None:
    lines = stderr.splitlines()
    assert lines[0].startswith("error: ") and len(lines[0]) < 500
    assert all(line.startswith("  hint: ") for line in lines[1:]) and len(lines) <= 2


def _refusing_hook(remote: Path, tmp_path: Path) -> Path:
    calls = tmp_path / "hook-calls"
    hook = remote / "hooks" / "pre-receive"
    hook.write_text(f'#!/bin/sh\necho call >> "{calls}"\n'
                    'echo "GL-HOOK-ERR: main is a protected branch" >&2\nexit 1\n',
                    encoding="utf-8")
    hook.chmod(0o755)
    return calls


def test_a_push_refused_by_a_hook_is_not_retried_and_quotes_the_remote(
        tmp_path: Path, inputs: Path) -> None:
    clone, remote = _shared(tmp_path)
    calls = _refusing_hook(remote, tmp_path)
    before = fingerprint(clone.root)

    result = clone("patch", "submit", str(write_manifest(inputs)), "--format", "json",
                   person="alice")

    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "push-refused"
    assert "refused the push" in error["message"]
    assert "GL-HOOK-ERR: main is a protected branch" in error["message"]
    assert "\n" not in error["message"]
    assert calls.read_text(encoding="utf-8").count("call") == 1
    assert fingerprint(clone.root)["HEAD"] == before["HEAD"]
    assert fingerprint(clone.root)["status"] == before["status"]


def test_a_remote_with_the_branch_checked_out_is_named_as_such(
        tmp_path: Path, inputs: Path) -> None:
    clone, _ = _shared(tmp_path, bare=False)
    head = git(clone.root, "rev-parse", "HEAD")

    result = clone("patch", "submit", str(write_manifest(inputs)), person="alice")

    assert result.exit_code == 2, result.output
    assert "branch is currently checked out" in result.stderr
    _one_line_and_a_hint(result.stderr)
    assert git(clone.root, "rev-parse", "HEAD") == head


def test_a_ref_a_hook_will_not_move_is_refused_once_not_retried(
        submitted: Cli, ledger_root: Path, inputs: Path) -> None:
    calls = ledger_root / ".git" / "hook-calls"
    hook = ledger_root / ".git" / "hooks" / "reference-transaction"
    hook.write_text(f'#!/bin/sh\n[ "$1" = prepared ] || exit 0\necho x >> "{calls}"\n'
                    'echo "refs are immutable here" >&2\nexit 1\n', encoding="utf-8")
    hook.chmod(0o755)
    before = fingerprint(ledger_root)

    result = submitted("checklist", "fill", PATCH, "intake", "--env", "dev", "--answers",
                       str(answers_file(inputs, "intake")), "--format", "json",
                       person="alice")

    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "ref-refused"
    assert "other writers" not in error["message"]
    assert calls.read_text(encoding="utf-8").count("x") == 1
    before.pop("refs")
    after = fingerprint(ledger_root)
    after.pop("refs")
    assert after == before


def test_an_unreachable_remote_is_reported_in_one_line(tmp_path: Path, inputs: Path) -> None:
    clone, _ = _shared(tmp_path)
    git(clone.root, "remote", "set-url", "origin", str(tmp_path / "gone.git"))

    result = clone("patch", "submit", str(write_manifest(inputs)), person="alice")

    assert result.exit_code == 3
    assert result.stderr.startswith("error: the shared ledger origin is unreachable")
    _one_line_and_a_hint(result.stderr)


def _hold_the_lock(root: Path, *, seconds: float) -> subprocess.Popen[bytes]:
    """Another process holding the clone's write lock for `seconds`; returns once held."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom pathlib import Path\n"
         "from releasegate.ledger.lock import CloneLock\n"
         "with CloneLock(Path(sys.argv[1])):\n"
         "    print('held', flush=True)\n    time.sleep(float(sys.argv[2]))\n",
         str(root), str(seconds)],
        stdout=subprocess.PIPE)
    assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
    return holder


def test_a_second_writer_in_the_same_clone_is_waited_for(
        submitted: Cli, ledger_root: Path, inputs: Path) -> None:
    holder = _hold_the_lock(ledger_root, seconds=2)
    try:
        started = time.monotonic()
        result = submitted("checklist", "fill", PATCH, "intake", "--env", "dev", "--answers",
                           str(answers_file(inputs, "intake")), person="alice")
        waited = time.monotonic() - started
    finally:
        holder.wait(timeout=30)
    assert result.exit_code == 0, result.output
    assert waited > 1
    assert "waited" in result.stderr and "another releasegate command" in result.stderr


def test_a_lock_held_past_the_wait_is_transient_and_names_the_holder(
        submitted: Cli, ledger_root: Path, inputs: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("releasegate.ledger.lock.WAIT", 0.3)
    holder = _hold_the_lock(ledger_root, seconds=5)
    try:
        before = fingerprint(ledger_root)
        result = submitted("checklist", "fill", PATCH, "intake", "--env", "dev", "--answers",
                           str(answers_file(inputs, "intake")), person="alice")
        assert fingerprint(ledger_root) == before
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert result.exit_code == 3
    assert f"(process {holder.pid})" in result.stderr


def test_four_commands_at_once_in_one_shared_clone_all_land(tmp_path: Path,
                                                            inputs: Path) -> None:
    clone, remote = _shared(tmp_path)
    patches = [f"CBS-2026-00{n}" for n in (51, 52, 53, 54)]
    manifests = [write_manifest(inputs / p, p) for p in patches]
    processes = [subprocess.Popen([sys.executable, "-m", "releasegate", "--ledger",
                                   str(clone.root), "--as", "alice", "patch", "submit",
                                   str(m)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for m in manifests]
    outcomes = [(p.wait(timeout=120), p.communicate()) for p in processes]
    assert [code for code, _ in outcomes] == [0, 0, 0, 0], outcomes
    log = git(remote, "log", "--format=%s", "main")
    assert all(log.count(f"{p}: submitted") == 1 for p in patches)
    assert git(clone.root, "status", "--porcelain") == ""
    must(clone, "status")
