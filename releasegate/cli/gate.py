"""check and promote."""

from __future__ import annotations

import click

from releasegate.cli.main import Context
from releasegate.cli.output import FORMAT, emit_json, warn
from releasegate.errors import EXIT_GATE_CLOSED, EXIT_OK


@click.command("check")
@click.argument("patch_id", metavar="ID")
@click.option("--to", "to", metavar="ENV", help="The gate to check (default: the next one).")
@FORMAT
@click.pass_obj
def check(obj: Context, patch_id: str, to: str | None, fmt: str) -> int:
    """Evaluate a gate and record nothing; exit 0 when open, 1 when closed."""
    from releasegate.actions.gate import check_gate
    from releasegate.render import verdict_text

    verdict, warnings = check_gate(obj.ledger(), patch_id, to)
    warn(warnings)
    if fmt == "json":
        emit_json(verdict.to_dict())
    else:
        click.echo(verdict_text(verdict))
    return EXIT_OK if verdict.open else EXIT_GATE_CLOSED


@click.command("promote")
@click.argument("patch_id", metavar="ID")
@click.option("--to", "to", metavar="ENV", help="The environment to enter (default: the next).")
@FORMAT
@click.pass_obj
def promote(obj: Context, patch_id: str, to: str | None, fmt: str) -> int:
    """Check the gate and, if open, record that the patch entered the environment."""
    from releasegate.actions.gate import promote as promote_patch
    from releasegate.render import verdict_text

    result, warnings = promote_patch(obj.ledger(), obj.person, patch_id, to)
    warn(warnings)
    verdict = result.verdict
    if fmt == "json":
        emit_json({**verdict.to_dict(), "recorded": result.recorded,
                   "already": result.already})
    elif result.already:
        click.echo(f"{verdict.patch} is already in {verdict.target}; nothing new recorded")
    else:
        click.echo(verdict_text(verdict))
        if result.recorded:
            click.echo(f"promoted {verdict.patch} to {verdict.target}")
        else:
            click.echo(f"not promoted: the {verdict.target} gate is closed; nothing recorded")
    return EXIT_OK if result.recorded or result.already else EXIT_GATE_CLOSED


COMMANDS = [check, promote]
