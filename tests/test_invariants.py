"""The promises of docs/architecture.md, through the CLI on real ledgers.

Order, evidence bound to the artifact digest, four eyes, append-only and a per-patch
hash chain: each test walks a patch with the commands a release manager would type
and reads the verdict rows and the git repository the way an auditor would.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import PATCH, Cli, answers_file, fingerprint, git, junit_file

EVENTS = f"patches/{PATCH}/events"


def edit_config(root: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Change the pipeline and commit it: releasegate reads only committed config."""
    path = root / "releasegate.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(config)
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    git(root, "commit", "-q", "-am", "pipeline: adjust for the test")


def add_member(role: str, person: str) -> Callable[[dict[str, Any]], None]:
    def change(config: dict[str, Any]) -> None:
        config["roles"][role].append(person)

    return change


def set_rule(rule: str, value: bool) -> Callable[[dict[str, Any]], None]:
    def change(config: dict[str, Any]) -> None:
        config["rules"][rule] = value

    return change


def ok(rg: Cli, *args: str, person: str = "alice") -> None:
    result = rg(*args, person=person)
    assert result.exit_code == 0, result.output


def rows(rg: Cli, to: str) -> dict[tuple[str, str], dict[str, str]]:
    """The verdict rows of `check --to` by (kind, name)."""
    result = rg("check", PATCH, "--to", to, "--format", "json", person="alice")
    assert result.exit_code in (0, 1), result.output
    return {(c["kind"], c["name"]): c for c in json.loads(result.stdout)["conditions"]}


def env_of(rg: Cli) -> str | None:
    env: str | None = rg.json("patch", "show", PATCH, person="alice")["env"]
    return env


def fill(rg: Cli, inputs: Path, template: str, env: str, person: str) -> None:
    ok(rg, "checklist", "fill", PATCH, template, "--env", env, "--answers",
       str(answers_file(inputs, template)), person=person)


def sign(rg: Cli, role: str, person: str, env: str = "prod", *extra: str) -> None:
    ok(rg, "signoff", PATCH, "--env", env, "--role", role, *extra, person=person)


def record_regression(rg: Cli, inputs: Path, passed: int = 20) -> None:
    ok(rg, "tests", "record", PATCH, "--env", "test",
       str(junit_file(inputs, "regression", passed)), person="carol")


PROD_SIGNERS = (("test-lead", "carol"), ("app-owner", "bob"), ("business", "dave"),
                ("change-manager", "erin"))


def ready_for_prod(rg: Cli, inputs: Path) -> None:
    """From `in_test`: every piece of evidence and every sign-off the prod gate asks for."""
    record_regression(rg, inputs)
    fill(rg, inputs, "test-review", "prod", "carol")
    fill(rg, inputs, "change-readiness", "prod", "erin")
    for role, person in PROD_SIGNERS:
        sign(rg, role, person)


def event_files(root: Path) -> list[tuple[str, bytes]]:
    """The committed event files of the patch, in sequence order, with their bytes."""
    listing = git(root, "ls-tree", "--name-only", "HEAD", f"{EVENTS}/").split()
    names = sorted(listing, key=lambda p: int(p.rsplit("/", 1)[1].split("-", 1)[0]))
    return [(name, git_bytes(root, f"HEAD:{name}")) for name in names]


def git_bytes(root: Path, spec: str) -> bytes:
    return subprocess.run(["git", "-C", str(root), "show", spec], check=True,
                          capture_output=True).stdout


# --- 1. order ------------------------------------------------------------------------


def test_promote_from_no_environment_to_test_fails_on_order(submitted: Cli,
                                                            ledger_root: Path) -> None:
    before = fingerprint(ledger_root)
    result = submitted("promote", PATCH, "--to", "test", "--format", "json", person="alice")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["recorded"] is False and doc["open"] is False
    order = next(c for c in doc["conditions"] if c["kind"] == "order")
    assert order["status"] == "fail"
    assert order["detail"] == ("must come from dev; it is in no environment, and no "
                               "environment may be skipped")
    assert fingerprint(ledger_root) == before
    assert env_of(submitted) is None


