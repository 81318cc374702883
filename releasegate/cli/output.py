"""Rendering for the terminal and for machines: text, JSON, warnings, and the end most
commands share (warnings, then the one form asked for, then the exit status)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import click

FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                      show_default=True, help="Output format.")


def emit_json(doc: Any) -> None:
    click.echo(json.dumps(doc, ensure_ascii=False, indent=2))


def warn(warnings: Iterable[str]) -> None:
    """Each warning on standard error. A warning may quote what the ledger or a remote
    holds (a commit's subject, a path), so a character input refuses shows as an
    escape (`\\x1b`) and never reaches the terminal as itself."""
    from releasegate.core.text import shown_text

    for message in warnings:
        click.echo(f"warning: {shown_text(message)}", err=True)


def finish(fmt: str, warnings: Iterable[str], doc: Callable[[], Any], text: Callable[[], str],
           status: int = 0) -> int:
    """A command's end: its warnings on stderr, then on stdout the JSON of `doc()` when
    `fmt` is json, else the lines of `text()`; only the form asked for is computed.
    Returns `status`, the command's exit status."""
    warn(warnings)
    if fmt == "json":
        emit_json(doc())
    else:
        click.echo(text())
    return status
