"""`verify --dossier ID -o DIR`: one patch's whole record, for an auditor who checks it
offline with `sha256sum` and `ssh-keygen` alone.

DIR holds the patch's files byte for byte as committed at the head the audit read
(`events/`, `evidence/`, `signatures/`, `patch.yaml`), the `allowed_signers` and
`revoked_keys` files its signatures are checked against (the keys of everyone who
signed, with their validity windows), each promotion's recorded verdict beside the
verdict of replaying its gate as of then (`verdicts.json`), an account in English and
Chinese (`summary.en.md`, `summary.zh-CN.md`), the exact commands to check it all
(`README.md`) and a POSIX script that runs them (`verify.sh`), and `SHA256SUMS` over
every other file. Whether the patch verifies is the audit's word (`verify_ledger`):
its findings for the patch are listed in the summaries and decide the exit status.

Nothing lands in DIR half-written: the files go into a hidden sibling folder, renamed
to DIR at the end; a DIR that exists and is not an empty folder, or is a symbolic
link, is refused before anything is read.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from releasegate.actions.audit import SIGNED_KINDS, Audit, verify_ledger
from releasegate.actions.dossier_summary import summary
from releasegate.core.errors import InputError, ReleasegateError, UsageError
from releasegate.core.model import Event, Pipeline
from releasegate.ledger.events import PATCHES, parse_event, seq_of
from releasegate.ledger.snapshot import Snapshot
from releasegate.ledger.store import Commit
from releasegate.ledger.transaction import Ledger
from releasegate.trust.dossier_checks import script, sha256sums
from releasegate.trust.dossier_readme import readme
from releasegate.trust.dossier_record import (
    SAFE_PATH,
    EventRow,
    PromotionRow,
    Record,
    SignedRow,
)
from releasegate.trust.history_rules import ERROR, Finding

LANGUAGES = ("en", "zh-CN")
SUMS = "SHA256SUMS"
_FOLDERS = ("events", "evidence", "signatures")  # kept as they lie in the patch folder


@dataclass
class Dossier:
    """What `write_dossier` wrote, for the command's report."""

    patch: str
    folder: Path
    ledger: str
    head: str
    files: int
    events: int
    signatures: int
    promotions: int
    sha256sums: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(f.severity == ERROR for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "patch": self.patch, "dossier": str(self.folder),
                "ledger": self.ledger, "head": self.head, "files": self.files,
                "events": self.events, "signatures": self.signatures,
                "promotions": self.promotions, "sha256sums": self.sha256sums,
                "findings": [f.to_dict() for f in self.findings]}


# -- the act -----------------------------------------------------------------------------------

def write_dossier(ledger: Ledger, patch: str, out: Path, *,
                  accept_rewrite: bool = False) -> tuple[Dossier, list[str]]:
    """Audit the ledger and write patch `patch`'s dossier into `out`, which must not
    exist or be an empty folder. The dossier is written whether or not the patch
    verifies; `Dossier.ok` says which."""
    folder = Path(os.path.abspath(out))
    _refuse_taken(folder)
    audit, warnings = verify_ledger(ledger, accept_rewrite=accept_rewrite)
    snap = Snapshot(ledger.store, audit.head)  # the head the audit read, whatever moved
    pid = ledger.resolve_patch(snap, patch)
    record = gather(ledger, snap, pid, audit)
    files = render(record)
    sums = sha256sums(files)
    files[SUMS] = sums
    _publish(folder, files)
    return Dossier(pid, folder, record.ledger, record.head, len(files), len(record.events),
                   len(record.signed), len(record.promotions),
                   hashlib.sha256(sums).hexdigest(), record.findings), warnings


