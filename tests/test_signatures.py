"""A signed statement proves an event only when every check holds, with keys made by the
real ssh-keygen: the hostile cases an auditor would try, one by one."""

from __future__ import annotations

import base64
import struct
from dataclasses import replace
from pathlib import Path

import pytest

from releasegate.core.errors import RuleError
from releasegate.core.model import Environment, Event, Gate, Person, PersonKey, Pipeline
from releasegate.core.sshsig import read_signature
from releasegate.trust import signatures, ssh_keygen, statements

LEDGER = "1" * 40
PATCH = "CBS-2026-0042"
DIGEST = "sha256:" + "ab" * 32
AT = "2026-11-30T08:00:00.000Z"
DECIDED = {"role": "business", "decision": "approve"}
EVIDENCE = [{"path": f"patches/{PATCH}/events/0007-checklist.yaml", "sha256": "cd" * 32}]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("keys")
    made = {}
    for name, kind in (("dave", "ed25519"), ("bob", "ed25519"), ("erin", "ecdsa"),
                       ("stranger", "ed25519")):
        ssh_keygen.generate(folder / name, f"{name}@bank.example", kind)
        made[name] = folder / name
    return made


def _pipeline(keys: dict[str, Path], **windows: PersonKey) -> Pipeline:
    people = {}
    for name in ("dave", "bob", "erin"):
        line = keys[name].with_suffix(".pub").read_text(encoding="utf-8").strip()
        key = windows.get(name, PersonKey(line))
        people[name] = Person(name, name.title(), keys=(replace(key, line=line),))
    return Pipeline(version=1, timezone="UTC", environments=(Environment("prod", Gate()),),
                    people=people, roles={"business": ("dave",)})


def _event(actor: str = "dave", **changes: str) -> Event:
    fields = {"type": "signoff", "patch": PATCH, "seq": 9, "prev": "ef" * 32, "at": AT,
              "actor": actor, "digest": DIGEST, "env": "prod", "data": DECIDED,
              "path": f"patches/{PATCH}/events/0009-signoff.yaml", "sha256": "00" * 32}
    return Event(**{**fields, **changes})  # type: ignore[arg-type]


def _statement(signer: str = "dave", **changes: str) -> bytes:
    values = {"ledger": LEDGER, "patch": PATCH, "digest": DIGEST, "env": "prod",
              "signer": signer, "at": AT, **changes}
    return statements.build("signoff", decided=DECIDED, evidence=EVIDENCE, **values)


def _check(pipeline: Pipeline, statement: bytes, signature: bytes,
           event: Event | None = None) -> signatures.Checked:
    return signatures.check(pipeline, kind="signoff", event=event or _event(),
                            ledger=LEDGER, decided=DECIDED, statement=statement,
                            signature=signature)


def test_a_good_signature_counts_and_names_the_key(keys: dict[str, Path]) -> None:
    statement = _statement()
    signature = ssh_keygen.sign(statement, keys["dave"], "signoff.v1@releasegate")
    checked = _check(_pipeline(keys), statement, signature)
    assert checked.ok, checked.reason
    assert checked.reason.startswith("signed by dave with ssh-ed25519 key SHA256:")


def test_an_ecdsa_key_works(keys: dict[str, Path]) -> None:
    statement = _statement("erin")
    signature = ssh_keygen.sign(statement, keys["erin"], "signoff.v1@releasegate")
    checked = _check(_pipeline(keys), statement, signature, _event("erin"))
    assert checked.ok, checked.reason


@pytest.mark.parametrize(("signer_key", "reason"), [
    ("stranger", "which no person of the ledger holds"),
    ("bob", "made with bob's key"),
])
def test_a_key_that_is_not_the_signers_is_refused(keys: dict[str, Path], signer_key: str,
                                                  reason: str) -> None:
    statement = _statement()
    signature = ssh_keygen.sign(statement, keys[signer_key], "signoff.v1@releasegate")
    checked = _check(_pipeline(keys), statement, signature)
    assert not checked.ok and reason in checked.reason


def test_bobs_good_signature_on_a_statement_naming_dave_is_refused(
        keys: dict[str, Path]) -> None:
    statement = _statement("dave")
    signature = ssh_keygen.sign(statement, keys["bob"], "signoff.v1@releasegate")
    checked = _check(_pipeline(keys), statement, signature, _event("bob"))
    assert not checked.ok
    assert "signer is 'dave', the event says 'bob'" in checked.reason


def test_a_tampered_statement_is_refused(keys: dict[str, Path]) -> None:
    statement = _statement()
    signature = ssh_keygen.sign(statement, keys["dave"], "signoff.v1@releasegate")
    tampered = statement.replace(b'"approve"', b'"approve" ')
    checked = _check(_pipeline(keys), tampered, signature)
    assert not checked.ok and "ssh-keygen refused the signature" in checked.reason


