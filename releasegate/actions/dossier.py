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
import re
import secrets
import shlex
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from releasegate.actions.audit import SIGNED_KINDS, Audit, verify_ledger
from releasegate.core.errors import InputError, ReleasegateError, UsageError
from releasegate.core.model import Event, Pipeline, Verdict
from releasegate.ledger.events import PATCHES, parse_event, seq_of
from releasegate.ledger.snapshot import Snapshot
from releasegate.ledger.store import Commit
from releasegate.ledger.transaction import Ledger
from releasegate.trust.history_rules import ERROR, Finding

LANGUAGES = ("en", "zh-CN")
SUMS = "SHA256SUMS"
_FOLDERS = ("events", "evidence", "signatures")  # kept as they lie in the patch folder
# Names a dossier lists as they are in SHA256SUMS and in sh: no control characters, no
# backslash, no quote (what releasegate itself names is letters, digits, . _ -).
_SAFE_PATH = re.compile(r"[^\x00-\x1f\x7f-\x9f\\'\"`$]+")


# -- what the dossier records ----------------------------------------------------------------

@dataclass(frozen=True)
class EventRow:
    """One event file of the patch, in order, read on its own (a broken chain or a file
    that is no event is shown, not fatal)."""

    path: str  # in the dossier: events/0001-submitted.yaml
    sha256: str
    event: Event | None
    problem: str | None  # why the file cannot be read as an event
    chained: bool  # its prev is the sha256 of the file before it (null for the first)


@dataclass(frozen=True)
class SignedRow:
    """One signed event's statement and signature, and whether the signature counts."""

    event: str  # dossier path of the event
    statement: str | None  # dossier paths; None when not stored with the patch
    signature: str | None
    signer: str
    kind: str
    namespace: str
    at: str
    fingerprint: str | None
    key_type: str | None
    ok: bool
    reason: str  # who signed with which key, or why it does not count

    @property
    def verify_time(self) -> str:
        """The event's time as ssh-keygen's verify-time takes it (releasegate's check)."""
        from releasegate.core.clock import parse_stamp

        try:
            return f"{parse_stamp(self.at):%Y%m%d%H%M%S}Z"
        except ValueError:
            return "00000000000000Z"


@dataclass(frozen=True)
class PromotionRow:
    event: str
    seq: int
    source: str | None
    target: str | None
    at: str
    actor: str
    digest: str
    commit: str | None
    recorded: list[dict[str, Any]] | None
    replayed: Verdict | None
    problem: str | None  # what the audit's replay found wrong; None: the gate was open

    @property
    def recorded_open(self) -> bool | None:
        if self.recorded is None:
            return None
        return all(isinstance(c, Mapping) and c.get("status") != "fail" for c in self.recorded)

    @property
    def agrees(self) -> bool:
        return (self.problem is None and self.replayed is not None
                and self.replayed.open == self.recorded_open)

    def to_dict(self) -> dict[str, Any]:
        return {"event": self.event, "seq": self.seq, "from": self.source,
                "to": self.target, "at": self.at, "actor": self.actor,
                "digest": self.digest, "commit": self.commit,
                "recorded": None if self.recorded is None else
                {"open": self.recorded_open, "conditions": self.recorded},
                "replayed": None if self.replayed is None else
                {"open": self.replayed.open,
                 "conditions": [c.to_dict() for c in self.replayed.conditions]},
                "replay_problem": self.problem, "agrees": self.agrees}


@dataclass
class Record:
    """Everything the dossier's own files are made from."""

    patch: str
    ledger: str
    head: str
    written_at: str
    pipeline: Pipeline
    files: dict[str, bytes]  # the patch's files by dossier path
    events: list[EventRow]
    signed: list[SignedRow]
    promotions: list[PromotionRow]
    findings: list[Finding]
    allowed_signers: str
    revoked_keys: str
    manifest: dict[str, Any]
    digest: str | None
    artifacts: list[dict[str, Any]]
    env: str | None

    @property
    def ok(self) -> bool:
        return not any(f.severity == ERROR for f in self.findings)


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
    if not _SAFE_PATH.fullmatch(relative):
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
            problem = replay_promotion(ledger, commit, event)
            replayed = _verdict_then(ledger, commit, event)
        rows.append(PromotionRow(row.path, event.seq, event.data.get("from"), event.env,
                                 event.at, event.actor, event.digest,
                                 commit.sha if commit else None, recorded, replayed, problem))
    return rows


def _verdict_then(ledger: Ledger, commit: Commit, event: Event) -> Verdict | None:
    """The verdict `replay_promotion` judges by: the gate evaluated on the ledger just
    before the promotion's commit, at the promotion's recorded time."""
    from releasegate.actions.common import fold_patch
    from releasegate.actions.gate import evaluate_then
    from releasegate.core.clock import parse_stamp
    from releasegate.ledger.pipeline import load_pipeline

    parent = ledger.store.resolve(f"{commit.sha}^")
    if parent is None or event.env is None:
        return None
    snap = Snapshot(ledger.store, parent)
    try:
        pipeline = load_pipeline(snap)
        state = fold_patch(snap, event.patch)
        verdict, _ = evaluate_then(ledger, snap, pipeline, state, event.env,
                                   parse_stamp(event.at))
    except (ReleasegateError, ValueError):
        return None
    return verdict


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


def sha256sums(files: Mapping[str, bytes]) -> bytes:
    """`sha256sum -c` input over `files`, in path order."""
    return "".join(f"{hashlib.sha256(data).hexdigest()}  {path}\n"
                   for path, data in sorted(files.items())).encode("utf-8")


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


# -- the checks, as commands ------------------------------------------------------------------