def gather(ledger: Ledger, snap: Snapshot, pid: str, audit: Audit) -> Record:
    """The patch's files, events, signatures and promotions at the snapshot, with the
    audit's findings for it."""
    from releasegate.core.clock import now, stamp
    from releasegate.ledger.pipeline import load_pipeline
    from releasegate.trust.keys import NAMESPACES, allowed_signers, registry, revoked_lines

    prefix = f"{PATCHES}/{pid}/"
    paths = sorted(snap.paths(prefix.rstrip("/")))
    raw = snap.read_many(paths)
    files = {_dossier_path(p.removeprefix(prefix)): raw[p] for p in paths if p in raw}
    pipeline = load_pipeline(snap)
    events = _event_rows(prefix, [p for p in paths if p.startswith(prefix + "events/")], raw)
    signed = [_signed_row(snap, pipeline, audit.ledger, prefix, row.event, files)
              for row in events if row.event is not None and row.event.type in SIGNED_KINDS
              and isinstance(row.event.data.get("signature"), Mapping)]
    signers = {row.signer for row in signed}
    keys = sorted((k for k in registry(pipeline) if k.person in signers), key=lambda k: k.person)
    namespaces = ",".join(NAMESPACES.values())
    findings = [f for f in audit.findings
                if f.patch == pid or (f.file or "").startswith(prefix)]
    manifest, digest, artifacts, env = _patch_facts(snap, pid, files, events)
    return Record(
        patch=pid, ledger=audit.ledger, head=snap.head or "", written_at=stamp(now()),
        pipeline=pipeline, files=files, events=events, signed=signed,
        promotions=_promotions(ledger, snap, prefix, events), findings=findings,
        allowed_signers="".join(allowed_signers(k, namespaces) for k in keys),
        revoked_keys="".join(f"{line}\n" for line in revoked_lines(pipeline)),
        manifest=manifest, digest=digest, artifacts=artifacts, env=env)


def _dossier_path(relative: str) -> str:
    """Where a file of the patch folder lies in the dossier: events/, evidence/ and
    signatures/ and patch.yaml as they are, anything else under other/."""
    if not SAFE_PATH.fullmatch(relative):
        raise InputError(f"the patch folder holds a file whose name a dossier cannot list: "
                         f"{relative!r}", code="ledger-corrupt",
                         hint="rename or remove it with git and commit")
    top, _, rest = relative.partition("/")
    if relative == "patch.yaml" or (top in _FOLDERS and rest):
        return relative
    return f"other/{relative}"


def _event_rows(prefix: str, paths: list[str], raw: Mapping[str, bytes]) -> list[EventRow]:
    rows: list[EventRow] = []
    previous: str | None = None
    for path in sorted(paths, key=seq_of):
        data = raw.get(path, b"")
        sha = hashlib.sha256(data).hexdigest()
        try:
            event: Event | None = parse_event(path, data, None, chained=False)
            problem = None
        except ReleasegateError as exc:
            event, problem = None, exc.message
        chained = event is not None and event.prev == previous
        rows.append(EventRow(path.removeprefix(prefix), sha, event, problem, chained))
        previous = sha
    return rows


def _signed_row(snap: Snapshot, pipeline: Pipeline, ledger_id: str, prefix: str, event: Event,
                files: Mapping[str, bytes]) -> SignedRow:
    """The audit's own check of one signed event (`trust.signatures.check` against the
    head's key registry), and where its files lie in the dossier."""
    from releasegate.core.sshsig import read_signature
    from releasegate.trust.keys import NAMESPACES
    from releasegate.trust.signatures import check
    from releasegate.trust.statements import decided
    from releasegate.trust.stored import read_signed

    record = event.data["signature"]
    where = {}
    for name in ("statement", "signature"):
        path = str(record.get(name) or "")
        where[name] = (path.removeprefix(prefix) if path.startswith(prefix + "signatures/")
                       and path.removeprefix(prefix) in files else None)
    fingerprint, key_type = record.get("key"), None
    if where["signature"] is not None:
        try:
            sig = read_signature(files[where["signature"]], where["signature"])
            fingerprint, key_type = sig.fingerprint, sig.key_type
        except InputError:
            pass
    try:
        statement, signature = read_signed(snap, event)
        checked = check(pipeline, kind=event.type, event=event, ledger=ledger_id,
                        decided=decided(event.type, event.data), statement=statement,
                        signature=signature)
        ok, reason = checked.ok, checked.reason
    except ReleasegateError as exc:
        ok, reason = False, exc.message
    return SignedRow(event.path.removeprefix(prefix), where["statement"], where["signature"],
                     event.actor, event.type, NAMESPACES[event.type], event.at,
                     str(fingerprint) if fingerprint else None, key_type, ok, reason)


def _patch_facts(snap: Snapshot, pid: str, files: Mapping[str, bytes], events: list[EventRow]
                 ) -> tuple[dict[str, Any], str | None, list[dict[str, Any]], str | None]:
    """The manifest as submitted, the current digest and artifacts, and the environment
    the patch is in: folded when its events fold, else read from the events themselves."""
    from releasegate.actions.common import fold_patch
    from releasegate.config.strict_yaml import load_yaml_fast

    manifest: dict[str, Any] = {}
    try:
        loaded = load_yaml_fast(files.get("patch.yaml", b""), "patch.yaml")
        manifest = dict(loaded) if isinstance(loaded, Mapping) else {}
    except ReleasegateError:
        pass
    delivered = [r.event for r in events if r.event is not None
                 and r.event.type in ("submitted", "revised")]
    artifacts = list(delivered[-1].data.get("artifacts") or []) if delivered else []
    try:
        state = fold_patch(snap, pid)
    except ReleasegateError:
        promoted = [r.event for r in events if r.event is not None
                    and r.event.type == "promoted"]
        return (manifest, delivered[-1].digest if delivered else None, artifacts,
                promoted[-1].env if promoted else None)
    return (manifest, state.digest,
            [{"name": a.name, "size": a.size, "sha256": a.sha256} for a in state.artifacts],
            state.env)


