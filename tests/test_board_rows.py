"""Board rows: `status` and `patch list` in a fresh clone read each patch's row instead
of folding its events, and always show what the events alone would give."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from releasegate.actions.board_rows import board_rows
from releasegate.core import clock
from releasegate.core.board import board_doc
from releasegate.ledger.board_store import path_of
from releasegate.ledger.pipeline import load_pipeline
from releasegate.ledger.transaction import Ledger
from tests.helpers import (
    PATCH,
    Cli,
    edit_pipeline,
    fingerprint,
    gate_of,
    git,
    must,
    passing,
    record_regression,
    sign_prod_gate,
    walk_to_prod,
    walk_to_test,
    write_manifest,
)

OTHER = "CBS-2026-0043"
SYSTEM = "core-banking"  # the system write_manifest gives


def from_events(root: Path) -> dict[str, Any]:
    """The board as the events alone give it: every row derived again, none read."""
    ledger = Ledger(root)
    snap = ledger.snapshot()
    rows = board_rows(ledger, snap, verdicts=True, anew=True)
    return board_doc(load_pipeline(snap).env_names,
                     [(r.summary, r.gate.next if r.gate else None) for r in rows])


def fresh_clone(root: Path, tmp_path: Path, name: str) -> Cli:
    target = tmp_path / name
    git(tmp_path, "clone", "-q", str(root), str(target))
    return Cli(target)


def board_of(rg: Cli) -> dict[str, Any]:
    doc: dict[str, Any] = rg.json("status")
    return doc


def row_of(root: Path, patch: str = PATCH) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(git(root, "show", f"HEAD:{path_of(patch, SYSTEM)}"))
    return doc


def commit_row(root: Path, patch: str, data: bytes) -> None:
    """Replace a patch's row with plain git, as someone with push access could."""
    (root / path_of(patch, SYSTEM)).write_bytes(data)
    git(root, "commit", "-qam", "edit a board row")


def test_every_act_records_its_patch_row_in_its_own_commit(in_test: Cli) -> None:
    root = in_test.root
    log = git(root, "log", "--format=>%s", "--name-only")
    commits = [block.strip().splitlines() for block in log.split(">")[1:]]
    acts = [(subject, paths) for subject, *paths in commits
            if any(p.startswith(f"patches/{PATCH}/") for p in paths)]
    assert len(acts) == 7  # submit, 2 checklists, 2 promotions, tests, sign-off
    for subject, paths in acts:
        assert path_of(PATCH, SYSTEM) in paths, subject
    assert row_of(root)["summary"]["env"] == "test"
    # What the acts wrote is what the events give: nothing to record again.
    result = must(in_test, "reindex")
    assert result.stdout == "all 1 board rows are current; nothing recorded\n"
    assert git(root, "status", "--porcelain") == ""