def ssh_command(row: SignedRow) -> str:
    """The ssh-keygen command that checks one signature as releasegate does: the
    person the event names, the namespace of its kind, revoked keys refused, and each
    key's validity window taken at the event's time."""
    return (f"ssh-keygen -Y verify -f allowed_signers -I {shlex.quote(row.signer)} "
            f"-n {row.namespace} -r revoked_keys -O verify-time={row.verify_time} "
            f"-s {shlex.quote(row.signature or '')} < {shlex.quote(row.statement or '')}")


def _evidence_bindings(record: Record) -> list[tuple[str, str, str]]:
    """(event, field, evidence file) for each raw JUnit file and summary that a tests
    event records by sha256."""
    found = []
    for row in record.events:
        if row.event is None or row.event.type != "tests":
            continue
        for item in row.event.data.get("files") or []:
            if not isinstance(item, Mapping) or not isinstance(item.get("sha256"), str):
                continue
            found.append((row.path, "sha256", f"evidence/{item['sha256']}.xml"))
            if item.get("summary_sha256"):
                found.append((row.path, "summary_sha256", f"evidence/{item['sha256']}.json"))
    return [b for b in found if _SAFE_PATH.fullmatch(b[2])]


def _proxy_evidence(record: Record) -> list[tuple[str, str, str]]:
    """(event, field, evidence file) for the e-mail, PDF or screenshot each proxy
    sign-off records by sha256."""
    prefix = f"{PATCHES}/{record.patch}/"
    found = []
    for row in record.events:
        proxy = row.event.data.get("proxy") if row.event is not None else None
        if row.event is None or row.event.type != "signoff" or not isinstance(proxy, Mapping):
            continue
        path = str(proxy.get("evidence") or "")
        if path.startswith(prefix + "evidence/") and _SAFE_PATH.fullmatch(path):
            found.append((row.path, "evidence_sha256", path.removeprefix(prefix)))
    return found


SCRIPT_HEAD = """\
#!/bin/sh
# verify.sh: checks this audit dossier of {patch} offline, with sha256sum and
# ssh-keygen only (no releasegate, no network): sh verify.sh
# Exit status 0 when every check passes, 1 when any fails. README.md explains each one.
set -u
cd "$(dirname "$0")" || exit 2
ledger={ledger}  # the ledger's first commit, which every statement names
failed=0
report() {{  # report STATUS CLAIM: OK or FAIL, and the claim checked
  if [ "$1" -eq 0 ]; then printf 'OK    %s\\n' "$2"
  else printf 'FAIL  %s\\n' "$2"; failed=$((failed + 1)); fi
}}
sha() {{  # sha FILE: its sha256
  sha256sum < "$1" | cut -d ' ' -f 1
}}
value() {{  # value EVENT NAME: the value of the event's NAME line, without quotes
  sed -n "s/^$2: *'\\{{0,1\\}}\\([^']*\\)'\\{{0,1\\}}\\$/\\1/p" "$1"
}}
chained() {{  # chained EVENT PREVIOUS: EVENT's prev is the sha256 of PREVIOUS
  [ -f "$1" ] && [ -f "$2" ] && [ "$(value "$1" prev)" = "$(sha "$2")" ]
}}
records() {{  # records EVENT FIELD FILE: EVENT records FILE's sha256 as FIELD
  [ -f "$1" ] && [ -f "$3" ] && grep -Eq "^[ -]*$2: '?$(sha "$3")'?\\$" "$1"
}}
names() {{  # names STATEMENT EVENT NAME...: the statement names each NAME as the event has it
  statement=$1 event=$2
  shift 2
  [ -f "$statement" ] && [ -f "$event" ] || return 1
  for name; do
    case $name in
      ledger) want=$ledger ;;
      signer) want=$(value "$event" actor) ;;
      time) want=$(value "$event" at) ;;
      sha256) want=$(value "$event" digest | sed 's/^sha256://') ;;
      *) want=$(value "$event" "$name") ;;
    esac
    [ -n "$want" ] && grep -Fq "\\"$name\\":\\"$want\\"" "$statement" || return 1
  done
}}
"""
# What each kind's statement must name as its event has it, beyond the common fields.
_NAMED = {"signoff": ("role", "decision"), "checklist": ("template",), "waiver": ()}
_COMMON = ("ledger", "patch", "sha256", "env", "signer", "time")