def _promotions(ledger: Ledger, snap: Snapshot, prefix: str,
                events: list[EventRow]) -> list[PromotionRow]:
    """Each promotion with its recorded verdict and the audit's replay of its gate as of
    then (`replay_promotion`), beside the verdict that replay judges by."""
    from releasegate.actions.replay import replay_promotion

    added: dict[str, Commit] = {}
    if snap.head is not None:
        for change in ledger.store.history(snap.head, [prefix + "events/"]):
            for status, path in change.changes:
                if status == "A":
                    added.setdefault(path, change)
    rows = []
    for row in events:
        event = row.event
        if event is None or event.type != "promoted":
            continue
        commit = added.get(event.path)
        verdict = event.data.get("verdict")
        recorded = [dict(c) if isinstance(c, Mapping) else {"detail": str(c)} for c in verdict] \
            if isinstance(verdict, list) else None
        if commit is None:
            problem: str | None = "no commit of the ledger's history added this event"
            replayed = None
        else:
            problem, replayed = replay_promotion(ledger, snap, commit, event)
        rows.append(PromotionRow(row.path, event.seq, event.data.get("from"), event.env,
                                 event.at, event.actor, event.digest,
                                 commit.sha if commit else None, recorded, replayed, problem))
    return rows


# -- writing it ---------------------------------------------------------------------------------

def _refuse_taken(folder: Path) -> None:
    hint = "choose a new folder, or an empty one"
    if folder.is_symlink():
        raise UsageError(f"{folder} is a symbolic link; a dossier is written only into a "
                         "folder of its own", code="symlink", hint=hint)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} exists and is not a folder", code="not-empty", hint=hint)
    if folder.is_dir() and any(folder.iterdir()):
        raise UsageError(f"{folder} is not empty; a dossier is never written among other "
                         "files", code="not-empty", hint=hint)
    if not folder.parent.is_dir():
        raise InputError(f"cannot write the dossier: {folder.parent} is not a folder",
                         file=str(folder), code="unwritable-dir",
                         hint="create the folder above it first")


def _publish(folder: Path, files: Mapping[str, bytes]) -> None:
    """Write `files` into a hidden sibling of `folder`, then rename it to `folder` (which
    may be an empty folder: rename replaces that). Anything failing removes the sibling."""
    partial = folder.parent / f".{folder.name}.partial-{secrets.token_hex(4)}"
    try:
        os.mkdir(partial)
        for path, data in sorted(files.items()):
            target = partial / path
            target.parent.mkdir(parents=True, exist_ok=True)
            mode = 0o777 if path == "verify.sh" else 0o666  # less the umask
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        _refuse_taken(folder)
        os.rename(partial, folder)
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        if folder.is_dir() and any(folder.iterdir()):
            raise UsageError(f"{folder} is not empty; a dossier is never written among "
                             "other files", code="not-empty") from None
        raise InputError(f"cannot write the dossier: {exc.strerror or exc}", file=str(folder),
                         code="unwritable-dir",
                         hint="choose a folder you may write to") from None
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise



def render(record: Record) -> dict[str, bytes]:
    """Every file of the dossier but SHA256SUMS."""
    files = dict(record.files)
    files["allowed_signers"] = record.allowed_signers.encode("utf-8")
    files["revoked_keys"] = record.revoked_keys.encode("utf-8")
    verdicts = {"patch": record.patch, "ledger": record.ledger, "head": record.head,
                "promotions": [p.to_dict() for p in record.promotions]}
    files["verdicts.json"] = (json.dumps(verdicts, ensure_ascii=False, indent=2)
                              + "\n").encode("utf-8")
    for lang in LANGUAGES:
        files[f"summary.{lang}.md"] = summary(record, lang).encode("utf-8")
    files["README.md"] = readme(record).encode("utf-8")
    files["verify.sh"] = script(record).encode("utf-8")
    return files



__all__ = ["Dossier", "Record", "gather", "readme", "render", "script", "sha256sums",
           "summary", "write_dossier"]
