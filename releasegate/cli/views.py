"""status: the board of environments."""

from __future__ import annotations

import click

from releasegate.cli.main import Context
from releasegate.cli.output import FORMAT, emit_json, warn


@click.command("status")
@FORMAT
@click.pass_obj
def status(obj: Context, fmt: str) -> int:
    """Each environment, its patches, and what each next gate waits for."""
    from releasegate.actions.views import status_board
    from releasegate.cli.terminal import board_text
    from releasegate.core.board import board_json

    board, warnings = status_board(obj.ledger())
    warn(warnings)
    if fmt == "json":
        emit_json(board_json(board))
    else:
        click.echo(board_text(board) if board.patches else
                   "no patches yet; register one with `releasegate patch submit MANIFEST`")
    return 0


COMMANDS = [status]
