"""The ledger's transaction: a lost race re-validates, contention gives up cleanly, the
person's working tree is left alone, a write's cost does not grow with the ledger, and
the ledger is found where the person means it to be."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from releasegate.actions.evidence import fill_checklist
from releasegate.actions.patches import submit_patch
from releasegate.actions.promote import promote
from releasegate.actions.setup import init_ledger
from releasegate.core.errors import UsageError
from releasegate.ledger import loose
from releasegate.ledger.snapshot import Snapshot
from releasegate.ledger.store import GitStore, init_repository
from releasegate.ledger.transaction import Ledger
from tests.helpers import PATCH, Cli, answers_file, fingerprint, git, junit_file, write_manifest

INTAKE = {"version-controlled": "yes", "release-note-read": "yes", "risk": "low"}
EVENTS = f"patches/{PATCH}/events"


def committed_events(root: Path) -> list[str]:
    return git(root, "ls-tree", "--name-only", "HEAD", f"{EVENTS}/").split()


def raced(ledger: Ledger, monkeypatch: pytest.MonkeyPatch, other_writer: Any) -> list[str | None]:
    """Make `ledger`'s first snapshot stale: another writer commits right after it is taken.

    Returns the heads of the snapshots the ledger took, one per attempt.
    """
    heads: list[str | None] = []
    take = ledger.snapshot

    def snapshot() -> Snapshot:
        snap = take()
        heads.append(snap.head)
        if len(heads) == 1:
            other_writer()
        return snap

    monkeypatch.setattr(ledger, "snapshot", snapshot)
    return heads


def test_a_lost_race_reexecutes_and_a_patch_is_not_promoted_twice(
        submitted: Cli, ledger_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fill_checklist(Ledger(ledger_root), "alice", PATCH, "intake", "dev", INTAKE)
    first, second = Ledger(ledger_root), Ledger(ledger_root)

    def first_promotes() -> None:
        assert promote(first, "alice", PATCH, "dev")[0].recorded

    heads = raced(second, monkeypatch, first_promotes)
    result, _ = promote(second, "alice", PATCH, "dev")
    assert len(heads) == 2 and heads[0] != heads[1]
    assert result.already and not result.recorded
    assert [p for p in committed_events(ledger_root) if p.endswith("-promoted.yaml")] == [
        f"{EVENTS}/0003-promoted.yaml"]
    assert submitted.json("patch", "show", PATCH)["env"] == "dev"


def test_a_lost_race_reexecutes_against_the_new_head(
        submitted: Cli, ledger_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = Ledger(ledger_root), Ledger(ledger_root)
    heads = raced(second, monkeypatch,
                  lambda: fill_checklist(first, "alice", PATCH, "intake", "dev", INTAKE))
    fill_checklist(second, "alice", PATCH, "intake", "dev",
                   {**INTAKE, "problem-ticket": "https://tickets.example/42"})
    assert len(heads) == 2
    assert committed_events(ledger_root) == [
        f"{EVENTS}/0001-submitted.yaml", f"{EVENTS}/0002-checklist.yaml",
        f"{EVENTS}/0003-checklist.yaml"]
    events = Ledger(ledger_root).snapshot().events(PATCH)  # checks the hash chain
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[2].prev == events[1].sha256
    assert events[2].data["answers"]["problem-ticket"] == {"value": "https://tickets.example/42"}
    assert git(ledger_root, "status", "--porcelain") == ""


def test_contention_past_the_retries_is_transient_and_records_nothing(
        submitted: Cli, ledger_root: Path, inputs: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[str] = []

    def always_moved(self: GitStore, ref: str, new: str, old: str | None, reason: str) -> bool:
        attempts.append(new)
        return False

    monkeypatch.setattr(GitStore, "compare_and_swap", always_moved)
    monkeypatch.setattr("releasegate.ledger.transaction.time.sleep", lambda seconds: None)
    before = fingerprint(ledger_root)
    result = submitted("checklist", "fill", PATCH, "intake", "--env", "dev", "--answers",
                       str(answers_file(inputs, "intake")), "--format", "json", person="alice")
    assert result.exit_code == 3
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "contended" and error["exit_status"] == 3
    assert "nothing was recorded" in error["message"]
    assert len(attempts) == 10  # the documented bound
    assert fingerprint(ledger_root) == before


def test_a_persons_uncommitted_work_survives_a_write(submitted: Cli, ledger_root: Path,
                                                     inputs: Path) -> None:
    root = ledger_root
    (root / "notes.txt").write_text("agenda\n")
    git(root, "add", "notes.txt")
    git(root, "commit", "-q", "-m", "notes")
    (root / "notes.txt").write_text("agenda\nmy unsaved thoughts\n")
    (root / "plan.txt").write_text("staged plan\n")
    git(root, "add", "plan.txt")
    (root / "scratch.txt").write_text("untracked\n")
    status = git(root, "status", "--porcelain")
    assert status == " M notes.txt\nA  plan.txt\n?? scratch.txt\n"

    result = submitted("checklist", "fill", PATCH, "intake", "--env", "dev", "--answers",
                       str(answers_file(inputs, "intake")), person="alice")
    assert result.exit_code == 0, result.output
    assert git(root, "status", "--porcelain") == status
    assert (root / "notes.txt").read_text() == "agenda\nmy unsaved thoughts\n"
    assert git(root, "show", ":plan.txt") == "staged plan\n"
    assert git(root, "ls-tree", "--name-only", "HEAD", "plan.txt") == ""
    new = f"{EVENTS}/0002-checklist.yaml"
    assert git(root, "show", f"HEAD:{new}") == (root / new).read_text()


def test_after_writes_a_clean_tree_stays_clean(submitted: Cli, ledger_root: Path,
                                               inputs: Path) -> None:
    assert git(ledger_root, "status", "--porcelain", "--untracked-files=all") == ""
    steps = [
        ("checklist", "fill", PATCH, "intake", "--env", "dev", "--answers",
         str(answers_file(inputs, "intake"))),
        ("promote", PATCH),
        ("tests", "record", PATCH, "--env", "dev", str(junit_file(inputs, "smoke", 3))),
    ]
    for args in steps:
        result = submitted(*args, person="alice")
        assert result.exit_code == 0, result.output
        assert git(ledger_root, "status", "--porcelain", "--untracked-files=all") == ""
    evidence = git(ledger_root, "ls-files", f"patches/{PATCH}/evidence").split()
    assert len(evidence) == 2 and all((ledger_root / p).is_file() for p in evidence)


def trees_built_by_a_write(root: Path) -> int:
    """How many trees one checklist filling stores (written by releasegate itself as
    loose objects, or by one git process where git writes them)."""
    trees: list[bytes] = []
    batches: list[bytes] = []
    call, store = GitStore._call, loose.store

    def counting(self: GitStore, command: str, *args: Any, **kwargs: Any) -> Any:
        if command == "hash_object" and "tree" in args:
            batches.append(kwargs["stdin"])
        return call(self, command, *args, **kwargs)

    def storing(objects: Path, kind: str, body: bytes) -> str:
        if kind == "tree":
            trees.append(body)
        return store(objects, kind, body)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(GitStore, "_call", counting)
        patch.setattr(loose, "store", storing)
        fill_checklist(Ledger(root), "alice", PATCH, "intake", "dev", INTAKE)
    assert len(batches) <= 1
    return len(trees) + sum(len(batch.split(b"\n")) for batch in batches)


def test_a_write_rebuilds_as_many_trees_on_a_big_ledger_as_on_a_small_one(
        submitted: Cli, ledger_root: Path, tmp_path: Path) -> None:
    big = tmp_path / "big"
    init_ledger(big, example=True)
    ledger = Ledger(big)
    for i in range(30):
        patch = PATCH if i == 0 else f"CBS-2026-{i + 1000}"
        folder = tmp_path / "big-inputs" / patch
        submit_patch(ledger, "alice", write_manifest(folder, patch, content=patch.encode()))
    assert len(git(big, "ls-tree", "--name-only", "HEAD", "patches/").split()) == 30

    # patches/<ID>/events/<file> and board/<system>/<xx>/<ID>.json: the events, patch,
    # patches, row folder, system, board and root trees, no more.
    assert trees_built_by_a_write(ledger_root) == 7
    assert trees_built_by_a_write(big) == 7


def test_discovery_prefers_the_option_then_the_variable_then_the_folder(tmp_path: Path) -> None:
    option, variable, here = (tmp_path / name for name in ("option", "variable", "here"))
    for root in (option, variable, here):
        init_ledger(root, example=True)
    deep = here / "notes" / "2026"
    deep.mkdir(parents=True)
    environ = {"RELEASEGATE_LEDGER": str(variable)}

    assert Ledger.discover(str(option), environ, deep).root == option.resolve()
    assert Ledger.discover(None, environ, deep).root == variable.resolve()
    assert Ledger.discover(None, {}, deep).root == here.resolve()


def test_discovery_never_falls_back_from_a_wrong_location(tmp_path: Path) -> None:
    good = tmp_path / "good"
    init_ledger(good, example=True)
    missing = tmp_path / "missing"
    with pytest.raises(UsageError) as wrong_option:
        Ledger.discover(str(missing), {"RELEASEGATE_LEDGER": str(good)}, good)
    assert wrong_option.value.message == (f"{missing} is not a releasegate ledger "
                                          "(given by --ledger)")
    with pytest.raises(UsageError) as wrong_variable:
        Ledger.discover(None, {"RELEASEGATE_LEDGER": str(missing)}, good)
    assert "(given by RELEASEGATE_LEDGER)" in wrong_variable.value.message
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with pytest.raises(UsageError) as nowhere:
        Ledger.discover(None, {}, elsewhere)
    assert nowhere.value.code == "no-ledger"


def test_trees_built_along_changed_paths_equal_what_git_itself_builds(
        tmp_path: Path) -> None:
    root = tmp_path / "repo"
    store = init_repository(root)
    files = {"releasegate.yaml": b"a\n", "checklists/intake.yaml": b"b\n",
             "patches/P-1/patch.yaml": b"c\n", "patches/P-1/events/0001-submitted.yaml": b"d\n"}
    tree = store.build_tree(None, {p: store.write_blob(d) for p, d in files.items()})
    more = {"patches/P-1/events/0002-checklist.yaml": b"e\n",
            "patches/P-2/events/0001-submitted.yaml": b"f\n",
            "patches/P-1/evidence/abc.json": b"g\n", "top.txt": b"h\n",
            # git orders a folder as if its name ended in "/": these sort differently
            "patches/P-1.txt": b"i\n", "patches/P-1-x/y": b"j\n", "patches/P-10/z": b"k\n"}
    grown = store.build_tree(tree, {p: store.write_blob(d) for p, d in more.items()})

    # git's own index, fed every file, must give the very same tree id
    index = tmp_path / "index"
    env = {**os.environ, "GIT_INDEX_FILE": str(index)}
    for path, data in {**files, **more}.items():
        sha = GitStore(root).write_blob(data)
        subprocess.run(["git", "-C", str(root), "update-index", "--add", "--cacheinfo",
                        f"100644,{sha},{path}"], check=True, env=env)
    expected = subprocess.run(["git", "-C", str(root), "write-tree"], check=True, env=env,
                              capture_output=True, text=True).stdout.strip()
    assert grown == expected
    subprocess.run(["git", "-C", str(root), "fsck", "--strict", "--no-dangling"], check=True,
                   capture_output=True)


@pytest.mark.parametrize("large", [False, True], ids=["small index", "large index"])
def test_a_large_index_is_updated_split_and_the_working_copy_stays_clean(
        submitted: Cli, ledger_root: Path, monkeypatch: pytest.MonkeyPatch,
        large: bool) -> None:
    """Staging a write's files rewrites the whole index; past a size (SPLIT_INDEX_AT,
    set to 0 here to stand for a ledger of thousands of patches) git's split index
    writes only the entries that changed. Either way git status stays clean."""
    from releasegate.ledger import store

    if large:
        monkeypatch.setattr(store, "SPLIT_INDEX_AT", 0)
    fill_checklist(Ledger(ledger_root), "alice", PATCH, "intake", "dev", INTAKE)

    shared = list((ledger_root / ".git").glob("sharedindex.*"))
    assert bool(shared) == large
    assert git(ledger_root, "status", "--porcelain") == ""
    assert f"patches/{PATCH}/events/0002-checklist.yaml" in git(ledger_root, "ls-files")
