"""verify (the audit) and verify-artifact (are these files exactly what was approved?)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from releasegate.cli.main import Context
from releasegate.cli.output import FORMAT, finish
from releasegate.cli.terminal import tty_text
from releasegate.core.errors import UsageError

if TYPE_CHECKING:
    from releasegate.actions.audit import Audit
    from releasegate.actions.dossier import Dossier


@click.command("verify-artifact")
@click.argument("patch_id", metavar="ID")
@click.argument("files", nargs=-1, required=True, metavar="FILE...",
                type=click.Path(path_type=Path, dir_okay=False))
@click.option("--env", metavar="ENV", help="The environment the patch must have entered "
              "with these files' digest (default: the last one, e.g. prod).")
@FORMAT
@click.pass_obj
def verify_artifact(obj: Context, patch_id: str, files: tuple[Path, ...], env: str | None,
                    fmt: str) -> int:
    """Exit 0 only when FILE... are the approved artifacts of patch ID.

    The files' names and bytes must give the patch's current digest, and the patch must
    have been promoted into ENV with it. Exit 1 says which file differs and how.
    """
    from releasegate.actions.artifact_check import verify_artifacts

    result, warnings = verify_artifacts(obj.ledger(), patch_id, files, env)
    doc = {"patch": result.patch, "env": result.env, "approved_digest": result.digest,
           "given_digest": result.given, "ok": result.ok, "problems": list(result.problems)}
    text = (f"OK: the {len(files)} file(s) are the artifacts of {result.patch} approved "
            f"for {result.env}\ndigest {result.digest}") if result.ok else "\n".join(
        [f"DIFFERENT: the files are not the artifacts of {result.patch} approved for "
         f"{result.env}", f"approved digest {result.digest}",
         f"given digest    {result.given}", *(f"  - {p}" for p in result.problems)])
    return finish(fmt, warnings, lambda: doc, lambda: text, 0 if result.ok else 1)



@click.command("verify")
@click.option("--accept-rewrite", is_flag=True, help="After checking it, accept that the "
              "ledger's history was rewritten (a force-push, a reset): remember the new "
              "heads and verify them.")
@click.option("--dossier", "dossier", metavar="ID", help="Also write patch ID's audit "
              "dossier into DIR (-o): its files, signatures, keys and verdicts, summaries in "
              "English and Chinese, and the commands that check it offline.")
@click.option("-o", "--output", "output", metavar="DIR", type=click.Path(path_type=Path),
              help="The folder the dossier is written into; it must not exist, or be empty.")
@FORMAT
@click.pass_obj
def verify(obj: Context, accept_rewrite: bool, dossier: str | None, output: Path | None,
           fmt: str) -> int:
    """Re-check the whole ledger, as an auditor: exit 0 when clean, 1 with findings.

    Hash chains and sequence numbers, every event's shape, every piece of evidence (raw
    JUnit included) against its recorded sha256, every signature as of its time, git
    history against the events, every promotion re-evaluated as of its own time, and
    every change of releasegate.yaml.

    With --dossier ID -o DIR: write patch ID's dossier, which an auditor checks with
    sha256sum and ssh-keygen alone (DIR/README.md, DIR/verify.sh); exit 0 when the patch
    verifies, 1 when the audit has findings for it (the dossier lists them).
    """
    if (dossier is None) != (output is None):
        raise UsageError("--dossier ID and -o DIR go together", code="usage",
                         hint="releasegate verify --dossier ID -o DIR")
    if dossier is not None and output is not None:
        from releasegate.actions.dossier import write_dossier

        written, warnings = write_dossier(obj.ledger(), dossier, output,
                                          accept_rewrite=accept_rewrite)
        return finish(fmt, warnings, written.to_dict, lambda: dossier_text(written),
                      0 if written.ok else 1)
    from releasegate.actions.audit import verify_ledger

    audit, warnings = verify_ledger(obj.ledger(), accept_rewrite=accept_rewrite)
    return finish(fmt, warnings, audit.to_dict, lambda: audit_text(audit),
                  0 if audit.ok else 1)


def dossier_text(written: Dossier) -> str:
    """What was written and where, the sha256 to hand over with it, then the patch's
    findings, errors first, and the outcome."""
    lines = [f"dossier of {written.patch} written to {written.folder}",
             f"  {written.files} files: {written.events} events, {written.signatures} "
             f"signatures, {written.promotions} promotions replayed",
             f"  ledger {written.ledger[:12]} at {written.head[:12]}",
             f"  sha256 of SHA256SUMS: {written.sha256sums} (hand it over with the dossier)",
             f"  check it offline: cd {written.folder} && sh verify.sh"]
    ordered = sorted(written.findings, key=lambda f: f.severity != "error")
    for finding in ordered:
        lines.append(f"{finding.severity.upper()} {finding.file or finding.patch}: "
                     f"{finding.what}")
    errors = sum(f.severity == "error" for f in written.findings)
    lines.append(f"VERIFIES: the audit found nothing wrong with {written.patch}"
                 if written.ok else f"FAILED: {errors} error(s) found for {written.patch}; "
                 "the dossier's summaries list them")
    return "\n".join(tty_text(line) for line in lines)


def audit_text(audit: Audit) -> str:
    """The audit for a person: what was checked, then each finding, errors first."""
    lines = [f"ledger {audit.ledger[:12]} at {(audit.head or 'no commit')[:12]}: "
             f"{audit.patches} patches, {audit.events} events, {audit.signatures} "
             f"signatures, {audit.promotions} promotions re-evaluated"]
    lines.append("configuration changes:")
    lines += [f"  {c.commit[:12]} {c.date} {c.author} <{c.email}>: {c.subject}"
              for c in audit.config_changes] or ["  none"]
    ordered = sorted(audit.findings, key=lambda f: (f.severity != "error", f.patch or ""))
    for finding in ordered:
        where = finding.file or finding.patch or "ledger"
        lines.append(f"{finding.severity.upper()} {where}: {finding.what}")
    errors = sum(f.severity == "error" for f in audit.findings)
    lines.append("CLEAN: everything verifies" if audit.ok else
                 f"FAILED: {errors} error(s) found")
    return "\n".join(lines)


COMMANDS = [verify, verify_artifact]
