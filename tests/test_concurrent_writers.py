"""Writers at once on one shared ledger: every act lands exactly once, none gives up,
and an act that lost a race to work on another patch is carried onto the new head
instead of being done again. The shared ledger is served by `git daemon` on
127.0.0.1, as a git host would serve it, and pushed to over git://."""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from releasegate.actions import evidence
from releasegate.actions.setup import init_ledger
from releasegate.ledger.store import GitStore
from releasegate.ledger.transaction import ATTEMPTS, backoff
from tests.git_daemon import GitDaemon, bare_repository
from tests.helpers import (
    PATCH,
    Cli,
    answers_file,
    edit_pipeline,
    git,
    junit_file,
    must,
    write_manifest,
)

OTHER = "CBS-2026-0043"


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[GitDaemon]:
    served = tmp_path / "served"
    served.mkdir()
    bare_repository(served / "ledger.git")
    with GitDaemon(served) as running:
        yield running


def _clone(daemon: GitDaemon, folder: Path) -> Cli:
    git(folder.parent, "clone", "-q", daemon.url("ledger.git"), str(folder))
    return Cli(folder)


@pytest.fixture
def shared(daemon: GitDaemon, tmp_path: Path, inputs: Path) -> tuple[Cli, Cli]:
    """Two clones of the served ledger, with PATCH and OTHER submitted and in dev."""
    first = tmp_path / "a"
    init_ledger(first, example=True)
    git(first, "remote", "add", "origin", daemon.url("ledger.git"))
    git(first, "push", "-q", "-u", "origin", "main")
    a = Cli(first)
    for patch in (PATCH, OTHER):
        must(a, "patch", "submit", str(write_manifest(inputs / patch, patch)))
        must(a, "checklist", "fill", patch, "intake", "--env", "dev", "--answers",
             str(answers_file(inputs, "intake")))
        must(a, "promote", patch, "--to", "dev")
    return a, _clone(daemon, tmp_path / "b")


def _pushed_events(bare: Path, patch: str) -> list[str]:
    out = git(bare, "ls-tree", "-r", "--name-only", "main", "--", f"patches/{patch}/events")
    return out.split()


def _race_once(b: Cli, monkeypatch: pytest.MonkeyPatch, act: object) -> list[str]:
    """Make B's first push lose to `act` (run by A just before it)."""
    real_push = GitStore.push
    raced: list[str] = []

    def push_after_a_colleague(self: GitStore, remote: str, ref: str, merge: str) -> None:
        if self.root == b.root and not raced:
            raced.append("raced")
            act()  # type: ignore[operator]
        real_push(self, remote, ref, merge)

    monkeypatch.setattr(GitStore, "push", push_after_a_colleague)
    return raced