def test_a_fresh_clone_shows_the_board_without_folding_a_single_patch(
        in_test: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = board_of(in_test)
    clone = fresh_clone(in_test.root, tmp_path, "ci")

    def refuse(*args: object) -> None:
        raise AssertionError("a patch was folded from its events")

    monkeypatch.setattr("releasegate.actions.common._fold_from_files", refuse)
    assert board_of(clone) == expected
    listed = clone.json("patch", "list")
    assert [(p["id"], p["env"], p["title"]) for p in listed] == [
        (PATCH, "test", "Fix interest accrual")]


def test_a_row_is_derived_again_when_a_patch_it_depends_on_moves(
        rg: Cli, inputs: Path, tmp_path: Path) -> None:
    walk_to_test(rg, inputs, OTHER)
    must(rg, "patch", "submit", str(write_manifest(inputs / PATCH, PATCH, content=b"x\n",
                                                   extra=f"depends_on: [{OTHER}]\n")))
    walk_to_test(rg, inputs, PATCH)
    before = board_of(fresh_clone(rg.root, tmp_path, "before"))
    waiting = _next(before, PATCH)["waiting_for"]
    assert any(w.startswith("depends") for w in waiting), waiting

    record_regression(rg, inputs, OTHER, passing("reg", "t1"))  # acts on OTHER only
    sign_prod_gate(rg, inputs, OTHER)
    must(rg, "promote", OTHER, "--to", "prod")

    after = board_of(fresh_clone(rg.root, tmp_path, "after"))
    assert after == from_events(rg.root)
    assert not any(w.startswith("depends") for w in _next(after, PATCH)["waiting_for"])


def test_a_row_is_derived_again_when_its_baseline_changes(
        rg: Cli, inputs: Path, tmp_path: Path) -> None:
    walk_to_prod(rg, inputs, OTHER, {"reg::t1": "failed", "reg::t2": "passed"},
                 waive=("reg::t1",))
    walk_to_test(rg, inputs, PATCH)
    record_regression(rg, inputs, PATCH, {"reg::t1": "failed", "reg::t2": "passed"})
    before = board_of(fresh_clone(rg.root, tmp_path, "before"))
    assert not any("t1" in w for w in _next(before, PATCH)["waiting_for"])  # known failure

    # A third patch of the system ships with t1 passing: t1 is now a new failure of
    # PATCH, though nothing of PATCH changed.
    walk_to_prod(rg, inputs, "CBS-2026-0044", {"reg::t1": "passed", "reg::t2": "passed"})

    after = board_of(fresh_clone(rg.root, tmp_path, "after"))
    assert any("t1" in w for w in _next(after, PATCH)["waiting_for"])
    assert after == from_events(rg.root)
    assert row_of(rg.root)["gate"]["baselines"][0][2].startswith(OTHER)  # as recorded


def test_a_row_counting_a_waiver_is_derived_again_once_the_waiver_runs_out(
        rg: Cli, inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    walk_to_test(rg, inputs, PATCH)
    record_regression(rg, inputs, PATCH, {"reg::t1": "passed", "reg::t2": "failed"})
    must(rg, "waive", PATCH, "--env", "prod", "--test", "reg::t2", "--reason",
         "vendor defect", "--until", "2030-01-31", person="carol")
    clone = fresh_clone(rg.root, tmp_path, "ci")
    waived = board_of(clone)
    assert not any("t2" in w for w in _next(waived, PATCH)["waiting_for"])

    monkeypatch.setattr(clock, "now", lambda: datetime(2030, 2, 2, tzinfo=UTC))
    expired = board_of(clone)
    assert expired == from_events(rg.root)
    assert any("t2" in w for w in _next(expired, PATCH)["waiting_for"])


def test_rows_are_derived_again_when_the_pipeline_changes(in_test: Cli,
                                                          tmp_path: Path) -> None:
    before = board_of(in_test)
    assert any("business" in w for w in _next(before, PATCH)["waiting_for"])
    edit_pipeline(in_test.root, lambda c: gate_of(c, "prod").update(signoffs=[]))

    after = board_of(fresh_clone(in_test.root, tmp_path, "ci"))
    assert after == from_events(in_test.root)
    assert not any("business" in w for w in _next(after, PATCH)["waiting_for"])


def test_a_row_edited_with_git_is_an_error_for_verify_and_reindex_records_it_again(
        in_test: Cli) -> None:
    root = in_test.root
    expected = from_events(root)
    row = row_of(root)
    row["summary"]["env"] = "prod"
    commit_row(root, PATCH, json.dumps(row).encode())
    before = fingerprint(root)

    result = in_test("verify")

    assert result.exit_code == 1
    assert (f"ERROR {path_of(PATCH, SYSTEM)}: the board row disagrees with the patch's events"
            in result.stdout)
    assert fingerprint(root) == before  # verify records nothing
    assert must(in_test, "reindex").stdout == "board rows of 1 of 1 patches recorded\n"
    assert in_test("verify").exit_code == 0
    assert board_of(in_test) == expected


@pytest.mark.parametrize("data", [
    b"not json at all", b"{}", b"\x00\xff\xfe", b"[1, 2]", b"9" * 5000,
    b'{"format": 1, "patch": "CBS-2026-0042", "tree": 5}',
    b'{"format": 1, "patch": "OTHER-1", "tree": "0", "system": "", "summary": {}, '
    b'"shipped": [], "gate": null}',
])
def test_a_malformed_row_is_ignored_and_the_patch_shown_from_its_events(
        in_test: Cli, tmp_path: Path, data: bytes) -> None:
    expected = from_events(in_test.root)
    commit_row(in_test.root, PATCH, data)

    assert board_of(fresh_clone(in_test.root, tmp_path, "ci")) == expected
    assert board_of(in_test) == expected
    result = in_test("verify")
    assert result.exit_code == 0, result.output
    assert f"NOTE {path_of(PATCH, SYSTEM)}: not a board row" in result.stdout


def test_control_characters_in_an_edited_row_never_reach_the_terminal(in_test: Cli) -> None:
    row = row_of(in_test.root)
    row["summary"]["title"] = "ok\x1b[2J\nprod:\r  FAKE-1  forged\x07"
    row["gate"]["next"]["waiting_for"] = ["x\x1b]0;owned\x07\nprod:"]
    commit_row(in_test.root, PATCH, json.dumps(row).encode())

    text = must(in_test, "status").stdout

    assert not any(ch in text for ch in "\x1b\r\x07")
    assert [line for line in text.splitlines() if not line.startswith(" ")] == [
        "dev: (empty)", "test:", "prod: (empty)"]
    assert json.loads(in_test("status", "--format", "json").stdout)  # well-formed


def test_a_row_a_person_edited_in_the_working_tree_is_left_as_it_is(in_test: Cli) -> None:
    mine = in_test.root / path_of(PATCH, SYSTEM)
    mine.write_text("my notes\n", encoding="utf-8")

    result = must(in_test, "signoff", PATCH, "--env", "prod", "--role", "business",
                  person="dave")

    assert f"{path_of(PATCH, SYSTEM)} in the working tree differs from the ledger" in result.stderr
    assert mine.read_text(encoding="utf-8") == "my notes\n"
    assert row_of(in_test.root)["summary"]["env"] == "test"  # the committed row moved on
    assert git(in_test.root, "status", "--porcelain") == f" M {path_of(PATCH, SYSTEM)}\n"


def test_reindex_records_the_rows_of_a_ledger_that_has_none(in_test: Cli, inputs: Path,
                                                            tmp_path: Path) -> None:
    walk_to_test(in_test, inputs, OTHER)
    expected = from_events(in_test.root)
    git(in_test.root, "rm", "-rq", "board")
    git(in_test.root, "commit", "-qm", "a ledger from before board rows")
    assert board_of(fresh_clone(in_test.root, tmp_path, "without")) == expected

    result = must(in_test, "reindex")

    assert result.stdout == "board rows of 2 of 2 patches recorded\n"
    shown = git(in_test.root, "show", "--format=%s", "--name-status", "HEAD").splitlines()
    assert shown[0] == "board rows of 2 patch(es) recorded"
    assert sorted(line for line in shown[1:] if line) == sorted(
        [f"A\t{path_of(PATCH, SYSTEM)}", f"A\t{path_of(OTHER, SYSTEM)}"])
    assert board_of(fresh_clone(in_test.root, tmp_path, "with")) == expected
    assert must(in_test, "reindex").stdout == "all 2 board rows are current; nothing recorded\n"
    assert git(in_test.root, "status", "--porcelain") == ""


def _next(board: dict[str, Any], patch: str) -> dict[str, Any]:
    for entry in [*board["not_yet_in_any"], *(p for e in board["environments"]
                                              for p in e["patches"])]:
        if entry["id"] == patch:
            found: dict[str, Any] = entry["next"]
            return found
    raise AssertionError(f"{patch} is not on the board")


def test_a_row_committed_as_a_symbolic_link_is_ignored_and_never_followed(
        in_test: Cli, tmp_path: Path) -> None:
    expected = from_events(in_test.root)
    secret = tmp_path / "outside.json"
    secret.write_text("{}", encoding="utf-8")
    row = in_test.root / path_of(PATCH, SYSTEM)
    row.unlink()
    row.symlink_to(secret)
    git(in_test.root, "add", "-A", "board")
    git(in_test.root, "commit", "-qm", "a row that is a link")

    assert board_of(fresh_clone(in_test.root, tmp_path, "ci")) == expected
    result = in_test("verify")
    assert result.exit_code == 0, result.output
    assert f"NOTE {path_of(PATCH, SYSTEM)}: not a board row" in result.stdout

    # An act replaces the row; the link in the working tree is left, never written through.
    acted = must(in_test, "signoff", PATCH, "--env", "prod", "--role", "business",
                 person="dave")
    assert f"{path_of(PATCH, SYSTEM)} in the working tree differs from the ledger" \
        in acted.stderr
    assert secret.read_text(encoding="utf-8") == "{}"
    assert row.is_symlink()
    assert row_of(in_test.root)["summary"]["id"] == PATCH


def test_a_write_in_a_fresh_clone_of_a_long_ledger_leaves_the_verdict_to_the_next_read(
        rg: Cli, inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding a baseline without the index means walking the history, which on a long
    ledger costs a write more than the act itself: the row goes without a verdict, and
    `status` shows the same board as the events give; with the index at hand, or on a
    short ledger, the row has its verdict as before."""
    from releasegate.evidence import baselines

    walk_to_prod(rg, inputs, OTHER, {"reg::t1": "failed", "reg::t2": "passed"},
                 waive=("reg::t1",))
    walk_to_test(rg, inputs, PATCH)
    record_regression(rg, inputs, PATCH, {"reg::t1": "failed", "reg::t2": "passed"})

    def clone_to_write(name: str) -> Cli:  # a clone of its own, not pushing back
        clone = fresh_clone(rg.root, tmp_path, name)
        git(clone.root, "remote", "remove", "origin")
        return clone

    short = clone_to_write("short")
    must(short, "signoff", PATCH, "--env", "prod", "--role", "business", person="dave")
    assert row_of(short.root)["gate"]["next"]["to"] == "prod"

    monkeypatch.setattr(baselines, "AT_HAND_HEIGHT", 1)  # every ledger here is long
    long = clone_to_write("long")
    must(long, "signoff", PATCH, "--env", "prod", "--role", "business", person="dave")
    assert row_of(long.root)["gate"] is None
    assert row_of(long.root)["summary"] == row_of(short.root)["summary"]
    assert board_of(long) == board_of(fresh_clone(long.root, tmp_path, "reader")) \
        == from_events(long.root) == board_of(short)
    must(long, "verify")

    must(rg, "verify")  # which leaves the whole index under .git
    assert (rg.root / ".git" / "releasegate" / "baselines.pickle").exists()
    must(rg, "signoff", PATCH, "--env", "prod", "--role", "business", person="dave")
    assert row_of(rg.root)["gate"]["next"]["to"] == "prod"  # the index is at hand
