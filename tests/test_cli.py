"""The command line as a release manager and a CI job meet it: every command and flag,
its exit status, and what it prints or records (checklists: test_cli_checklists.py)."""

from __future__ import annotations

import hashlib
import importlib
import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import jsonschema
import pytest
import yaml
from click.testing import CliRunner, Result

from releasegate.cli.main import cli
from tests.helpers import (
    PATCH,
    Cli,
    answers_file,
    fingerprint,
    git,
    junit_file,
    write_manifest,
)

COUNT_KEYS = {"tests", "passed", "flaky", "failed", "errors", "skipped"}


def invoke(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
    """`releasegate ARGS...` with no --ledger and no --as added."""
    return CliRunner().invoke(cli, list(args), env=env, input=input, catch_exceptions=False)


def commits(root: Path) -> list[str]:
    return git(root, "log", "--format=%s").splitlines()


def refused(rg: Cli, *args: str, person: str | None = "alice") -> Result:
    """Run an act that must be refused: exit 2 and the ledger exactly as it was."""
    before = fingerprint(rg.root)
    result = rg(*args, person=person)
    assert result.exit_code == 2, result.output
    assert fingerprint(rg.root) == before
    return result


def ok(rg: Cli, *args: str, person: str | None = "alice") -> Result:
    result = rg(*args, person=person)
    assert result.exit_code == 0, result.output
    return result


def listing_digest(files: list[Path]) -> str:
    """The patch digest recomputed as `sha256sum` would list the artifacts."""
    lines = sorted((f.name, hashlib.sha256(f.read_bytes()).hexdigest()) for f in files)
    listing = "".join(f"{sha}  {name}\n" for name, sha in lines)
    return "sha256:" + hashlib.sha256(listing.encode()).hexdigest()


def rows(verdict: dict[str, Any]) -> dict[tuple[str, str], dict[str, str]]:
    return {(c["kind"], c["name"]): c for c in verdict["conditions"]}


@pytest.fixture
def in_prod(in_test: Cli, inputs: Path) -> Cli:
    """CBS-2026-0042 walked all the way into prod."""
    rg = in_test
    ok(rg, "tests", "record", PATCH, "--env", "test",
       str(junit_file(inputs, "regression", 5)))
    ok(rg, "checklist", "fill", PATCH, "test-review", "--env", "prod", "--answers",
       str(answers_file(inputs, "test-review")), person="carol")
    ok(rg, "checklist", "fill", PATCH, "change-readiness", "--env", "prod", "--answers",
       str(answers_file(inputs, "change-readiness")), person="erin")
    for person, role in (("carol", "test-lead"), ("bob", "app-owner"), ("dave", "business"),
                         ("erin", "change-manager")):
        ok(rg, "signoff", PATCH, "--env", "prod", "--role", role, person=person)
    ok(rg, "promote", PATCH)
    return rg


# --- init ----------------------------------------------------------------------------


def test_init_makes_a_committed_ledger_without_people_and_says_what_next(
        tmp_path: Path) -> None:
    target = tmp_path / "ledger"
    result = invoke("init", str(target))
    assert result.exit_code == 0, result.output
    assert f"new ledger in {target}" in result.stdout
    for name in ("releasegate.yaml", "checklists/intake.yaml", "checklists/dev-review.yaml",
                 "checklists/test-review.yaml", "checklists/change-readiness.yaml"):
        assert f"  {name}\n" in result.stdout
        assert (target / name).is_file()
    assert "next: add people and roles to releasegate.yaml" in result.stdout
    assert commits(target) == ["releasegate ledger: default pipeline and checklists"]
    assert git(target, "status", "--porcelain", "--untracked-files=all") == ""
    assert sorted(git(target, "ls-files").split()) == [
        "checklists/change-readiness.yaml", "checklists/dev-review.yaml",
        "checklists/intake.yaml", "checklists/test-review.yaml", "releasegate.yaml"]
    config = yaml.safe_load((target / "releasegate.yaml").read_text())
    assert config["people"] == {}
    assert config["timezone"] == "UTC"
    assert [e["name"] for e in config["environments"]] == ["dev", "test", "prod"]


def test_init_example_adds_the_five_people_and_their_roles(tmp_path: Path) -> None:
    target = tmp_path / "ledger"
    result = invoke("init", str(target), "--example", "--timezone", "Asia/Shanghai")
    assert result.exit_code == 0, result.output
    assert f"next: releasegate --ledger {target} --as alice patch submit MANIFEST" in \
        result.stdout
    config = yaml.safe_load((target / "releasegate.yaml").read_text())
    assert sorted(config["people"]) == ["alice", "bob", "carol", "dave", "erin"]
    assert config["roles"]["app-owner"] == ["bob"]
    assert config["timezone"] == "Asia/Shanghai"
    assert git(target, "status", "--porcelain") == ""
    listed = json.loads(invoke("--ledger", str(target), "patch", "list", "--format",
                               "json").stdout)
    assert listed == []


def test_init_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("mine\n")
    result = invoke("init", str(target))
    assert result.exit_code == 2
    assert "is not empty (notes.txt" in result.stderr
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]


def test_init_refuses_an_existing_ledger_and_leaves_it_alone(ledger_root: Path) -> None:
    before = fingerprint(ledger_root)
    result = invoke("init", str(ledger_root))
    assert result.exit_code == 2
    assert "is already a releasegate ledger" in result.stderr
    assert fingerprint(ledger_root) == before


