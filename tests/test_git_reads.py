"""Reading the ledger's objects through one `git cat-file --batch` process: what a
command lists and reads is exactly what `git ls-tree` and `git cat-file` say, however
much it reads, with one git process for all of it."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from releasegate.core.errors import InputError
from releasegate.ledger.store import GitStore, init_repository
from tests.helpers import git


@pytest.fixture
def repo(tmp_path: Path) -> tuple[GitStore, str]:
    """A repository whose one commit holds nested folders, odd names, a symbolic
    link, a submodule entry and a 3 MiB file."""
    root = tmp_path / "repo"
    store = init_repository(root)
    files = {
        "releasegate.yaml": b"version: 1\n",
        "checklists/intake.yaml": b"id: intake\n",
        "patches/CBS-2026-0001/events/0001-submitted.yaml": b"type: submitted\n",
        "patches/CBS-2026-0001/events/0002-tests.yaml": b"type: tests\n",
        "patches/CBS-2026-0001/evidence/big.xml": os.urandom(3 << 20),
        "patches/CBS-2026-0002/events/0001-submitted.yaml": b"type: submitted\n",
        "patches/CBS-2026-0002/a name with spaces.txt": b"spaces\n",
        "patches/CBS-2026-0002/\u5ba1\u6279.txt": "\u5ba1\u6279\n".encode(),
    }
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    (root / "patches/CBS-2026-0002/link").symlink_to("../CBS-2026-0001")
    git(root, "add", "-A")
    blob = git(root, "rev-parse", ":releasegate.yaml")
    git(root, "update-index", "--add", "--cacheinfo",
        f"160000,{blob.strip()},patches/CBS-2026-0002/vendored")
    git(root, "-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qm", "one")
    return store, git(root, "rev-parse", "HEAD").strip()


SPECS = [
    (["patches/CBS-2026-0001"], True),
    (["patches/CBS-2026-0001/events"], True),
    (["patches/CBS-2026-0001/events/"], True),
    (["patches/CBS-2026-0002"], True),
    (["patches/CBS-2026-0002/"], False),
    (["patches/CBS-2026-0002"], False),
    (["patches/CBS-2026-0002/link"], True),
    (["patches/CBS-2026-0002/vendored"], True),
    (["releasegate.yaml", "checklists"], True),
    (["checklists/"], False),
    ([".", "patches/"], False),
    (["patches/CBS-2026-0001/events/0002-tests.yaml", "nowhere", "patches/none/events"],
     True),
]


@pytest.mark.parametrize(("paths", "recursive"), SPECS)
def test_listing_a_folder_agrees_with_git_ls_tree(repo: tuple[GitStore, str],
                                                  paths: list[str], recursive: bool) -> None:
    store, head = repo
    walked = store.list_tree(head, paths, recursive=recursive)
    listed = store._ls_tree(head, paths, recursive)
    # ls-tree shows a folder's own entry where it descends into it for another path;
    # nothing reads those entries, so only the files and folders below must agree.
    assert {p: e for p, e in walked.items() if p not in ("patches",)} == \
        {p: e for p, e in listed.items() if p not in ("patches",)}
    assert walked or paths[0] == "nowhere"


def test_a_link_and_a_submodule_keep_their_modes(repo: tuple[GitStore, str]) -> None:
    store, head = repo
    found = store.list_tree(head, ["patches/CBS-2026-0002"])
    assert found["patches/CBS-2026-0002/link"].mode == "120000"
    assert found["patches/CBS-2026-0002/vendored"].mode == "160000"
    assert found["patches/CBS-2026-0002/vendored"].type == "commit"


def test_everything_a_command_reads_goes_through_one_git_process(
        repo: tuple[GitStore, str], monkeypatch: pytest.MonkeyPatch) -> None:
    store, head = repo
    started: list[list[str]] = []

    class Counting(subprocess.Popen[bytes]):
        def __init__(self, args: Any, *rest: Any, **kwargs: Any) -> None:
            started.append(list(args))
            super().__init__(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", Counting)
    names = [f"patches/CBS-2026-000{i}/events/0001-submitted.yaml" for i in (1, 2)] * 300
    for _ in range(20):
        assert store.read_paths(head, names)[names[0]] == b"type: submitted\n"
        store.list_tree(head, ["patches/CBS-2026-0001"])
    big = store.list_tree(head, ["patches/CBS-2026-0001/evidence/big.xml"])
    data = store.read_blobs([e.sha for e in big.values()])
    blob = next(iter(big.values())).sha
    assert store.blob_sha256(blob) == hashlib.sha256(data[blob]).hexdigest()
    assert len(started) == 1


def test_missing_objects_and_names_with_a_line_break_are_absent(
        repo: tuple[GitStore, str]) -> None:
    store, head = repo
    found = store.read_paths(head, ["releasegate.yaml\nreleasegate.yaml", "nowhere",
                                    "checklists", "releasegate.yaml"])
    assert found == {"releasegate.yaml": b"version: 1\n"}
    with pytest.raises(InputError, match="missing"):
        store.read_blobs(["0" * 40])
    with pytest.raises(InputError, match="missing"):
        store.blob_sha256("1" * 40)


def test_a_killed_git_process_is_started_again(repo: tuple[GitStore, str]) -> None:
    store, head = repo
    assert store.read_paths(head, ["releasegate.yaml"])
    proc = store.objects._proc
    assert proc is not None
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert store.read_paths(head, ["releasegate.yaml"]) == {"releasegate.yaml": b"version: 1\n"}
    assert store.objects.started == 2


def test_the_git_process_ends_with_its_store(repo: tuple[GitStore, str]) -> None:
    store, head = repo
    store.read_paths(head, ["releasegate.yaml"])
    proc = store.objects._proc
    assert proc is not None and proc.poll() is None
    store.objects.close()
    assert proc.poll() is not None


def _child(root: Path, parent: str, change: Any) -> str:
    """A commit on `parent` whose tree is `parent`'s with `change(root)` applied to
    the index (no working tree involved)."""
    git(root, "read-tree", parent)
    change(root)
    tree = git(root, "write-tree").strip()
    return git(root, "-c", "user.name=Ann", "-c", "user.email=ann@x", "commit-tree", tree,
               "-p", parent, "-m", "an act").strip()


def _add(path: str, data: bytes, mode: str = "100644") -> Any:
    def change(root: Path) -> None:
        sha = subprocess.run(["git", "-C", str(root), "hash-object", "-w", "--stdin"],
                             input=data, check=True, capture_output=True).stdout.decode().strip()
        git(root, "update-index", "--add", "--cacheinfo", f"{mode},{sha},{path}")
    return change


def test_acts_handed_on_are_read_as_git_diff_tree_sees_them(
        repo: tuple[GitStore, str]) -> None:
    """What a commit handed on adds is what `git diff-tree` lists; anything but added
    files (and board rows replaced) leaves the commit out, and so does a commit whose
    parent this clone lacks (a shallow clone), without keeping the others out."""
    store, head = repo
    root = store.root
    board = _child(root, head, _add("board/CBS-2026-0001.json", b"{}\n"))
    act = _child(root, board, lambda r: [
        _add("patches/CBS-2026-0001/events/0003-signoff.yaml", b"type: signoff\n")(r),
        _add("patches/CBS-2026-0001/evidence/new/run.xml", b"<testsuite/>\n")(r),
        _add("board/CBS-2026-0001.json", b'{"stage": "dev"}\n')(r)])
    event = _add("patches/CBS-2026-0001/events/0003-signoff.yaml", b"type: signoff\n")
    # Each of these adds the event too, and does one thing more that is not an act's.
    deletes = _child(root, head, lambda r: [event(r), git(
        r, "rm", "-q", "--cached", "patches/CBS-2026-0001/events/0002-tests.yaml")])
    changes = _child(root, head, lambda r: [event(r),
                                            _add("releasegate.yaml", b"version: 2\n")(r)])
    link = _child(root, head, lambda r: [event(r), _add("patches/CBS-2026-0001/l", b"x",
                                                        "120000")(r)])
    executable = _child(root, head, lambda r: [event(r), _add("patches/CBS-2026-0001/x",
                                                              b"x", "100755")(r)])
    folder_for_file = _child(root, head, lambda r: [event(r), git(
        r, "rm", "-q", "--cached", "releasegate.yaml"), _add("releasegate.yaml/x", b"x")(r)])
    orphan_body = (f"tree {git(root, 'rev-parse', act + '^{tree}').strip()}\n"
                   f"parent {'1' * 40}\nauthor Ann <ann@x> 1 +0000\n"
                   "committer Ann <ann@x> 1 +0000\n\nan act\n")
    orphan = subprocess.run(["git", "-C", str(root), "hash-object", "-t", "commit", "-w",
                             "--stdin"], input=orphan_body.encode(), check=True,
                            capture_output=True).stdout.decode().strip()
    listed = git(root, "diff-tree", "-r", "--no-renames", act).splitlines()[1:]
    expected = {line.split("\t")[1]: line.split()[3] for line in listed}

    found = store.handed_on([act, deletes, changes, link, executable, folder_for_file,
                             orphan, "2" * 40])

    assert set(found) == {act}
    assert found[act].files == expected
    assert len(expected) == 3 and found[act].parent == board
    assert found[act].author.name == "Ann" and found[act].message.strip() == "an act"


def _chain(root: Path, count: int, name: str = "main") -> list[str]:
    """`count` commits one on another where the repository's HEAD is, each adding a
    file named after `name`; their ids, oldest first."""
    made = []
    for n in range(count):
        (root / f"{name}-{n}.txt").write_text(f"{name} {n}\n", encoding="utf-8")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", f"{name} {n}")
        made.append(git(root, "rev-parse", "HEAD").strip())
    return made


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitStore, list[str], str]:
    """72 commits on main, and a branch of 3 more from the 41st."""
    root = tmp_path_factory.mktemp("history") / "repo"
    store = init_repository(root)
    chain = _chain(root, 72)
    git(root, "checkout", "-q", "-b", "aside", chain[40])
    return store, chain, _chain(root, 3, "aside")[-1]


@pytest.mark.parametrize("behind", [0, 1, 7, 8, 9, 20, 63, 64, 70])
def test_whether_a_commit_is_an_ancestor_agrees_with_git_at_any_distance(
        history: tuple[GitStore, list[str], str], behind: int,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Asked inside a race's window, the answer comes from the first parents read a
    few at a time; it is git's own, however far back the older commit lies."""
    store, chain, aside = history
    newer, older = chain[-1], chain[-1 - behind]
    asked_git: list[tuple[str, ...]] = []
    real = store._process

    def counting(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        asked_git.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "_process", counting)

    assert store.is_ancestor(older, newer) is True
    # Within the first 64 first parents no git process is started for it.
    assert asked_git == ([] if behind < 64 else [("merge-base", "--is-ancestor", older,
                                                  newer)])
    assert store.is_ancestor(newer, older) is (behind == 0)
    assert store.is_ancestor(aside, newer) is False
    assert store.is_ancestor(older, aside) is (behind >= 31)


def test_an_ancestor_behind_a_merge_is_found_by_git(tmp_path: Path) -> None:
    """Through a merge the first parents do not tell: git answers, and an ancestor on
    the merged side is found."""
    root = tmp_path / "repo"
    store = init_repository(root)
    base = _chain(root, 2)
    git(root, "checkout", "-q", "-b", "side", base[-1])
    side = _chain(root, 2, "side")
    git(root, "checkout", "-q", "main")
    _chain(root, 1, "main-after")
    git(root, "merge", "-q", "--no-ff", "-m", "merge", "side")
    on_top = _chain(root, 3, "top")[-1]

    assert store.is_ancestor(side[0], on_top) is True
    assert store.is_ancestor(base[0], on_top) is True
    assert store.is_ancestor(on_top, side[-1]) is False
