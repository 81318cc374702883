"""`releasegate verify --dossier ID -o DIR`: one patch's whole record, written so that an
auditor checks it offline with `sha256sum` and `ssh-keygen` alone (the dossier's
README.md and verify.sh), with summaries in English and Chinese. A tampered dossier
fails that check; a refused folder is left as it was, with nothing beside it."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from releasegate.actions.setup import init_ledger
from releasegate.core.clock import parse_stamp
from releasegate.trust import ssh_keygen
from tests.helpers import (
    PATCH,
    Cli,
    answers_file,
    edit_pipeline,
    fingerprint,
    gate_of,
    git,
    must,
    record_regression,
    walk_to_test,
)

SIGNERS = ("bob", "carol", "dave", "erin")
FOLDER = f"patches/{PATCH}"
OFFLINE = {"PATH": "/usr/bin:/bin", "LC_ALL": "C"}


def _public(key: Path) -> str:
    return key.with_name(key.name + ".pub").read_text(encoding="utf-8").strip()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Path]]]:
    """Once per module: keys made with ssh-keygen, and a ledger whose prod gate requires
    signatures, CBS-2026-0042 walked into prod with every prod approval signed."""
    base = tmp_path_factory.mktemp("signed")
    home = base / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[user]\n\tname = Test Runner\n\temail = nobody@test."
                                     "invalid\n[init]\n\tdefaultBranch = main\n")
    keys = {}
    for person in ("alice", *SIGNERS):
        ssh_keygen.generate(base / person, f"{person}@bank.example",
                            "ecdsa" if person == "erin" else "ed25519")
        keys[person] = base / person
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HOME", str(home))
        env.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
        env.setenv("GIT_CONFIG_NOSYSTEM", "1")
        env.setenv("RELEASEGATE_LOG_DIR", str(home / "logs"))
        for name in ("RELEASEGATE_LEDGER", "RELEASEGATE_USER", "GIT_DIR", "GIT_WORK_TREE"):
            env.delenv(name, raising=False)
        root = base / "ledger"
        init_ledger(root, example=True)
        rg, inputs = Cli(root), base / "inputs"
        walk_to_test(rg, inputs)
        record_regression(rg, inputs, PATCH, {"bank.Ledger::posts": "passed"})

        def require(config: dict[str, Any]) -> None:
            gate_of(config, "prod")["signatures"] = "required"
            for person in ("alice", *SIGNERS):
                config["people"][person]["keys"] = [_public(keys[person])]

        edit_pipeline(root, require)
        for template, person in (("test-review", "carol"), ("change-readiness", "erin")):
            must(rg, "checklist", "fill", PATCH, template, "--env", "prod", "--answers",
                 str(answers_file(inputs, template)), "--key", str(keys[person]),
                 person=person)
        for person, role in (("carol", "test-lead"), ("bob", "app-owner"),
                             ("dave", "business"), ("erin", "change-manager")):
            must(rg, "signoff", PATCH, "--env", "prod", "--role", role, "--key",
                 str(keys[person]), person=person)
        must(rg, "promote", PATCH, "--to", "prod")
    yield root, keys


@pytest.fixture
def keys(built: tuple[Path, dict[str, Path]]) -> dict[str, Path]:
    return built[1]


@pytest.fixture
def shipped(built: tuple[Path, dict[str, Path]], tmp_path: Path) -> Cli:
    """A copy of the module's signed ledger, CBS-2026-0042 in prod, for one test."""
    root = tmp_path / "ledger"
    shutil.copytree(built[0], root, symlinks=True)
    return Cli(root)


def _dossier(rg: Cli, out: Path, *args: str) -> Any:
    return rg("verify", "--dossier", PATCH, "-o", str(out), *args)


def _offline(folder: Path, *command: str, stdin: Path | None = None
             ) -> subprocess.CompletedProcess[str]:
    """`command` run in `folder` with nothing but /usr/bin and /bin on PATH."""
    with open(stdin, "rb") if stdin else open(os.devnull, "rb") as given:
        return subprocess.run(list(command), cwd=folder, env=OFFLINE, stdin=given,
                              capture_output=True, text=True, timeout=120)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _rewrite_sum(folder: Path, name: str) -> None:
    """What a forger does next: the file's line in SHA256SUMS made to fit again."""
    sums = folder / "SHA256SUMS"
    digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    sums.write_text(re.sub(rf"^[0-9a-f]{{64}}  {re.escape(name)}$", f"{digest}  {name}",
                           sums.read_text(encoding="utf-8"), flags=re.MULTILINE),
                    encoding="utf-8")
    assert _offline(folder, "sha256sum", "-c", "SHA256SUMS").returncode == 0


