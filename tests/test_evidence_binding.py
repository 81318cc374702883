"""Evidence is bound by hash, not only by name: a stored test summary edited with plain
git and committed stops every command that reads it, with exit 2 and "evidence
damaged", however well the edit fixed up the summary's own counts."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from releasegate.core.errors import InputError
from releasegate.core.regression import EvidenceOf
from releasegate.evidence.baselines import load_runs
from releasegate.ledger.board_store import path_of
from releasegate.ledger.transaction import Ledger
from tests.helpers import (
    PATCH,
    Cli,
    fingerprint,
    git,
    must,
    record_regression,
    sign_prod_gate,
    walk_to_test,
)

FAILING = {"bank.Ledger::posts": "failed", "bank.Ledger::reads": "passed",
           "bank.Ledger::sums": "passed"}


def _summary_of_last_run(root: Path) -> Path:
    events = sorted((root / "patches" / PATCH / "events").glob("*-tests.yaml"))
    sha = events[-1].read_text(encoding="utf-8").split("sha256: ", 1)[1].split()[0]
    return root / "patches" / PATCH / "evidence" / f"{sha}.json"


def _hide_the_failure(summary: Path) -> None:
    """What an insider would do: move the failed test to passed and fix the counts."""
    doc: dict[str, Any] = json.loads(summary.read_bytes())
    failed = doc["tests"].pop("failed")
    doc["tests"]["passed"] = doc["tests"]["passed"] + failed
    doc["counts"]["passed"] += doc["counts"]["failed"]
    doc["counts"]["failed"] = 0
    doc["messages"] = {}
    summary.write_text(json.dumps(doc), encoding="utf-8")


@pytest.fixture
def failing_in_test(rg: Cli, inputs: Path) -> Cli:
    walk_to_test(rg, inputs)
    record_regression(rg, inputs, PATCH, FAILING)
    sign_prod_gate(rg, inputs)
    return rg


def test_the_tests_event_records_the_sha256_of_its_summary(failing_in_test: Cli) -> None:
    summary = _summary_of_last_run(failing_in_test.root)
    event = sorted((failing_in_test.root / "patches" / PATCH / "events")
                   .glob("*-tests.yaml"))[-1].read_text(encoding="utf-8")
    assert f"summary_sha256: {hashlib.sha256(summary.read_bytes()).hexdigest()}" in event


def test_a_summary_edited_and_committed_with_git_stops_check_and_promote(
        failing_in_test: Cli) -> None:
    rg, root = failing_in_test, failing_in_test.root
    closed = rg("check", PATCH, "--to", "prod")
    assert closed.exit_code == 1
    summary = _summary_of_last_run(root)
    _hide_the_failure(summary)
    git(root, "commit", "-qam", "tidy the test summary")
    before = fingerprint(root)
    relative = summary.relative_to(root).as_posix()
    for args in (("check", PATCH, "--to", "prod"), ("promote", PATCH, "--to", "prod"),
                 ("tests", "diff", PATCH, "--env", "test"), ("patch", "show", PATCH)):
        result = rg(*args, person="alice")
        assert result.exit_code == 2, (args, result.output)
        assert f"error: {relative}: evidence damaged: its sha256 is not the one" in \
            result.stderr, args
        assert "PASS" not in result.stdout
    assert fingerprint(root) == before


def test_the_json_error_names_the_damaged_file(failing_in_test: Cli) -> None:
    summary = _summary_of_last_run(failing_in_test.root)
    _hide_the_failure(summary)
    git(failing_in_test.root, "commit", "-qam", "tidy")
    result = failing_in_test("check", PATCH, "--to", "prod", "--format", "json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "evidence-damaged"
    assert error["file"] == summary.relative_to(failing_in_test.root).as_posix()


def test_counts_that_disagree_with_the_event_stop_the_read(failing_in_test: Cli) -> None:
    # An event recorded before summaries were hashed has only its counts to check.
    ledger = Ledger(failing_in_test.root)
    snap = ledger.snapshot()
    summary = _summary_of_last_run(failing_in_test.root)
    event = sorted((failing_in_test.root / "patches" / PATCH / "events")
                   .glob("*-tests.yaml"))[-1].relative_to(failing_in_test.root).as_posix()
    counts = {"tests": 3, "passed": 2, "failed": 1, "errors": 0, "skipped": 0, "flaky": 0}
    legacy = EvidenceOf.of(event, [{"sha256": summary.stem}], counts)
    assert load_runs(snap, PATCH, legacy).failed == 1
    claimed = EvidenceOf.of(event, [{"sha256": summary.stem}], {**counts, "failed": 0})
    with pytest.raises(InputError, match=r"evidence damaged: its counts disagree with "
                                         r".*failed 1 \(the event says 0\)") as caught:
        load_runs(snap, PATCH, claimed)
    assert caught.value.exit_status == 2


OTHER = "CBS-2026-0043"


@pytest.fixture
def damaged_baseline(failing_in_test: Cli, inputs: Path) -> str:
    """PATCH shipped and became the baseline of OTHER's regression run in test; then its
    stored summary was edited with git to hide a failure. The damaged file's path."""
    rg, root = failing_in_test, failing_in_test.root
    must(rg, "waive", PATCH, "--env", "prod", "--test", "bank.Ledger::posts", "--reason",
         "known", "--until", "2099-12-31", person="carol")
    sign_prod_gate(rg, inputs)
    must(rg, "promote", PATCH, "--to", "prod")
    baseline = _summary_of_last_run(root)
    walk_to_test(rg, inputs, OTHER)
    record_regression(rg, inputs, OTHER, FAILING)
    _hide_the_failure(baseline)
    git(root, "commit", "-qam", "tidy the baseline")
    return baseline.relative_to(root).as_posix()


def test_an_edited_baseline_summary_stops_the_next_patchs_check(
        failing_in_test: Cli, damaged_baseline: str) -> None:
    result = failing_in_test("check", OTHER, "--to", "prod")
    assert result.exit_code == 2
    assert f"{damaged_baseline}: evidence damaged" in result.stderr


def test_an_edited_baseline_stops_status_but_not_an_act_on_another_patch(
        failing_in_test: Cli, damaged_baseline: str) -> None:
    rg = failing_in_test
    # The act is recorded; its board row goes without a verdict, which status (a read
    # that needs the baseline) then stops on, naming the damaged file.
    must(rg, "signoff", OTHER, "--env", "prod", "--role", "business", person="dave")
    row = json.loads(git(rg.root, "show", f"HEAD:{path_of(OTHER, 'core-banking')}"))
    assert row["gate"] is None
    status = rg("status")
    assert status.exit_code == 2
    assert f"{damaged_baseline}: evidence damaged" in status.stderr
