"""Rendering for the terminal and for machines: text, JSON, warnings."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import click

FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                      show_default=True, help="Output format.")


def emit_json(doc: Any) -> None:
    click.echo(json.dumps(doc, ensure_ascii=False, indent=2))


def warn(warnings: Iterable[str]) -> None:
    for message in warnings:
        click.echo(f"warning: {message}", err=True)

