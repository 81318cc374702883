"""`releasegate verify`: the auditor's re-check. A ledger the CLI wrote is clean; each
kind of tampering a person can commit with plain git is found and named."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import (
    PATCH,
    Cli,
    fingerprint,
    git,
    must,
    record_regression,
    sign_prod_gate,
    walk_to_prod,
    walk_to_test,
)

EVENTS = f"patches/{PATCH}/events"
PASSING = {"bank.Ledger::posts": "passed", "bank.Ledger::reads": "passed"}


def _verify(rg: Cli) -> tuple[int, dict[str, Any]]:
    result = rg("verify", "--format", "json")
    return result.exit_code, json.loads(result.stdout)


def _errors(doc: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(f["file"], f["what"]) for f in doc["findings"] if f["severity"] == "error"]


@pytest.fixture
def shipped(rg: Cli, inputs: Path) -> Cli:
    walk_to_prod(rg, inputs, PATCH, PASSING)
    return rg


def test_a_ledger_the_cli_wrote_is_clean(shipped: Cli) -> None:
    before = fingerprint(shipped.root)
    code, doc = _verify(shipped)
    assert code == 0, doc["findings"]
    assert doc["ok"] is True and doc["patches"] == 1 and doc["promotions"] == 3
    assert doc["events"] == len(list((shipped.root / EVENTS).iterdir()))
    assert doc["config_changes"][0]["subject"].startswith("releasegate ledger:")
    text = shipped("verify")
    assert text.exit_code == 0 and text.stdout.rstrip().endswith("CLEAN: everything verifies")
    assert fingerprint(shipped.root) == before


def test_the_newest_event_edited_and_committed_is_found(shipped: Cli) -> None:
    newest = sorted((shipped.root / EVENTS).iterdir())[-1]
    newest.write_text(newest.read_text(encoding="utf-8").replace("alice", "erin"),
                      encoding="utf-8")
    git(shipped.root, "commit", "-qam", "fix a typo")
    code, doc = _verify(shipped)
    relative = newest.relative_to(shipped.root).as_posix()
    assert code == 1
    assert any(file == relative and what.startswith("changed by commit ")
               for file, what in _errors(doc))


def test_the_newest_event_deleted_is_found(shipped: Cli) -> None:
    newest = sorted((shipped.root / EVENTS).iterdir())[-1]
    git(shipped.root, "rm", "-q", str(newest))
    git(shipped.root, "commit", "-qm", "remove it")
    code, doc = _verify(shipped)
    assert code == 1
    assert any(what.startswith("deleted by commit ") for _, what in _errors(doc))


def test_a_raw_junit_file_changed_after_recording_is_found(rg: Cli, inputs: Path) -> None:
    walk_to_test(rg, inputs)
    record_regression(rg, inputs, PATCH, PASSING)
    raw = next((rg.root / f"patches/{PATCH}/evidence").glob("*.xml"))
    raw.write_bytes(raw.read_bytes() + b"<!-- reformatted -->\n")
    git(rg.root, "commit", "-qam", "reformat")
    code, doc = _verify(rg)
    assert code == 1
    assert any("raw JUnit file's sha256 is not the one" in what for _, what in _errors(doc))


def test_an_event_appended_with_other_files_is_not_one_act(rg: Cli, inputs: Path) -> None:
    walk_to_test(rg, inputs)
    events = rg.root / EVENTS
    last = sorted(events.iterdir())[-1]
    number = int(last.name[:4]) + 1
    digest = json.loads(rg("patch", "show", PATCH, "--format", "json").stdout)["digest"]
    forged = (f"type: signoff\npatch: {PATCH}\nseq: '{number}'\n"
              f"prev: {hashlib.sha256(last.read_bytes()).hexdigest()}\n"
              f"at: '2026-12-01T10:00:00.000Z'\nactor: dave\ndigest: {digest}"
              "\nenv: prod\nrole: business\ndecision: approve\n")
    (events / f"{number:04d}-signoff.yaml").write_text(forged, encoding="utf-8")
    config = rg.root / "releasegate.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    git(rg.root, "add", "-A")
    git(rg.root, "commit", "-qm", "approve and tidy")
    code, doc = _verify(rg)
    assert code == 1
    assert any("is not one act" in what for _, what in _errors(doc))
    notes = [f["what"] for f in doc["findings"] if f["severity"] == "note"]
    assert any("authored by Test Runner <nobody@test.invalid>, not by dave" in n for n in notes)


def test_a_forged_promotion_is_found_by_replaying_its_gate(rg: Cli, inputs: Path) -> None:
    walk_to_test(rg, inputs)
    record_regression(rg, inputs, PATCH, {"bank.Ledger::posts": "failed"})
    sign_prod_gate(rg, inputs)
    assert rg("check", PATCH, "--to", "prod").exit_code == 1
    events = rg.root / EVENTS
    last = sorted(events.iterdir())[-1]
    number = int(last.name[:4]) + 1
    digest = json.loads(rg("patch", "show", PATCH, "--format", "json").stdout)["digest"]
    forged = (f"type: promoted\npatch: {PATCH}\nseq: '{number}'\n"
              f"prev: {hashlib.sha256(last.read_bytes()).hexdigest()}\n"
              f"at: '2026-12-01T10:00:00.000Z'\nactor: alice\ndigest: {digest}\nenv: prod\n"
              "from: test\nverdict:\n- kind: order\n  name: order\n  status: pass\n"
              "  detail: forged\nevidence: []\n")
    (events / f"{number:04d}-promoted.yaml").write_text(forged, encoding="utf-8")
    git(rg.root, "add", "-A")
    git(rg.root, "-c", "user.name=Alice Wang", "-c", "user.email=alice@bank.example",
        "commit", "-qm", f"{PATCH}: promoted to prod by alice")
    assert json.loads(rg("patch", "show", PATCH, "--format", "json").stdout)["env"] == "prod"
    code, doc = _verify(rg)
    assert code == 1
    assert any("although its gate was closed then" in what and "tests" in what
               for _, what in _errors(doc))


def test_a_rewritten_history_stops_verify_until_accepted(shipped: Cli) -> None:
    assert shipped("status").exit_code == 0
    git(shipped.root, "reset", "-q", "--hard", "HEAD~1")
    result = shipped("verify")
    assert result.exit_code == 1 and "history was rewritten" in result.stderr
    accepted = shipped("verify", "--accept-rewrite")
    assert accepted.exit_code == 0, accepted.output
    assert shipped("status").exit_code == 0


def test_a_clean_ledger_after_many_acts_is_still_clean(shipped: Cli, inputs: Path) -> None:
    walk_to_prod(shipped, inputs, "CBS-2026-0043", PASSING)
    must(shipped, "status")
    code, doc = _verify(shipped)
    assert code == 0, doc["findings"]
    assert doc["patches"] == 2 and doc["promotions"] == 6
