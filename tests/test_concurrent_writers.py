"""Writers at once on one shared ledger: every act lands exactly once, none gives up,
and an act that lost a race to work on another patch is carried onto the new head
instead of being done again. The shared ledger is served by `git daemon` on
127.0.0.1, as a git host would serve it, and pushed to over git://."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from releasegate.actions import evidence
from releasegate.actions.setup import init_ledger
from releasegate.ledger import handoff, transaction, turns
from releasegate.ledger.store import BranchLocked, GitStore
from releasegate.ledger.transaction import backoff
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

    def push_after_a_colleague(self: GitStore, remote: str, ref: str, merge: str,
                                *rest: object) -> None:
        if self.root == b.root and not raced:
            raced.append("raced")
            act()  # type: ignore[operator]
        real_push(self, remote, ref, merge, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(GitStore, "push", push_after_a_colleague)
    return raced


def _lose_once_to_a_run_on_other(shared: tuple[Cli, Cli], monkeypatch: pytest.MonkeyPatch,
                                 inputs: Path) -> list[str]:
    """Make B's first push lose to a test run A records on OTHER just before it."""
    a, b = shared
    return _race_once(b, monkeypatch, lambda: must(
        a, "tests", "record", OTHER, "--env", "dev", str(junit_file(inputs, "smoke", 3))))


def _ask_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that handed its act on asks after it at once, not after 0.4 s and more."""
    monkeypatch.setattr(handoff, "ASK_FIRST", (0.01, 0.02))
    monkeypatch.setattr(handoff, "ASK_EVERY", (0.01, 0.02))


def _count_hand_ons(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The refs acts are handed on to, as they are handed on."""
    handed: list[str] = []
    real_hand_on = GitStore.hand_on

    def hand_on(self: GitStore, remote: str, commit: str, ref: str) -> bool:
        handed.append(ref)
        return real_hand_on(self, remote, commit, ref)

    monkeypatch.setattr(GitStore, "hand_on", hand_on)
    return handed


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
    _, b = shared
    raced = _lose_once_to_a_run_on_other(shared, monkeypatch, inputs)
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
    # The board row the act replaced was still, in B's working tree, as B had it
    # before the colleague's act: brought in step, and nothing said about it.
    assert "differs from the ledger" not in result.stderr
    assert git(b.root, "status", "--porcelain") == ""


