"""History cannot be rewritten unseen: a clone remembers the last heads it verified, and
a head that does not descend from them stops every command with exit 1."""

from __future__ import annotations

import json
from pathlib import Path

from releasegate.actions.setup import init_ledger
from releasegate.ledger.transaction import Ledger
from tests.helpers import PATCH, Cli, answers_file, fingerprint, git, must, write_manifest


def test_a_reset_to_an_old_state_stops_every_command(submitted: Cli, ledger_root: Path,
                                                     inputs: Path) -> None:
    must(submitted, "checklist", "fill", PATCH, "intake", "--env", "dev", "--answers",
         str(answers_file(inputs, "intake")))
    assert submitted("status").exit_code == 0
    git(ledger_root, "reset", "-q", "--hard", "HEAD~1")  # the checklist is gone
    before = fingerprint(ledger_root)

    for args in (("status",), ("check", PATCH, "--to", "dev"),
                 ("promote", PATCH, "--to", "dev")):
        result = submitted(*args, person="alice")
        assert result.exit_code == 1, (args, result.output)
        assert "error: the ledger's history was rewritten" in result.stderr
        assert "releasegate verify --accept-rewrite" in result.stderr
    assert fingerprint(ledger_root) == before


def test_the_json_error_of_a_rewrite_has_its_own_code(submitted: Cli,
                                                      ledger_root: Path) -> None:
    assert submitted("status").exit_code == 0
    git(ledger_root, "commit", "-q", "--amend", "-m", "rewritten")
    result = submitted("status", "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "history-rewritten"


def test_accepting_the_rewrite_lets_commands_work_again(submitted: Cli,
                                                        ledger_root: Path) -> None:
    assert submitted("status").exit_code == 0
    git(ledger_root, "commit", "-q", "--amend", "-m", "rewritten")
    ledger = Ledger(ledger_root)
    ledger.accept_rewrite = True
    ledger.snapshot()
    assert submitted("status").exit_code == 0


def test_new_commits_on_top_are_not_a_rewrite(submitted: Cli, ledger_root: Path) -> None:
    assert submitted("status").exit_code == 0
    config = ledger_root / "releasegate.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    git(ledger_root, "commit", "-qam", "a person's change")
    assert submitted("status").exit_code == 0


def test_a_force_pushed_shared_ledger_is_refused_and_nothing_is_dropped(
        tmp_path: Path, inputs: Path) -> None:
    bare = tmp_path / "shared.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    a = Cli(tmp_path / "a")
    init_ledger(a.root, example=True)
    git(a.root, "remote", "add", "origin", str(bare))
    git(a.root, "push", "-q", "-u", "origin", "main")
    must(a, "patch", "submit", str(write_manifest(inputs)))
    must(a, "checklist", "fill", PATCH, "intake", "--env", "dev", "--answers",
         str(answers_file(inputs, "intake")))
    old = git(a.root, "rev-parse", "HEAD~2").strip()
    git(a.root, "push", "-q", "--force", "origin", f"{old}:refs/heads/main")
    before = fingerprint(a.root)

    result = a("promote", PATCH, "--to", "dev", person="alice")

    assert result.exit_code == 1, result.output
    assert "the shared ledger's branch is now at" in result.stderr
    assert "dropped" not in result.stderr
    after = fingerprint(a.root)
    assert after["HEAD"] == before["HEAD"] and after["status"] == before["status"]