def test_promote_from_dev_to_prod_fails_on_order(submitted: Cli, inputs: Path) -> None:
    fill(submitted, inputs, "intake", "dev", "alice")
    ok(submitted, "promote", PATCH)
    result = submitted("promote", PATCH, "--to", "prod", person="alice")
    assert result.exit_code == 1
    assert "must come from test; it is in dev, and no environment may be skipped" in result.stdout
    assert "not promoted: the prod gate is closed; nothing recorded" in result.stdout
    assert env_of(submitted) == "dev"


def test_a_patch_never_goes_back(in_test: Cli, ledger_root: Path) -> None:
    before = fingerprint(ledger_root)
    result = in_test("promote", PATCH, "--to", "dev", "--format", "json", person="alice")
    assert result.exit_code == 1
    order = rows(in_test, "dev")[("order", "order")]
    assert order == {"kind": "order", "name": "order", "status": "fail",
                     "detail": "already past dev (in test); patches never go back"}
    assert json.loads(result.stdout)["recorded"] is False
    assert fingerprint(ledger_root) == before
    assert env_of(in_test) == "test"


# --- 2. what was tested is what ships --------------------------------------------------


def test_revision_voids_earlier_evidence_and_starts_over(in_test: Cli, inputs: Path,
                                                         ledger_root: Path) -> None:
    rg = in_test
    old_digest = rg.json("patch", "show", PATCH, person="alice")["digest"]
    assert all(r["status"] == "pass" for r in rows(rg, "test").values() if r["kind"] != "order")
    (inputs / "patch-v2.tar").write_bytes(b"payload-2\n")
    ok(rg, "patch", "revise", PATCH, "--artifact", str(inputs / "patch-v2.tar"))

    shown = rg.json("patch", "show", PATCH, person="alice")
    assert shown["env"] is None and shown["entered"] == {}
    assert shown["digest"] != old_digest
    test_gate = rows(rg, "test")
    assert test_gate[("checklists", "dev-review")]["detail"].startswith(
        "not filled for this digest")
    assert test_gate[("tests", "dev: smoke*")]["detail"].startswith(
        "no results recorded in dev for this digest")
    assert test_gate[("signoffs", "app-owner")]["detail"] == (
        "needs 1 approval from role app-owner; has 0")
    assert test_gate[("order", "order")]["status"] == "fail"

    # Results from dev cannot be recorded until the new delivery is in dev again.
    refused = rg("tests", "record", PATCH, "--env", "dev",
                 str(junit_file(inputs, "smoke", 5)), person="alice")
    assert refused.exit_code == 2
    assert "has not entered dev with its current digest" in refused.stderr

    # Re-entering dev needs the intake checklist again, for the new digest.
    intake = rows(rg, "dev")[("checklists", "intake")]
    assert intake["status"] == "fail"
    assert intake["detail"].startswith("not filled for this digest")
    assert rg("promote", PATCH, person="alice").exit_code == 1
    fill(rg, inputs, "intake", "dev", "alice")
    ok(rg, "promote", PATCH)
    assert env_of(rg) == "dev"
    assert rows(rg, "test")[("tests", "dev: smoke*")]["status"] == "fail"
    assert git(ledger_root, "status", "--porcelain") == ""


# --- 3. four eyes ----------------------------------------------------------------------


def test_the_submitter_cannot_sign_off_even_holding_the_role(submitted: Cli,
                                                             ledger_root: Path) -> None:
    edit_config(ledger_root, add_member("app-owner", "alice"))
    before = fingerprint(ledger_root)
    result = submitted("signoff", PATCH, "--env", "test", "--role", "app-owner",
                       "--format", "json", person="alice")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "four-eyes"
    assert error["message"] == f"alice submitted {PATCH} and may not sign it off (four eyes)"
    assert fingerprint(ledger_root) == before

    edit_config(ledger_root, set_rule("four_eyes", False))
    sign(submitted, "app-owner", "alice", "test")
    assert rows(submitted, "test")[("signoffs", "app-owner")] == {
        "kind": "signoffs", "name": "app-owner", "status": "pass", "detail": "approved by alice"}


