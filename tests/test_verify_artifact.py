"""verify-artifact: a deploy job proves the bytes it is about to install are the approved
ones, and is told exactly which file differs and how when they are not."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import PATCH, Cli, fingerprint, must, walk_to_prod, walk_to_test

PASSING = {"bank.Ledger::posts": "passed", "bank.Ledger::reads": "passed"}


@pytest.fixture
def in_prod(rg: Cli, inputs: Path) -> Path:
    """CBS-2026-0042 in prod; returns the folder holding its one artifact, patch.tar."""
    walk_to_prod(rg, inputs, PATCH, PASSING)
    return inputs / PATCH


def test_the_approved_files_pass(rg: Cli, in_prod: Path) -> None:
    before = fingerprint(rg.root)
    result = rg("verify-artifact", PATCH, str(in_prod / "patch.tar"))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"OK: the 1 file(s) are the artifacts of {PATCH} approved "
                                    "for prod\ndigest sha256:")
    assert fingerprint(rg.root) == before


def test_changed_bytes_are_named_with_both_hashes(rg: Cli, in_prod: Path,
                                                  tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "patch.tar").write_bytes(b"payload-2\n")
    result = rg("verify-artifact", PATCH, str(drop / "patch.tar"), "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["ok"] is False and doc["approved_digest"] != doc["given_digest"]
    assert doc["problems"] == [doc["problems"][0]]
    assert doc["problems"][0].startswith("patch.tar: different bytes: sha256 ")
    assert "10 bytes; approved sha256" in doc["problems"][0]


def test_a_missing_an_extra_and_a_renamed_file_are_each_named(rg: Cli, in_prod: Path,
                                                              tmp_path: Path) -> None:
    drop = tmp_path / "drop with spaces"
    drop.mkdir()
    shutil.copy(in_prod / "patch.tar", drop / "patch renamed.tar")
    (drop / "extra.sql").write_text("DROP TABLE accounts;\n", encoding="utf-8")
    result = rg("verify-artifact", PATCH, str(drop / "patch renamed.tar"),
                str(drop / "extra.sql"))
    assert result.exit_code == 1
    assert "  - extra.sql: not an approved artifact\n" in result.stdout
    assert ("  - patch renamed.tar: not an approved artifact (its bytes are those of "
            "patch.tar: renamed?)") in result.stdout
    assert "  - patch.tar: approved artifact missing from the files given" in result.stdout


def test_a_patch_not_yet_in_the_environment_fails(rg: Cli, inputs: Path) -> None:
    walk_to_test(rg, inputs)
    result = rg("verify-artifact", PATCH, str(inputs / PATCH / "patch.tar"))
    assert result.exit_code == 1
    assert f"{PATCH} was not promoted into prod with its current digest" in result.stdout
    assert "(it is in test)" in result.stdout
    assert rg("verify-artifact", PATCH, str(inputs / PATCH / "patch.tar"),
              "--env", "test").exit_code == 0


def test_files_of_a_superseded_delivery_fail_after_a_revision(rg: Cli, in_prod: Path,
                                                              tmp_path: Path) -> None:
    old = tmp_path / "old.tar"
    shutil.copy(in_prod / "patch.tar", old)
    (in_prod / "patch.tar").write_bytes(b"payload-3\n")
    must(rg, "patch", "revise", PATCH, "--artifact", str(in_prod / "patch.tar"))
    result = rg("verify-artifact", PATCH, str(in_prod / "patch.tar"))
    assert result.exit_code == 1
    assert "was not promoted into prod with its current digest" in result.stdout


def test_an_unknown_environment_is_bad_usage(rg: Cli, in_prod: Path) -> None:
    result = rg("verify-artifact", PATCH, str(in_prod / "patch.tar"), "--env", "prd")
    assert result.exit_code == 2
    assert "unknown environment 'prd' (--env)" in result.stderr
