"""A write killed with SIGKILL between any two of its steps, in a ledger of its own or
in a clone of a shared one: afterwards the ledger is consistent (the next command
puts the working copy right, verify finds nothing), and running the command again
completes the act exactly once. The steps are named points in the write
(`releasegate.ledger.steps`) where the suite asks the process to kill itself; a loop
also kills writes at random moments."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from releasegate.actions.setup import init_ledger
from releasegate.ledger.steps import STEPS
from tests.helpers import PATCH, Cli, answers_file, git, must, write_manifest

LOCAL_STEPS = [s for s in STEPS if s not in ("fetched", "pushed")]


def _run(root: Path, *args: str, kill_at: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    env.pop("RELEASEGATE_TEST_KILL_AT", None)
    if kill_at is not None:
        env["RELEASEGATE_TEST_KILL_AT"] = kill_at
    return subprocess.run([sys.executable, "-m", "releasegate", "--ledger", str(root),
                           "--as", "alice", *args], capture_output=True, text=True,
                          env=env, timeout=120, check=False)


def _promoted_into_dev(root: Path, ref: str = "HEAD") -> int:
    names = git(root, "ls-tree", "-r", "--name-only", ref, f"patches/{PATCH}/events").split()
    return sum(n.endswith("-promoted.yaml") for n in names)


def _ready_for_dev(rg: Cli, inputs: Path) -> None:
    must(rg, "patch", "submit", str(write_manifest(inputs)))
    must(rg, "checklist", "fill", PATCH, "intake", "--env", "dev", "--answers",
         str(answers_file(inputs, "intake")))


def _consistent(root: Path) -> None:
    """The next command puts the working copy right; then nothing is amiss."""
    after = _run(root, "status")
    assert after.returncode == 0, after.stderr
    assert git(root, "status", "--porcelain") == ""
    audit = _run(root, "verify")
    assert audit.returncode == 0, audit.stdout


@pytest.mark.parametrize("step", LOCAL_STEPS)
def test_a_promotion_killed_at_any_step_completes_once_when_run_again(
        rg: Cli, inputs: Path, step: str) -> None:
    _ready_for_dev(rg, inputs)

    killed = _run(rg.root, "promote", PATCH, "--to", "dev", kill_at=step)

    assert killed.returncode == -signal.SIGKILL
    _consistent(rg.root)
    again = _run(rg.root, "promote", PATCH, "--to", "dev")
    assert again.returncode == 0, again.stderr
    assert _promoted_into_dev(rg.root) == 1
    landed = STEPS.index(step) >= STEPS.index("moved")
    assert ("already in dev" in again.stdout) == landed


@pytest.fixture
def shared(tmp_path: Path, inputs: Path) -> tuple[Cli, Path]:
    """A clone of a shared ledger (a bare repository) with PATCH ready for dev."""
    bare = tmp_path / "shared.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    first = tmp_path / "first"
    init_ledger(first, example=True)
    git(first, "remote", "add", "origin", str(bare))
    git(first, "push", "-q", "-u", "origin", "main")
    _ready_for_dev(Cli(first), inputs)
    git(tmp_path, "clone", "-q", str(bare), str(tmp_path / "clone"))
    return Cli(tmp_path / "clone"), bare


@pytest.mark.parametrize("step", STEPS)
def test_a_shared_promotion_killed_at_any_step_completes_once_when_run_again(
        shared: tuple[Cli, Path], step: str) -> None:
    clone, bare = shared

    killed = _run(clone.root, "promote", PATCH, "--to", "dev", kill_at=step)

    assert killed.returncode == -signal.SIGKILL
    _consistent(clone.root)
    again = _run(clone.root, "promote", PATCH, "--to", "dev")
    assert again.returncode == 0, again.stderr
    assert _promoted_into_dev(bare, "main") == 1
    assert git(clone.root, "rev-parse", "HEAD") == git(bare, "rev-parse", "main")
    # What the killed command fetched is no longer held by a ref of its own.
    assert git(clone.root, "for-each-ref", "refs/releasegate/").strip() == ""
    _consistent(clone.root)


def test_writes_killed_at_random_moments_leave_a_ledger_that_completes_each_once(
        shared: tuple[Cli, Path], inputs: Path) -> None:
    """Eight submissions of new patches, each killed after a random delay (or not at
    all, when it was quicker); then each is run again to the end. The releasegate
    process is killed, not the git command it may be waiting for: a git process killed
    while it holds one of git's own lock files leaves the file, which git (and
    releasegate, test_a_stale_git_lock_is_named) asks a person to remove."""
    clone, bare = shared
    chance = random.Random(20261202)
    manifests = [write_manifest(inputs / f"r{i}", f"RND-2026-{i:04d}",
                                content=f"payload {i}\n".encode()) for i in range(8)]
    for manifest in manifests:
        process = subprocess.Popen(
            [sys.executable, "-m", "releasegate", "--ledger", str(clone.root), "--as", "alice",
             "patch", "submit", str(manifest)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(chance.uniform(0.1, 0.8))
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    _consistent(clone.root)
    for manifest in manifests:
        again = _run(clone.root, "patch", "submit", str(manifest))
        assert again.returncode == 0, again.stderr
    for i in range(8):
        events = git(bare, "ls-tree", "-r", "--name-only", "main",
                     f"patches/RND-2026-{i:04d}/events").split()
        assert [e.rsplit("/", 1)[1] for e in events] == ["0001-submitted.yaml"]
    _consistent(clone.root)


def test_a_stale_git_lock_is_named_and_the_copy_is_finished_once_it_is_gone(
        rg: Cli, inputs: Path) -> None:
    """git's own lock files, left by a git process killed while it held them: a write
    meeting the branch's lock exits 3 naming the file, nothing recorded; one meeting
    the index's lock is recorded, and the next command after the lock is removed
    brings the index in step."""
    _ready_for_dev(rg, inputs)
    branch_lock = rg.root / ".git" / "refs" / "heads" / "main.lock"
    branch_lock.touch()
    head = git(rg.root, "rev-parse", "HEAD")

    refused = _run(rg.root, "promote", PATCH, "--to", "dev", "--format", "json")

    assert refused.returncode == 3
    assert '"code": "locked"' in refused.stdout and str(branch_lock) in refused.stdout
    assert git(rg.root, "rev-parse", "HEAD") == head
    branch_lock.unlink()
    index_lock = rg.root / ".git" / "index.lock"
    index_lock.touch()

    done = _run(rg.root, "promote", PATCH, "--to", "dev")

    assert done.returncode == 0, done.stderr
    assert "the git index was not updated" in done.stderr
    index_lock.unlink()
    _consistent(rg.root)
    assert _promoted_into_dev(rg.root) == 1
