"""status: the board of environments."""

from __future__ import annotations

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
    from releasegate.core.board import board_json

    board, warnings = status_board(obj.ledger())
    return finish(fmt, warnings, lambda: board_json(board),
                  lambda: board_text(board) if board.patches else
                  "no patches yet; register one with `releasegate patch submit MANIFEST`")


COMMANDS = [status]