@pytest.mark.parametrize("namespace", ["checklist.v1@releasegate", "git", "file"])
def test_the_right_key_in_another_namespace_is_refused(keys: dict[str, Path],
                                                       namespace: str) -> None:
    statement = _statement()
    signature = ssh_keygen.sign(statement, keys["dave"], namespace)
    checked = _check(_pipeline(keys), statement, signature)
    assert not checked.ok
    assert f"made for namespace '{namespace}', not 'signoff.v1@releasegate'" in checked.reason


@pytest.mark.parametrize(("window", "said"), [
    (PersonKey("", valid_before="2026-11-01"), "expired"),
    (PersonKey("", valid_after="2026-12-01T00:00:00Z"), "not yet valid"),
])
def test_a_key_outside_its_window_at_the_events_time_is_refused(
        keys: dict[str, Path], window: PersonKey, said: str) -> None:
    statement = _statement()
    signature = ssh_keygen.sign(statement, keys["dave"], "signoff.v1@releasegate")
    checked = _check(_pipeline(keys, dave=window), statement, signature)
    assert not checked.ok and "ssh-keygen refused" in checked.reason
    assert said in checked.reason


def test_a_revoked_key_fails_even_on_an_old_signature(keys: dict[str, Path]) -> None:
    statement = _statement()
    signature = ssh_keygen.sign(statement, keys["dave"], "signoff.v1@releasegate")
    line = keys["dave"].with_suffix(".pub").read_text(encoding="utf-8")
    pipeline = replace(_pipeline(keys), revoked_keys=(line,))
    checked = _check(pipeline, statement, signature)
    assert not checked.ok and "which is revoked" in checked.reason


def _with_hash(signature: bytes, algorithm: bytes) -> bytes:
    """The same SSHSIG with its hash algorithm field rewritten (built by hand)."""
    body = b"".join(signature.splitlines()[1:-1])
    blob = base64.b64decode(body)
    pos = 6 + 4
    for _ in range(3):  # public key, namespace, reserved
        pos += 4 + struct.unpack(">I", blob[pos:pos + 4])[0]
    size = struct.unpack(">I", blob[pos:pos + 4])[0]
    rebuilt = blob[:pos] + struct.pack(">I", len(algorithm)) + algorithm + \
        blob[pos + 4 + size:]
    text = base64.b64encode(rebuilt).decode()
    lines = [text[i:i + 70] for i in range(0, len(text), 70)]
    return "\n".join(["-----BEGIN SSH SIGNATURE-----", *lines,
                      "-----END SSH SIGNATURE-----", ""]).encode()


def test_an_md5_signature_is_refused_before_any_process(keys: dict[str, Path]) -> None:
    statement = _statement()
    signature = _with_hash(ssh_keygen.sign(statement, keys["dave"], "signoff.v1@releasegate"),
                           b"md5")
    assert read_signature(signature, "sig").hash_algorithm == "md5"
    checked = _check(_pipeline(keys), statement, signature)
    assert not checked.ok
    assert "made with hash md5; only sha256 or sha512 are accepted" in checked.reason


@pytest.mark.parametrize(("change", "field"), [
    ({"patch": "CBS-2026-0099"}, "patch"), ({"digest": "sha256:" + "99" * 32}, "subject"),
    ({"env": "test"}, "env"), ({"ledger": "2" * 40}, "ledger"),
    ({"at": "2026-11-29T08:00:00.000Z"}, "time"),
])
def test_a_statement_replayed_from_elsewhere_is_refused(keys: dict[str, Path],
                                                        change: dict[str, str],
                                                        field: str) -> None:
    statement = _statement(**change)
    signature = ssh_keygen.sign(statement, keys["dave"], "signoff.v1@releasegate")
    checked = _check(_pipeline(keys), statement, signature)
    assert not checked.ok
    assert "the signed statement is not this event's" in checked.reason and field in \
        checked.reason


def test_garbage_where_a_signature_belongs_is_refused(keys: dict[str, Path]) -> None:
    checked = _check(_pipeline(keys), _statement(), b"-----BEGIN SSH SIGNATURE-----\n!!\n")
    assert not checked.ok and "not an armored SSH signature" in checked.reason


def test_signing_with_another_persons_key_is_refused_when_made(keys: dict[str, Path]) -> None:
    with pytest.raises(RuleError, match="not dave's") as caught:
        signatures.sign(_pipeline(keys), kind="signoff", key=keys["bob"],
                        statement=_statement(), signer="dave")
    assert caught.value.exit_status == 2
