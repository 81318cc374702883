"""Proxy sign-offs: a holder of a role in `rules.proxies_by` records someone else's
approval that arrived by e-mail or from an OA system (`signoff --on-behalf-of PERSON
--evidence FILE`). The recorder is the event's actor; the gate counts the approval for
PERSON, only where the role's rule says `proxy: allow`. The evidence file is stored in
the ledger by its sha256 and checked on every read; every view marks the proxy."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from releasegate.actions.publish import publish_site
from releasegate.evidence.proxies import stored_path
from releasegate.ledger.transaction import Ledger
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
)
from tests.test_input_files import run, strange

PASSING = {"bank.Ledger::posts": "passed", "bank.Ledger::reads": "passed"}
EMAIL = (b"From: Dave Chen <dave@bank.example>\r\nTo: erin@bank.example\r\n"
         b"Subject: RE: CBS-2026-0042 to production\r\n\r\nApproved for production.\r\n")
SHA = hashlib.sha256(EMAIL).hexdigest()
STORED = f"patches/{PATCH}/evidence/{SHA}.eml"
BUSINESS = ("signoffs", "business")


def _pipeline(proxy: str | None = "allow", proxies_by: tuple[str, ...] = ("change-manager",),
              roles: dict[str, list[str]] | None = None) -> Any:
    def change(config: dict[str, Any]) -> None:
        config["rules"]["proxies_by"] = list(proxies_by)
        if proxy is not None:
            for rule in gate_of(config, "prod")["signoffs"]:
                if rule["role"] == "business":
                    rule["proxy"] = proxy
        config["roles"].update(roles or {})
    return change


def _ready(rg: Cli, inputs: Path, **pipeline: Any) -> Cli:
    """CBS-2026-0042 in test with everything for prod but the business sign-off."""
    edit_pipeline(rg.root, _pipeline(**pipeline))
    walk_to_test(rg, inputs)
    record_regression(rg, inputs, PATCH, PASSING)
    for template, person in (("test-review", "carol"), ("change-readiness", "erin")):
        must(rg, "checklist", "fill", PATCH, template, "--env", "prod", "--answers",
             str(answers_file(inputs / PATCH, template)), person=person)
    for person, role in (("carol", "test-lead"), ("bob", "app-owner"),
                         ("erin", "change-manager")):
        must(rg, "signoff", PATCH, "--env", "prod", "--role", role, person=person)
    return rg


@pytest.fixture
def ready(rg: Cli, inputs: Path) -> Cli:
    return _ready(rg, inputs)


@pytest.fixture
def email(inputs: Path) -> Path:
    path = inputs / "approval.eml"
    path.write_bytes(EMAIL)
    return path


def _proxy(rg: Cli, email: Path, *extra: str, person: str = "erin", on_behalf_of: str = "dave",
           role: str = "business") -> Any:
    return rg("signoff", PATCH, "--env", "prod", "--role", role, "--on-behalf-of",
              on_behalf_of, "--evidence", str(email), *extra, person=person)


def _check(rg: Cli) -> tuple[int, dict[str, Any]]:
    result = rg("check", PATCH, "--to", "prod", "--format", "json")
    return result.exit_code, json.loads(result.stdout)


def _refused(rg: Cli, email: Path, code: str, **kwargs: Any) -> str:
    before = fingerprint(rg.root)
    result = _proxy(rg, email, "--format", "json", **kwargs)
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert error["code"] == code, error
    assert fingerprint(rg.root) == before
    message: str = error["message"]
    return message


# -- recording and counting ----------------------------------------------------------------

def test_a_proxy_sign_off_where_the_rule_allows_it_opens_the_gate(ready: Cli,
                                                                    email: Path) -> None:
    code, verdict = _check(ready)
    assert code == 1 and conditions(verdict)[BUSINESS]["status"] == "fail"
    result = _proxy(ready, email)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (f"approved {PATCH} for prod as business on behalf of "
                                     f"dave (recorded by erin; evidence approval.eml, "
                                     f"sha256 {SHA})")
    assert (ready.root / STORED).read_bytes() == EMAIL
    event = sorted((ready.root / f"patches/{PATCH}/events").glob("*-signoff.yaml"))[-1]
    text = event.read_text(encoding="utf-8")
    assert "actor: erin\n" in text
    code, verdict = _check(ready)
    assert code == 0, verdict
    assert conditions(verdict)[BUSINESS] == {
        "kind": "signoffs", "name": "business", "status": "pass",
        "detail": "approved by dave (by proxy: recorded by erin)"}
    log = ready.json("patch", "log", PATCH)
    assert log[-1]["actor"] == "erin"
    assert log[-1]["data"]["proxy"] == {
        "for": "dave", "recorded_by": "erin", "evidence": STORED, "evidence_sha256": SHA,
        "evidence_name": "approval.eml"}
    must(ready, "promote", PATCH, "--to", "prod")
    assert ready("verify").exit_code == 0


def test_the_json_result_carries_the_proxy(ready: Cli, email: Path) -> None:
    doc = json.loads(_proxy(ready, email, "--comment", "by mail", "--format", "json").stdout)
    assert doc == {"patch": PATCH, "env": "prod", "role": "business", "decision": "approve",
                   "comment": "by mail",
                   "proxy": {"for": "dave", "recorded_by": "erin", "evidence": STORED,
                             "evidence_sha256": SHA, "evidence_name": "approval.eml"}}


def test_a_proxy_sign_off_where_the_rule_denies_proxies_is_shown_but_not_counted(
        rg: Cli, inputs: Path, email: Path) -> None:
    _ready(rg, inputs, proxy=None)  # the default: proxy: deny
    result = _proxy(rg, email)
    assert result.exit_code == 0, result.output
    assert "warning: the prod gate does not allow proxy sign-offs for role business " \
           "(proxy: deny): recorded, but it does not count" in result.stderr
    code, verdict = _check(rg)
    assert code == 1
    row = conditions(verdict)[BUSINESS]
    assert row["status"] == "fail"
    assert row["detail"] == ("needs 1 approval from role business; has 0; not counted: "
                             "dave's approval recorded by erin by proxy (the business rule "
                             "says proxy: deny)")
    shown = rg("patch", "show", PATCH)
    assert "approved for prod as business by dave" in shown.stdout
    assert "by proxy: recorded by erin" in shown.stdout


def test_a_proxy_rejection_blocks_until_the_approver_approves(ready: Cli, email: Path) -> None:
    must(ready, "signoff", PATCH, "--env", "prod", "--role", "business", "--reject",
         "--on-behalf-of", "dave", "--evidence", str(email), "--comment", "not this week",
         person="erin")
    code, verdict = _check(ready)
    assert code == 1
    assert conditions(verdict)[BUSINESS]["detail"] == (
        "rejected by dave (not this week) (by proxy: recorded by erin); blocks until the "
        "same person approves")
    must(ready, "signoff", PATCH, "--env", "prod", "--role", "business", person="dave")
    assert _check(ready)[0] == 0


def test_a_proxy_approval_before_newer_evidence_is_stale(ready: Cli, email: Path,
                                                         inputs: Path) -> None:
    must(ready, "signoff", PATCH, "--env", "prod", "--role", "business", "--on-behalf-of",
         "dave", "--evidence", str(email), person="erin")
    must(ready, "checklist", "fill", PATCH, "test-review", "--env", "prod", "--answers",
         str(answers_file(inputs / PATCH, "test-review")), person="carol")
    code, verdict = _check(ready)
    assert code == 1
    assert "dave signed before newer evidence" in conditions(verdict)[BUSINESS]["detail"]


def test_the_approver_counts_once_and_for_one_role(rg: Cli, inputs: Path,
                                                   email: Path) -> None:
    _ready(rg, inputs, roles={"business": ["dave", "bob"]})
    # bob signed prod as app-owner himself: a proxy for him as business is refused.
    message = _refused(rg, email, "one-role-per-person", on_behalf_of="bob")
    assert message.startswith("bob already signed the prod gate as 'app-owner'")


# -- refusals ----------------------------------------------------------------------------

def test_a_recorder_without_a_proxies_by_role_is_refused(ready: Cli, email: Path) -> None:
    message = _refused(ready, email, "not-allowed", person="carol")
    assert message == ("carol may not record sign-offs on behalf of others; proxies are "
                       "for: change-manager")


def test_no_proxies_by_at_all_refuses_everyone(rg: Cli, inputs: Path, email: Path) -> None:
    _ready(rg, inputs, proxies_by=())
    message = _refused(rg, email, "not-allowed")
    assert "nobody (rules.proxies_by is empty)" in message


def test_the_approver_must_hold_the_role(ready: Cli, email: Path) -> None:
    message = _refused(ready, email, "not-allowed", on_behalf_of="carol")
    assert message == "carol does not hold role 'business'"


def test_an_unknown_approver_is_refused(ready: Cli, email: Path) -> None:
    _refused(ready, email, "unknown-person", on_behalf_of="davd")


def test_the_submitter_may_not_be_approved_for_by_proxy(rg: Cli, inputs: Path,
                                                        email: Path) -> None:
    _ready(rg, inputs, roles={"business": ["dave", "alice"]})
    message = _refused(rg, email, "four-eyes", on_behalf_of="alice")
    assert message == f"alice submitted {PATCH} and may not sign it off (four eyes)"


def test_the_submitter_may_not_record_a_proxy(rg: Cli, inputs: Path, email: Path) -> None:
    _ready(rg, inputs, roles={"change-manager": ["erin", "alice"]})
    message = _refused(rg, email, "four-eyes", person="alice")
    assert message == (f"alice submitted {PATCH} and may not record a sign-off on anyone's "
                       "behalf (four eyes)")


def test_a_proxy_for_oneself_is_refused(rg: Cli, inputs: Path, email: Path) -> None:
    _ready(rg, inputs, roles={"business": ["dave", "erin"]})
    message = _refused(rg, email, "proxy-self", on_behalf_of="erin")
    assert message == "erin cannot sign off on their own behalf by proxy"


def test_on_behalf_of_and_evidence_go_together(ready: Cli, email: Path) -> None:
    before = fingerprint(ready.root)
    for args in (("--on-behalf-of", "dave"), ("--evidence", str(email))):
        result = ready("signoff", PATCH, "--env", "prod", "--role", "business", *args,
                       person="erin")
        assert result.exit_code == 2, result.output
        assert "--on-behalf-of and --evidence go together" in result.stderr
    assert fingerprint(ready.root) == before


def test_evidence_over_ten_mebibytes_is_refused(ready: Cli, inputs: Path) -> None:
    big = inputs / "scan.pdf"
    big.write_bytes(b"%PDF" + b"0" * (10 * 1024 * 1024))
    assert "over the limit of 10485760 bytes" in _refused(ready, big, "too-large")


@pytest.mark.parametrize("kind", ["dev-zero", "fifo"])
def test_evidence_that_is_not_a_regular_file_is_refused(ready: Cli, inputs: Path,
                                                        kind: str) -> None:
    path = strange(kind, inputs)
    before = fingerprint(ready.root)
    ran = run(ready.root, "signoff", PATCH, "--env", "prod", "--role", "business",
              "--on-behalf-of", "dave", "--evidence", str(path), person="erin")
    assert ran.returncode == 2, ran.stderr
    assert ran.stderr.startswith(f"error: {path}: cannot read the proxy evidence (it is ")
    assert "not a regular file" in ran.stderr
    assert fingerprint(ready.root) == before


# -- the evidence bound by hash -------------------------------------------------------------

@pytest.mark.parametrize(("name", "extension"), [
    ("approval.eml", "eml"), ("OA Record.PDF", "pdf"), ("screenshot", "bin"),
    ("mail.x-unknown", "bin"), ("archive.tar.gz", "gz"), ("notes.verylongextension", "bin")])
def test_the_evidence_is_stored_by_its_sha256_with_a_short_extension(name: str,
                                                                      extension: str) -> None:
    assert stored_path(PATCH, SHA, name) == f"patches/{PATCH}/evidence/{SHA}.{extension}"


def test_evidence_edited_and_committed_stops_check_and_verify_reports_it(
        ready: Cli, email: Path) -> None:
    must(ready, "signoff", PATCH, "--env", "prod", "--role", "business", "--on-behalf-of",
         "dave", "--evidence", str(email), person="erin")
    stored = ready.root / STORED
    stored.write_bytes(EMAIL.replace(b"Approved", b"Approved, with conditions,"))
    git(ready.root, "commit", "-qam", "fix the mail's line endings")
    before = fingerprint(ready.root)
    for args in (("check", PATCH, "--to", "prod"), ("promote", PATCH, "--to", "prod"),
                 ("patch", "show", PATCH)):
        result = ready(*args, person="alice")
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith(f"error: {STORED}: evidence damaged: its sha256 is "
                                        "not the one"), result.stderr
    error = json.loads(ready("check", PATCH, "--to", "prod", "--format", "json").stdout)
    assert error["error"]["code"] == "evidence-damaged"
    assert fingerprint(ready.root) == before
    audit = json.loads(ready("verify", "--format", "json").stdout)
    assert audit["ok"] is False
    assert any(f["file"] == STORED and f["what"].startswith("evidence damaged: its sha256")
               for f in audit["findings"]), audit["findings"]


def test_evidence_removed_with_git_is_reported(ready: Cli, email: Path) -> None:
    must(ready, "signoff", PATCH, "--env", "prod", "--role", "business", "--on-behalf-of",
         "dave", "--evidence", str(email), person="erin")
    git(ready.root, "rm", "-q", STORED)
    git(ready.root, "commit", "-qm", "too big")
    result = ready("check", PATCH, "--to", "prod")
    assert result.exit_code == 2
    assert "the proxy evidence file is missing" in result.stderr
    audit = json.loads(ready("verify", "--format", "json").stdout)
    assert any(f["file"] == STORED and "missing" in f["what"] for f in audit["findings"])


# -- every view marks it ----------------------------------------------------------------------

def test_every_view_marks_the_proxy(ready: Cli, email: Path, tmp_path: Path) -> None:
    must(ready, "signoff", PATCH, "--env", "prod", "--role", "business", "--on-behalf-of",
         "dave", "--evidence", str(email), person="erin")
    show = ready("patch", "show", PATCH).stdout
    assert ("approved for prod as business by dave at " in show
            and f"(by proxy: recorded by erin; evidence approval.eml, sha256 {SHA})" in show)
    doc = ready.json("patch", "show", PATCH)
    mine = [s for s in doc["evidence"]["gates"]["prod"]["signoffs"] if s["role"] == "business"]
    assert mine[0]["by"] == "dave" and mine[0]["proxy"] == {
        "for": "dave", "recorded_by": "erin", "evidence": STORED, "evidence_sha256": SHA,
        "evidence_name": "approval.eml"}
    others = [s for s in doc["evidence"]["gates"]["prod"]["signoffs"] if s["role"] != "business"]
    assert all("proxy" not in s for s in others)
    log = ready("patch", "log", PATCH).stdout.splitlines()
    assert log[-1].split()[2] == "erin"
    assert log[-1].endswith("approved for prod as business on behalf of dave (evidence "
                            "approval.eml)")
    english = ready("notice", PATCH, "--audience", "technical", "--lang", "en",
                    "--format", "text").stdout
    assert "business: approved by Dave Chen on " in english
    assert "recorded by Erin Liu on behalf of Dave Chen" in english
    chinese = ready("notice", PATCH, "--audience", "technical", "--lang", "zh-CN",
                    "--format", "text").stdout
    assert "由Erin Liu代Dave Chen登记" in chinese
    publish_site(Ledger(ready.root), tmp_path / "site")
    for page in (f"patches/{PATCH}.html", f"en/patches/{PATCH}.html"):
        html = (tmp_path / "site" / page).read_text(encoding="utf-8")
        assert "代Dave Chen登记" in html or "on behalf of Dave Chen" in html, page


# -- signed by the recorder ---------------------------------------------------------------

@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from releasegate.trust import ssh_keygen

    folder = tmp_path_factory.mktemp("keys")
    for person in ("alice", "bob", "carol", "dave", "erin"):
        ssh_keygen.generate(folder / person, f"{person}@bank.example", "ed25519")
    return {p.name: p for p in folder.iterdir() if not p.name.endswith(".pub")}


def test_a_signed_proxy_sign_off_is_signed_by_the_recorder_and_names_the_proxy(
        rg: Cli, inputs: Path, email: Path, keys: dict[str, Path]) -> None:
    def require(config: dict[str, Any]) -> None:
        gate_of(config, "prod")["signatures"] = "required"
        for person, key in keys.items():
            public = key.with_name(key.name + ".pub").read_text(encoding="utf-8").strip()
            config["people"][person]["keys"] = [public]

    edit_pipeline(rg.root, _pipeline())
    walk_to_test(rg, inputs)
    edit_pipeline(rg.root, require)
    record_regression(rg, inputs, PATCH, PASSING)
    for template, person in (("test-review", "carol"), ("change-readiness", "erin")):
        must(rg, "checklist", "fill", PATCH, template, "--env", "prod", "--answers",
             str(answers_file(inputs / PATCH, template)), "--key", str(keys[person]),
             person=person)
    for person, role in (("carol", "test-lead"), ("bob", "app-owner"),
                         ("erin", "change-manager")):
        must(rg, "signoff", PATCH, "--env", "prod", "--role", role, "--key",
             str(keys[person]), person=person)
    before = fingerprint(rg.root)
    refused = _proxy(rg, email, "--key", str(keys["dave"]))  # the approver's key: not erin's
    assert refused.exit_code == 2 and "not erin's" in refused.stderr
    assert fingerprint(rg.root) == before
    result = _proxy(rg, email, "--key", str(keys["erin"]))
    assert result.exit_code == 0, result.output
    code, verdict = _check(rg)
    assert code == 0, verdict
    statement = sorted((rg.root / f"patches/{PATCH}/signatures").glob("*-signoff.json"))[-1]
    predicate = json.loads(statement.read_bytes())["predicate"]
    assert predicate["signer"] == "erin" and predicate["role"] == "business"
    assert predicate["proxy"] == {"for": "dave", "recorded_by": "erin",
                                  "evidence_sha256": SHA}
    assert rg("verify").exit_code == 0
