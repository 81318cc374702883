"""Reading an OpenSSH signature (the armored SSHSIG format of `ssh-keygen -Y sign`)
without trusting it: which key made it, for which namespace, with which hash.

Nothing here proves a signature valid; `ssh-keygen -Y verify` does that. Reading the
fields first lets releasegate name the signer from the key itself (never from a name
in the signed text), refuse a hash other than sha256 or sha512 before any process
starts, and say precisely what is wrong with a signature that does not fit.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from releasegate.core.errors import InputError

ARMOR_BEGIN = "-----BEGIN SSH SIGNATURE-----"
ARMOR_END = "-----END SSH SIGNATURE-----"
MAGIC = b"SSHSIG"
HASHES = frozenset({"sha256", "sha512"})
MAX_BYTES = 64 * 1024


@dataclass(frozen=True)
class Signature:
    """The readable fields of one SSHSIG signature."""

    key_type: str
    key_blob: bytes  # the public key as OpenSSH encodes it (what a .pub line carries)
    namespace: str
    hash_algorithm: str

    @property
    def fingerprint(self) -> str:
        """The key's fingerprint as `ssh-keygen -l` prints it (SHA256:...)."""
        digest = base64.b64encode(hashlib.sha256(self.key_blob).digest()).decode()
        return "SHA256:" + digest.rstrip("=")


def read_signature(armored: bytes, source: str) -> Signature:
    """The fields of an armored signature; InputError naming `source` when it is not one."""
    blob = _dearmor(armored, source)
    try:
        fields = _Reader(blob)
        if fields.raw(6) != MAGIC or fields.uint32() != 1:
            raise ValueError("not an SSHSIG version 1 signature")
        key_blob = fields.string()
        namespace = fields.string().decode("utf-8")
        fields.string()  # reserved
        hash_algorithm = fields.string().decode("ascii")
        fields.string()  # the signature proper
        key_type = _Reader(key_blob).string().decode("ascii")
    except (ValueError, UnicodeDecodeError, struct.error) as exc:
        raise InputError(f"not a readable SSH signature ({exc})", file=source,
                         code="bad-signature") from None
    return Signature(key_type, key_blob, namespace, hash_algorithm)


def key_blob(public_key_line: str) -> bytes | None:
    """The key blob of an OpenSSH public key line (`type base64 [comment]`), or None."""
    parts = public_key_line.split()
    if len(parts) < 2:
        return None
    try:
        blob = base64.b64decode(parts[1], validate=True)
        if _Reader(blob).string().decode("ascii") != parts[0]:
            return None
    except (binascii.Error, ValueError, UnicodeDecodeError, struct.error):
        return None
    return blob


def _dearmor(armored: bytes, source: str) -> bytes:
    if len(armored) > MAX_BYTES:
        raise InputError(f"the signature is over {MAX_BYTES} bytes", file=source,
                         code="bad-signature")
    try:
        text = armored.decode("ascii").strip()
    except UnicodeDecodeError:
        text = ""
    if not (text.startswith(ARMOR_BEGIN) and text.endswith(ARMOR_END)):
        raise InputError("not an armored SSH signature (BEGIN SSH SIGNATURE ... END)",
                         file=source, code="bad-signature")
    body = "".join(text[len(ARMOR_BEGIN):-len(ARMOR_END)].split())
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error:
        raise InputError("the SSH signature is not valid base64", file=source,
                         code="bad-signature") from None


class _Reader:
    """The SSH wire format: big-endian lengths before byte strings."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def raw(self, size: int) -> bytes:
        if self.pos + size > len(self.data):
            raise ValueError("truncated")
        out = self.data[self.pos:self.pos + size]
        self.pos += size
        return out

    def uint32(self) -> int:
        value: int = struct.unpack(">I", self.raw(4))[0]
        return value

    def string(self) -> bytes:
        return self.raw(self.uint32())
