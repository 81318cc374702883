"""rules.signed_config: the configuration counts only when its last change is a git
commit signed with SSH by a person holding the admin role; otherwise every gate is
closed, saying why, and `verify` reports it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from releasegate.trust import ssh_keygen
from tests.helpers import PATCH, Cli, conditions, git, walk_to_test


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("keys")
    for person in ("alice", "bob"):
        ssh_keygen.generate(folder / person, f"{person}@bank.example")
    return {person: folder / person for person in ("alice", "bob")}


def _public(key: Path) -> str:
    return key.with_name(key.name + ".pub").read_text(encoding="utf-8").strip()


def _commit_config(root: Path, change: Any, signer: Path | None) -> None:
    import yaml

    path = root / "releasegate.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(config)
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True),
                    encoding="utf-8")
    sign = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={signer}"] if signer else []
    git(root, *sign, "commit", "-qam", "configuration", *(["-S"] if signer else []))


def _signed_config(keys: dict[str, Path]) -> Any:
    def change(config: dict[str, Any]) -> None:
        config["roles"]["admin"] = ["alice"]
        for person in ("alice", "bob"):
            config["people"][person]["keys"] = [_public(keys[person])]
        config["rules"]["signed_config"] = True
    return change


def _row(rg: Cli, env: str = "prod") -> dict[str, str]:
    verdict = json.loads(rg("check", PATCH, "--to", env, "--format", "json").stdout)
    return conditions(verdict)[("config", "signed_config")]


@pytest.fixture
def ready(rg: Cli, inputs: Path) -> Cli:
    walk_to_test(rg, inputs)
    return rg


def test_a_config_signed_by_an_admin_counts(ready: Cli, keys: dict[str, Path]) -> None:
    _commit_config(ready.root, _signed_config(keys), keys["alice"])
    row = _row(ready)
    assert row["status"] == "pass" and "signed by an admin" in row["detail"]


def test_an_unsigned_change_closes_every_gate(ready: Cli, keys: dict[str, Path]) -> None:
    _commit_config(ready.root, _signed_config(keys), keys["alice"])
    _commit_config(ready.root, lambda c: c["rules"].update(four_eyes=False), None)
    row = _row(ready)
    assert row["status"] == "fail" and "which is not signed" in row["detail"]
    audit = json.loads(ready("verify", "--format", "json").stdout)
    assert audit["ok"] is False
    assert any("rules.signed_config" in f["what"] for f in audit["findings"])


def test_a_change_signed_by_someone_not_admin_closes_the_gates(
        ready: Cli, keys: dict[str, Path]) -> None:
    _commit_config(ready.root, _signed_config(keys), keys["bob"])
    row = _row(ready)
    assert row["status"] == "fail"
    assert "signed by bob, who does not hold role admin" in row["detail"]


def test_a_key_nobody_holds_does_not_count(ready: Cli, keys: dict[str, Path],
                                           tmp_path: Path) -> None:
    stranger = tmp_path / "stranger"
    ssh_keygen.generate(stranger, "stranger@x")
    _commit_config(ready.root, _signed_config(keys), stranger)
    assert "which no admin holds" in _row(ready)["detail"]
