"""A ledger shared through a git remote: every write lands only once pushed."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasegate.actions.promote import promote
from releasegate.actions.setup import init_ledger
from releasegate.ledger.store import GitStore
from releasegate.ledger.transaction import Ledger
from tests.helpers import PATCH, Cli, answers_file, fingerprint, git, write_manifest

Shared = tuple[Cli, Cli, Path]


@pytest.fixture
def shared(tmp_path: Path) -> Shared:
    """Two clones, A and B, of one bare ledger repository."""
    bare = tmp_path / "shared.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    a = tmp_path / "a"
    init_ledger(a, example=True)
    git(a, "remote", "add", "origin", str(bare))
    git(a, "push", "-q", "-u", "origin", "main")
    git(tmp_path, "clone", "-q", str(bare), str(tmp_path / "b"))
    return Cli(a), Cli(tmp_path / "b"), bare


def test_a_write_is_pushed_and_the_other_clone_receives_it(shared: Shared,
                                                           inputs: Path) -> None:
    a, b, bare = shared
    assert a("patch", "submit", str(write_manifest(inputs)), person="alice").exit_code == 0
    assert git(bare, "log", "--format=%s", "-1").startswith(f"{PATCH}: submitted by alice")

    result = b("checklist", "fill", PATCH, "intake", "--env", "dev", "--answers",
               str(answers_file(inputs, "intake")), person="alice")

    assert result.exit_code == 0, result.output
    assert (b.root / "patches" / PATCH / "patch.yaml").is_file()
    assert git(b.root, "status", "--porcelain") == ""
    assert git(bare, "rev-parse", "main") == git(b.root, "rev-parse", "HEAD")


def test_sync_brings_the_working_tree_in_step(shared: Shared, inputs: Path) -> None:
    a, b, _ = shared
    a("patch", "submit", str(write_manifest(inputs)), person="alice")

    result = b("sync")

    assert result.exit_code == 0
    assert "new files arrived" in result.output
    assert (b.root / "patches" / PATCH / "events" / "0001-submitted.yaml").is_file()
    assert git(b.root, "status", "--porcelain") == ""


def test_a_lost_push_race_is_retried_and_revalidated(shared: Shared, inputs: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    a, b, bare = shared
    a("patch", "submit", str(write_manifest(inputs)), person="alice")
    a("checklist", "fill", PATCH, "intake", "--env", "dev", "--answers",
      str(answers_file(inputs, "intake")), person="alice")
    b("sync")
    real_fetch = GitStore.fetch
    calls: list[str] = []

    def fetch_then_let_a_promote_first(self: GitStore, remote: str, merge: str) -> str | None:
        fetched = real_fetch(self, remote, merge)
        if self.root == b.root and not calls:
            calls.append("raced")
            first, _ = promote(Ledger(a.root), "alice", PATCH)
            assert first.recorded
        return fetched

    monkeypatch.setattr(GitStore, "fetch", fetch_then_let_a_promote_first)
    result = b("promote", PATCH, "--to", "dev", person="bob")

    assert calls == ["raced"]
    assert result.exit_code == 0, result.output
    assert "already in dev" in result.output
    log = git(bare, "log", "--format=%s", "main")
    assert log.count("promoted to dev") == 1


def test_an_unreachable_remote_records_nothing(shared: Shared, inputs: Path) -> None:
    a, _, _ = shared
    git(a.root, "remote", "set-url", "origin", str(a.root.parent / "gone.git"))
    before = fingerprint(a.root)

    result = a("patch", "submit", str(write_manifest(inputs)), "--format", "json",
               person="alice")

    assert result.exit_code == 3
    assert '"code": "unreachable"' in result.output
    assert fingerprint(a.root) == before


def test_a_rejected_push_that_keeps_failing_leaves_no_local_commit(
        shared: Shared, inputs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, _, _ = shared
    before = fingerprint(a.root)
    from releasegate.core.errors import ContentionError

    def always_rejected(self: GitStore, remote: str, ref: str, merge: str,
                        *rest: object) -> None:
        raise ContentionError("rejected")

    monkeypatch.setattr(GitStore, "push", always_rejected)
    monkeypatch.setattr("releasegate.ledger.transaction.time.sleep", lambda seconds: None)

    result = a("patch", "submit", str(write_manifest(inputs)), person="alice")

    assert result.exit_code == 3
    assert "nothing was recorded" in result.output
    assert fingerprint(a.root) == before


def test_without_an_upstream_sync_says_so(rg: Cli) -> None:
    result = rg("sync")
    assert result.exit_code == 0
    assert "no shared remote" in result.output


def test_ledger_upstream_reads_the_branch_configuration(shared: Shared) -> None:
    a, _, _ = shared
    upstream = Ledger(a.root).upstream()
    assert upstream is not None
    assert (upstream.remote, upstream.merge) == ("origin", "refs/heads/main")


def push_shanghai_time(clone: Cli) -> None:
    """A colleague edits the pipeline's time zone in their clone, commits and pushes."""
    config = clone.root / "releasegate.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("timezone: UTC",
                                                                 "timezone: Asia/Shanghai"))
    git(clone.root, "commit", "-qam", "pipeline in Shanghai time")
    git(clone.root, "push", "-q")


def test_a_colleagues_config_change_reaches_the_working_copy_on_sync(shared: Shared) -> None:
    a, b, _ = shared
    push_shanghai_time(a)

    result = b("sync")

    assert result.exit_code == 0, result.output
    assert "timezone: Asia/Shanghai" in (b.root / "releasegate.yaml").read_text()
    assert git(b.root, "status", "--porcelain") == ""
    assert "uncommitted" not in b("status").stderr


def test_sync_never_overwrites_a_local_edit_of_a_changed_file(shared: Shared) -> None:
    a, b, _ = shared
    push_shanghai_time(a)
    mine = b.root / "releasegate.yaml"
    mine.write_text(mine.read_text(encoding="utf-8") + "# my draft\n")

    assert b("sync").exit_code == 0

    assert mine.read_text(encoding="utf-8").endswith("# my draft\n")
    assert "timezone: UTC" in mine.read_text(encoding="utf-8")
