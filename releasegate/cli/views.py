"""status: the board of environments."""

from __future__ import annotations

from typing import Any

import click

from releasegate.cli.main import Context
from releasegate.cli.output import FORMAT, finish


@click.command("status")
@FORMAT
@click.pass_obj
def status(obj: Context, fmt: str) -> int:
    """Each environment, its patches, and what each next gate waits for."""
    from releasegate.actions.views import status_board
    from releasegate.cli.terminal import board_text

    board, warnings = status_board(obj.ledger())
    return finish(fmt, warnings, lambda: board,
                  lambda: board_text(board) if _any_patch(board) else
                  "no patches yet; register one with `releasegate patch submit MANIFEST`")


@click.command("reindex")
@click.pass_obj
def reindex(obj: Context) -> int:
    """Record again every board row that is missing or out of date, in one commit.

    Board rows (board/<system>/<xx>/<ID>.json) are what status and patch list read
    in a fresh clone instead of folding every patch's events; each act writes its own
    patch's row.
    Run this once after upgrading releasegate, or on a ledger older than rows. Gates
    never read rows."""
    from releasegate.actions.board_rows import refresh_rows
    from releasegate.cli.output import warn

    (written, patches), warnings = refresh_rows(obj.ledger())
    warn(warnings)
    click.echo(f"board rows of {written} of {patches} patches recorded" if written else
               f"all {patches} board rows are current; nothing recorded")
    return 0


def _any_patch(board: dict[str, Any]) -> bool:
    return bool(board["not_yet_in_any"]) or any(e["patches"] for e in board["environments"])


COMMANDS = [status, reindex]