def _count_sign_offs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count how often the sign-off act is worked out (validated and built)."""
    from releasegate.actions.common import append_event as real

    built: list[str] = []

    def counting(*args: object, **kwargs: object) -> object:
        built.append(str(args[2]))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(evidence, "append_event", counting)
    return built


def test_an_act_that_lost_to_work_on_another_patch_is_carried_not_redone(
        shared: tuple[Cli, Cli], daemon: GitDaemon, inputs: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = shared
    raced = _race_once(b, monkeypatch, lambda: must(
        a, "tests", "record", OTHER, "--env", "dev", str(junit_file(inputs, "smoke", 3))))
    built = _count_sign_offs(monkeypatch)

    result = b("signoff", PATCH, "--env", "test", "--role", "app-owner", person="bob")

    assert result.exit_code == 0, result.output
    assert raced == ["raced"]
    assert built.count("signoff") == 1  # worked out once, committed twice
    assert "recorded after 1 retry" in result.stderr
    bare = daemon.base / "ledger.git"
    assert [p.rsplit("-", 1)[1] for p in _pushed_events(bare, PATCH)][-1] == "signoff.yaml"
    assert _pushed_events(bare, OTHER)[-1].endswith("-tests.yaml")
    subjects = git(bare, "log", "--format=%s", "-2", "main").splitlines()
    assert subjects[0].startswith(f"{PATCH}: approve for test as app-owner by bob")
    assert subjects[1].startswith(f"{OTHER}: tests smoke in dev")
    assert b("verify").exit_code == 0


@pytest.mark.parametrize("colleague", ["same patch", "pipeline"])
def test_an_act_that_lost_to_a_change_it_rests_on_is_worked_out_again(
        shared: tuple[Cli, Cli], daemon: GitDaemon, inputs: Path,
        monkeypatch: pytest.MonkeyPatch, colleague: str) -> None:
    a, b = shared

    def act() -> None:
        if colleague == "same patch":
            must(a, "tests", "record", PATCH, "--env", "dev",
                 str(junit_file(inputs, "smoke", 3)))
        else:
            edit_pipeline(a.root, lambda config: config.update(timezone="UTC"))
            git(a.root, "push", "-q")

    raced = _race_once(b, monkeypatch, act)
    built = _count_sign_offs(monkeypatch)

    result = b("signoff", PATCH, "--env", "test", "--role", "app-owner", person="bob")

    assert result.exit_code == 0, result.output
    assert raced == ["raced"] and built.count("signoff") == 2
    events = _pushed_events(daemon.base / "ledger.git", PATCH)
    assert events[-1].endswith("-signoff.yaml")
    assert b("verify").exit_code == 0


Done = subprocess.CompletedProcess[str]


def _at_once(count: int, work: Callable[[int], list[Done]]) -> list[Done]:
    """`work(0)` ... `work(count - 1)` in threads at once; everything they ran."""
    results: list[Done] = []
    lock = threading.Lock()

    def run(n: int) -> None:
        done = work(n)
        with lock:
            results.extend(done)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _releasegate(clone: Path, *args: str, person: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "releasegate", "--ledger", str(clone),
                           "--as", person, *args], capture_output=True, text=True,
                          timeout=240, check=False)


def test_eight_writers_in_eight_clones_all_land_exactly_once(
        shared: tuple[Cli, Cli], daemon: GitDaemon, tmp_path: Path, inputs: Path) -> None:
    """8 clones x 4 acts at once, as separate processes: test runs and sign-offs on
    each writer's own patch, and one test run each on a patch all of them share.
    Every act exits 0 and is in the shared ledger once, and the ledger verifies."""
    a, _ = shared
    own = [f"WRT-2026-{n:04d}" for n in range(8)]
    for patch in own:
        must(a, "patch", "submit", str(write_manifest(inputs / patch, patch)))
        must(a, "checklist", "fill", patch, "intake", "--env", "dev", "--answers",
             str(answers_file(inputs, "intake")))
        must(a, "promote", patch, "--to", "dev")
    clones = [_clone(daemon, tmp_path / f"w{n}") for n in range(8)]
    def writer(n: int) -> list[Done]:
        done = []
        for i in range(4):
            if i % 2:
                done.append(_releasegate(clones[n].root, "signoff", own[n], "--env", "test",
                                         "--role", "app-owner", "--comment", f"w{n}-{i}",
                                         person="bob"))
            else:
                run = junit_file(inputs / f"w{n}-{i}", "smoke", 1 + n + 10 * i)
                done.append(_releasegate(clones[n].root, "tests", "record",
                                         PATCH if i == 2 else own[n], "--env", "dev",
                                         str(run), person="alice"))
        return done

    results = _at_once(8, writer)

    assert [r.returncode for r in results] == [0] * 32, [r.stderr for r in results
                                                         if r.returncode][:3]
    bare = daemon.base / "ledger.git"
    comments = git(bare, "grep", "-h", "comment:", "main", "--", "patches").splitlines()
    assert sorted(c.split(":", 2)[-1].strip() for c in comments) == sorted(
        f"w{n}-{i}" for n in range(8) for i in (1, 3))
    for patch, runs in [(PATCH, 8), *((p, 1) for p in own)]:
        events = _pushed_events(bare, patch)
        assert sum(p.endswith("-tests.yaml") for p in events) == runs, patch
    check = _clone(daemon, tmp_path / "check")
    assert check("verify").exit_code == 0


def test_four_commands_at_once_in_one_clone_all_land(
        shared: tuple[Cli, Cli], daemon: GitDaemon, inputs: Path) -> None:
    """A release manager's terminal and CI jobs sharing one workspace: each waits for
    the clone's lock instead of failing, and every act lands."""
    a, _ = shared
    runs = [junit_file(inputs / f"same-{n}", "smoke", 2 + n) for n in range(4)]
    results = _at_once(4, lambda n: [_releasegate(
        a.root, "tests", "record", PATCH if n % 2 else OTHER, "--env", "dev", str(runs[n]),
        person="alice")])

    assert [r.returncode for r in results] == [0] * 4, [r.stderr for r in results]
    bare = daemon.base / "ledger.git"
    tests_events = [p for patch in (PATCH, OTHER) for p in _pushed_events(bare, patch)
                    if p.endswith("-tests.yaml")]
    assert len(tests_events) == 4
    assert git(a.root, "status", "--porcelain") == ""