def script(record: Record) -> str:
    q = shlex.quote
    lines = [SCRIPT_HEAD.format(patch=record.patch, ledger=q(record.ledger)),
             "echo '== 1. every file of the dossier against SHA256SUMS'",
             "sha256sum -c SHA256SUMS", "report $? 'every file matches SHA256SUMS'",
             "", "echo '== 2. each signature, as releasegate checks it'"]
    for row in record.signed:
        claim = f"signature {_stem(row)} by {row.signer} ({row.namespace})"
        if row.statement is None or row.signature is None:
            lines.append(f"report 1 {q(claim + ': not stored with the patch')}")
            continue
        lines += [ssh_command(row), f"report $? {q(claim)}"]
    if not record.signed:
        lines.append("echo 'no event of this patch is signed'")
    lines += ["", "echo '== 3. each statement and signature is the one its event records, "
                  "and the statement names that event'"]
    for row in record.signed:
        for name, path in (("statement_sha256", row.statement),
                           ("signature_sha256", row.signature)):
            if path is not None:
                lines += [f"records {q(row.event)} {name} {q(path)}",
                          f"report $? {q(f'{row.event} records the sha256 of {path}')}"]
        if row.statement is not None:
            named = (*_COMMON, *_NAMED.get(row.kind, ()))
            claim = f"{row.statement} names what {row.event} records: {', '.join(named)}"
            lines += [f"names {q(row.statement)} {q(row.event)} {' '.join(named)}",
                      f"report $? {q(claim)}"]
    lines += ["", "echo '== 4. the hash chain: each prev is the sha256 of the event before'"]
    for i, each in enumerate(record.events):
        if i == 0:
            lines += [f"[ \"$(value {q(each.path)} prev)\" = null ]",
                      f"report $? {q(f'{each.path}: its prev is null, the start of the chain')}"]
        else:
            before = record.events[i - 1].path
            lines += [f"chained {q(each.path)} {q(before)}",
                      f"report $? {q(f'{each.path}: its prev is the sha256 of {before}')}"]
    lines += ["", "echo '== 5. evidence: each file is the one its event records'"]
    for event, name, path in [*_evidence_bindings(record), *_proxy_evidence(record)]:
        lines += [f"records {q(event)} {name} {q(path)}",
                  f"report $? {q(f'{event} records the sha256 of {path}')}"]
    lines += ["", 'if [ "$failed" -eq 0 ]; then echo "ALL CHECKS PASSED"; exit 0; fi',
              'echo "$failed CHECK(S) FAILED"', "exit 1", ""]
    return "\n".join(lines)


def _stem(row: SignedRow) -> str:
    path = row.signature or row.statement or row.event
    return path.rsplit(".", 1)[0]


# -- README.md ------------------------------------------------------------------------------------

README_EN = """\
# Audit dossier of {patch}: how to check it

This folder is the complete record of patch {patch} in the releasegate ledger
`{ledger}`, as committed at `{head}`, written at {written} (UTC). Everything in it
can be checked offline, without releasegate, from a shell in this folder, with
`sha256sum` (GNU coreutils) and `ssh-keygen` (OpenSSH, one that knows `-Y verify` and
`-O verify-time`). `sh verify.sh` runs every check below and ends with
`ALL CHECKS PASSED` (exit status 0), or names each check that failed (exit status 1).
The account of the patch is in `summary.en.md` (Chinese: `summary.zh-CN.md`).

## What is here

- `summary.en.md`, `summary.zh-CN.md`: the account of the patch, each event, each
  signature, each promotion and the audit's findings
- `events/`: the patch's event files, byte for byte as in the ledger
- `evidence/`: the raw JUnit files, named by their sha256, their stored summaries, and
  the evidence of sign-offs recorded on an approver's behalf
- `signatures/`: each signed event's statement (`.json`, canonical JSON) and its SSH
  signature (`.sig`)
- `patch.yaml`: the patch's manifest, as submitted
- `allowed_signers`: the public keys of everyone who signed, with namespaces and
  validity windows as releasegate checks them
- `revoked_keys`: the keys the ledger revoked; no signature by them counts
- `verdicts.json`: each promotion's recorded verdict, and the verdict of its gate
  replayed as of then
- `verify.sh`: runs all of the checks below (POSIX sh)
- `SHA256SUMS`: the sha256 of every other file

## 1. Every file is as it was written

```sh
sha256sum -c SHA256SUMS
```

Every line must end in `OK`. SHA256SUMS cannot name its own sha256: releasegate
printed it when it wrote the dossier. Ask whoever handed the dossier over for it, and
compare with `sha256sum SHA256SUMS`.

## 2. Each signature is good

One command per signed statement. Each must print
`Good "<namespace>" signature for <person> with <key type> key <fingerprint>` and exit 0:

```sh
{ssh_commands}
```

`-I` is the person the event names: only that person's keys in `allowed_signers`
count. `-n` is the namespace of the statement's kind (`signoff.v1@releasegate`,
`checklist.v1@releasegate`, `waiver.v1@releasegate`), so a signature made for one
purpose never counts for another. `-r revoked_keys` refuses revoked keys, even for old
signatures. `-O verify-time=` checks each key's `valid-after`/`valid-before` window at
the time the event records, as releasegate does, not today.

## 3. Each statement is the one its event records

Each signed event records the sha256 of its statement and of its signature
(`statement_sha256`, `signature_sha256`); the two lines each pair of commands prints
must show the same hashes:

```sh
{binding_commands}
```

The statement (`signatures/*.json`, canonical JSON) names the ledger (`{ledger}`,
the ledger's first commit), the patch and its digest, the environment, the signer, the
time and what was decided; each must be what its event says. `verify.sh` compares the
ledger, patch, digest, environment, signer and time (and a sign-off's role and
decision, a checklist's template) with the event's own lines, for example:

```sh
{names_example}
```

## 4. The hash chain

Each event's `prev` is the sha256 of the event file before it; the first event's
`prev` is `null`. Each line below prints a hash and then a `prev:` line that must show
the same hash:

```sh
{chain_commands}
```

No later event names the newest one. To check it, compare it with the ledger itself:
`git -C <ledger> show {head}:{folder}/{newest} | sha256sum` must print the sha256 that
`sha256sum {newest}` prints here.

## 5. The evidence

Each raw JUnit file is named by its sha256, which its `tests` event records as
`sha256`; its stored summary's sha256 is recorded as `summary_sha256`. The evidence of
a sign-off recorded on the approver's behalf (an e-mail, a PDF, a screenshot) is named
by its sha256 too, which the sign-off records as `evidence_sha256`:

```sh
{evidence_commands}
```
"""

