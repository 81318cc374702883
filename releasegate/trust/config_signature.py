"""`rules.signed_config`: the configuration counts only when its last change is a git
commit signed (SSH, `gpg.format ssh`) by a person holding the `admin` role.

Whoever may change releasegate.yaml may change whom the ledger trusts; with this rule,
an unsigned change, or one signed by anyone but an admin, closes every gate until an
admin signs a commit of the configuration.
"""

from __future__ import annotations

from datetime import UTC, datetime

from releasegate.core.model import Pipeline
from releasegate.core.sshsig import read_signature
from releasegate.ledger.pipeline import CONFIG_FILE
from releasegate.ledger.store import GitStore
from releasegate.trust import ssh_keygen
from releasegate.trust.keys import allowed_signers, owner, registry, revoked_blobs, revoked_lines

ADMIN = "admin"
NAMESPACE = "git"


def config_problem(store: GitStore, pipeline: Pipeline, head: str) -> tuple[str, str | None]:
    """The commit that last changed releasegate.yaml and why it does not count (None:
    it is signed by an admin)."""
    last = store.run("log", "-1", "--format=%H", head, "--", CONFIG_FILE).decode().strip()
    if not last:
        return "", "releasegate.yaml has no commit"
    payload, signature, when = split_signed_commit(store.run("cat-file", "commit", last))
    where = f"releasegate.yaml was last changed by commit {last[:12]}"
    if signature is None:
        return last, f"{where}, which is not signed"
    try:
        sig = read_signature(signature, f"commit {last[:12]}")
    except Exception as exc:  # an unreadable signature is no signature
        return last, f"{where}, whose signature cannot be read ({exc})"
    key = owner(registry(pipeline), sig.key_blob)
    if sig.namespace != NAMESPACE or key is None or sig.key_blob in revoked_blobs(pipeline):
        return last, f"{where}, signed with key {sig.fingerprint}, which no admin holds"
    if not pipeline.holds(key.person, ADMIN):
        return last, f"{where}, signed by {key.person}, who does not hold role {ADMIN}"
    outcome = ssh_keygen.verify(payload, signature,
                                allowed_signers=allowed_signers(key, NAMESPACE),
                                principal=key.person, namespace=NAMESPACE, at=when,
                                revoked=revoked_lines(pipeline))
    if not outcome.ok:
        return last, f"{where}, whose signature does not verify: {outcome.detail}"
    return last, None


def split_signed_commit(raw: bytes) -> tuple[bytes, bytes | None, datetime]:
    """A commit object's signed payload (the commit without its gpgsig header), its
    signature, and its committer time."""
    head, _, message = raw.partition(b"\n\n")
    kept, signature, when = [], [], datetime.now(UTC)
    in_signature = False
    for line in head.split(b"\n"):
        if line.startswith(b"gpgsig "):
            in_signature = True
            signature.append(line[len(b"gpgsig "):])
            continue
        if in_signature and line.startswith(b" "):
            signature.append(line[1:])
            continue
        in_signature = False
        if line.startswith(b"committer "):
            stamp = line.rsplit(b" ", 2)[-2]
            when = datetime.fromtimestamp(int(stamp), UTC)
        kept.append(line)
    payload = b"\n".join(kept) + b"\n\n" + message
    return payload, (b"\n".join(signature) + b"\n") if signature else None, when