def test_jobs_promoting_one_patch_at_once_record_one_promotion(
        shared: tuple[Cli, Cli], daemon: GitDaemon, tmp_path: Path, inputs: Path) -> None:
    """Four CI jobs in four clones promote the same patch to test at once: exactly one
    `promoted` event; the others exit 0 saying it is already there."""
    a, _ = shared
    must(a, "tests", "record", PATCH, "--env", "dev", str(junit_file(inputs, "smoke", 3)))
    must(a, "checklist", "fill", PATCH, "dev-review", "--env", "test", "--answers",
         str(answers_file(inputs, "dev-review")), person="bob")
    must(a, "signoff", PATCH, "--env", "test", "--role", "app-owner", person="bob")
    clones = [_clone(daemon, tmp_path / f"job{n}") for n in range(4)]
    results = _at_once(4, lambda n: [_releasegate(clones[n].root, "promote", PATCH, "--to",
                                                  "test", person="carol")])

    assert [r.returncode for r in results] == [0] * 4, [r.stderr for r in results]
    assert sum("already in test" in r.stdout for r in results) == 3
    promoted = [p for p in _pushed_events(daemon.base / "ledger.git", PATCH)
                if p.endswith("-promoted.yaml")]
    assert len(promoted) == 2  # dev, and test once


def test_the_wait_after_a_lost_race_shrinks_with_each_race_lost() -> None:
    """The act that has lost most races tries again soonest, so it is not overtaken
    at every turn by acts that have just begun."""
    waits = [[backoff(attempt, 0.2) for _ in range(300)] for attempt in range(ATTEMPTS - 1)]
    means = [sum(w) / len(w) for w in waits]
    assert all(later < earlier for earlier, later in itertools.pairwise(means))
    assert 0.6 < means[0] < 1.2 and max(waits[-1]) <= 0.15
    assert all(min(w) > 0 for w in waits)


def test_the_waits_stretch_with_how_long_a_try_takes_within_bounds() -> None:
    """On a busy machine, where each try takes longer, ten tries cover a longer
    crowd; however slow or quick a try, the waits stay between bounds."""
    def mean_first_wait(took: float) -> float:
        return sum(backoff(0, took) for _ in range(300)) / 300

    assert mean_first_wait(0.2) < mean_first_wait(0.6) < mean_first_wait(1.0)
    assert 4.0 < mean_first_wait(60.0) < 5.0  # at most half a second a unit
    assert 0.3 < mean_first_wait(0.0) < 0.6  # at least 50 ms a unit
    assert max(backoff(0, 60.0) for _ in range(300)) <= 6.75


def test_a_write_leaves_no_fetched_ref_and_the_tracking_branch_at_the_remote(
        shared: tuple[Cli, Cli], daemon: GitDaemon, inputs: Path) -> None:
    a, b = shared
    must(a, "signoff", PATCH, "--env", "test", "--role", "app-owner", person="bob")
    must(b, "tests", "record", OTHER, "--env", "dev",
         str(junit_file(inputs / "b-run", "smoke", 3)), person="alice")
    remote = git(daemon.base / "ledger.git", "rev-parse", "main").strip()
    assert git(b.root, "rev-parse", "main", "origin/main").split() == [remote, remote]
    assert git(b.root, "for-each-ref", "refs/releasegate/").strip() == ""
    assert git(b.root, "status", "--porcelain").strip() == ""