def test_init_refuses_an_unknown_timezone_and_leaves_no_ledger(tmp_path: Path) -> None:
    target = tmp_path / "ledger"
    result = invoke("init", str(target), "--timezone", "Bad/Zone")
    assert result.exit_code == 2
    assert "unknown time zone 'Bad/Zone'" in result.stderr
    # Nothing half-made: no ledger that a corrected rerun would trip over.
    assert not (target / "releasegate.yaml").exists()
    assert not (target / ".git").exists()
    retry = invoke("init", str(target), "--timezone", "Asia/Shanghai")
    assert retry.exit_code == 0, retry.output


# --- demo ----------------------------------------------------------------------------


def test_demo_walks_the_patch_to_prod_and_force_replaces_it(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    result = invoke("demo", str(target))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "CBS-2026-0042: gate test -> prod is CLOSED" in out
    assert re.search(r"FAIL\s+tests\s+test: regression\*\s+1 failed or errored, more than "
                     r"the 0 allowed; 1 new failure: "
                     r"cbs.regression-core::test_regression_core_047", out)
    assert "1 known failure allowed: cbs.regression-core::test_regression_core_150" in out
    assert "baseline: CBS-2026-0031 (promoted out of test at" in out
    assert "new failures 1, still failing 1, fixed 0, missing 0, new tests 0, flaky 0" in out
    assert out.index("is CLOSED") < out.index("gate open: CBS-2026-0042 promoted to prod")
    ledger = target / "ledger"
    shown = json.loads(invoke("--ledger", str(ledger), "patch", "show", PATCH,
                              "--format", "json").stdout)
    assert shown["env"] == "prod"
    assert list(shown["entered"]) == ["dev", "test", "prod"]
    assert shown["next"] is None
    first_head = git(ledger, "rev-parse", "HEAD")
    first_commits = len(commits(ledger))
    (target / "left-over.txt").write_text("from the first run\n")

    again = invoke("demo", str(target), "--force")
    assert again.exit_code == 0, again.output
    assert not (target / "left-over.txt").exists()
    assert git(ledger, "rev-parse", "HEAD") != first_head
    assert len(commits(ledger)) == first_commits  # a new ledger, not the old one grown
    shown = json.loads(invoke("--ledger", str(ledger), "patch", "show", PATCH,
                              "--format", "json").stdout)
    assert shown["env"] == "prod"


def test_demo_refuses_a_folder_that_is_not_empty_without_force(tmp_path: Path) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("mine\n")
    result = invoke("demo", str(target))
    assert result.exit_code == 2
    assert "is not empty" in result.stderr and "--force" in result.stderr
    assert [p.name for p in target.iterdir()] == ["notes.txt"]


def test_demo_force_refuses_a_folder_that_holds_no_earlier_demo(tmp_path: Path) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("mine\n")
    result = invoke("demo", str(target), "--force")
    assert result.exit_code == 2
    assert "holds no earlier demo" in result.stderr
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    assert (target / "notes.txt").read_text() == "mine\n"


# --- schema --------------------------------------------------------------------------

PIPELINE = {
    "version": 1,
    "timezone": "Asia/Shanghai",
    "environments": [
        {"name": "dev", "gate": {"checklists": ["intake"]}},
        {"name": "test", "gate": {"checklists": ["dev-review"],
                                  "tests": [{"env": "dev", "suites": ["smoke*"],
                                             "max_failures": 0}],
                                  "signoffs": [{"role": "app-owner"}]}},
        {"name": "prod", "gate": {
            "checklists": ["test-review", "change-readiness"],
            "tests": [{"env": "test", "suites": ["regression*"], "min_tests": 1,
                       "max_failures": 0, "max_skipped_ratio": 0.05}],
            "signoffs": [{"role": "test-lead"}, {"role": "app-owner"}]}},
    ],
    "people": {"alice": {"name": "Alice Wang", "email": "alice@bank.example"}},
    "roles": {"release-manager": ["alice"]},
    "rules": {"four_eyes": True, "one_role_per_person": True, "stale_signoffs": True},
}
MANIFEST = {"id": PATCH, "system": "core-banking", "vendor": "Acme FinSoft",
            "title": {"en": "Fix interest accrual", "zh-CN": "修复利息计提"},
            "artifacts": ["patch.tar"], "depends_on": ["CBS-2026-0041"]}
CHECKLIST = {"id": "intake", "title": {"en": "Patch intake"}, "roles": ["release-manager"],
             "items": [{"id": "risk", "type": "choice", "choices": ["low", "high"],
                        "text": "Initial risk"},
                       {"id": "ticket", "type": "url", "required": False,
                        "text": {"en": "Ticket"}}]}


@pytest.mark.parametrize(("name", "good", "bad"), [
    ("pipeline", PIPELINE, {**PIPELINE, "version": 2}),
    ("manifest", MANIFEST, {**MANIFEST, "colour": "red"}),
    ("checklist", CHECKLIST, {**CHECKLIST, "roles": []}),
])
def test_schema_prints_a_json_schema_that_accepts_good_data_and_refuses_bad(
        name: str, good: dict[str, Any], bad: dict[str, Any]) -> None:
    result = invoke("schema", name)
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert list(validator.iter_errors(good)) == []
    assert list(validator.iter_errors(bad)) != []


def test_schema_refuses_an_unknown_name() -> None:
    result = invoke("schema", "pipelin")
    assert result.exit_code == 2
    assert "pipelin" in result.stderr


# --- patch submit --------------------------------------------------------------------


def test_patch_submit_records_the_patch_and_prints_its_digest(rg: Cli, inputs: Path,
                                                              ledger_root: Path) -> None:
    manifest = write_manifest(inputs, content=b"payload-1\n")
    result = ok(rg, "patch", "submit", str(manifest))
    digest = listing_digest([inputs / "patch.tar"])
    assert f"submitted {PATCH}  {digest}" in result.stdout
    sha = hashlib.sha256(b"payload-1\n").hexdigest()
    assert re.search(rf"patch\.tar\s+10 bytes\s+{sha}", result.stdout)
    assert commits(ledger_root)[0] == f"{PATCH}: submitted by alice"
    assert (ledger_root / "patches" / PATCH / "patch.yaml").read_bytes() == \
        manifest.read_bytes()
    assert git(ledger_root, "status", "--porcelain") == ""


def test_patch_submit_json_lists_artifacts_and_the_sha256sum_digest(
        rg: Cli, inputs: Path) -> None:
    manifest = write_manifest(inputs, content=b"payload-1\n")
    extra = inputs / "install-notes.txt"
    extra.write_bytes(b"stop batch, install, restart\n")
    doc = rg.json("patch", "submit", str(manifest), "--artifact", str(extra), person="alice")
    files = [inputs / "patch.tar", extra]
    assert doc["patch"] == PATCH
    assert doc["recorded"] is True
    assert doc["digest"] == listing_digest(files)
    assert doc["artifacts"] == [
        {"name": f.name, "size": f.stat().st_size,
         "sha256": hashlib.sha256(f.read_bytes()).hexdigest()}
        for f in sorted(files, key=lambda f: f.name)]


def test_patch_submit_again_with_the_same_manifest_records_nothing(
        submitted: Cli, inputs: Path, ledger_root: Path) -> None:
    before = fingerprint(ledger_root)
    result = ok(submitted, "patch", "submit", str(inputs / f"{PATCH}.yaml"))
    assert "nothing new recorded" in result.stdout
    assert fingerprint(ledger_root) == before


def test_patch_submit_refuses_the_same_id_in_another_case(submitted: Cli,
                                                          inputs: Path) -> None:
    other = write_manifest(inputs / "lower", PATCH.lower())
    result = refused(submitted, "patch", "submit", str(other))
    assert "ids are unique regardless of case" in result.stderr
    assert f"patch revise {PATCH}" in result.stderr


def test_patch_submit_refuses_the_same_id_with_other_artifacts(submitted: Cli,
                                                               inputs: Path) -> None:
    other = write_manifest(inputs / "second-drop", content=b"payload-2\n")
    result = refused(submitted, "patch", "submit", str(other))
    assert f"patch {PATCH} already exists with other artifacts" in result.stderr


def test_patch_submit_refuses_a_missing_artifact(rg: Cli, inputs: Path) -> None:
    manifest = write_manifest(inputs)
    (inputs / "patch.tar").unlink()
    result = refused(rg, "patch", "submit", str(manifest))
    assert "patch.tar does not exist" in result.stderr
    assert rg.json("patch", "list") == []


def test_patch_submit_refuses_two_artifacts_with_the_same_name(rg: Cli, inputs: Path) -> None:
    manifest = write_manifest(inputs)
    twin = inputs / "elsewhere" / "patch.tar"
    twin.parent.mkdir()
    twin.write_bytes(b"other bytes\n")
    result = refused(rg, "patch", "submit", str(manifest), "--artifact", str(twin))
    assert "two artifacts are named patch.tar" in result.stderr


# --- patch revise --------------------------------------------------------------------


def test_patch_revise_starts_the_patch_over_with_a_new_digest(in_test: Cli, inputs: Path,
                                                              ledger_root: Path) -> None:
    old = in_test.json("patch", "show", PATCH)
    drop = inputs / "redelivery"
    drop.mkdir()
    (drop / "patch.tar").write_bytes(b"payload-2\n")
    result = ok(in_test, "patch", "revise", PATCH, "--artifact", str(drop / "patch.tar"))
    digest = listing_digest([drop / "patch.tar"])
    assert f"revised {PATCH}  {digest}" in result.stdout
    assert "starts over" in result.stdout
    new = in_test.json("patch", "show", PATCH)
    assert old["env"] == "test" and new["env"] is None
    assert new["digest"] == digest != old["digest"]
    assert new["entered"] == {} and new["evidence"] == {"gates": {}, "tests": {}}
    verdict = rows(new["next"])
    assert new["next"]["to"] == "dev"
    assert verdict[("checklists", "intake")]["status"] == "fail"
    assert "not filled for this digest" in verdict[("checklists", "intake")]["detail"]
    test_gate = rows(in_test.json("check", PATCH, "--to", "test"))
    assert test_gate[("signoffs", "app-owner")]["status"] == "fail"
    assert test_gate[("tests", "dev: smoke*")]["status"] == "fail"

    before = fingerprint(ledger_root)
    again = ok(in_test, "patch", "revise", PATCH, "--artifact", str(drop / "patch.tar"))
    assert "already has these artifacts; nothing new recorded" in again.stdout
    assert fingerprint(ledger_root) == before


def test_patch_revise_needs_an_artifact(submitted: Cli) -> None:
    result = refused(submitted, "patch", "revise", PATCH)
    assert "--artifact" in result.stderr


# --- patch list, show, log -----------------------------------------------------------


def test_patch_list_shows_each_patch_with_its_environment(in_test: Cli, inputs: Path) -> None:
    ok(in_test, "patch", "submit", str(write_manifest(inputs / "p2", "CBS-2026-0050",
                                                      system="payments")))
    text = ok(in_test, "patch", "list").stdout.splitlines()
    assert re.match(r"ID\s+ENV\s+SYSTEM\s+TITLE", text[0])
    assert re.match(rf"{PATCH}\s+test\s+core-banking\s+Fix interest accrual", text[1])
    assert re.match(r"CBS-2026-0050\s+-\s+payments\s+Fix interest accrual", text[2])
    listed = in_test.json("patch", "list")
    assert [(p["id"], p["env"], p["system"], p["submitter"]) for p in listed] == [
        (PATCH, "test", "core-banking", "alice"),
        ("CBS-2026-0050", None, "payments", "alice")]


def test_patch_list_on_an_empty_ledger_says_how_to_start(rg: Cli) -> None:
    result = ok(rg, "patch", "list")
    assert "no patches yet" in result.stdout and "patch submit" in result.stdout


def test_patch_show_gives_state_digest_and_next_verdict(submitted: Cli) -> None:
    doc = submitted.json("patch", "show", PATCH)
    assert doc["id"] == PATCH
    assert doc["env"] is None
    assert doc["digest"].startswith("sha256:")
    assert doc["next"]["to"] == "dev" and doc["next"]["open"] is False
    assert rows(doc["next"])[("checklists", "intake")]["status"] == "fail"
    text = ok(submitted, "patch", "show", PATCH).stdout
    assert "in no environment yet" in text
    assert f"digest {doc['digest']}" in text
    assert "gate (none) -> dev is CLOSED" in text


def test_patch_show_after_promotions_lists_the_evidence(in_test: Cli) -> None:
    doc = in_test.json("patch", "show", PATCH)
    assert doc["env"] == "test"
    assert list(doc["entered"]) == ["dev", "test"]
    assert doc["evidence"]["gates"]["test"]["signoffs"][0]["by"] == "bob"
    assert doc["evidence"]["tests"]["dev"][0]["suite"] == "smoke"
    assert doc["next"]["to"] == "prod"
    text = ok(in_test, "patch", "show", PATCH).stdout
    assert "approved for test as app-owner by bob" in text
    assert "tests smoke in dev: 5 tests, 0 failed" in text


def test_patch_ids_are_found_whatever_their_case(submitted: Cli) -> None:
    doc = submitted.json("patch", "show", PATCH.lower())
    assert doc["id"] == PATCH
    log = submitted.json("patch", "log", "Cbs-2026-0042")
    assert log[0]["type"] == "submitted"


def test_an_unknown_patch_id_is_refused_with_a_suggestion(submitted: Cli) -> None:
    for command in (("patch", "show"), ("patch", "log"), ("check",), ("promote",)):
        result = refused(submitted, *command, "CBS-2026-0024")
        assert "unknown patch 'CBS-2026-0024'" in result.stderr
        assert "did you mean 'CBS-2026-0042'?" in result.stderr


def test_patch_log_tells_who_did_what_in_order(in_test: Cli) -> None:
    lines = ok(in_test, "patch", "log", PATCH).stdout.splitlines()
    expected = [("alice", "submitted (Acme FinSoft, core-banking)"),
                ("alice", "filled checklist intake for dev"),
                ("alice", "promoted from (none) to dev"),
                ("alice", "recorded tests smoke in dev: 5 tests, 0 failed, 0 errors"),
                ("bob", "filled checklist dev-review for test"),
                ("bob", "approved for test as app-owner"),
                ("alice", "promoted from dev to test")]
    assert len(lines) == len(expected)
    for seq, (line, (actor, what)) in enumerate(zip(lines, expected, strict=True), 1):
        assert re.fullmatch(rf"\s*{seq}\s+\S+Z\s+{actor}\s+{re.escape(what)}", line), line


def test_patch_log_json_is_a_hash_chain_over_the_event_files(in_test: Cli,
                                                            ledger_root: Path) -> None:
    events = in_test.json("patch", "log", PATCH)
    assert [e["seq"] for e in events] == list(range(1, 8))
    assert [e["type"] for e in events] == ["submitted", "checklist", "promoted", "tests",
                                           "checklist", "signoff", "promoted"]
    assert [e["actor"] for e in events] == ["alice", "alice", "alice", "alice", "bob", "bob",
                                            "alice"]
    assert events[0]["prev"] is None
    for previous, event in itertools.pairwise(events):
        assert event["prev"] == previous["sha256"]
    for event in events:
        committed = subprocess.run(["git", "-C", str(ledger_root), "show",
                                    f"HEAD:{event['file']}"], capture_output=True,
                                   check=True).stdout
        assert hashlib.sha256(committed).hexdigest() == event["sha256"]


def test_patch_log_json_keeps_numbers_as_numbers(in_test: Cli) -> None:
    """The log's event data gives the same values, of the same JSON types, as the
    commands that recorded them (a CI job sums these counts)."""
    events = {e["type"]: e for e in in_test.json("patch", "log", PATCH)}
    shown = in_test.json("patch", "show", PATCH)
    assert events["submitted"]["data"]["artifacts"] == shown["artifacts"]
    assert events["tests"]["data"]["counts"] == {"tests": 5, "passed": 5, "flaky": 0,
                                                 "failed": 0, "errors": 0, "skipped": 0}
    assert isinstance(events["tests"]["data"]["files"][0]["size"], int)


# --- tests record --------------------------------------------------------------------


def test_tests_record_prints_the_counts(in_test: Cli, inputs: Path) -> None:
    path = junit_file(inputs, "regression-core", 6, failed=1, skipped=2, errors=1)
    result = ok(in_test, "tests", "record", PATCH, "--env", "test", str(path))
    assert result.stdout.strip() == (
        f"recorded regression-core for {PATCH} in test: 10 tests, 6 passed, 0 flaky, "
        "1 failed, 1 errors, 2 skipped")
    verdict = rows(in_test.json("check", PATCH, "--to", "prod"))
    row = verdict[("tests", "test: regression*")]
    assert row["status"] == "fail"
    assert "2 failed or errored, more than the 0 allowed" in row["detail"]


def test_tests_record_json_has_exactly_the_counts(in_test: Cli, inputs: Path) -> None:
    path = junit_file(inputs, "regression-core", 4, failed=1)
    doc = in_test.json("tests", "record", PATCH, "--env", "test", str(path), person="alice")
    digest = in_test.json("patch", "show", PATCH)["digest"]
    assert doc == {"patch": PATCH, "env": "test", "suite": "regression-core", "digest": digest,
                   "tests": 5, "passed": 4, "flaky": 0, "failed": 1, "errors": 0,
                   "skipped": 0}


def test_tests_record_merges_files_under_one_suite_name(in_test: Cli, inputs: Path) -> None:
    first = junit_file(inputs / "a", "part-a", 3)
    second = junit_file(inputs / "b", "part-b", 2, skipped=1)
    doc = in_test.json("tests", "record", PATCH, "--env", "test", str(first), str(second),
                       "--suite", "regression-all", person="alice")
    assert doc["suite"] == "regression-all"
    assert {k: doc[k] for k in COUNT_KEYS} == {"tests": 6, "passed": 5, "flaky": 0,
                                               "failed": 0, "errors": 0, "skipped": 1}
    event = in_test.json("patch", "log", PATCH)[-1]
    assert event["type"] == "tests"
    assert [f["name"] for f in event["data"]["files"]] == ["part-a.xml", "part-b.xml"]
    row = rows(in_test.json("check", PATCH, "--to", "prod"))[("tests", "test: regression*")]
    assert "in regression-all" in row["detail"]


def test_tests_record_refuses_an_environment_the_patch_has_not_entered(
        submitted: Cli, inputs: Path) -> None:
    path = junit_file(inputs, "smoke", 3)
    result = refused(submitted, "tests", "record", PATCH, "--env", "dev", str(path))
    assert f"{PATCH} has not entered dev" in result.stderr
    assert "promote it to dev first" in result.stderr


def test_tests_record_warns_when_nothing_ran_and_the_gate_then_fails(
        in_test: Cli, inputs: Path) -> None:
    empty = inputs / "regression-empty.xml"
    empty.write_text('<testsuite name="regression-empty"></testsuite>')
    result = ok(in_test, "tests", "record", PATCH, "--env", "test", str(empty))
    assert "recorded regression-empty" in result.stdout
    assert "warning: regression-empty: nothing executed" in result.stderr
    check = in_test("check", PATCH, "--to", "prod", "--format", "json")
    assert check.exit_code == 1
    row = rows(json.loads(check.stdout))[("tests", "test: regression*")]
    assert row["status"] == "fail" and "nothing executed" in row["detail"]


def test_tests_record_refuses_an_empty_file(in_test: Cli, inputs: Path) -> None:
    blank = inputs / "regression.xml"
    blank.write_text("")
    result = refused(in_test, "tests", "record", PATCH, "--env", "test", str(blank))
    assert "the file is empty, not JUnit XML" in result.stderr


# --- signoff -------------------------------------------------------------------------


def test_signoff_approves_and_the_gate_row_passes(in_test: Cli) -> None:
    result = ok(in_test, "signoff", PATCH, "--env", "prod", "--role", "business",
                person="dave")
    assert result.stdout.strip() == f"approved {PATCH} for prod as business"
    row = rows(in_test.json("check", PATCH, "--to", "prod"))[("signoffs", "business")]
    assert row == {"kind": "signoffs", "name": "business", "status": "pass",
                   "detail": "approved by dave"}


def test_a_rejection_blocks_until_the_same_person_approves(in_test: Cli,
                                                           ledger_root: Path) -> None:
    result = ok(in_test, "signoff", PATCH, "--env", "prod", "--role", "app-owner",
                "--reject", "--comment", "rollback untested", person="bob")
    assert result.stdout.strip() == f"rejected {PATCH} for prod as app-owner"
    row = rows(in_test.json("check", PATCH, "--to", "prod"))[("signoffs", "app-owner")]
    assert row["status"] == "fail"
    assert "rejected by bob (rollback untested)" in row["detail"]
    status = in_test.json("status")
    waiting = status["environments"][1]["patches"][0]["next"]["waiting_for"]
    assert any("rejected by bob (rollback untested)" in w for w in waiting)
    assert in_test.json("patch", "log", PATCH)[-1]["data"] == {
        "role": "app-owner", "decision": "reject", "comment": "rollback untested"}

    ok(in_test, "signoff", PATCH, "--env", "prod", "--role", "app-owner", person="bob")
    row = rows(in_test.json("check", PATCH, "--to", "prod"))[("signoffs", "app-owner")]
    assert row["status"] == "pass" and row["detail"] == "approved by bob"


def test_a_signoff_made_before_newer_evidence_is_stale(in_test: Cli, inputs: Path) -> None:
    ok(in_test, "signoff", PATCH, "--env", "prod", "--role", "business", person="dave")
    ok(in_test, "tests", "record", PATCH, "--env", "test",
       str(junit_file(inputs, "regression", 3)))
    row = rows(in_test.json("check", PATCH, "--to", "prod"))[("signoffs", "business")]
    assert row["status"] == "fail"
    assert "dave signed before newer evidence (0009-tests.yaml); stale" in row["detail"]


def test_signoff_refuses_a_role_the_person_does_not_hold(in_test: Cli) -> None:
    result = refused(in_test, "signoff", PATCH, "--env", "prod", "--role", "business",
                     person="carol")
    assert "carol does not hold role 'business'" in result.stderr
    assert "holders of business: dave" in result.stderr


def test_signoff_refuses_a_role_the_gate_does_not_ask_for(in_test: Cli) -> None:
    result = refused(in_test, "signoff", PATCH, "--env", "prod", "--role", "release-manager")
    assert "the prod gate asks for no sign-off from role 'release-manager'" in result.stderr
    result = refused(in_test, "signoff", PATCH, "--env", "prod", "--role", "buisness",
                     person="dave")
    assert "did you mean 'business'?" in result.stderr


def test_signoff_refuses_the_submitter_four_eyes(rg: Cli, inputs: Path) -> None:
    ok(rg, "patch", "submit", str(write_manifest(inputs)), person="bob")
    result = refused(rg, "signoff", PATCH, "--env", "test", "--role", "app-owner",
                     person="bob")
    assert f"bob submitted {PATCH} and may not sign it off (four eyes)" in result.stderr


# --- check ---------------------------------------------------------------------------


def test_check_text_shows_every_row_and_exits_1_when_closed(in_test: Cli) -> None:
    result = in_test("check", PATCH)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"{PATCH}: gate test -> prod is CLOSED"
    assert lines[1].startswith("digest sha256:")
    assert re.match(r"\s+PASS\s+order\s+order\s+in test, next in order is prod", lines[2])
    assert any(re.match(r"\s+FAIL\s+signoffs\s+business\s+needs 1 approval from role "
                        r"business; has 0", line) for line in lines)


def test_check_json_has_the_documented_shape(in_test: Cli) -> None:
    result = in_test("check", PATCH, "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert set(doc) == {"patch", "from", "to", "digest", "open", "conditions", "regressions",
                        "already_in", "failing_tests"}
    assert doc["regressions"] == []  # no condition of this gate compares with a baseline
    assert doc["already_in"] is None and doc["failing_tests"] == []
    assert (doc["patch"], doc["from"], doc["to"], doc["open"]) == (PATCH, "test", "prod",
                                                                   False)
    assert doc["digest"] == in_test.json("patch", "show", PATCH)["digest"]
    for condition in doc["conditions"]:
        assert set(condition) == {"kind", "name", "status", "detail"}
    assert [(c["kind"], c["name"]) for c in doc["conditions"]] == [
        ("order", "order"), ("depends", "depends"), ("checklists", "test-review"),
        ("checklists", "change-readiness"), ("tests", "test: regression*"),
        ("signoffs", "test-lead"), ("signoffs", "app-owner"), ("signoffs", "business"),
        ("signoffs", "change-manager")]
    assert rows(doc)[("signoffs", "business")] == {
        "kind": "signoffs", "name": "business", "status": "fail",
        "detail": "needs 1 approval from role business; has 0"}


def test_check_exits_0_when_the_gate_is_open(submitted: Cli, inputs: Path,
                                             ledger_root: Path) -> None:
    ok(submitted, "checklist", "fill", PATCH, "intake", "--env", "dev", "--answers",
       str(answers_file(inputs, "intake")))
    before = fingerprint(ledger_root)
    result = ok(submitted, "check", PATCH)
    assert result.stdout.startswith(f"{PATCH}: gate (none) -> dev is OPEN")
    doc = submitted.json("check", PATCH)
    assert doc["open"] is True and doc["to"] == "dev" and doc["from"] is None
    assert fingerprint(ledger_root) == before  # check records nothing


def test_check_default_target_is_the_next_environment(submitted: Cli) -> None:
    assert submitted.json("check", PATCH)["to"] == "dev"


def test_check_refuses_an_unknown_environment(in_test: Cli) -> None:
    result = refused(in_test, "check", PATCH, "--to", "prdo")
    assert "unknown environment 'prdo' (--to); the pipeline has: dev, test, prod" in \
        result.stderr
    assert "did you mean 'prod'?" in result.stderr


def test_check_never_opens_a_gate_that_skips_an_environment(submitted: Cli, inputs: Path,
                                                            ledger_root: Path) -> None:
    result = submitted("check", PATCH, "--to", "test", "--format", "json")
    assert result.exit_code == 1
    order = rows(json.loads(result.stdout))[("order", "order")]
    assert order["status"] == "fail"
    assert "no environment may be skipped" in order["detail"]
    before = fingerprint(ledger_root)
    promoted = submitted("promote", PATCH, "--to", "test", person="alice")
    assert promoted.exit_code == 1
    assert "not promoted: the test gate is closed; nothing recorded" in promoted.stdout
    assert fingerprint(ledger_root) == before


def test_check_in_the_last_environment_without_to_is_refused(in_prod: Cli) -> None:
    result = refused(in_prod, "check", PATCH)
    assert "in prod, the last environment; there is no next gate" in result.stderr
    assert in_prod.json("patch", "show", PATCH)["next"] is None


# --- promote -------------------------------------------------------------------------


def test_promote_on_a_closed_gate_records_nothing(submitted: Cli, ledger_root: Path) -> None:
    before = fingerprint(ledger_root)
    result = submitted("promote", PATCH, person="alice")
    assert result.exit_code == 1
    assert f"{PATCH}: gate (none) -> dev is CLOSED" in result.stdout
    assert "not promoted: the dev gate is closed; nothing recorded" in result.stdout
    assert fingerprint(ledger_root) == before
    assert submitted.json("patch", "show", PATCH)["env"] is None


def test_promote_records_the_verdict_and_its_evidence(submitted: Cli, inputs: Path,
                                                      ledger_root: Path) -> None:
    ok(submitted, "checklist", "fill", PATCH, "intake", "--env", "dev", "--answers",
       str(answers_file(inputs, "intake")))
    result = ok(submitted, "promote", PATCH)
    assert f"promoted {PATCH} to dev" in result.stdout
    assert commits(ledger_root)[0] == f"{PATCH}: promoted to dev by alice"
    event = submitted.json("patch", "log", PATCH)[-1]
    assert (event["type"], event["env"], event["actor"]) == ("promoted", "dev", "alice")
    assert event["file"] == f"patches/{PATCH}/events/0003-promoted.yaml"
    stored = yaml.safe_load((ledger_root / event["file"]).read_text())
    assert stored["from"] is None
    assert [(r["kind"], r["name"], r["status"]) for r in stored["verdict"]] == [
        ("order", "order", "pass"), ("depends", "depends", "pass"),
        ("checklists", "intake", "pass")]
    assert stored["evidence"] == [f"patches/{PATCH}/events/0002-checklist.yaml"]
    assert submitted.json("patch", "show", PATCH)["env"] == "dev"


def test_promote_to_the_environment_it_is_in_is_already_done(in_test: Cli,
                                                             ledger_root: Path) -> None:
    before = fingerprint(ledger_root)
    result = ok(in_test, "promote", PATCH, "--to", "test")
    assert f"{PATCH} is already in test; nothing new recorded" in result.stdout
    doc = in_test.json("promote", PATCH, "--to", "test", person="alice")
    assert (doc["recorded"], doc["already"]) == (False, True)
    assert fingerprint(ledger_root) == before


def test_promote_into_prod_with_every_condition_met(in_prod: Cli, ledger_root: Path) -> None:
    event = in_prod.json("patch", "log", PATCH)[-1]
    assert (event["type"], event["env"]) == ("promoted", "prod")
    assert all(r["status"] == "pass" for r in event["data"]["verdict"])
    kinds = [r["name"] for r in event["data"]["verdict"] if r["kind"] == "signoffs"]
    assert kinds == ["test-lead", "app-owner", "business", "change-manager"]
    assert len(event["data"]["evidence"]) == 7  # 2 checklists, 1 test run, 4 sign-offs


# --- status --------------------------------------------------------------------------


def test_status_shows_each_environment_and_what_the_next_gate_waits_for(
        in_test: Cli, inputs: Path) -> None:
    ok(in_test, "patch", "submit", str(write_manifest(inputs / "p2", "CBS-2026-0050")))
    text = ok(in_test, "status").stdout
    assert "not yet in any environment:\n  CBS-2026-0050" in text
    assert "dev: (empty)" in text
    assert "prod: (empty)" in text
    test_part = text[text.index("\ntest:"):text.index("\nprod:")]
    assert PATCH in test_part
    assert "gate to prod waits for:" in test_part
    assert "- signoffs business: needs 1 approval from role business; has 0" in test_part
    doc = in_test.json("status")
    assert [e["name"] for e in doc["environments"]] == ["dev", "test", "prod"]
    envs = {e["name"]: [p["id"] for p in e["patches"]] for e in doc["environments"]}
    assert envs == {"dev": [], "test": [PATCH], "prod": []}
    entry = doc["environments"][1]["patches"][0]
    assert entry["next"]["to"] == "prod" and entry["next"]["open"] is False
    assert "signoffs business: needs 1 approval from role business; has 0" in \
        entry["next"]["waiting_for"]
    assert [p["id"] for p in doc["not_yet_in_any"]] == ["CBS-2026-0050"]


def test_status_says_when_a_gate_is_ready(submitted: Cli, inputs: Path) -> None:
    ok(submitted, "checklist", "fill", PATCH, "intake", "--env", "dev", "--answers",
       str(answers_file(inputs, "intake")))
    assert "gate to dev is open: ready to promote" in ok(submitted, "status").stdout
    waiting = submitted.json("status")["not_yet_in_any"][0]["next"]
    assert waiting == {"to": "dev", "open": True, "waiting_for": []}


# --- global options: ledger discovery, identity --------------------------------------


def test_ledger_option_naming_a_missing_folder_is_refused(tmp_path: Path) -> None:
    result = invoke("--ledger", str(tmp_path / "nowhere"), "status")
    assert result.exit_code == 2
    assert "is not a releasegate ledger (given by --ledger)" in result.stderr


def test_ledger_from_the_environment_variable(submitted: Cli, ledger_root: Path) -> None:
    result = invoke("patch", "list", "--format", "json",
                    env={"RELEASEGATE_LEDGER": str(ledger_root)})
    assert result.exit_code == 0, result.output
    assert [p["id"] for p in json.loads(result.stdout)] == [PATCH]
    bad = invoke("status", env={"RELEASEGATE_LEDGER": str(ledger_root / "patches")})
    assert bad.exit_code == 2
    assert "given by RELEASEGATE_LEDGER" in bad.stderr


def test_ledger_is_found_upwards_from_a_subfolder(submitted: Cli, ledger_root: Path,
                                                  inputs: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ledger_root / "patches" / PATCH / "events")
    listed = invoke("patch", "list", "--format", "json")
    assert listed.exit_code == 0, listed.output
    assert [p["id"] for p in json.loads(listed.stdout)] == [PATCH]
    recorded = invoke("--as", "alice", "checklist", "fill", PATCH, "intake", "--env", "dev",
                      "--answers", str(answers_file(inputs, "intake")))
    assert recorded.exit_code == 0, recorded.output
    assert commits(ledger_root)[0] == f"{PATCH}: checklist intake for dev by alice"


def test_outside_any_ledger_the_error_says_how_to_find_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = invoke("status")
    assert result.exit_code == 2
    assert "no releasegate ledger in" in result.stderr
    assert "--ledger DIR" in result.stderr and "RELEASEGATE_LEDGER" in result.stderr


def test_an_unknown_person_is_refused_with_a_suggestion(rg: Cli, inputs: Path) -> None:
    result = refused(rg, "patch", "submit", str(write_manifest(inputs)), person="alcie")
    assert "unknown person 'alcie'" in result.stderr
    assert "did you mean 'alice'?" in result.stderr


def test_identity_from_releasegate_user(rg: Cli, inputs: Path) -> None:
    result = rg("patch", "submit", str(write_manifest(inputs)), env={"RELEASEGATE_USER": "bob"})
    assert result.exit_code == 0, result.output
    assert rg.json("patch", "show", PATCH)["submitter"] == "bob"


def test_identity_from_git_user_email(submitted: Cli, ledger_root: Path) -> None:
    git(ledger_root, "config", "user.email", "Bob@Bank.Example")
    result = submitted("signoff", PATCH, "--env", "test", "--role", "app-owner")
    assert result.exit_code == 0, result.output
    event = submitted.json("patch", "log", PATCH)[-1]
    assert (event["type"], event["actor"]) == ("signoff", "bob")
    assert git(ledger_root, "log", "-1", "--format=%an <%ae>").strip() == \
        "Bob Li <bob@bank.example>"


def test_no_identity_at_all_is_refused(submitted: Cli, ledger_root: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # The isolated git config names nobody@test.invalid, who is not in the ledger.
    result = refused(submitted, "signoff", PATCH, "--env", "test", "--role", "app-owner",
                     person=None)
    assert "cannot tell who you are: git user.email is 'nobody@test.invalid'" in result.stderr
    assert "pass --as PERSON or set RELEASEGATE_USER" in result.stderr
    empty = tmp_path / "empty.gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    result = refused(submitted, "signoff", PATCH, "--env", "test", "--role", "app-owner",
                     person=None)
    assert "git user.email is not set" in result.stderr


# --- the error boundary --------------------------------------------------------------


def test_json_errors_are_a_document_on_stdout(submitted: Cli, ledger_root: Path) -> None:
    before = fingerprint(ledger_root)
    result = submitted("patch", "show", "CBS-2026-0024", "--format", "json")
    assert result.exit_code == 2
    assert result.stderr == ""
    error = json.loads(result.stdout)["error"]
    assert error == {"code": "unknown-patch", "exit_status": 2,
                     "message": "unknown patch 'CBS-2026-0024'",
                     "hint": "did you mean 'CBS-2026-0042'?"}
    usage = json.loads(submitted("check", PATCH, "--bogus", "--format", "json").stdout)
    assert (usage["error"]["code"], usage["error"]["exit_status"]) == ("usage", 2)
    assert "--bogus" in usage["error"]["message"]
    assert fingerprint(ledger_root) == before


def test_an_unexpected_exception_is_exit_4_with_a_log_file(
        submitted: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("kaboom")

    monkeypatch.setattr("releasegate.actions.views.status_board", broken)
    result = submitted("status")
    assert result.exit_code == 4
    assert result.stdout == ""
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1
    assert "internal error in releasegate (RuntimeError: kaboom)" in message
    found = re.search(r"details in (\S+\.log);", message)
    assert found, message
    log = Path(found.group(1))
    assert log.parent == Path(os.environ["RELEASEGATE_LOG_DIR"])
    text = log.read_text()
    assert "Traceback (most recent call last)" in text
    assert "RuntimeError: kaboom" in text
    assert "in broken" in text


def test_version_prints_the_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert re.fullmatch(r"releasegate, version \d+\.\d+\.\d+\S*\n", result.stdout)


def test_an_unknown_option_is_a_usage_error(rg: Cli) -> None:
    result = refused(rg, "status", "--colour")
    assert "No such option '--colour'" in result.stderr
    assert "status --help" in result.stderr


def test_python_dash_m_releasegate_runs_the_cli() -> None:
    done = subprocess.run([sys.executable, "-m", "releasegate", "--help"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "Vendor patches go dev -> test -> prod" in done.stdout
    for command in ("check", "checklist", "demo", "init", "patch", "promote", "schema",
                    "signoff", "status", "tests"):
        assert re.search(rf"^\s+{command}\s", done.stdout, re.MULTILINE), command
    usage = subprocess.run([sys.executable, "-m", "releasegate", "status", "--colour"],
                           capture_output=True, text=True, check=False)
    assert usage.returncode == 2
    assert usage.stderr == ("error: No such option '--colour'.\n"
                            "  hint: see `releasegate status --help`\n")


def test_every_command_is_listed_and_loads_from_its_own_module() -> None:
    # Commands load on demand; a command missing from the table would vanish from the CLI.
    from releasegate.cli.main import COMMAND_MODULES

    found = {}
    for module in set(COMMAND_MODULES.values()):
        for command in importlib.import_module(f"releasegate.cli.{module}").COMMANDS:
            found[command.name] = module
    assert found == COMMAND_MODULES
    context = click.Context(cli)
    assert cli.list_commands(context) == sorted(found)
    assert all(cli.get_command(context, name) is not None for name in found)
    assert cli.get_command(context, "chek") is None


def test_a_command_loads_only_its_own_module() -> None:
    code = ("import sys\nfrom releasegate.cli.main import cli\n"
            "try:\n    cli.main(['check', '--help'])\nexcept SystemExit:\n    pass\n"
            "loaded = sorted(m for m in sys.modules if m.startswith('releasegate.cli.'))\n"
            "print(loaded, file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert "Evaluate a gate" in done.stdout
    assert done.stderr.strip() == ("['releasegate.cli.gate', 'releasegate.cli.main', "
                                   "'releasegate.cli.output']")  # output: shared helpers