README_ZH = """\
## 中文说明

本文件夹是补丁 {patch} 在 releasegate 发布台账 `{ledger}` 中的完整记录，取自提交
`{head}`，生成于 {written}（UTC）。其中每一项都可以离线核验，无需安装 releasegate：
在本文件夹中打开终端，使用 `sha256sum`（GNU coreutils）和 `ssh-keygen`（OpenSSH，
需支持 `-Y verify` 和 `-O verify-time`）即可。运行 `sh verify.sh` 会依次执行下列全部
检查：全部通过时最后一行为 `ALL CHECKS PASSED`（退出码 0）；否则逐条列出未通过的
检查（以 `FAIL` 开头，退出码 1）。补丁的完整说明见 `summary.zh-CN.md`。

### 文件清单

- `summary.zh-CN.md`、`summary.en.md`：审计说明，包括补丁概况、全部事件、电子签名、
  环境推进及审计发现
- `events/`：补丁的全部事件文件，与台账中的文件逐字节一致
- `evidence/`：原始 JUnit 测试结果（以其 sha256 命名）及其统计摘要，以及代为登记的审批所附凭证
- `signatures/`：每个已签名事件的签名声明（`.json`，规范化 JSON）及 SSH 签名（`.sig`）
- `patch.yaml`：补丁登记时提交的清单
- `allowed_signers`：全部签名人的公钥，命名空间和有效期与 releasegate 核验时一致
- `revoked_keys`：台账已吊销的公钥，由这些密钥作出的签名一律无效
- `verdicts.json`：每次环境推进时记录的准入结论，以及按当时情况重新复核的结论
- `verify.sh`：执行下列全部检查的脚本（POSIX sh）
- `SHA256SUMS`：其余每个文件的 sha256

### 第一步：核对文件完整性

```sh
sha256sum -c SHA256SUMS
```

每一行都应以 `OK` 结尾。SHA256SUMS 无法包含其自身的 sha256：releasegate 在生成本档案时
已将其输出，请向移交本档案的人员索取该值，并与 `sha256sum SHA256SUMS` 的结果比对。

### 第二步：逐一核验电子签名

每份签名声明对应一条命令。每条命令都应输出
`Good "<命名空间>" signature for <签名人> with <密钥类型> key <指纹>`，且退出码为 0：

```sh
{ssh_commands}
```

`-I` 为事件记载的操作人，只有 `allowed_signers` 中属于此人的密钥才有效；`-n` 为该类
声明的签名用途（命名空间：审批 `signoff.v1@releasegate`、检查单
`checklist.v1@releasegate`、豁免 `waiver.v1@releasegate`），为某一用途作出的签名不能
挪作他用；`-r revoked_keys` 拒绝已吊销的密钥，即使签名早于吊销；`-O verify-time=` 按
事件记载的时间（而非今天）核对密钥的有效期（`valid-after`/`valid-before`），与
releasegate 的做法一致。

### 第三步：核对签名声明与事件的对应关系

每个已签名事件都记载了其签名声明和签名文件的 sha256（`statement_sha256`、
`signature_sha256`）。下列每组命令输出的两个哈希值应当一致：

```sh
{binding_commands}
```

签名声明（`signatures/*.json`，规范化 JSON）载明台账（`{ledger}`，即台账的首个提交）、
补丁及其摘要、环境、签名人、时间和决定内容，各项应与对应事件一致。`verify.sh` 会将台账、
补丁、摘要、环境、签名人和时间（审批另含角色与决定，检查单另含模板）与事件文件逐项比对，
例如：

```sh
{names_example}
```

### 第四步：核对哈希链

每个事件的 `prev` 字段应等于前一个事件文件的 sha256，第一个事件的 `prev` 为 `null`。
下列每一行先输出一个哈希值，再输出一行 `prev:`，两者应当相同：

```sh
{chain_commands}
```

最新的事件没有后续事件记载其哈希，请与台账本身比对：
`git -C <台账目录> show {head}:{folder}/{newest} | sha256sum` 的输出应与本文件夹中
`sha256sum {newest}` 的输出相同。

### 第五步：核对测试证据

每个原始 JUnit 文件以其 sha256 命名，该值记载在对应的 `tests` 事件中（`sha256`）；
其统计摘要的 sha256 记载为 `summary_sha256`。代为登记的审批所附凭证（邮件、PDF 或截图）
同样以其 sha256 命名，该值记载在审批事件中（`evidence_sha256`）：

```sh
{evidence_commands}
```
"""


def readme(record: Record) -> str:
    q = shlex.quote
    ssh = [ssh_command(r) for r in record.signed if r.statement and r.signature]
    bindings = [f"sha256sum {q(r.statement)} {q(r.signature)}; "
                f"grep -E '^ *(statement|signature)_sha256:' {q(r.event)}"
                for r in record.signed if r.statement and r.signature]
    chain = []
    for i, row in enumerate(record.events):
        if i == 0:
            chain.append(f"grep '^prev:' {q(row.path)}")
        else:
            chain.append(f"sha256sum {q(record.events[i - 1].path)}; "
                         f"grep '^prev:' {q(row.path)}")
    evidence = [f"sha256sum {q(path)}; grep -E '^[ -]*{name}: ' {q(event)}"
                for event, name, path in [*_evidence_bindings(record), *_proxy_evidence(record)]]
    values = {"patch": record.patch, "ledger": record.ledger, "head": record.head,
              "written": record.written_at, "folder": f"{PATCHES}/{record.patch}",
              "newest": record.events[-1].path if record.events else "events/",
              "ssh_commands": "\n".join(ssh) or "# no event of this patch is signed",
              "binding_commands": "\n".join(bindings) or "# no event of this patch is signed",
              "chain_commands": "\n".join(chain),
              "evidence_commands": "\n".join(evidence) or "# no tests were recorded",
              "names_example": _names_example(record)}
    return README_EN.format(**values) + "\n" + README_ZH.format(**values)