def test_an_act_overtaken_on_its_patch_still_waits_when_its_clone_s_branch_is_locked(
        shared: tuple[Cli, Cli], daemon: GitDaemon, inputs: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An act overtaken on its patch tries again at once after a lost race, but a
    branch locked in its own clone (another git process moving it) is no race: it
    waits before trying again, as every act does."""
    a, b = shared
    _ask_at_once(monkeypatch)
    raced = _race_once(b, monkeypatch, lambda: must(
        a, "tests", "record", PATCH, "--env", "dev", str(junit_file(inputs, "smoke", 3))))
    real_move = GitStore.compare_and_swap
    refused: list[str] = []

    def locked_once(self: GitStore, ref: str, new: str, old: str | None,
                    reason: str) -> bool:
        # The branch's move for the act's second try, once its patch moved under it.
        if self.root == b.root and raced and not refused and \
                reason not in ("releasegate: sync", "releasegate: undo"):
            refused.append(reason)
            raise BranchLocked("git's lock on refs/heads/main is taken")
        return real_move(self, ref, new, old, reason)

    waits: list[float] = []

    def no_wait(took: float) -> float:
        waits.append(took)
        return 0.0

    monkeypatch.setattr(GitStore, "compare_and_swap", locked_once)
    monkeypatch.setattr(transaction, "backoff", no_wait)

    result = b("signoff", PATCH, "--env", "test", "--role", "app-owner", person="bob")

    assert result.exit_code == 0, result.output
    assert refused and "recorded after 2 retries" in result.stderr
    assert "lock on refs/heads/main is taken" in result.stderr
    assert len(waits) == 1  # after the locked branch, not after the lost race
    assert _sign_offs(daemon.base / "ledger.git", PATCH) == 1
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


def test_writers_that_lost_the_same_race_spread_out_before_trying_again() -> None:
    """The wait after a lost race is about half the lost try's time, never nothing,
    and random, so the writers that lost together do not all come back at once."""
    waits = [backoff(0.2) for _ in range(300)]
    assert 0.08 < sum(waits) / len(waits) < 0.12
    assert min(waits) >= 0.05 and max(waits) <= 0.15
    assert max(waits) - min(waits) > 0.05
    assert len(set(waits)) > 250


def test_the_waits_stretch_with_how_long_a_try_takes_within_bounds() -> None:
    """On a busy machine, where each try takes longer, the waits stretch with it;
    however slow or quick a try, they stay between bounds."""
    def mean_wait(took: float) -> float:
        return sum(backoff(took) for _ in range(300)) / 300

    assert mean_wait(0.2) < mean_wait(0.6) < mean_wait(1.0)
    assert 0.4 < mean_wait(60.0) < 0.6  # at most half a second a unit
    assert 0.04 < mean_wait(0.0) < 0.06  # at least 50 ms a unit
    assert max(backoff(60.0) for _ in range(300)) <= 0.75
    assert min(backoff(0.0) for _ in range(300)) >= 0.025


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


# -- taking turns: an act that keeps losing claims the next landing ------------------


def _lose_pushes(shared: tuple[Cli, Cli], monkeypatch: pytest.MonkeyPatch, inputs: Path,
                 bare: Path, patch: str, times: int, *then: str) -> list[list[str]]:
    """Make B's first `times` pushes lose, each to a test run A records on `patch` just
    before it, and the pushes after those to a test run on each patch `then` names; the
    claims the remote held at each of B's pushes."""
    a, b = shared
    real_push = GitStore.push
    seen: list[list[str]] = []
    losses = [patch] * times + list(then)

    def push_after_a_colleague(self: GitStore, remote: str, ref: str, merge: str,
                                *rest: object) -> None:
        if self.root == b.root:
            seen.append(_remote_claims(bare))
            if len(seen) <= len(losses):
                must(a, "tests", "record", losses[len(seen) - 1], "--env", "dev",
                     str(junit_file(inputs / f"a{len(seen)}", "smoke", 3 + len(seen))))
        real_push(self, remote, ref, merge, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(GitStore, "push", push_after_a_colleague)
    return seen


def _lose_races(shared: tuple[Cli, Cli], monkeypatch: pytest.MonkeyPatch, inputs: Path,
                bare: Path) -> list[list[str]]:
    """Make B's first CLAIM_AFTER pushes lose, each to a test run A records on OTHER
    just before it; the claims the remote held at each of B's pushes."""
    seen = _lose_pushes(shared, monkeypatch, inputs, bare, OTHER, turns.CLAIM_AFTER)
    monkeypatch.setattr(transaction, "backoff", lambda took: 0.0)
    # Turns matter where acts cannot be handed on (a remote refusing such refs).
    monkeypatch.setattr(GitStore, "hand_on", lambda self, remote, commit, ref: False)
    return seen


def _claim_on(bare: Path, made: float, patch: str | None = None) -> str:
    """A claim on the remote as a command made at `made` would have left it: for the
    acts on `patch`, or before every act."""
    name = f"{int(made)}-{'ab' * 8}"
    if patch is not None:
        name = f"{turns.scope_of(patch)}/{name}"
    git(bare, "update-ref", f"{turns.PREFIX}{name}", "main")
    return name


def _remote_claims(bare: Path) -> list[str]:
    return git(bare, "for-each-ref", "--format=%(refname)", turns.PREFIX).split()


def test_an_act_that_keeps_losing_claims_the_next_turn_and_takes_its_claim_back(
        shared: tuple[Cli, Cli], daemon: GitDaemon, inputs: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _, b = shared
    bare = daemon.base / "ledger.git"
    seen = _lose_races(shared, monkeypatch, inputs, bare)

    result = b("signoff", PATCH, "--env", "test", "--role", "app-owner", person="bob")

    assert result.exit_code == 0, result.output
    assert f"recorded after {turns.CLAIM_AFTER} retries" in result.stderr
    assert "claimed the next turn on origin" in result.stderr
    assert len(seen) == turns.CLAIM_AFTER + 1
    assert seen[:-1] == [[]] * turns.CLAIM_AFTER  # no claim while losing the first races
    [claim] = seen[-1]
    assert claim.startswith(turns.PREFIX) and turns.live([claim.split("/")[-1]],
                                                         time.time())
    # It cannot be handed on, so every writer is to give way to it, whatever its act.
    assert turns.claimed(claim.removeprefix(turns.PREFIX)) is not None
    assert turns.claimed(claim.removeprefix(turns.PREFIX))[0] is None  # type: ignore[index]
    assert _remote_claims(bare) == []  # taken back once the act landed
    assert [p.rsplit("-", 1)[1] for p in _pushed_events(bare, PATCH)].count(
        "signoff.yaml") == 1
    assert git(b.root, "for-each-ref", "refs/releasegate/").strip() == ""
    assert b("verify").exit_code == 0


@pytest.mark.parametrize("claims", ["taken", "refused by the remote"])
def test_an_act_whose_patch_keeps_moving_under_it_tries_again_then_claims_the_next_turn(
        shared: tuple[Cli, Cli], daemon: GitDaemon, inputs: Path,
        monkeypatch: pytest.MonkeyPatch, claims: str) -> None:
    """On a patch many writers record on, an act that lost is handed on, then dropped
    when another act on its patch lands first, and worked out again. From then on it
    is not handed on (it would be dropped again) but tries again itself at once. After
    handoff.CLAIM_AFTER lost races it claims the next turn, and lands on its next try;
    where the remote refuses claims (and takes acts handed on), it tries again itself
    all the same."""
    _, b = shared
    bare = daemon.base / "ledger.git"
    if claims != "taken":
        hook = bare / "hooks" / "pre-receive"
        hook.write_text("#!/bin/sh\nwhile read old new ref; do\n  case $ref in\n"
                        "    refs/releasegate/turns/*) echo \"no claims\" >&2; exit 1;;\n"
                        "  esac\ndone\n", encoding="utf-8")
        hook.chmod(0o755)
    _ask_at_once(monkeypatch)
    # The act's patch changes under it before each of those pushes.
    seen = _lose_pushes(shared, monkeypatch, inputs, bare, PATCH, handoff.CLAIM_AFTER)
    handed = _count_hand_ons(monkeypatch)
    built = _count_sign_offs(monkeypatch)

    result = b("signoff", PATCH, "--env", "test", "--role", "app-owner", person="bob")

    assert result.exit_code == 0, result.output
    assert f"recorded after {handoff.CLAIM_AFTER} retries" in result.stderr
    assert ("claimed the next turn on origin after "
            f"{handoff.CLAIM_AFTER} lost races" in result.stderr) == (claims == "taken")
    assert "another writer's push recorded it" not in result.stderr
    assert len(handed) == 1  # after its first loss, before its patch moved under it
    assert built.count("signoff") == handoff.CLAIM_AFTER + 1  # and anew after each loss
    assert seen[:-1] == [[]] * handoff.CLAIM_AFTER
    assert len(seen[-1]) == (1 if claims == "taken" else 0)
    # Only acts on its patch drop it: the claim holds back those alone.
    found = [turns.claimed(claim.removeprefix(turns.PREFIX)) for claim in seen[-1]]
    assert [(scope, abs(at - time.time()) < 60) for scope, at in filter(None, found)] \
        == [(turns.scope_of(PATCH), True)] * len(seen[-1])
    assert _remote_claims(bare) == [] and _handed_on(bare) == []
    assert _sign_offs(bare, PATCH) == 1
    assert b("verify").exit_code == 0


def test_an_act_holding_a_claim_on_its_patch_is_handed_on_when_it_loses_again(
        shared: tuple[Cli, Cli], daemon: GitDaemon, inputs: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An act that claimed its patch's turn no longer fears acts on its patch (they
    wait for it): when it loses to an act on another patch it is handed on again, as
    an act that was never overtaken is."""
    _, b = shared
    bare = daemon.base / "ledger.git"
    _ask_at_once(monkeypatch)
    _lose_pushes(shared, monkeypatch, inputs, bare, PATCH, handoff.CLAIM_AFTER, OTHER)
    handed = _count_hand_ons(monkeypatch)
    built = _count_sign_offs(monkeypatch)

    result = b("signoff", PATCH, "--env", "test", "--role", "app-owner", person="bob")

    assert result.exit_code == 0, result.output
    assert f"recorded after {handoff.CLAIM_AFTER + 1} retries" in result.stderr
    assert f"claimed the next turn on origin after {handoff.CLAIM_AFTER}" in result.stderr
    # Handed on after its first loss, and after the loss to the act on OTHER; between
    # those it tried again itself.
    assert len(handed) == 2
    assert built.count("signoff") == handoff.CLAIM_AFTER + 1  # not again after OTHER's
    assert _remote_claims(bare) == [] and _handed_on(bare) == []
    assert _sign_offs(bare, PATCH) == 1
    assert b("verify").exit_code == 0


def test_a_write_gives_way_to_a_live_claim_a_few_times_at_most(
        shared: tuple[Cli, Cli], daemon: GitDaemon, inputs: Path) -> None:
    """A claim left by a command killed while it held it (or one that is slow to land)
    delays other writers a few short waits each, never stops them."""
    a, _ = shared
    bare = daemon.base / "ledger.git"
    claim = _claim_on(bare, time.time())
    began = time.monotonic()

    result = a("signoff", PATCH, "--env", "test", "--role", "app-owner", person="bob")

    assert result.exit_code == 0, result.output
    assert f"gave way {turns.GIVE_WAY} time(s)" in result.stderr
    assert time.monotonic() - began < turns.GIVE_WAY * 0.3 + 5
    assert _remote_claims(bare) == [f"{turns.PREFIX}{claim}"]  # not its to take back
    assert git(a.root, "for-each-ref", "refs/releasegate/").strip() == ""


def test_a_claim_for_the_acts_on_one_patch_holds_back_those_alone(
        shared: tuple[Cli, Cli], daemon: GitDaemon, inputs: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An act of one patch that lost again and again claims its turn for that patch:
    acts on other patches would not drop it, and land at once; an act on its patch
    gives way (as would one whose patch is not known when it fetches)."""
    a, _ = shared
    bare = daemon.base / "ledger.git"
    claim = _claim_on(bare, time.time(), patch=PATCH)
    monkeypatch.setattr(turns, "GIVE_WAY", 2)

    other = a("signoff", OTHER, "--env", "test", "--role", "app-owner", person="bob")
    same = a("signoff", PATCH, "--env", "test", "--role", "app-owner", person="bob")

    assert other.exit_code == 0, other.output
    assert "gave way" not in other.stderr
    assert same.exit_code == 0, same.output
    assert "gave way 2 time(s)" in same.stderr
    assert _remote_claims(bare) == [f"{turns.PREFIX}{claim}"]  # not theirs to take back
    assert _sign_offs(bare, OTHER) == _sign_offs(bare, PATCH) == 1
    assert a("verify").exit_code == 0


def test_claims_in_a_scope_concern_the_acts_in_it_and_acts_of_unknown_scope() -> None:
    now = 1_800_000_000.0
    mine_scope, other_scope = turns.scope_of(PATCH), turns.scope_of(OTHER)
    everyone = f"{int(now) - 9}-{'a' * 16}"
    on_mine, on_other = f"{mine_scope}/{int(now) - 8}-{'b' * 16}", \
        f"{other_scope}/{int(now) - 7}-{'c' * 16}"
    assert turns.claimed(on_mine) == (mine_scope, int(now) - 8)
    assert turns.claimed(everyone) == (None, int(now) - 9)
    assert turns.claimed(f"{mine_scope}/by-hand") is None
    assert turns.claimed(f"NOTHEX{mine_scope[6:]}/{int(now)}-{'d' * 16}") is None
    assert turns.outranked([on_other], None, now, mine_scope) is False
    assert turns.outranked([on_other], None, now, None) is True
    assert turns.outranked([on_mine], None, now, mine_scope) is True
    assert turns.outranked([everyone], None, now, mine_scope) is True
    assert turns.live([on_other, everyone, on_mine], now) == [everyone, on_mine, on_other]
    stale = f"{mine_scope}/{int(now - turns.LIVE_FOR) - 1}-{'e' * 16}"
    assert turns.expired([stale, on_mine, everyone], now) == [stale]
    # Holding a claim: only an older one it concerns goes first.
    mine = f"{mine_scope}/{int(now) - 8}-{'f' * 16}"
    assert turns.outranked([on_other, mine], mine, now, mine_scope) is False
    assert turns.outranked([everyone, mine], mine, now, mine_scope) is True
    # Any patch id gives a scope that is safe in a ref's name.
    for patch in ("CBS-2026-0042", "a..b", "x.lock", "é", "-"):
        assert len(turns.scope_of(patch)) == 12
        assert set(turns.scope_of(patch)) <= set("0123456789abcdef")


def test_an_expired_claim_counts_for_nothing_and_the_next_claimant_deletes_it(
        shared: tuple[Cli, Cli], daemon: GitDaemon, inputs: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = shared
    bare = daemon.base / "ledger.git"
    _claim_on(bare, time.time() - turns.LIVE_FOR - 60)
    first = must(a, "signoff", OTHER, "--env", "test", "--role", "app-owner", person="bob")
    assert "gave way" not in first.stderr
    assert len(_remote_claims(bare)) == 1  # only a claimant cleans up

    _lose_races(shared, monkeypatch, inputs, bare)
    result = b("signoff", PATCH, "--env", "test", "--role", "app-owner", person="bob")

    assert result.exit_code == 0, result.output
    assert "claimed the next turn" in result.stderr and "gave way" not in result.stderr
    assert _remote_claims(bare) == []


def test_an_older_claim_goes_first_and_a_claimant_gives_way_to_it(
        shared: tuple[Cli, Cli], daemon: GitDaemon, inputs: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _, b = shared
    bare = daemon.base / "ledger.git"
    older = _claim_on(bare, time.time() - 5)
    _lose_races(shared, monkeypatch, inputs, bare)
    monkeypatch.setattr(turns, "GIVE_WAY", 2)

    result = b("signoff", PATCH, "--env", "test", "--role", "app-owner", person="bob")

    assert result.exit_code == 0, result.output
    assert "claimed the next turn" in result.stderr
    assert "gave way 2 time(s)" in result.stderr
    assert _remote_claims(bare) == [f"{turns.PREFIX}{older}"]


def test_a_remote_that_refuses_claims_still_takes_every_act(
        shared: tuple[Cli, Cli], daemon: GitDaemon, inputs: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A host whose hook refuses refs other than the branch: acts land as before,
    without turns, and say nothing about them."""
    _, b = shared
    bare = daemon.base / "ledger.git"
    hook = bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\nwhile read old new ref; do\n  case $ref in\n"
                    "    refs/heads/*) ;;\n    *) echo \"only branches here\" >&2; exit 1;;\n"
                    "  esac\ndone\n", encoding="utf-8")
    hook.chmod(0o755)
    seen = _lose_races(shared, monkeypatch, inputs, bare)

    result = b("signoff", PATCH, "--env", "test", "--role", "app-owner", person="bob")

    assert result.exit_code == 0, result.output
    assert f"recorded after {turns.CLAIM_AFTER} retries" in result.stderr
    assert "claimed" not in result.stderr
    assert seen == [[]] * (turns.CLAIM_AFTER + 1) and _remote_claims(bare) == []


def test_refs_under_turns_that_releasegate_did_not_make_are_ignored(
        shared: tuple[Cli, Cli], daemon: GitDaemon) -> None:
    """Names that are not claims (by hand, or with folders in them) are never waited
    for, and none of them is left behind in the clone."""
    a, _ = shared
    bare = daemon.base / "ledger.git"
    for name in ("by-hand", "nested/1796600000-abababababababab", "9" * 13 + "-" + "ab" * 8):
        git(bare, "update-ref", f"{turns.PREFIX}{name}", "main")

    result = a("signoff", PATCH, "--env", "test", "--role", "app-owner", person="bob")

    assert result.exit_code == 0, result.output
    assert "gave way" not in result.stderr
    assert git(a.root, "for-each-ref", "refs/releasegate/").strip() == ""
    assert len(_remote_claims(bare)) == 3


def test_claims_count_within_their_lifetime_oldest_first() -> None:
    now = 1_800_000_000.0
    fresh, older, stale = f"{int(now)}-{'a' * 16}", f"{int(now) - 5}-{'b' * 16}", \
        f"{int(now - turns.LIVE_FOR) - 1}-{'c' * 16}"
    ahead = f"{int(now + turns.LIVE_FOR) + 1}-{'d' * 16}"
    names = [fresh, stale, "by-hand", older, ahead, f"{int(now)}-ABABABABABABABAB"]
    assert turns.live(names, now) == [older, fresh]
    assert turns.expired(names, now) == [stale]
    assert turns.outranked(names, None, now)
    assert turns.outranked(names, fresh, now) and not turns.outranked(names, older, now)
    assert not turns.outranked([stale, ahead, older], older, now)
    assert turns.outranked([older], "gone-already", now)


# -- handing an act on: the next writer to land takes it along -----------------------


def _handed_on(bare: Path) -> list[str]:
    return git(bare, "for-each-ref", "--format=%(refname)", handoff.PREFIX).split()


def _sign_offs(bare: Path, patch: str) -> int:
    return [p.rsplit("-", 1)[1] for p in _pushed_events(bare, patch)].count("signoff.yaml")


def test_an_act_that_lost_is_handed_on_and_the_next_writer_lands_it(
        shared: tuple[Cli, Cli], daemon: GitDaemon, inputs: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """B loses a race to A, hands its sign-off on and waits; A's next act takes it
    along. B's sign-off is recorded once, by its author, after A's act, with the
    ledger's numbering intact, and B's clone comes up to the shared ledger."""
    a, b = shared
    bare = daemon.base / "ledger.git"
    _lose_once_to_a_run_on_other(shared, monkeypatch, inputs)
    built = _count_sign_offs(monkeypatch)
    real_ask = GitStore.has_remote_ref
    seen: list[list[str]] = []

    def ask_after_a_colleague(self: GitStore, remote: str, ref: str) -> bool | None:
        if self.root == b.root and not seen:
            seen.append(_handed_on(bare))
            must(a, "tests", "record", OTHER, "--env", "dev",
                 str(junit_file(inputs / "second", "smoke", 4)))
        return real_ask(self, remote, ref)

    monkeypatch.setattr(GitStore, "has_remote_ref", ask_after_a_colleague)

    result = b("signoff", PATCH, "--env", "test", "--role", "app-owner", person="bob")

    assert result.exit_code == 0, result.output
    assert "another writer's push recorded it on origin" in result.stderr
    assert "recorded after 1 retry" in result.stderr
    assert built.count("signoff") == 1
    assert len(seen[0]) == 1 and seen[0][0].startswith(handoff.PREFIX)
    assert _handed_on(bare) == []
    assert _sign_offs(bare, PATCH) == 1
    # The act handed on goes first, before the act of the writer that took it along.
    log = git(bare, "log", "--format=%an|%s", "-3", "main").splitlines()
    assert log[1] == f"Bob Li|{PATCH}: approve for test as app-owner by bob"
    assert [line.split("|")[1].split(":")[0] for line in (log[0], log[2])] == [OTHER, OTHER]
    assert git(b.root, "rev-parse", "HEAD") == git(bare, "rev-parse", "main")
    assert git(b.root, "status", "--porcelain") == ""
    assert git(a.root, "status", "--porcelain") == ""
    assert git(b.root, "for-each-ref", "refs/releasegate/").strip() == ""
    assert b("verify").exit_code == 0 and a("verify").exit_code == 0


def test_an_act_handed_on_that_no_one_takes_is_landed_by_its_own_command(
        shared: tuple[Cli, Cli], daemon: GitDaemon, inputs: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _, b = shared
    bare = daemon.base / "ledger.git"
    _lose_once_to_a_run_on_other(shared, monkeypatch, inputs)
    _ask_at_once(monkeypatch)

    result = b("signoff", PATCH, "--env", "test", "--role", "app-owner", person="bob")

    assert result.exit_code == 0, result.output
    assert "recorded after 1 retry" in result.stderr
    assert "another writer" not in result.stderr
    assert _handed_on(bare) == [] and _sign_offs(bare, PATCH) == 1
    assert b("verify").exit_code == 0


@pytest.mark.parametrize("remote", ["without atomic pushes", "refusing other refs"])
def test_a_remote_that_cannot_hold_acts_handed_on_still_takes_every_act(
        shared: tuple[Cli, Cli], daemon: GitDaemon, inputs: Path,
        monkeypatch: pytest.MonkeyPatch, remote: str) -> None:
    """Landing an act handed on needs an atomic push, and a ref under pending/; on a
    remote that has no atomic pushes, or whose hook refuses refs but branches, the
    write tries again itself, as before."""
    _, b = shared
    bare = daemon.base / "ledger.git"
    if remote == "without atomic pushes":
        git(bare, "config", "receive.advertiseAtomic", "false")
    else:
        hook = bare / "hooks" / "pre-receive"
        hook.write_text("#!/bin/sh\nwhile read old new ref; do\n  case $ref in\n"
                        "    refs/heads/*) ;;\n    *) echo \"only branches\" >&2; exit 1;;\n"
                        "  esac\ndone\n", encoding="utf-8")
        hook.chmod(0o755)
    _lose_once_to_a_run_on_other(shared, monkeypatch, inputs)

    real_hand_on = GitStore.hand_on
    handed: list[bool] = []

    def hand_on(self: GitStore, remote: str, commit: str, ref: str) -> bool:
        handed.append(real_hand_on(self, remote, commit, ref))
        return handed[-1]

    monkeypatch.setattr(GitStore, "hand_on", hand_on)

    result = b("signoff", PATCH, "--env", "test", "--role", "app-owner", person="bob")

    assert result.exit_code == 0, result.output
    assert handed == [False]  # asked once, refused, never again in this write
    assert "recorded after 1 retry" in result.stderr
    assert _handed_on(bare) == [] and _sign_offs(bare, PATCH) == 1


def _hand_on_by_hand(clone: Path, bare: Path, made: float, change: Callable[[Path], None],
                     message: str = "CBS: by hand") -> str:
    """A commit on the shared ledger's head made with plain git, left on the remote as
    an act handed on, made at `made`; its ref's name."""
    git(clone, "pull", "-q", "--ff-only")
    change(clone)
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", message)
    name = f"{int(made)}-{'cd' * 8}"
    git(clone, "push", "-q", "origin", f"HEAD:{handoff.PREFIX}{name}")
    git(clone, "reset", "-q", "--hard", "HEAD~1")
    return name


@pytest.mark.parametrize("forgery", ["edits an event", "deletes an event",
                                     "two patches", "the pipeline", "copies an event",
                                     "adds no event", "an event not in UTF-8"])
def test_an_act_handed_on_that_is_not_one_act_of_one_patch_is_never_taken_along(
        shared: tuple[Cli, Cli], daemon: GitDaemon, tmp_path: Path, forgery: str) -> None:
    """Refs under pending/ are written by anyone who may push: a commit there that
    changes recorded evidence, more than one patch's folder or the pipeline, or adds
    anything but one event chained to the patch's last, never reaches the branch; the
    writer lands its own act all the same."""
    a, b = shared
    bare = daemon.base / "ledger.git"

    def change(clone: Path) -> None:
        events = sorted((clone / "patches" / PATCH / "events").iterdir())
        if forgery == "edits an event":
            events[0].write_text(events[0].read_text() + "# edited\n")
        elif forgery == "deletes an event":
            events[-1].unlink()
        elif forgery == "copies an event":  # the next number, off the chain
            width = len(events[0].name.split("-")[0])
            (events[0].parent / f"{len(events) + 1:0{width}d}-signoff.yaml").write_text(
                events[-1].read_text())
        elif forgery == "an event not in UTF-8":
            width = len(events[0].name.split("-")[0])
            (events[0].parent / f"{len(events) + 1:0{width}d}-signoff.yaml").write_bytes(
                b"type: signoff\nactor: \xff\xfe\n")
        elif forgery == "adds no event":
            (clone / "patches" / PATCH / "note.txt").write_text("x\n")
        elif forgery == "two patches":
            for patch in (PATCH, OTHER):
                (clone / "patches" / patch / "events" / "0099-note.yaml").write_text("x: 1\n")
        else:
            (clone / "releasegate.yaml").write_text(
                (clone / "releasegate.yaml").read_text() + "# edited\n")

    before = git(bare, "rev-parse", "main").strip()
    name = _hand_on_by_hand(b.root, bare, time.time(), change)

    result = a("signoff", OTHER, "--env", "test", "--role", "app-owner", person="bob")

    assert result.exit_code == 0, result.output
    assert git(bare, "rev-list", "--count", f"{before}..main").strip() == "1"
    assert _handed_on(bare) == [f"{handoff.PREFIX}{name}"]  # not its to delete while live
    assert a("verify").exit_code == 0


def test_an_expired_act_handed_on_is_not_taken_and_its_ref_is_deleted(
        shared: tuple[Cli, Cli], daemon: GitDaemon, inputs: Path) -> None:
    a, b = shared
    bare = daemon.base / "ledger.git"

    def note(clone: Path) -> None:
        (clone / "patches" / PATCH / "events" / "0099-note.yaml").write_text("x: 1\n")

    before = git(bare, "rev-parse", "main").strip()
    _hand_on_by_hand(b.root, bare, time.time() - handoff.LIVE_FOR - 60, note)

    must(a, "signoff", OTHER, "--env", "test", "--role", "app-owner", person="bob")

    assert git(bare, "rev-list", "--count", f"{before}..main").strip() == "1"
    assert _handed_on(bare) == []


def test_an_act_handed_on_by_a_command_killed_since_is_taken_along_once(
        shared: tuple[Cli, Cli], daemon: GitDaemon, inputs: Path) -> None:
    """An act another writer's command handed on and then died: the next writer takes
    it along once, and a writer after that finds nothing left to take."""
    a, b = shared
    bare = daemon.base / "ledger.git"
    killed = _releasegate_killed(b.root, "signoff", PATCH, "--env", "test", "--role",
                                 "app-owner", person="bob", colleague=a.root, inputs=inputs)
    assert killed.returncode == -9, killed.stderr
    [ref] = _handed_on(bare)

    must(a, "signoff", OTHER, "--env", "test", "--role", "app-owner", person="bob")

    assert _handed_on(bare) == []
    assert _sign_offs(bare, PATCH) == 1 and _sign_offs(bare, OTHER) == 1
    assert git(bare, "log", "--format=%s", "-2", "main").splitlines()[1].startswith(
        f"{PATCH}: approve")
    must(a, "tests", "record", OTHER, "--env", "dev", str(junit_file(inputs, "smoke", 5)))
    assert _sign_offs(bare, PATCH) == 1
    assert a("verify").exit_code == 0
    assert ref.startswith(handoff.PREFIX)
    # The next write in the killed command's clone says what became of its act.
    later = _releasegate(b.root, "tests", "record", PATCH, "--env", "dev",
                         str(junit_file(inputs / "later", "smoke", 6)), person="alice")
    assert later.returncode == 0, later.stderr
    assert "was recorded meanwhile" in later.stderr
    assert f"'{PATCH}: approve for test as app-owner by bob'" in later.stderr
    assert _sign_offs(bare, PATCH) == 1


def test_an_older_act_handed_on_goes_before_a_fresh_act_on_the_same_patch(
        shared: tuple[Cli, Cli], daemon: GitDaemon, inputs: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """B's sign-off lost a race and was handed on; A then records a test run on the
    same patch. A's push lands B's act first, and A's own act, which rested on the
    patch as it was, is worked out again on top of it: on a busy patch, an act that
    lost is not overtaken by fresh ones."""
    a, b = shared
    bare = daemon.base / "ledger.git"
    _lose_once_to_a_run_on_other(shared, monkeypatch, inputs)
    real_ask = GitStore.has_remote_ref
    fresh: list[str] = []

    def ask_after_a_colleague(self: GitStore, remote: str, ref: str) -> bool | None:
        if self.root == b.root and not fresh:
            fresh.append(a("tests", "record", PATCH, "--env", "dev",
                           str(junit_file(inputs / "fresh", "smoke", 4)),
                           person="alice").stderr)
        return real_ask(self, remote, ref)

    monkeypatch.setattr(GitStore, "has_remote_ref", ask_after_a_colleague)

    result = b("signoff", PATCH, "--env", "test", "--role", "app-owner", person="bob")

    assert result.exit_code == 0, result.output
    assert "another writer's push recorded it on origin" in result.stderr
    assert transaction.YIELDED in fresh[0]
    kinds = [p.rsplit("-", 1)[1] for p in _pushed_events(bare, PATCH)]
    assert kinds[-2:] == ["signoff.yaml", "tests.yaml"]
    assert kinds.count("signoff.yaml") == 1 and _handed_on(bare) == []
    assert git(a.root, "status", "--porcelain") == ""
    assert a("verify").exit_code == 0 and b("verify").exit_code == 0


def test_a_command_killed_once_it_handed_its_act_on_records_it_once_when_run_again(
        shared: tuple[Cli, Cli], daemon: GitDaemon, inputs: Path) -> None:
    a, b = shared
    bare = daemon.base / "ledger.git"
    killed = _releasegate_killed(b.root, "signoff", PATCH, "--env", "test", "--role",
                                 "app-owner", person="bob", colleague=a.root, inputs=inputs)
    assert killed.returncode == -9, killed.stderr
    assert len(_handed_on(bare)) == 1 and _sign_offs(bare, PATCH) == 0

    again = _releasegate(b.root, "signoff", PATCH, "--env", "test", "--role", "app-owner",
                         person="bob")
    assert again.returncode == 0, again.stderr
    # The clone noted the act its killed command handed on; the next write there took
    # it back before working, and said so.
    assert "took back an act a command killed in this clone had handed on" in again.stderr
    assert f"{PATCH}: approve for test as app-owner by bob" in again.stderr
    assert _handed_on(bare) == []
    must(a, "tests", "record", OTHER, "--env", "dev", str(junit_file(inputs, "smoke", 5)))

    assert _sign_offs(bare, PATCH) == 1
    assert git(b.root, "status", "--porcelain") == ""
    assert _releasegate(b.root, "verify", person="bob").returncode == 0


KILLED_AFTER_HANDING_ON = """\
import subprocess, sys
from releasegate.ledger.store import GitStore
from releasegate.cli.main import main
colleague, junit, patch = sys.argv[1:4]
real = GitStore.push
def push(self, *args, **kwargs):
    if not getattr(push, "done", False):
        push.done = True
        subprocess.run([sys.executable, "-m", "releasegate", "--ledger", colleague, "--as",
                        "alice", "tests", "record", patch, "--env", "dev", junit],
                       check=True, capture_output=True,
                       env={k: v for k, v in __import__("os").environ.items()
                            if k != "RELEASEGATE_TEST_KILL_AT"})
    return real(self, *args, **kwargs)
GitStore.push = push
sys.argv = ["releasegate", *sys.argv[4:]]
main()
"""


def _releasegate_killed(clone: Path, *args: str, person: str, colleague: Path,
                        inputs: Path) -> subprocess.CompletedProcess[str]:
    """Run releasegate in `clone`, make its first push lose to a test run the colleague's
    clone records on OTHER, and kill it with SIGKILL once it handed its act on."""
    import os

    junit = junit_file(inputs / "colleague", "smoke", 3)
    env = {**os.environ, "RELEASEGATE_TEST_KILL_AT": "handed-on"}
    return subprocess.run([sys.executable, "-c", KILLED_AFTER_HANDING_ON, str(colleague),
                           str(junit), OTHER, "--ledger", str(clone), "--as", person, *args],
                          capture_output=True, text=True, env=env, timeout=120, check=False)


def test_special_files_among_a_clones_notes_of_acts_handed_on_are_passed_over(
        shared: tuple[Cli, Cli], daemon: GitDaemon, inputs: Path) -> None:
    """A FIFO, a link to /dev/zero and a file of junk where a note of an act handed
    on is expected: the next write neither blocks on them nor reads them, and lands."""
    import os

    a, _ = shared
    notes = a.root / ".git" / "releasegate" / "handed-on"
    notes.mkdir(parents=True)
    now = int(time.time())
    os.mkfifo(notes / f"{now}-{'1' * 16}")
    (notes / f"{now}-{'2' * 16}").symlink_to("/dev/zero")
    (notes / f"{now}-{'3' * 16}").write_text("not a commit\x1b[2J\n")
    began = time.monotonic()

    result = a("signoff", PATCH, "--env", "test", "--role", "app-owner", person="bob")

    assert result.exit_code == 0, result.output
    assert time.monotonic() - began < 30
    assert "handed on" not in result.stderr
    assert _sign_offs(daemon.base / "ledger.git", PATCH) == 1


def test_a_write_whose_remote_goes_away_after_handing_on_says_its_act_may_still_land(
        shared: tuple[Cli, Cli], daemon: GitDaemon, inputs: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The remote stops answering while B waits for its act to be taken along: B
    cannot take the act back, exits 3 (unreachable), and its hint says that the act
    handed on may still be recorded; its clone keeps no commit of it."""
    _, b = shared
    bare = daemon.base / "ledger.git"
    _lose_once_to_a_run_on_other(shared, monkeypatch, inputs)
    _ask_at_once(monkeypatch)
    real_ask = GitStore.has_remote_ref

    def ask_then_lose_the_remote(self: GitStore, remote: str, ref: str) -> bool | None:
        daemon.stop()
        return real_ask(self, remote, ref)

    monkeypatch.setattr(GitStore, "has_remote_ref", ask_then_lose_the_remote)
    before = git(b.root, "rev-parse", "HEAD")

    result = b("signoff", PATCH, "--env", "test", "--role", "app-owner", person="bob")

    assert result.exit_code == 3, result.output
    assert "unreachable" in result.stderr
    assert "handed on to the other writers on origin and may still be recorded" in \
        result.stderr
    assert len(_handed_on(bare)) == 1 and _sign_offs(bare, PATCH) == 0
    assert git(b.root, "rev-parse", "HEAD") == before


@pytest.mark.parametrize("kind", ["fifo", "link to /dev/zero"])
def test_a_special_file_where_others_changed_a_row_is_left_alone_by_the_catch_up(
        shared: tuple[Cli, Cli], daemon: GitDaemon, kind: str) -> None:
    """Where the working tree holds a FIFO or a link to /dev/zero in place of a board
    row that another clone's act changes, bringing the working tree up to that act
    neither blocks on it nor replaces it, and the write lands."""
    import os

    a, b = shared
    row = next(p for p in git(b.root, "ls-files", "board").split() if PATCH in p)
    (b.root / row).unlink()
    if kind == "fifo":
        os.mkfifo(b.root / row)
    else:
        (b.root / row).symlink_to("/dev/zero")
    must(a, "signoff", PATCH, "--env", "test", "--role", "app-owner", person="bob")

    done = _releasegate(b.root, "signoff", OTHER, "--env", "test", "--role", "app-owner",
                        person="bob")

    assert done.returncode == 0, done.stderr
    assert _sign_offs(daemon.base / "ledger.git", OTHER) == 1
    assert (b.root / row).is_fifo() if kind == "fifo" else (b.root / row).is_symlink()
    assert git(b.root, "rev-parse", "HEAD") == git(daemon.base / "ledger.git", "rev-parse",
                                                   "main")