def test_whoever_delivered_the_current_artifacts_cannot_sign_them_off(
        submitted: Cli, inputs: Path, ledger_root: Path) -> None:
    # bob brings in new bytes with `patch revise`: approving them himself would leave
    # the new delivery seen by one pair of eyes only.
    (inputs / "patch-v2.tar").write_bytes(b"payload-2\n")
    ok(submitted, "patch", "revise", PATCH, "--artifact", str(inputs / "patch-v2.tar"),
       person="bob")
    before = fingerprint(ledger_root)
    result = submitted("signoff", PATCH, "--env", "test", "--role", "app-owner",
                       "--format", "json", person="bob")
    assert result.exit_code == 2, result.output
    assert json.loads(result.stdout)["error"]["code"] == "four-eyes"
    assert fingerprint(ledger_root) == before


def test_one_person_signs_a_gate_in_one_role(submitted: Cli, ledger_root: Path) -> None:
    edit_config(ledger_root, add_member("business", "bob"))
    sign(submitted, "app-owner", "bob")
    before = fingerprint(ledger_root)
    result = submitted("signoff", PATCH, "--env", "prod", "--role", "business",
                       "--format", "json", person="bob")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "one-role-per-person"
    assert "bob already signed the prod gate as 'app-owner'" in error["message"]
    assert fingerprint(ledger_root) == before
    # The same person may sign another gate in another role.
    sign(submitted, "app-owner", "bob", "test")


def test_the_gate_counts_one_person_for_one_role_after_a_rule_change(
        submitted: Cli, ledger_root: Path) -> None:
    edit_config(ledger_root, add_member("business", "bob"))
    edit_config(ledger_root, set_rule("one_role_per_person", False))
    sign(submitted, "app-owner", "bob")
    sign(submitted, "business", "bob")
    prod = rows(submitted, "prod")
    assert prod[("signoffs", "business")]["status"] == "pass"

    edit_config(ledger_root, set_rule("one_role_per_person", True))
    prod = rows(submitted, "prod")
    assert prod[("signoffs", "app-owner")]["detail"] == "approved by bob"
    assert prod[("signoffs", "business")] == {
        "kind": "signoffs", "name": "business", "status": "fail",
        "detail": "needs 1 approval from role business; has 0; not counted: "
                  "bob already counts as app-owner"}
    sign(submitted, "business", "dave")
    assert rows(submitted, "prod")[("signoffs", "business")]["detail"] == "approved by dave"


@pytest.mark.parametrize("newer", ["regression results", "test-review checklist"])
def test_a_signoff_before_newer_evidence_is_stale(in_test: Cli, inputs: Path,
                                                  newer: str) -> None:
    rg = in_test
    ready_for_prod(rg, inputs)
    assert rg("check", PATCH, person="alice").exit_code == 0
    if newer == "regression results":
        record_regression(rg, inputs, passed=21)
    else:
        fill(rg, inputs, "test-review", "prod", "carol")

    prod = rows(rg, "prod")
    for role, person in PROD_SIGNERS:
        row = prod[("signoffs", role)]
        assert row["status"] == "fail", row
        assert f"{person} signed before newer evidence" in row["detail"]
        assert row["detail"].endswith("; stale")
    assert rg("promote", PATCH, person="alice").exit_code == 1

    for role, person in PROD_SIGNERS:
        sign(rg, role, person)
    assert all(r["status"] == "pass" for r in rows(rg, "prod").values())
    ok(rg, "promote", PATCH)
    assert env_of(rg) == "prod"


def test_without_the_stale_rule_earlier_signoffs_count(in_test: Cli, inputs: Path,
                                                       ledger_root: Path) -> None:
    ready_for_prod(in_test, inputs)
    record_regression(in_test, inputs, passed=21)
    assert in_test("check", PATCH, person="alice").exit_code == 1
    edit_config(ledger_root, set_rule("stale_signoffs", False))
    assert in_test("check", PATCH, person="alice").exit_code == 0


