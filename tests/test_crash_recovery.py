"""A write killed at any point never leaves the ledger in a state that later breaks it:
the courtesy copy is finished by the next command, and an act that never reached the
shared ledger is dropped and named, never rebased into a broken chain."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from releasegate.actions.setup import init_ledger
from tests.helpers import PATCH, Cli, answers_file, fingerprint, git, must, write_manifest

EVENTS = f"patches/{PATCH}/events"


def _releasegate(root: Path, *args: str, person: str = "alice",
                 env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """The real CLI in its own process group, so the test can kill it and its git."""
    return subprocess.Popen([sys.executable, "-m", "releasegate", "--ledger", str(root),
                             "--as", person, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True,
                            env={**os.environ, **(env or {})})


def _hook(root: Path, name: str, body: str) -> None:
    hook = root / ".git" / "hooks" / name
    hook.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    hook.chmod(0o755)


def _kill_when(process: subprocess.Popen[bytes], flag: Path, limit: float = 30) -> None:
    """Wait until a hook of the process wrote `flag`, then SIGKILL the whole group."""
    deadline = time.monotonic() + limit
    while not flag.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the hook was never reached"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def _sleep_on(state_or_push: str, flag: Path) -> str:
    return (f'if [ "$1" = "{state_or_push}" ] || [ "{state_or_push}" = push ]; then\n'
            f'  touch "{flag}"; sleep 60\nfi\nexit 0\n')


def test_a_write_killed_after_its_commit_is_finished_by_the_next_command(
        submitted: Cli, ledger_root: Path, inputs: Path, tmp_path: Path) -> None:
    flag = tmp_path / "committed"
    # Sleeps once the branch has moved: the event is committed, the copy not yet made.
    _hook(ledger_root, "reference-transaction", _sleep_on("committed", flag))
    answers = answers_file(inputs, "intake")
    process = _releasegate(ledger_root, "checklist", "fill", PATCH, "intake", "--env", "dev",
                           "--answers", str(answers))
    _kill_when(process, flag)
    (ledger_root / ".git" / "hooks" / "reference-transaction").unlink()
    assert f"{EVENTS}/0002-checklist.yaml" in git(ledger_root, "ls-tree", "-r", "--name-only",
                                                  "HEAD")
    assert "D  " + f"{EVENTS}/0002-checklist.yaml" in git(ledger_root, "status", "--porcelain")

    result = submitted("status")

    assert result.exit_code == 0, result.output
    assert "finished updating the working tree after an interrupted command" in result.stderr
    assert git(ledger_root, "status", "--porcelain") == ""
    assert (ledger_root / EVENTS / "0002-checklist.yaml").is_file()
    # The documented configuration workflow no longer commits a deletion.
    config = ledger_root / "releasegate.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    git(ledger_root, "commit", "-qam", "edit the pipeline")
    must(submitted, "promote", PATCH, "--to", "dev")


def test_a_persons_own_edits_survive_the_repair(submitted: Cli, ledger_root: Path,
                                                inputs: Path, tmp_path: Path) -> None:
    flag = tmp_path / "committed"
    _hook(ledger_root, "reference-transaction", _sleep_on("committed", flag))
    config = ledger_root / "releasegate.yaml"
    edited = config.read_text(encoding="utf-8") + "# a note in progress\n"
    config.write_text(edited, encoding="utf-8")
    process = _releasegate(ledger_root, "checklist", "fill", PATCH, "intake", "--env", "dev",
                           "--answers", str(answers_file(inputs, "intake")))
    _kill_when(process, flag)
    (ledger_root / ".git" / "hooks" / "reference-transaction").unlink()

    assert submitted("patch", "show", PATCH).exit_code == 0

    assert config.read_text(encoding="utf-8") == edited
    assert git(ledger_root, "status", "--porcelain") == " M releasegate.yaml\n"


Shared = tuple[Cli, Cli, Path]


@pytest.fixture
def shared(tmp_path: Path, inputs: Path) -> Shared:
    """Clones A and B of one bare ledger, with CBS-2026-0042 submitted."""
    bare = tmp_path / "shared.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    a = tmp_path / "a"
    init_ledger(a, example=True)
    git(a, "remote", "add", "origin", str(bare))
    git(a, "push", "-q", "-u", "origin", "main")
    git(tmp_path, "clone", "-q", str(bare), str(tmp_path / "b"))
    clone_a = Cli(a)
    must(clone_a, "patch", "submit", str(write_manifest(inputs)))
    clone_b = Cli(tmp_path / "b")
    must(clone_b, "sync", person=None)
    return clone_a, clone_b, bare


def _kill_before_push(clone: Path, tmp_path: Path, *args: str, person: str) -> None:
    flag = tmp_path / "pushing"
    _hook(clone, "pre-push", _sleep_on("push", flag))
    _kill_when(_releasegate(clone, *args, person=person), flag)
    (clone / ".git" / "hooks" / "pre-push").unlink()


def test_an_act_killed_before_its_push_is_dropped_and_named_once_others_moved_on(
        shared: Shared, inputs: Path, tmp_path: Path) -> None:
    a, b, bare = shared
    _kill_before_push(a.root, tmp_path, "checklist", "fill", PATCH, "intake", "--env", "dev",
                      "--answers", str(answers_file(inputs, "intake")), person="alice")
    assert git(a.root, "log", "-1", "--format=%s").startswith(f"{PATCH}: checklist intake")
    # Another clone records an act first: A's commit can no longer fast-forward.
    must(b, "checklist", "fill", PATCH, "intake", "--env", "dev", "--answers",
         str(answers_file(inputs / "b", "intake")), person="alice")

    result = a("promote", PATCH, "--to", "dev", person="alice")

    assert result.exit_code == 0, result.output
    assert "never reached origin and was dropped" in result.stderr
    assert f"'{PATCH}: checklist intake for dev by alice'" in result.stderr
    assert "git pull --rebase" not in result.output
    names = git(bare, "ls-tree", "-r", "--name-only", "main", EVENTS).split()
    assert names == [f"{EVENTS}/0001-submitted.yaml", f"{EVENTS}/0002-checklist.yaml",
                     f"{EVENTS}/0003-promoted.yaml"]
    assert git(a.root, "status", "--porcelain") == ""
    assert a("patch", "log", PATCH).exit_code == 0  # the chain verifies


def test_an_act_killed_before_its_push_is_pushed_by_the_next_command(
        shared: Shared, inputs: Path, tmp_path: Path) -> None:
    a, _, bare = shared
    must(a, "checklist", "fill", PATCH, "intake", "--env", "dev", "--answers",
         str(answers_file(inputs, "intake")))
    _kill_before_push(a.root, tmp_path, "promote", PATCH, "--to", "dev", person="alice")
    assert "promoted to dev" not in git(bare, "log", "--format=%s", "main")

    again = a("promote", PATCH, "--to", "dev", person="alice")

    assert again.exit_code == 0, again.output
    assert "already in dev" in again.stdout
    assert git(bare, "rev-parse", "main") == git(a.root, "rev-parse", "HEAD")
    assert git(bare, "log", "--format=%s", "main").count("promoted to dev") == 1


def test_sync_refuses_to_push_a_chain_that_does_not_verify(shared: Shared,
                                                           inputs: Path) -> None:
    a, _, bare = shared
    events = a.root / EVENTS
    # Two events claiming one sequence number, committed by hand.
    (events / "0002-checklist.yaml").write_bytes((events / "0001-submitted.yaml").read_bytes())
    (events / "0002-signoff.yaml").write_bytes((events / "0001-submitted.yaml").read_bytes())
    git(a.root, "add", "-A")
    git(a.root, "commit", "-qm", "hand-made events")
    remote_before = git(bare, "rev-parse", "main")

    result = a("sync")

    assert result.exit_code == 2
    assert "does not verify, so nothing was pushed" in result.stderr
    assert f"{EVENTS}/0002-" in result.stderr
    assert git(bare, "rev-parse", "main") == remote_before


def test_mixed_local_commits_get_a_hint_that_never_rebases_releasegates_acts(
        shared: Shared, inputs: Path, tmp_path: Path) -> None:
    a, b, _ = shared
    _kill_before_push(a.root, tmp_path, "checklist", "fill", PATCH, "intake", "--env", "dev",
                      "--answers", str(answers_file(inputs, "intake")), person="alice")
    config = a.root / "releasegate.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    git(a.root, "commit", "-qam", "a person's own change")
    must(b, "checklist", "fill", PATCH, "intake", "--env", "dev", "--answers",
         str(answers_file(inputs / "b", "intake")), person="alice")
    before = fingerprint(a.root)

    result = a("promote", PATCH, "--to", "dev", person="alice")

    assert result.exit_code == 2
    assert "never rebase releasegate's acts" in result.stderr
    assert "pull --rebase" not in result.stderr
    assert fingerprint(a.root) == before | {"refs": fingerprint(a.root)["refs"]}
