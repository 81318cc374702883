"""A gate with `signatures: required`: approvals are signed with the signer's own key
when made, refused unsigned or with another key (nothing recorded), and anything that
got into the ledger some other way without a valid signature is left out by the gate
and reported by `verify`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from releasegate.trust import ssh_keygen
from tests.helpers import (
    PATCH,
    Cli,
    answers_file,
    conditions,
    edit_pipeline,
    fingerprint,
    gate_of,
    git,
    must,
    record_regression,
    walk_to_test,
    write_manifest,
)

PEOPLE = ("alice", "bob", "carol", "dave", "erin")
PASSING = {"bank.Ledger::posts": "passed"}


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("keys")
    made = {}
    for person in (*PEOPLE, "mallory"):
        ssh_keygen.generate(folder / person, f"{person}@bank.example",
                            "ecdsa" if person == "erin" else "ed25519")
        made[person] = folder / person
    return made


def _public(key: Path) -> str:
    return key.with_name(key.name + ".pub").read_text(encoding="utf-8").strip()


@pytest.fixture
def signed(rg: Cli, inputs: Path, keys: dict[str, Path]) -> Cli:
    """CBS-2026-0042 in test, its passing regression recorded; prod requires signatures
    and every person has a registered key."""
    walk_to_test(rg, inputs)
    record_regression(rg, inputs, PATCH, PASSING)

    def require(config: dict[str, Any]) -> None:
        gate_of(config, "prod")["signatures"] = "required"
        for person in PEOPLE:
            config["people"][person]["keys"] = [_public(keys[person])]

    edit_pipeline(rg.root, require)
    return rg


def _sign_prod(rg: Cli, inputs: Path, keys: dict[str, Path]) -> None:
    for template, person in (("test-review", "carol"), ("change-readiness", "erin")):
        must(rg, "checklist", "fill", PATCH, template, "--env", "prod", "--answers",
             str(answers_file(inputs, template)), "--key", str(keys[person]), person=person)
    for person, role in (("carol", "test-lead"), ("bob", "app-owner"), ("dave", "business"),
                         ("erin", "change-manager")):
        must(rg, "signoff", PATCH, "--env", "prod", "--role", role, "--key",
             str(keys[person]), person=person)


def test_a_signed_gate_opens_and_verifies(signed: Cli, inputs: Path,
                                          keys: dict[str, Path]) -> None:
    _sign_prod(signed, inputs, keys)
    verdict = json.loads(signed("check", PATCH, "--to", "prod", "--format", "json").stdout)
    assert verdict["open"] is True, verdict
    row = conditions(verdict)[("signatures", "signatures")]
    assert row == {"kind": "signatures", "name": "signatures", "status": "pass",
                   "detail": "required; 6 signed sign-off(s), checklist(s) and waiver(s) "
                             "checked"}
    must(signed, "promote", PATCH, "--to", "prod")
    assert signed("verify").exit_code == 0
    statements = sorted((signed.root / f"patches/{PATCH}/signatures").glob("*.json"))
    assert len(statements) == 6
    doc = json.loads(statements[-1].read_bytes())
    assert doc["_type"] == "https://in-toto.io/Statement/v1"
    assert doc["subject"][0]["digest"]["sha256"] == verdict["digest"].removeprefix("sha256:")
    assert {e["path"].rsplit("-", 1)[-1] for e in doc["predicate"]["evidence"]} >= {
        "checklist.yaml", "tests.yaml"}


def test_an_unsigned_sign_off_is_refused_when_made(signed: Cli) -> None:
    before = fingerprint(signed.root)
    result = signed("signoff", PATCH, "--env", "prod", "--role", "business", person="dave")
    assert result.exit_code == 2
    assert "the prod gate requires signatures, and no signing key is set" in result.stderr
    assert fingerprint(signed.root) == before


@pytest.mark.parametrize(("key", "said"), [
    ("bob", "not dave's"), ("mallory", "which no person of the ledger holds")])
def test_a_key_that_is_not_the_signers_is_refused_when_made(
        signed: Cli, keys: dict[str, Path], key: str, said: str) -> None:
    before = fingerprint(signed.root)
    result = signed("signoff", PATCH, "--env", "prod", "--role", "business", "--key",
                    str(keys[key]), person="dave")
    assert result.exit_code == 2
    assert said in result.stderr
    assert fingerprint(signed.root) == before


def test_the_signing_key_can_come_from_the_environment(signed: Cli,
                                                       keys: dict[str, Path]) -> None:
    result = signed("signoff", PATCH, "--env", "prod", "--role", "business", person="dave",
                    env={"RELEASEGATE_SIGNING_KEY": str(keys["dave"])})
    assert result.exit_code == 0, result.output
    assert list((signed.root / f"patches/{PATCH}/signatures").glob("*-signoff.sig"))


def test_a_sign_off_written_by_hand_is_left_out_and_reported(
        signed: Cli, inputs: Path, keys: dict[str, Path]) -> None:
    _sign_prod(signed, inputs, keys)
    # A genuine sign-off's statement is swapped for one that names another decision.
    statement = sorted((signed.root / f"patches/{PATCH}/signatures").glob("*signoff.json"))[-1]
    statement.write_bytes(statement.read_bytes().replace(b'"approve"', b'"approve" '))
    git(signed.root, "commit", "-qam", "tidy")
    verdict = json.loads(signed("check", PATCH, "--to", "prod", "--format", "json").stdout)
    assert verdict["open"] is False
    rows = conditions(verdict)
    assert rows[("signoffs", "change-manager")]["status"] == "fail"
    assert "1 left out, without a valid signature" in rows[("signatures", "signatures")]["detail"]
    audit = json.loads(signed("verify", "--format", "json").stdout)
    assert audit["ok"] is False
    assert any("evidence damaged" in f["what"] for f in audit["findings"])


def test_a_key_revoked_later_takes_its_old_signatures_out(
        signed: Cli, inputs: Path, keys: dict[str, Path]) -> None:
    _sign_prod(signed, inputs, keys)

    def revoke(config: dict[str, Any]) -> None:
        config["revoked_keys"] = [_public(keys["dave"])]

    edit_pipeline(signed.root, revoke)
    verdict = json.loads(signed("check", PATCH, "--to", "prod", "--format", "json").stdout)
    assert verdict["open"] is False
    assert "which is revoked" in conditions(verdict)[("signatures", "signatures")]["detail"]


def test_a_key_given_for_a_gate_that_does_not_require_one_still_signs(
        signed: Cli, inputs: Path, keys: dict[str, Path]) -> None:
    other = "CBS-2026-0043"
    must(signed, "patch", "submit", str(write_manifest(inputs / other, other)))
    must(signed, "checklist", "fill", other, "intake", "--env", "dev", "--answers",
         str(answers_file(inputs, "intake")), "--key", str(keys["alice"]))
    sigs = sorted(p.name for p in (signed.root / f"patches/{other}/signatures").iterdir())
    assert sigs == ["0002-checklist.json", "0002-checklist.sig"]
    must(signed, "promote", other, "--to", "dev")
    assert signed("verify").exit_code == 0


@pytest.mark.parametrize("principal", ["da*ve", "dave,erin", "*"])
def test_a_principal_that_would_be_a_pattern_is_refused_by_the_configuration(
        signed: Cli, keys: dict[str, Path], principal: str) -> None:
    def add(config: dict[str, Any]) -> None:
        config["people"][principal] = {"name": "Pattern", "keys": [_public(keys["mallory"])]}

    edit_pipeline(signed.root, add)
    result = signed("check", PATCH, "--to", "prod")
    assert result.exit_code == 2
    assert "releasegate.yaml" in result.stderr and "people" in result.stderr


def test_a_signed_sign_off_that_saw_older_evidence_is_stale(
        signed: Cli, inputs: Path, keys: dict[str, Path]) -> None:
    _sign_prod(signed, inputs, keys)
    record_regression(signed, inputs, PATCH, PASSING)  # newer evidence for the prod gate
    verdict = json.loads(signed("check", PATCH, "--to", "prod", "--format", "json").stdout)
    assert verdict["open"] is False
    assert "stale" in conditions(verdict)[("signoffs", "business")]["detail"]
    statement = sorted((signed.root / f"patches/{PATCH}/signatures")
                       .glob("*signoff.json"))[-1]
    seen = {e["path"] for e in json.loads(statement.read_bytes())["predicate"]["evidence"]}
    newest = sorted((signed.root / f"patches/{PATCH}/events").glob("*-tests.yaml"))[-1]
    assert newest.relative_to(signed.root).as_posix() not in seen


def test_a_key_held_by_ssh_agent_signs_through_its_public_file(
        signed: Cli, keys: dict[str, Path], tmp_path: Path) -> None:
    import os
    import signal
    import subprocess

    socket = tmp_path / "agent.sock"
    agent = subprocess.run(["ssh-agent", "-a", str(socket)], capture_output=True, text=True,
                           check=True, timeout=10)
    pid = int(agent.stdout.split("SSH_AGENT_PID=")[1].split(";")[0])
    try:
        env = {"SSH_AUTH_SOCK": str(socket)}
        subprocess.run(["ssh-add", "-q", str(keys["dave"])], env={**os.environ, **env},
                       check=True, capture_output=True, timeout=10)
        public = tmp_path / "dave.pub"  # the private key is nowhere beside it
        public.write_text(_public(keys["dave"]) + "\n", encoding="utf-8")
        result = signed("signoff", PATCH, "--env", "prod", "--role", "business", "--key",
                        str(public), person="dave", env=env)
    finally:
        os.kill(pid, signal.SIGTERM)
    assert result.exit_code == 0, result.output
    assert list((signed.root / f"patches/{PATCH}/signatures").glob("*-signoff.sig"))


def test_verify_runs_ssh_keygen_once_per_signature_whatever_the_clone_cached(
        signed: Cli, inputs: Path, keys: dict[str, Path], tmp_path: Path) -> None:
    """ssh-keygen checks one signature a run, so one run per signature is the least
    there can be: the promotion's replay reuses the audit's answers, and verify trusts
    no answer an earlier command left under .git, even a poisoned one."""
    import pickle
    import shutil
    import subprocess
    import sys

    _sign_prod(signed, inputs, keys)
    must(signed, "promote", PATCH, "--to", "prod")
    bin_dir, log = tmp_path / "bin", tmp_path / "ssh-keygen.log"
    bin_dir.mkdir()
    wrapper = bin_dir / "ssh-keygen"
    wrapper.write_text(f'#!/bin/sh\necho "$1 $2" >> {log}\n'
                       f'exec {shutil.which("ssh-keygen")} "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}

    def verify() -> tuple[dict[str, Any], list[str]]:
        log.write_text("", encoding="utf-8")
        done = subprocess.run([sys.executable, "-m", "releasegate", "--ledger",
                               str(signed.root), "verify", "--format", "json"],
                              capture_output=True, env=env, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout), log.read_text(encoding="utf-8").splitlines()

    audit, runs = verify()
    assert audit["signatures"] == 6 and audit["promotions"] >= 3
    assert runs == ["-Y verify"] * 6
    # Every answer cached in the clone turned into a refusal: verify checks again
    # and finds the ledger clean.
    cached = sorted((signed.root / ".git/releasegate/signatures").glob("*.pickle"))
    assert len(cached) == 6
    for path in cached:
        path.write_bytes(pickle.dumps((False, "poisoned")))
    audit, runs = verify()
    assert audit["ok"] is True and runs == ["-Y verify"] * 6
