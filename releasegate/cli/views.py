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


def _any_patch(board: dict[str, Any]) -> bool:
    return bool(board["not_yet_in_any"]) or any(e["patches"] for e in board["environments"])


COMMANDS = [status]