def test_evidence_for_another_gate_does_not_make_signoffs_stale(in_test: Cli,
                                                                inputs: Path) -> None:
    ready_for_prod(in_test, inputs)
    ok(in_test, "tests", "record", PATCH, "--env", "dev",
       str(junit_file(inputs, "smoke", 6)))
    assert in_test("check", PATCH, person="alice").exit_code == 0


def test_a_rejection_blocks_until_the_same_person_approves(submitted: Cli,
                                                           ledger_root: Path) -> None:
    edit_config(ledger_root, add_member("app-owner", "erin"))
    sign(submitted, "app-owner", "bob", "test", "--reject", "--comment", "no rollback plan")
    blocked = {"kind": "signoffs", "name": "app-owner", "status": "fail",
               "detail": "rejected by bob (no rollback plan); blocks until the same person "
                         "approves"}
    assert rows(submitted, "test")[("signoffs", "app-owner")] == blocked
    sign(submitted, "app-owner", "erin", "test")
    assert rows(submitted, "test")[("signoffs", "app-owner")] == blocked
    sign(submitted, "app-owner", "bob", "test")
    assert rows(submitted, "test")[("signoffs", "app-owner")]["status"] == "pass"


# --- 4. append-only and verifiable -------------------------------------------------------


def test_every_event_names_the_hash_of_the_previous_event_file(in_test: Cli,
                                                               ledger_root: Path) -> None:
    files = event_files(ledger_root)
    assert [name.rsplit("/", 1)[1] for name, _ in files[:3]] == [
        "0001-submitted.yaml", "0002-checklist.yaml", "0003-promoted.yaml"]
    assert len(files) == 7
    previous: bytes | None = None
    for seq, (name, raw) in enumerate(files, start=1):
        event = yaml.safe_load(raw)
        assert event["seq"] == seq and event["patch"] == PATCH, name
        expected = hashlib.sha256(previous).hexdigest() if previous is not None else None
        assert event["prev"] == expected, name
        previous = raw


@pytest.mark.parametrize("tamper", ["edit", "delete"])
def test_a_tampered_event_breaks_the_chain(in_test: Cli, ledger_root: Path,
                                           tamper: str) -> None:
    victim = ledger_root / EVENTS / "0004-tests.yaml"
    if tamper == "edit":
        text = victim.read_text(encoding="utf-8")
        edited = text.replace("passed: 5", "passed: 6")
        assert edited != text
        victim.write_text(edited, encoding="utf-8")
        git(ledger_root, "commit", "-q", "-am", "fix a typo")
    else:
        git(ledger_root, "rm", "-q", str(victim))
        git(ledger_root, "commit", "-q", "-m", "drop an event")
    assert git(ledger_root, "status", "--porcelain") == ""

    result = in_test("check", PATCH, "--format", "json", person="alice")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "ledger-corrupt"
    assert "hash chain is broken" in error["message"]
    assert error["file"] == f"{EVENTS}/0005-checklist.yaml"
    plain = in_test("check", PATCH, person="alice")
    assert plain.exit_code == 2
    assert "hash chain is broken" in plain.stderr


def test_the_ledger_only_ever_grows(in_test: Cli, inputs: Path, ledger_root: Path) -> None:
    ready_for_prod(in_test, inputs)
    ok(in_test, "promote", PATCH)
    assert env_of(in_test) == "prod"

    log = git(ledger_root, "log", "--format=>%H %P", "--name-status", "--no-renames")
    commits = [block.strip().splitlines() for block in log.split(">")[1:]]
    assert len(commits) == 1 + 1 + 6 + 1 + 2 + 4 + 1  # init, submit, in_test, prod walk
    for header, *_ in commits[:-1]:
        assert len(header.split()) == 2, f"commit {header} does not have exactly one parent"
    root_header = commits[-1][0]
    assert len(root_header.split()) == 1
    for header, *changes in commits:
        # Records are only ever added; the one file a write replaces is its patch's
        # board row, which is derived from them (and never read by a gate).
        statuses = {line.split("\t")[0] for line in changes
                    if line and not line.startswith("M\tboard/")}
        assert statuses == {"A"}, (header, changes)
        assert all(line.endswith(".json") for line in changes if line.startswith("M"))
    assert git(ledger_root, "status", "--porcelain") == ""