# -- a dossier that checks -----------------------------------------------------------------

def test_the_dossier_of_a_signed_patch_checks_offline(shipped: Cli, tmp_path: Path) -> None:
    out = tmp_path / "dossier"
    before = fingerprint(shipped.root)
    result = _dossier(shipped, out)
    assert result.exit_code == 0, result.output
    assert f"dossier of {PATCH} written to {out}" in result.stdout
    assert "VERIFIES" in result.stdout
    assert fingerprint(shipped.root) == before
    summed = _offline(out, "sha256sum", "-c", "SHA256SUMS")
    assert summed.returncode == 0, summed.stdout + summed.stderr
    checked = _offline(out, "sh", "verify.sh")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count('Good "signoff.v1@releasegate" signature') == 4
    assert checked.stdout.count('Good "checklist.v1@releasegate" signature') == 2
    assert "FAIL" not in checked.stdout
    assert checked.stdout.rstrip().endswith("ALL CHECKS PASSED")


def test_the_readme_gives_each_command_and_each_one_passes(shipped: Cli,
                                                           tmp_path: Path) -> None:
    out = tmp_path / "dossier"
    assert _dossier(shipped, out).exit_code == 0
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "sha256sum -c SHA256SUMS" in readme
    assert "## 中文说明" in readme
    commands = sorted(set(re.findall(r"^ssh-keygen -Y verify .*$", readme, re.MULTILINE)))
    statements = sorted(p.name for p in (out / "signatures").glob("*.json"))
    assert len(commands) == len(statements) == 6
    for command in commands:
        parts = re.fullmatch(r"ssh-keygen -Y verify -f allowed_signers -I (\S+) -n (\S+) "
                             r"-r revoked_keys -O verify-time=(\d{14}Z) "
                             r"-s signatures/(\S+)\.sig < signatures/(\S+)\.json", command)
        assert parts is not None, command
        person, namespace, _, sig, statement = parts.groups()
        assert sig == statement and namespace == f"{sig.split('-')[1]}.v1@releasegate"
        done = _offline(out, "sh", "-c", command)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        assert f"signature for {person} with" in done.stdout
    # The hash chain by hand: each event's prev is the sha256 of the event before it.
    events = sorted((out / "events").iterdir())
    for earlier, later in itertools.pairwise(events):
        assert f"sha256sum events/{earlier.name}" in readme
        assert f"events/{later.name}" in readme
        prev = re.search(r"^prev: (\S+)$", later.read_text(encoding="utf-8"), re.MULTILINE)
        assert prev and prev.group(1) == hashlib.sha256(earlier.read_bytes()).hexdigest()