def _names_example(record: Record) -> str:
    """The lines of one signed event and of its statement that must agree."""
    row = next((r for r in record.signed if r.statement), None)
    if row is None or row.statement is None:
        return "# no event of this patch is signed"
    q = shlex.quote
    return (f"grep -E '^(patch|digest|env|actor|at|role|decision|template):' {q(row.event)}"
            f"\ncat {q(row.statement)}; echo")


# -- the summaries --------------------------------------------------------------------------------

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "title": "Audit dossier of {patch}",
        "written": "Written by releasegate {version} at {time} (UTC) from the ledger `{ledger}`"
                   " as committed at `{head}`.",
        "ok": "**Result: VERIFIES.** The audit found nothing wrong with this patch.",
        "failed": "**Result: DOES NOT VERIFY.** The audit found {count} error(s) in this "
                  "patch's record; they are listed under \"Findings\".",
        "how": "To check this dossier yourself, without releasegate, follow README.md, or "
               "run `sh verify.sh` in this folder.",
        "h.patch": "The patch",
        "col.item": "Item", "col.value": "Value",
        "patch": "Patch", "title.row": "Title", "system": "System", "vendor": "Vendor",
        "vendor_ref": "Vendor reference", "version": "Version", "submitted": "Submitted by",
        "digest": "Digest", "env.now": "Environment now", "manifest": "Manifest",
        "env.none": "none yet", "not_given": "not given",
        "by_at": "{who} at {time}",
        "file_sha": "{file} (sha256 {sha})",
        "h.artifacts": "Artifacts",
        "col.file": "File", "col.size": "Size (bytes)", "col.sha256": "sha256",
        "artifacts.none": "No artifacts are recorded.",
        "h.events": "Events",
        "events.lead": "Every event of the patch in order. Times are UTC, as recorded. "
                       "\"Chain\" says whether the event's `prev` is the sha256 of the event "
                       "file before it.",
        "col.seq": "#", "col.type": "Type", "col.time": "Time (UTC)", "col.who": "Who",
        "col.env": "Environment", "col.what": "What", "col.chain": "Chain",
        "chain.first": "✔ first", "chain.ok": "✔", "chain.broken": "✘ broken",
        "unreadable": "cannot be read as an event: {problem}",
        "h.signatures": "Signatures",
        "signatures.lead": "Each signed event's statement and SSH signature, checked as the "
                           "audit checks it: the signer's registered key, not revoked, valid "
                           "at the event's time, in the namespace of the event's kind, over a "
                           "statement naming this event. README.md gives the ssh-keygen "
                           "command for each.",
        "signatures.none": "No event of this patch is signed.",
        "col.event": "Event", "col.files": "Statement and signature", "col.signer": "Signer",
        "col.namespace": "Namespace", "col.key": "Key", "col.result": "Result",
        "sig.ok": "✔ checks: {reason}", "sig.bad": "✘ does not check: {reason}",
        "missing": "not stored with the patch",
        "h.promotions": "Promotions",
        "promotions.none": "The patch has not been promoted.",
        "promotions.lead": "Each promotion with the verdict recorded when it was made, and "
                           "the verdict of its gate replayed by the audit on the ledger as it "
                           "stood just before, at the promotion's own time (verdicts.json "
                           "holds both).",
        "promo.into": "into {target}", "promo.from": "from {source} to {target}",
        "promo.by": "By {who} at {time}, digest {digest}.",
        "promo.recorded": "Recorded verdict: {verdict}.",
        "promo.replayed": "Replayed as of then: {verdict}; {agreement}.",
        "promo.problem": "The replay finds a problem: {problem}",
        "verdict.open": "open (every condition met)",
        "verdict.closed": "closed", "verdict.none": "none recorded",
        "verdict.unknown": "cannot be evaluated",
        "agrees": "agrees with the record", "differs": "differs from the record",
        "col.condition": "Condition", "col.name": "Name", "col.recorded": "Recorded",
        "col.replayed": "Replayed", "col.detail": "Detail (as recorded)",
        "h.findings": "Findings",
        "findings.none": "None: the audit found nothing wrong with this patch.",
        "findings.lead": "Each finding as the audit states it, errors first.",
        "severity.error": "error", "severity.note": "note",
        "decision.approve": "approved", "decision.reject": "rejected",
        "what.submitted": "submitted, digest {digest}, {count} artifact(s)",
        "what.revised": "re-delivered: new digest {digest}, {count} artifact(s)",
        "what.checklist": "filled the checklist {template} for the {env} gate",
        "what.tests": "recorded {suite}: {tests} tests, {passed} passed, {failed} failed, "
                      "{errors} errors, {skipped} skipped, {flaky} flaky",
        "what.signoff": "{decision} as {role}",
        "what.signoff.proxy": "{decision} as {role} for {person} (recorded by proxy; "
                              "evidence {name}, sha256 {sha})",
        "what.comment": "; comment: {comment}",
        "what.waiver": "waived {test} until {until}; reason: {reason}",
        "what.promoted.into": "promoted into {target}",
        "what.promoted": "promoted from {source} to {target}",
        "what.notified": "notice delivered",
        "what.rolled-back": "rolled back from {env}",
        "what.incident": "incident recorded in {env}",
        "what.other": "{type}",
        "signed": " (signed)",
        "type.submitted": "submitted", "type.revised": "revised",
        "type.checklist": "checklist", "type.tests": "tests", "type.signoff": "sign-off",
        "type.waiver": "waiver", "type.promoted": "promotion", "type.notified": "notice",
        "type.rolled-back": "rollback", "type.incident": "incident",
    },
    "zh-CN": {
        "title": "补丁审计档案：{patch}",
        "written": "本档案由 releasegate {version} 于 {time}（UTC）根据发布台账 `{ledger}` 的"
                   "提交 `{head}` 生成。",
        "ok": "**结论：核验通过。** 审计未发现该补丁的记录存在问题。",
        "failed": "**结论：核验未通过。** 审计在该补丁的记录中发现 {count} 处错误，详见"
                  "“审计发现”一节。",
        "how": "如需在不使用 releasegate 的情况下自行核验本档案，请按 README.md 中的步骤操作，"
               "或在本文件夹中运行 `sh verify.sh`。",
        "h.patch": "补丁概况",
        "col.item": "项目", "col.value": "内容",
        "patch": "补丁编号", "title.row": "标题", "system": "系统", "vendor": "厂商",
        "vendor_ref": "厂商编号", "version": "版本", "submitted": "登记人",
        "digest": "补丁摘要", "env.now": "当前所在环境", "manifest": "补丁清单",
        "env.none": "尚未进入任何环境", "not_given": "未提供",
        "by_at": "{who}，{time}",
        "file_sha": "{file}（sha256 {sha}）",
        "h.artifacts": "交付文件",
        "col.file": "文件", "col.size": "大小（字节）", "col.sha256": "sha256",
        "artifacts.none": "未记录交付文件。",
        "h.events": "事件记录",
        "events.lead": "以下按先后顺序列出该补丁的全部事件，时间均为记录中的 UTC 时间。"
                       "“哈希链”一栏表示该事件的 `prev` 字段是否等于前一个事件文件的 sha256。",
        "col.seq": "序号", "col.type": "事件类型", "col.time": "时间（UTC）",
        "col.who": "操作人", "col.env": "环境", "col.what": "内容", "col.chain": "哈希链",
        "chain.first": "✔ 链首", "chain.ok": "✔ 相符", "chain.broken": "✘ 不符",
        "unreadable": "无法作为事件读取（系统原文）：{problem}",
        "h.signatures": "电子签名",
        "signatures.lead": "以下逐一列出已签名事件的签名声明和 SSH 签名，并按审计的标准核验："
                           "须由签名人登记的密钥作出、密钥未被吊销且在事件发生时处于有效期内、"
                           "签名用途与事件类型相符，且签名声明所述正是该事件。每份签名对应的 "
                           "ssh-keygen 核验命令见 README.md。",
        "signatures.none": "该补丁没有已签名的事件。",
        "col.event": "事件", "col.files": "签名声明与签名文件", "col.signer": "签名人",
        "col.namespace": "签名用途（命名空间）", "col.key": "密钥",
        "col.result": "核验结果",
        "sig.ok": "✔ 核验通过（系统原文：{reason}）",
        "sig.bad": "✘ 核验未通过（系统原文：{reason}）",
        "missing": "未随补丁保存",
        "h.promotions": "环境推进与准入结论",
        "promotions.none": "该补丁尚未推进到任何环境。",
        "promotions.lead": "以下列出每次环境推进时记录的准入结论，以及审计按推进前一刻的台账、"
                           "以推进时的时间重新复核得出的结论（两者均载于 verdicts.json）。",
        "promo.into": "进入{target}", "promo.from": "从{source}推进至{target}",
        "promo.by": "操作人 {who}，时间 {time}，补丁摘要 {digest}。",
        "promo.recorded": "推进时记录的结论：{verdict}。",
        "promo.replayed": "按当时情况复核：{verdict}，{agreement}。",
        "promo.problem": "复核发现问题（系统原文）：{problem}",
        "verdict.open": "准入条件均已满足", "verdict.closed": "准入条件未满足",
        "verdict.none": "未记录", "verdict.unknown": "无法评估",
        "agrees": "与记录一致", "differs": "与记录不一致",
        "col.condition": "检查条件", "col.name": "名称", "col.recorded": "记录结果",
        "col.replayed": "复核结果", "col.detail": "说明（记录原文）",
        "h.findings": "审计发现",
        "findings.none": "无：审计未发现该补丁的记录存在问题。",
        "findings.lead": "以下按严重程度列出（错误在前），各项说明均为审计输出的原文（英文）。",
        "severity.error": "错误", "severity.note": "提示",
        "decision.approve": "批准", "decision.reject": "驳回",
        "what.submitted": "登记补丁，补丁摘要 {digest}，交付文件 {count} 个",
        "what.revised": "厂商重新交付，新补丁摘要 {digest}，交付文件 {count} 个",
        "what.checklist": "填写{env}准入检查单 {template}",
        "what.tests": "记录测试 {suite}：共 {tests} 个用例（通过 {passed}，失败 {failed}，"
                      "错误 {errors}，跳过 {skipped}，不稳定 {flaky}）",
        "what.signoff": "以{role}身份{decision}",
        "what.signoff.proxy": "代{person}以{role}身份{decision}（代为登记，凭证 {name}，"
                              "sha256 {sha}）",
        "what.comment": "；意见：{comment}",
        "what.waiver": "豁免测试 {test}，有效期至 {until}；理由：{reason}",
        "what.promoted.into": "进入{target}",
        "what.promoted": "从{source}推进至{target}",
        "what.notified": "已发送通知",
        "what.rolled-back": "从{env}回退",
        "what.incident": "登记{env}事件",
        "what.other": "{type}",
        "signed": "（已签名）",
        "type.submitted": "登记", "type.revised": "重新交付",
        "type.checklist": "检查单", "type.tests": "测试结果", "type.signoff": "审批",
        "type.waiver": "豁免", "type.promoted": "环境推进", "type.notified": "通知",
        "type.rolled-back": "回退", "type.incident": "生产事件",
    },
}
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _md(value: object) -> str:
    """Outside text as literal markdown on one line (also in a table cell): markup
    escaped, line breaks as spaces, other control characters as visible escapes."""
    from releasegate.notices.render import markdown_inline

    flat = " ".join(str(value).splitlines())
    return markdown_inline(_CONTROL.sub(
        lambda m: m.group().encode("unicode_escape").decode("ascii"), flat))


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head),
            *("| " + " | ".join(row) + " |" for row in rows)]


