"""The offline checks of a dossier (`verify --dossier`): its SHA256SUMS, the ssh-keygen
command that checks each signature as releasegate does, the evidence each event binds
by sha256, and `verify.sh`, which runs every check with sha256sum and ssh-keygen."""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Mapping

from releasegate.ledger.events import PATCHES
from releasegate.trust.dossier_record import SAFE_PATH, Record, SignedRow


def sha256sums(files: Mapping[str, bytes]) -> bytes:
    """`sha256sum -c` input over `files`, in path order."""
    return "".join(f"{hashlib.sha256(data).hexdigest()}  {path}\n"
                   for path, data in sorted(files.items())).encode("utf-8")



def ssh_command(row: SignedRow) -> str:
    """The ssh-keygen command that checks one signature as releasegate does: the
    person the event names, the namespace of its kind, revoked keys refused, and each
    key's validity window taken at the event's time."""
    return (f"ssh-keygen -Y verify -f allowed_signers -I {shlex.quote(row.signer)} "
            f"-n {row.namespace} -r revoked_keys -O verify-time={row.verify_time} "
            f"-s {shlex.quote(row.signature or '')} < {shlex.quote(row.statement or '')}")


def evidence_bindings(record: Record) -> list[tuple[str, str, str]]:
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
    return [b for b in found if SAFE_PATH.fullmatch(b[2])]


def proxy_evidence(record: Record) -> list[tuple[str, str, str]]:
    """(event, field, evidence file) for the e-mail, PDF or screenshot each proxy
    sign-off records by sha256."""
    prefix = f"{PATCHES}/{record.patch}/"
    found = []
    for row in record.events:
        proxy = row.event.data.get("proxy") if row.event is not None else None
        if row.event is None or row.event.type != "signoff" or not isinstance(proxy, Mapping):
            continue
        path = str(proxy.get("evidence") or "")
        if path.startswith(prefix + "evidence/") and SAFE_PATH.fullmatch(path):
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
    for event, name, path in [*evidence_bindings(record), *proxy_evidence(record)]:
        lines += [f"records {q(event)} {name} {q(path)}",
                  f"report $? {q(f'{event} records the sha256 of {path}')}"]
    lines += ["", 'if [ "$failed" -eq 0 ]; then echo "ALL CHECKS PASSED"; exit 0; fi',
              'echo "$failed CHECK(S) FAILED"', "exit 1", ""]
    return "\n".join(lines)


def _stem(row: SignedRow) -> str:
    path = row.signature or row.statement or row.event
    return path.rsplit(".", 1)[0]

