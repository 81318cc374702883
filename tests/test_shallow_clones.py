"""CI jobs clone the ledger with `--depth 1`: gates there must see what a full clone
sees, and a promotion must record the ledger's true height."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import (
    PATCH,
    Cli,
    edit_pipeline,
    fingerprint,
    git,
    must,
    record_regression,
    sign_prod_gate,
    walk_to_prod,
    walk_to_test,
)

FIRST, SECOND = "CBS-2026-0010", "CBS-2026-0050"


def shallow_clone(source: Path, target: Path) -> Cli:
    git(target.parent, "clone", "-q", "--depth", "1", f"file://{source}", str(target))
    assert git(target, "rev-parse", "--is-shallow-repository").strip() == "true"
    return Cli(target)


def promoted_heights(root: Path) -> dict[str, int]:
    """Each promoted event's recorded ledger height, by path."""
    import yaml

    found = {}
    for path in git(root, "ls-tree", "-r", "--name-only", "HEAD", "patches/").split():
        if path.endswith("-promoted.yaml"):
            found[path] = int(yaml.safe_load(git(root, "show", f"HEAD:{path}"))["ledger_height"])
    return found


@pytest.fixture
def bare(rg: Cli, inputs: Path, tmp_path: Path) -> Path:
    """The shared ledger: two patches of one system shipped, FIRST then SECOND (so the
    newest baseline is not the first by path), and PATCH in test with its regression
    run recorded."""
    walk_to_prod(rg, inputs, FIRST, {"reg::t1": "passed", "reg::t2": "failed"},
                 waive=("reg::t2",))
    walk_to_prod(rg, inputs, SECOND, {"reg::t1": "passed", "reg::t2": "passed"})
    walk_to_test(rg, inputs, PATCH)
    record_regression(rg, inputs, PATCH, {"reg::t1": "passed", "reg::t2": "failed"})
    bare = tmp_path / "shared.git"
    git(tmp_path, "clone", "-q", "--bare", str(rg.root), str(bare))
    return bare


def diff_of(rg: Cli) -> Any:
    return json.loads(must(rg, "tests", "diff", PATCH, "--env", "test", "--format",
                           "json").stdout)


def test_a_shallow_clone_compares_with_the_same_baseline_as_a_full_clone(
        rg: Cli, bare: Path, tmp_path: Path) -> None:
    ci = shallow_clone(bare, tmp_path / "ci")

    shallow, full = diff_of(ci), diff_of(rg)

    assert shallow == full
    assert full["suites"][0]["baseline"]["patch"] == SECOND
    assert full["suites"][0]["new_failures"] == ["reg::t2"]
    verdict = ci("check", PATCH, "--to", "prod", "--format", "json")
    assert verdict.exit_code == 1
    assert verdict.stdout == rg("check", PATCH, "--to", "prod", "--format", "json").stdout


def test_every_commit_releasegate_makes_says_its_number(rg: Cli, bare: Path) -> None:
    log = git(rg.root, "log", "--first-parent", "--reverse", "--format=%B%x00")
    messages = [m.strip() for m in log.split("\x00") if m.strip()]
    assert [m.splitlines()[-1] for m in messages] == [
        f"Ledger-Height: {n}" for n in range(1, len(messages) + 1)]


def test_a_promotion_in_a_shallow_clone_records_the_true_height(
        bare: Path, inputs: Path, tmp_path: Path) -> None:
    ci = shallow_clone(bare, tmp_path / "ci")
    must(ci, "waive", PATCH, "--env", "prod", "--test", "reg::t2", "--reason",
         "known vendor defect", "--until", "2099-12-31", person="carol")
    sign_prod_gate(ci, inputs, PATCH)

    result = must(ci, "promote", PATCH, "--to", "prod")

    assert f"promoted {PATCH} to prod" in result.stdout
    count = int(git(bare, "rev-list", "--count", "--first-parent", "main"))
    heights = promoted_heights(bare)
    assert heights[max(p for p in heights if p.startswith(f"patches/{PATCH}/"))] == count
    assert all(h <= count for h in heights.values())


def test_a_shallow_clone_that_cannot_know_the_height_refuses_to_promote(
        rg: Cli, bare: Path, inputs: Path, tmp_path: Path) -> None:
    must(rg, "waive", PATCH, "--env", "prod", "--test", "reg::t2", "--reason",
         "known vendor defect", "--until", "2099-12-31", person="carol")
    sign_prod_gate(rg, inputs, PATCH)
    # A colleague's plain-git commit (no height line) is all a depth-1 clone holds.
    edit_pipeline(rg.root, lambda config: config.update(timezone="UTC"))
    git(rg.root, "push", "-q", str(bare), "main")
    ci = shallow_clone(bare, tmp_path / "ci")
    before = fingerprint(ci.root)

    refused = ci("promote", PATCH, "--to", "prod", person="alice")

    assert refused.exit_code == 2
    assert "history is cut short (a shallow clone)" in refused.stderr
    assert "git fetch --unshallow" in refused.stderr
    assert fingerprint(ci.root) == before
    git(ci.root, "fetch", "-q", "--unshallow")
    assert f"promoted {PATCH} to prod" in must(ci, "promote", PATCH, "--to", "prod").stdout
    heights = promoted_heights(bare)
    assert max(heights.values()) == int(git(bare, "rev-list", "--count", "main"))


def test_verify_reports_a_commit_whose_height_line_is_wrong(rg: Cli, bare: Path) -> None:
    assert rg("verify").exit_code == 0
    git(rg.root, "commit", "-q", "--allow-empty", "-m", "tidy up\n\nLedger-Height: 3")

    result = rg("verify")

    assert result.exit_code == 1
    count = git(rg.root, "rev-list", "--count", "HEAD").strip()
    assert f"says 'Ledger-Height: 3' but is commit {count} of the branch" in result.stdout


def test_a_height_line_written_by_hand_stops_a_promotion_but_not_other_acts(
        rg: Cli, bare: Path, inputs: Path) -> None:
    must(rg, "waive", PATCH, "--env", "prod", "--test", "reg::t2", "--reason",
         "known vendor defect", "--until", "2099-12-31", person="carol")
    sign_prod_gate(rg, inputs, PATCH)
    git(rg.root, "commit", "-q", "--allow-empty", "-m", "tidy up\n\nLedger-Height: 3")
    before = fingerprint(rg.root)

    refused = rg("promote", PATCH, "--to", "prod", person="alice")

    assert refused.exit_code == 2
    assert "says 'Ledger-Height: 3' but the line 1 commit(s) below it says" in refused.stderr
    assert fingerprint(rg.root) == before
    # Other acts are recorded, without a height line of their own.
    record_regression(rg, inputs, PATCH, {"reg::t3": "passed"}, suite="regression-extra")
    assert "Ledger-Height" not in git(rg.root, "log", "-1", "--format=%B")
    result = rg("verify")
    assert result.exit_code == 1 and "says 'Ledger-Height: 3'" in result.stdout