class _Summary:
    """One language's account of the record."""

    def __init__(self, record: Record, lang: str) -> None:
        self.record, self.lang = record, lang
        self.words = PHRASES[lang]

    def t(self, key: str, **values: object) -> str:
        return self.words[key].format(**values)

    def env(self, env: object) -> str:
        from releasegate.notices.catalogue import env_name

        if not isinstance(env, str) or not env:
            return "—"
        if self.lang == "en":
            return _md(env)
        return f"{_md(env_name(self.lang, env))}环境"

    def who(self, person: str) -> str:
        known = self.record.pipeline.people.get(person)
        if known is None or not known.name or known.name == person:
            return _md(person)
        return _md(f"{person} ({known.name})" if self.lang == "en"
                   else f"{person}（{known.name}）")

    def text(self, value: object) -> str:
        from releasegate.core.text import text_in

        if isinstance(value, Mapping):
            return _md(text_in({str(k): str(v) for k, v in value.items()}, self.lang))
        return _md(value) if value not in (None, "") else self.t("not_given")

    def render(self) -> str:
        r = self.record
        import releasegate

        errors = sum(f.severity == ERROR for f in r.findings)
        lines = [f"# {self.t('title', patch=_md(r.patch))}", "",
                 self.t("written", version=releasegate.__version__, time=r.written_at,
                        ledger=r.ledger, head=r.head), "",
                 self.t("ok") if r.ok else self.t("failed", count=errors), "",
                 self.t("how"), ""]
        for part in (self._patch, self._events, self._signatures, self._promotions,
                     self._findings):
            lines += part()
        return "\n".join(lines).rstrip() + "\n"

    def _patch(self) -> list[str]:
        r, m = self.record, self.record.manifest
        submitted = next((row.event for row in r.events
                          if row.event is not None and row.event.type == "submitted"), None)
        manifest = r.files.get("patch.yaml")
        rows = [
            (self.t("patch"), _md(r.patch)),
            (self.t("title.row"), self.text(m.get("title"))),
            (self.t("system"), self.text(m.get("system"))),
            (self.t("vendor"), self.text(m.get("vendor"))),
            (self.t("vendor_ref"), self.text(m.get("vendor_ref"))),
            (self.t("version"), self.text(m.get("version"))),
            (self.t("submitted"), self.t("by_at", who=self.who(submitted.actor),
                                         time=_md(submitted.at))
             if submitted else self.t("not_given")),
            (self.t("digest"), _md(r.digest) if r.digest else self.t("not_given")),
            (self.t("env.now"), self.env(r.env) if r.env else self.t("env.none")),
            (self.t("manifest"), self.t("file_sha", file="patch.yaml",
                                        sha=hashlib.sha256(manifest).hexdigest())
             if manifest is not None else self.t("not_given")),
        ]
        lines = [f"## {self.t('h.patch')}", "",
                 *_table([self.t("col.item"), self.t("col.value")], rows), "",
                 f"### {self.t('h.artifacts')}", ""]
        artifacts = [[_md(a.get("name")), _md(a.get("size")), _md(a.get("sha256"))]
                     for a in r.artifacts if isinstance(a, Mapping)]
        lines += _table([self.t("col.file"), self.t("col.size"), self.t("col.sha256")],
                        artifacts) if artifacts else [self.t("artifacts.none")]
        return [*lines, ""]

    def _events(self) -> list[str]:
        rows = []
        for i, row in enumerate(self.record.events):
            event = row.event
            chain = self.t("chain.broken") if not row.chained else \
                self.t("chain.first") if i == 0 else self.t("chain.ok")
            if event is None:
                rows.append([str(i + 1), _md(row.path), "—", "—", "—", "—",
                             self.t("unreadable", problem=_md(row.problem)), chain])
                continue
            kind = (self.t(f"type.{event.type}") if f"type.{event.type}" in self.words
                    else _md(event.type))
            signed = self.t("signed") if isinstance(event.data.get("signature"), Mapping) \
                else ""
            rows.append([_md(event.seq), _md(row.path), kind + signed, _md(event.at),
                         self.who(event.actor), self.env(event.env), self._what(event),
                         chain])
        return [f"## {self.t('h.events')}", "", self.t("events.lead"), "",
                *_table([self.t(k) for k in ("col.seq", "col.file", "col.type", "col.time",
                                             "col.who", "col.env", "col.what", "col.chain")],
                        rows), ""]

    def _what(self, event: Event) -> str:
        d = event.data
        if event.type in ("submitted", "revised"):
            return self.t(f"what.{event.type}", digest=_md(event.digest),
                          count=len(d.get("artifacts") or []))
        if event.type == "checklist":
            return self.t("what.checklist", template=_md(d.get("template")),
                          env=self.env(event.env))
        if event.type == "tests":
            counts = d.get("counts") if isinstance(d.get("counts"), Mapping) else {}
            assert isinstance(counts, Mapping)
            return self.t("what.tests", suite=_md(d.get("suite")),
                          **{k: _md(counts.get(k, "?")) for k in
                             ("tests", "passed", "failed", "errors", "skipped", "flaky")})
        if event.type == "signoff":
            decision = str(d.get("decision"))
            proxy = d.get("proxy") if isinstance(d.get("proxy"), Mapping) else None
            said = self.t("what.signoff.proxy" if proxy else "what.signoff",
                          role=_md(d.get("role")),
                          decision=self.t(f"decision.{decision}")
                          if f"decision.{decision}" in self.words else _md(decision),
                          **({"person": _md(proxy.get("for")),
                              "name": _md(proxy.get("evidence_name")),
                              "sha": _md(proxy.get("evidence_sha256"))} if proxy else {}))
            return said + (self.t("what.comment", comment=_md(d["comment"]))
                           if d.get("comment") else "")
        if event.type == "waiver":
            return self.t("what.waiver", test=_md(d.get("test")), until=_md(d.get("until")),
                          reason=_md(d.get("reason")))
        if event.type == "promoted":
            if d.get("from"):
                return self.t("what.promoted", source=self.env(d.get("from")),
                              target=self.env(event.env))
            return self.t("what.promoted.into", target=self.env(event.env))
        if f"what.{event.type}" in self.words:
            return self.t(f"what.{event.type}", env=self.env(event.env))
        return self.t("what.other", type=_md(event.type))

    def _signatures(self) -> list[str]:
        head = [f"## {self.t('h.signatures')}", ""]
        if not self.record.signed:
            return [*head, self.t("signatures.none"), ""]
        rows = []
        for s in self.record.signed:
            stored = ", ".join(_md(p) for p in (s.statement, s.signature) if p) or \
                self.t("missing")
            key = " ".join(_md(k) for k in (s.key_type, s.fingerprint) if k) or "—"
            result = self.t("sig.ok" if s.ok else "sig.bad", reason=_md(s.reason))
            rows.append([_md(s.event), stored, self.who(s.signer), _md(s.namespace), key,
                         result])
        return [*head, self.t("signatures.lead"), "",
                *_table([self.t(k) for k in ("col.event", "col.files", "col.signer",
                                             "col.namespace", "col.key", "col.result")],
                        rows), ""]

    def _promotions(self) -> list[str]:
        lines = [f"## {self.t('h.promotions')}", ""]
        if not self.record.promotions:
            return [*lines, self.t("promotions.none"), ""]
        lines += [self.t("promotions.lead"), ""]
        for p in self.record.promotions:
            where = self.t("promo.from", source=self.env(p.source), target=self.env(p.target)) \
                if p.source else self.t("promo.into", target=self.env(p.target))
            recorded = {None: "verdict.none", True: "verdict.open",
                        False: "verdict.closed"}[p.recorded_open]
            replayed = "verdict.unknown" if p.replayed is None else \
                "verdict.open" if p.replayed.open else "verdict.closed"
            lines += [f"### {_md(p.event)}: {where}" if self.lang == "en"
                      else f"### {_md(p.event)}：{where}", "",
                      "- " + self.t("promo.by", who=self.who(p.actor), time=_md(p.at),
                                    digest=_md(p.digest)),
                      "- " + self.t("promo.recorded", verdict=self.t(recorded)),
                      "- " + self.t("promo.replayed", verdict=self.t(replayed),
                                    agreement=self.t("agrees" if p.agrees else "differs"))]
            if p.problem:
                lines.append("- " + self.t("promo.problem", problem=_md(p.problem)))
            lines += ["", *self._conditions(p), ""]
        return lines

    def _conditions(self, p: PromotionRow) -> list[str]:
        from releasegate.notices.catalogue import has_phrase, phrase

        def word(kind: str, value: object) -> str:
            key = f"{kind}.{value}"
            return phrase(self.lang, key) if has_phrase(self.lang, key) else _md(value)

        replayed = {(c.kind, c.name): c.status for c in (p.replayed.conditions
                                                         if p.replayed else ())}
        rows, seen = [], set()
        for c in p.recorded or []:
            ident = (str(c.get("kind")), str(c.get("name")))
            seen.add(ident)
            again = replayed.get(ident)
            rows.append([word("kind", c.get("kind")), _md(c.get("name")),
                         word("status", c.get("status")),
                         word("status", again) if again else "—", _md(c.get("detail", ""))])
        for again_only in p.replayed.conditions if p.replayed else ():
            if (again_only.kind, again_only.name) not in seen:
                rows.append([word("kind", again_only.kind), _md(again_only.name), "—",
                             word("status", again_only.status), _md(again_only.detail)])
        if not rows:
            return []
        return _table([self.t(k) for k in ("col.condition", "col.name", "col.recorded",
                                           "col.replayed", "col.detail")], rows)

    def _findings(self) -> list[str]:
        lines = [f"## {self.t('h.findings')}", ""]
        if not self.record.findings:
            return [*lines, self.t("findings.none"), ""]
        lines += [self.t("findings.lead"), ""]
        prefix = f"{PATCHES}/{self.record.patch}/"
        ordered = sorted(self.record.findings, key=lambda f: f.severity != ERROR)
        colon = ": " if self.lang == "en" else "："
        for f in ordered:
            where = (f.file or f.patch or "").removeprefix(prefix)
            lines.append(f"- **{self.t('severity.' + f.severity)}** {_md(where)}{colon}"
                         f"{_md(f.what)}")
        return [*lines, ""]


def summary(record: Record, lang: str) -> str:
    """The record for a person, in `lang` (en or zh-CN)."""
    return _Summary(record, lang).render()


__all__ = ["Dossier", "Record", "gather", "readme", "render", "script", "sha256sums",
           "summary", "write_dossier"]
