"""check and promote."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from releasegate.cli.main import Context
from releasegate.cli.output import FORMAT, finish, warn
from releasegate.core.errors import EXIT_GATE_CLOSED, EXIT_OK, InputError

if TYPE_CHECKING:
    from releasegate.actions.gate import GateReport

REPORT_FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "junit", "markdown"]),
    default="text", show_default=True,
    help="text for people; json for scripts; junit (each condition a test case) and "
         "markdown (a table for step summaries and merge-request comments) for CI.")


@click.command("check")
@click.argument("patch_id", metavar="ID")
@click.option("--to", "to", metavar="ENV", help="The gate to check (default: the next one).")
@REPORT_FORMAT
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to this file instead of standard output.")
@click.pass_obj
def check(obj: Context, patch_id: str, to: str | None, fmt: str, output: Path | None) -> int:
    """Evaluate a gate and record nothing; exit 0 when open, 1 when closed.

    A patch whose current digest is already in the --to environment exits 0 and says
    so, as promote does, so a re-run deploy job goes on.

    In GitHub Actions, the markdown report is also appended to $GITHUB_STEP_SUMMARY and
    each failed condition becomes an ::error annotation.
    """
    from releasegate.actions.gate import check_report

    report, warnings = check_report(obj.ledger(), patch_id, to)
    warn(warnings)
    _emit_report(report, fmt, output)
    _github(report, to_stdout=output is None and fmt != "text")
    return EXIT_OK if report.verdict.open else EXIT_GATE_CLOSED


def _emit_report(report: GateReport, fmt: str, output: Path | None) -> None:
    from releasegate.cli.ci_reports import verdict_junit, verdict_markdown

    verdict = report.verdict
    if fmt == "junit":
        text = verdict_junit(verdict)
    elif fmt == "json":
        doc = verdict.to_dict()
        doc["already_in"] = report.already_in
        doc["regressions"] = [c.to_dict() for c in report.comparisons]
        doc["failing_tests"] = [f.to_dict() for f in report.failing]
        text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    elif fmt == "markdown":
        text = verdict_markdown(verdict, report.comparisons)
    else:
        from releasegate.cli.terminal import verdict_text

        text = verdict_text(verdict) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror or exc}", file=str(output),
                         code="unwritable-file") from None


def _github(report: GateReport, *, to_stdout: bool) -> None:
    from releasegate.cli.ci_reports import github_annotations, verdict_markdown

    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            with open(summary, "a", encoding="utf-8") as handle:
                handle.write(verdict_markdown(report.verdict, report.comparisons) + "\n")
        except OSError as exc:
            warn([f"could not append to GITHUB_STEP_SUMMARY ({summary}): {exc}"])
    if os.environ.get("GITHUB_ACTIONS") == "true":
        # Workflow commands are read from the job's output; when stdout carries a
        # document (JSON, JUnit, markdown) they go to stderr so it stays intact.
        for line in github_annotations(report.verdict):
            click.echo(line, err=to_stdout)


@click.command("promote")
@click.argument("patch_id", metavar="ID")
@click.option("--to", "to", metavar="ENV", help="The environment to enter (default: the next).")
@FORMAT
@click.pass_obj
def promote(obj: Context, patch_id: str, to: str | None, fmt: str) -> int:
    """Check the gate and, if open, record that the patch entered the environment."""
    from releasegate.actions.promote import promote as promote_patch
    from releasegate.cli.terminal import verdict_text

    result, warnings = promote_patch(obj.ledger(), obj.person, patch_id, to)
    verdict = result.verdict

    def text() -> str:
        if result.already:
            return f"{verdict.patch} is already in {verdict.target}; nothing new recorded"
        outcome = (f"promoted {verdict.patch} to {verdict.target}" if result.recorded else
                   f"not promoted: the {verdict.target} gate is closed; nothing recorded")
        return f"{verdict_text(verdict)}\n{outcome}"

    return finish(fmt, warnings,
                  lambda: {**verdict.to_dict(), "recorded": result.recorded,
                           "already": result.already,
                           "already_in": verdict.target if result.already else None}, text,
                  EXIT_OK if result.recorded or result.already else EXIT_GATE_CLOSED)


COMMANDS = [check, promote]
