"""The one adapter to OpenSSH's `ssh-keygen`: signing statements, verifying them against
an allowed-signers file written for that one check, and making keys (for the demo).

ssh-keygen runs by its absolute path, never through a shell, with inputs in a private
temporary folder and a time limit. The allowed-signers file is built from the
ledger's registry for each check, never taken from the user's own configuration.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from releasegate.core.errors import InputError, UsageError

TIMEOUT = 30.0  # seconds one ssh-keygen may take


@dataclass(frozen=True)
class Outcome:
    ok: bool
    detail: str  # what ssh-keygen said, in one line


def program() -> str:
    """The absolute path of ssh-keygen; UsageError when it is not installed."""
    found = shutil.which("ssh-keygen")
    if found is None:
        raise UsageError("ssh-keygen is not installed; releasegate signs and verifies with it",
                         code="no-ssh-keygen",
                         hint="install OpenSSH's client (Debian: apt-get install openssh-client)")
    return str(Path(found).resolve())


def sign(data: bytes, key: Path, namespace: str) -> bytes:
    """The armored signature of `data` by `key` (a private key file, or a public key
    whose private half is in ssh-agent) in `namespace`."""
    done = _run(["-Y", "sign", "-f", str(key), "-n", namespace, "-O", "hashalg=sha512"],
                data)
    if done.returncode != 0 or b"BEGIN SSH SIGNATURE" not in done.stdout:
        raise InputError(f"ssh-keygen could not sign with {key}: {_said(done.stderr)}",
                         file=str(key), code="cannot-sign",
                         hint="give a private key without a passphrase, or load the key "
                              "into ssh-agent and give its .pub file")
    return done.stdout


def verify(data: bytes, signature: bytes, *, allowed_signers: str, principal: str,
           namespace: str, at: datetime, revoked: Sequence[str] = ()) -> Outcome:
    """Whether `signature` is a good signature of `data` in `namespace` by a key that
    `allowed_signers` lists for `principal`, valid at `at` and not in `revoked`."""
    with tempfile.TemporaryDirectory(prefix="releasegate-verify-") as folder:
        base = Path(folder)
        (base / "allowed").write_text(allowed_signers, encoding="utf-8")
        (base / "sig").write_bytes(signature)
        args = ["-Y", "verify", "-f", str(base / "allowed"), "-I", principal, "-n", namespace,
                "-s", str(base / "sig"), "-O", f"verify-time={at:%Y%m%d%H%M%S}Z"]
        if revoked:
            (base / "revoked").write_text("".join(f"{k}\n" for k in revoked), encoding="utf-8")
            args += ["-r", str(base / "revoked")]
        done = _run(args, data)
    said = _said(done.stdout + b"\n" + done.stderr)
    return Outcome(done.returncode == 0 and b"Good " in done.stdout, said)


def generate(path: Path, comment: str, kind: str = "ed25519") -> str:
    """A new key pair without a passphrase at `path` (and `path`.pub); its public line."""
    done = _run(["-q", "-t", kind, "-N", "", "-C", comment, "-f", str(path)], b"")
    if done.returncode != 0:
        raise InputError(f"ssh-keygen could not make a key at {path}: {_said(done.stderr)}",
                         code="cannot-sign")
    return path.with_name(path.name + ".pub").read_text(encoding="utf-8").strip()


def _run(args: list[str], data: bytes) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run([program(), *args], input=data, capture_output=True,
                              timeout=TIMEOUT, env={**os.environ, "LC_ALL": "C"})
    except subprocess.TimeoutExpired:
        raise InputError(f"ssh-keygen did not finish within {TIMEOUT:.0f} s (is it asking "
                         "for a passphrase?)", code="cannot-sign",
                         hint="use a key without a passphrase, or one loaded in ssh-agent") \
            from None


def _said(output: bytes) -> str:
    lines = [" ".join(line.split()) for line in output.decode("utf-8", "replace").splitlines()]
    text = "; ".join(line for line in lines if line and line != "Signing data on standard input")
    return "".join(c if c.isprintable() else " " for c in text)[:300]