def test_the_dossier_holds_every_file_of_the_patch_byte_for_byte(shipped: Cli,
                                                                 tmp_path: Path) -> None:
    out = tmp_path / "dossier"
    assert _dossier(shipped, out).exit_code == 0
    ledger = _files(shipped.root / FOLDER)
    dossier = _files(out)
    for path, data in ledger.items():
        assert dossier[path] == data, path  # events/, evidence/, signatures/, patch.yaml
    assert {p.split("/")[0] for p in ledger} == {"events", "evidence", "signatures",
                                                 "patch.yaml"}
    assert len([p for p in dossier if p.startswith("evidence/")]) == 4  # 2 JUnit, 2 summaries
    own = {"README.md", "SHA256SUMS", "verify.sh", "allowed_signers", "revoked_keys",
           "verdicts.json", "summary.en.md", "summary.zh-CN.md"}
    assert set(dossier) == set(ledger) | own
    sums = (out / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    listed = {line.split("  ", 1)[1]: line.split("  ", 1)[0] for line in sums}
    assert set(listed) == set(dossier) - {"SHA256SUMS"}
    assert all(hashlib.sha256(dossier[p]).hexdigest() == h for p, h in listed.items())
    assert os.access(out / "verify.sh", os.X_OK)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_allowed_signers_lists_each_signers_keys_as_releasegate_checks_them(
        shipped: Cli, keys: dict[str, Path], tmp_path: Path) -> None:
    window = {"key": _public(keys["carol"]), "valid_after": "2020-01-01",
              "valid_before": "2099-06-30T12:00:00+08:00"}

    def change(config: dict[str, Any]) -> None:
        config["people"]["carol"]["keys"] = [window]

    edit_pipeline(shipped.root, change)
    out = tmp_path / "dossier"
    assert _dossier(shipped, out).exit_code == 0
    lines = (out / "allowed_signers").read_text(encoding="utf-8").splitlines()
    assert [line.split()[0] for line in lines] == sorted(SIGNERS)  # alice never signed
    namespaces = ('namespaces="signoff.v1@releasegate,checklist.v1@releasegate,'
                  'waiver.v1@releasegate"')
    carols = next(line for line in lines if line.startswith("carol "))
    assert carols == (f'carol {namespaces},valid-after="20200101000000Z",'
                      f'valid-before="20990630040000Z" '
                      + " ".join(_public(keys["carol"]).split()[:2]))
    bobs = next(line for line in lines if line.startswith("bob "))
    assert bobs == f"bob {namespaces} " + " ".join(_public(keys["bob"]).split()[:2])
    assert (out / "revoked_keys").read_text(encoding="utf-8") == ""


def test_a_key_window_closed_since_signing_still_checks_at_the_signing_time(
        shipped: Cli, keys: dict[str, Path], tmp_path: Path) -> None:
    # carol's key stops being valid one second after her last signature, before now:
    # releasegate checks each signature as of its event's time, and so does verify.sh.
    last = max(parse_stamp(yaml_at(p)) for p in (shipped.root / FOLDER / "events").glob(
        "*.yaml") if "actor: carol" in p.read_text(encoding="utf-8"))
    until = last.replace(microsecond=0) + timedelta(seconds=2)

    def change(config: dict[str, Any]) -> None:
        config["people"]["carol"]["keys"] = [{"key": _public(keys["carol"]),
                                              "valid_before": until.isoformat()}]

    edit_pipeline(shipped.root, change)
    while datetime.now(UTC) <= until + timedelta(seconds=1):
        time.sleep(0.2)
    out = tmp_path / "dossier"
    result = _dossier(shipped, out)
    assert result.exit_code == 0, result.output
    checked = _offline(out, "sh", "verify.sh")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def yaml_at(path: Path) -> str:
    found = re.search(r"^at: '?([^'\n]+)'?$", path.read_text(encoding="utf-8"), re.MULTILINE)
    assert found
    return found.group(1)


# -- what the dossier tells a person -------------------------------------------------------

def test_the_summaries_name_every_event_and_signature_in_both_languages(
        shipped: Cli, tmp_path: Path) -> None:
    out = tmp_path / "dossier"
    assert _dossier(shipped, out).exit_code == 0
    english = (out / "summary.en.md").read_text(encoding="utf-8")
    chinese = (out / "summary.zh-CN.md").read_text(encoding="utf-8")
    digest = shipped.json("patch", "show", PATCH)["digest"]
    for summary in (english, chinese):
        assert PATCH in summary and digest in summary
        assert "patch.tar" in summary
        for event in (out / "events").iterdir():
            assert f"events/{event.name}" in summary, event.name
            assert yaml_at(event) in summary
        for signature in (out / "signatures").glob("*.sig"):
            assert f"signatures/{signature.stem}" in summary
        for line in (out / "allowed_signers").read_text(encoding="utf-8").splitlines():
            fingerprint_of = ssh_keygen_fingerprint(line.split()[-2:])
            assert fingerprint_of in summary
    assert "Result: VERIFIES" in english
    assert english.count("checks: signed by") == 6
    assert "## Events" in english and "## Signatures" in english
    assert "## Promotions" in english
    assert "结论：核验通过" in chinese
    assert "## 事件记录" in chinese and "## 电子签名" in chinese
    assert "## 环境推进" in chinese
    assert chinese.count("核验通过") >= 7
    assert "推进至生产环境" in chinese and "以change-manager身份批准" in chinese


def ssh_keygen_fingerprint(key: list[str]) -> str:
    import base64

    digest = hashlib.sha256(base64.b64decode(key[1])).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def test_verdicts_hold_each_promotion_as_recorded_and_as_replayed(shipped: Cli,
                                                                  tmp_path: Path) -> None:
    out = tmp_path / "dossier"
    assert _dossier(shipped, out).exit_code == 0
    doc = json.loads((out / "verdicts.json").read_text(encoding="utf-8"))
    assert doc["patch"] == PATCH
    rows = doc["promotions"]
    assert [(r["from"], r["to"]) for r in rows] == [(None, "dev"), ("dev", "test"),
                                                    ("test", "prod")]
    for row in rows:
        event = (out / row["event"]).read_text(encoding="utf-8")
        assert f"at: '{row['at']}'" in event
        assert row["recorded"]["open"] is True and row["replayed"]["open"] is True
        assert row["replay_problem"] is None and row["agrees"] is True
        assert [c["kind"] for c in row["recorded"]["conditions"]] == \
            [c["kind"] for c in row["replayed"]["conditions"]]
    prod = rows[-1]["replayed"]["conditions"]
    assert {"kind": "signatures", "name": "signatures", "status": "pass",
            "detail": "required; 6 signed sign-off(s), checklist(s) and waiver(s) "
                      "checked"} in prod


def test_json_output_names_the_dossier(shipped: Cli, tmp_path: Path) -> None:
    out = tmp_path / "dossier"
    result = _dossier(shipped, out, "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["patch"] == PATCH and doc["dossier"] == str(out) and doc["ok"] is True
    assert doc["findings"] == [] and doc["promotions"] == 3 and doc["signatures"] == 6
    assert doc["sha256sums"] == hashlib.sha256((out / "SHA256SUMS").read_bytes()).hexdigest()


def test_a_proxy_sign_offs_evidence_is_in_the_dossier_and_checked_offline(
        rg: Cli, inputs: Path, tmp_path: Path) -> None:
    def allow(config: dict[str, Any]) -> None:
        config["rules"]["proxies_by"] = ["change-manager"]
        for rule in gate_of(config, "prod")["signoffs"]:
            if rule["role"] == "business":
                rule["proxy"] = "allow"

    edit_pipeline(rg.root, allow)
    walk_to_test(rg, inputs)
    record_regression(rg, inputs, PATCH, {"bank.Ledger::posts": "passed"})
    for template, person in (("test-review", "carol"), ("change-readiness", "erin")):
        must(rg, "checklist", "fill", PATCH, template, "--env", "prod", "--answers",
             str(answers_file(inputs, template)), person=person)
    for person, role in (("carol", "test-lead"), ("bob", "app-owner"),
                         ("erin", "change-manager")):
        must(rg, "signoff", PATCH, "--env", "prod", "--role", role, person=person)
    mail = inputs / "approval.eml"
    mail.write_bytes(b"From: Dave Chen <dave@bank.example>\r\n\r\nApproved.\r\n")
    must(rg, "signoff", PATCH, "--env", "prod", "--role", "business", "--on-behalf-of",
         "dave", "--evidence", str(mail), person="erin")
    must(rg, "promote", PATCH, "--to", "prod")
    out = tmp_path / "dossier"
    result = _dossier(rg, out)
    assert result.exit_code == 0, result.output
    stored = f"evidence/{hashlib.sha256(mail.read_bytes()).hexdigest()}.eml"
    assert (out / stored).read_bytes() == mail.read_bytes()
    proxy = next(p for p in (out / "events").iterdir()
                 if "on-behalf" in p.name or "recorded_by: erin" in p.read_text(encoding="utf-8"))
    checked = _offline(out, "sh", "verify.sh")
    assert checked.returncode == 0, checked.stdout
    assert f"OK    events/{proxy.name} records the sha256 of {stored}" in checked.stdout
    english = (out / "summary.en.md").read_text(encoding="utf-8")
    chinese = (out / "summary.zh-CN.md").read_text(encoding="utf-8")
    assert "approved as business for dave (recorded by proxy; evidence approval.eml" in english
    assert "代dave以business身份批准（代为登记，凭证 approval.eml" in chinese
    (out / stored).write_bytes(b"Approved, and more.\r\n")
    _rewrite_sum(out, stored)
    again = _offline(out, "sh", "verify.sh")
    assert again.returncode == 1
    assert f"FAIL  events/{proxy.name} records the sha256 of {stored}" in again.stdout


# -- a dossier that does not check ---------------------------------------------------------

def test_a_statement_tampered_in_the_dossier_fails_the_offline_check(
        shipped: Cli, tmp_path: Path) -> None:
    out = tmp_path / "dossier"
    assert _dossier(shipped, out).exit_code == 0
    statement = sorted((out / "signatures").glob("*-signoff.json"))[-1]
    statement.write_bytes(statement.read_bytes().replace(b'"approve"', b'"reject"'))
    summed = _offline(out, "sha256sum", "-c", "SHA256SUMS")
    assert summed.returncode != 0
    assert f"signatures/{statement.name}: FAILED" in summed.stdout
    checked = _offline(out, "sh", "verify.sh")
    assert checked.returncode == 1
    assert f"FAIL  signature signatures/{statement.stem}" in checked.stdout
    # Making SHA256SUMS fit again does not help: the signature still does not check.
    _rewrite_sum(out, f"signatures/{statement.name}")
    again = _offline(out, "sh", "verify.sh")
    assert again.returncode == 1
    assert f"FAIL  signature signatures/{statement.stem}" in again.stdout
    assert f"FAIL  events/{statement.stem}.yaml records the sha256 of " \
           f"signatures/{statement.name}" in again.stdout
    signature = statement.with_suffix(".sig")
    person = re.search(r'"signer":"([a-z]+)"', statement.read_text(encoding="utf-8"))
    assert person
    alone = _offline(out, "ssh-keygen", "-Y", "verify", "-f", "allowed_signers", "-I",
                     person.group(1), "-n", "signoff.v1@releasegate", "-s",
                     f"signatures/{signature.name}", stdin=statement)
    assert alone.returncode != 0


def test_an_event_tampered_in_the_dossier_breaks_the_hash_chain(shipped: Cli,
                                                                tmp_path: Path) -> None:
    out = tmp_path / "dossier"
    assert _dossier(shipped, out).exit_code == 0
    events = sorted((out / "events").iterdir())
    events[1].write_text(events[1].read_text(encoding="utf-8").replace("actor: alice",
                                                                       "actor: erin"),
                         encoding="utf-8")
    _rewrite_sum(out, f"events/{events[1].name}")
    checked = _offline(out, "sh", "verify.sh")
    assert checked.returncode == 1
    assert f"FAIL  events/{events[2].name}: its prev is the sha256 of " \
           f"events/{events[1].name}" in checked.stdout


def test_a_sign_off_edited_in_the_dossier_no_longer_matches_its_statement(
        shipped: Cli, tmp_path: Path) -> None:
    out = tmp_path / "dossier"
    assert _dossier(shipped, out).exit_code == 0
    event = sorted((out / "events").glob("*-signoff.yaml"))[-1]
    event.write_text(event.read_text(encoding="utf-8").replace("role: change-manager",
                                                               "role: business"),
                     encoding="utf-8")
    _rewrite_sum(out, f"events/{event.name}")
    checked = _offline(out, "sh", "verify.sh")
    assert checked.returncode == 1
    failed = [line for line in checked.stdout.splitlines() if line.startswith("FAIL")]
    assert failed == [
        f"FAIL  signatures/{event.stem}.json names what events/{event.name} records: "
        "ledger, patch, sha256, env, signer, time, role, decision",
        f"FAIL  events/{int(event.name[:4]) + 1:04d}-promoted.yaml: its prev is the sha256 "
        f"of events/{event.name}"], checked.stdout


def test_a_patch_with_findings_gets_its_dossier_and_exit_1(shipped: Cli,
                                                           tmp_path: Path) -> None:
    # A signed statement edited and committed with plain git: the audit finds it.
    statement = sorted((shipped.root / FOLDER / "signatures").glob("*signoff.json"))[-1]
    statement.write_bytes(statement.read_bytes().replace(b'"approve"', b'"approve" '))
    git(shipped.root, "commit", "-qam", "tidy")
    out = tmp_path / "dossier"
    result = _dossier(shipped, out)
    assert result.exit_code == 1, result.output
    assert "FAILED" in result.stdout and "evidence damaged" in result.stdout
    assert (out / "signatures" / statement.name).read_bytes() == statement.read_bytes()
    english = (out / "summary.en.md").read_text(encoding="utf-8")
    chinese = (out / "summary.zh-CN.md").read_text(encoding="utf-8")
    assert "Result: DOES NOT VERIFY" in english and "evidence damaged" in english
    assert "结论：核验未通过" in chinese and "evidence damaged" in chinese
    assert _offline(out, "sha256sum", "-c", "SHA256SUMS").returncode == 0
    checked = _offline(out, "sh", "verify.sh")
    assert checked.returncode == 1
    assert f"FAIL  signature signatures/{statement.stem}" in checked.stdout


def test_a_key_revoked_later_fails_offline_as_it_fails_the_audit(
        shipped: Cli, keys: dict[str, Path], tmp_path: Path) -> None:
    def revoke(config: dict[str, Any]) -> None:
        config["revoked_keys"] = [_public(keys["dave"])]

    edit_pipeline(shipped.root, revoke)
    out = tmp_path / "dossier"
    result = _dossier(shipped, out)
    assert result.exit_code == 1
    assert "which is revoked" in result.stdout
    assert (out / "revoked_keys").read_text(encoding="utf-8") == \
        " ".join(_public(keys["dave"]).split()[:2]) + "\n"
    checked = _offline(out, "sh", "verify.sh")
    assert checked.returncode == 1
    failed = [line for line in checked.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failed) == 1 and "-signoff" in failed[0], checked.stdout
    dave = [p for p in (out / "events").iterdir()
            if "actor: dave" in p.read_text(encoding="utf-8")]
    assert [f"FAIL  signature signatures/{dave[0].stem}"] == [f.split(" by ")[0]
                                                              for f in failed]


# -- refusals ------------------------------------------------------------------------------

def _around(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir())


def test_a_folder_that_is_not_empty_is_refused_and_left_alone(shipped: Cli,
                                                              tmp_path: Path) -> None:
    out = tmp_path / "dossier"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n", encoding="utf-8")
    around = _around(out)
    result = _dossier(shipped, out)
    assert result.exit_code == 2
    assert "is not empty" in result.stderr
    assert _files(out) == {"notes.txt": b"mine\n"}
    assert _around(out) == around


def test_a_symlink_folder_is_refused_and_nothing_written(shipped: Cli,
                                                         tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    out = tmp_path / "dossier"
    out.symlink_to(target, target_is_directory=True)
    around = _around(out)
    result = _dossier(shipped, out)
    assert result.exit_code == 2
    assert "symbolic link" in result.stderr
    assert list(target.iterdir()) == [] and out.is_symlink()
    assert _around(out) == around
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    assert _dossier(shipped, dangling).exit_code == 2
    assert not (tmp_path / "nowhere").exists()
    assert _around(out) == sorted([*around, "dangling"])


def test_a_file_in_the_way_is_refused(shipped: Cli, tmp_path: Path) -> None:
    out = tmp_path / "dossier"
    out.write_text("x", encoding="utf-8")
    around = _around(out)
    result = _dossier(shipped, out)
    assert result.exit_code == 2 and "not a folder" in result.stderr
    assert out.read_text(encoding="utf-8") == "x" and _around(out) == around


def test_an_empty_folder_is_filled(shipped: Cli, tmp_path: Path) -> None:
    out = tmp_path / "dossier"
    out.mkdir()
    assert _dossier(shipped, out).exit_code == 0
    assert _offline(out, "sh", "verify.sh").returncode == 0
    assert _around(out) == ["dossier", "ledger"]


def test_an_unknown_patch_writes_nothing(shipped: Cli, tmp_path: Path) -> None:
    out = tmp_path / "dossier"
    result = shipped("verify", "--dossier", "CBS-2026-9999", "-o", str(out))
    assert result.exit_code == 2 and "unknown patch" in result.stderr
    assert _around(out) == ["ledger"]


@pytest.mark.parametrize("args", [("--dossier", PATCH), ("-o", "somewhere")])
def test_dossier_and_output_go_together(shipped: Cli, tmp_path: Path,
                                        args: tuple[str, ...]) -> None:
    result = shipped("verify", *args)
    assert result.exit_code == 2
    assert "--dossier ID and -o DIR go together" in result.stderr
    assert _around(tmp_path / "x") == ["ledger"]
