"""publish: write the notice board, a static web site."""

from __future__ import annotations

from pathlib import Path

import click

from releasegate.cli.main import Context
from releasegate.cli.output import FORMAT, finish


@click.command("publish")
@click.argument("directory", metavar="DIR", type=click.Path(path_type=Path))
@FORMAT
@click.pass_obj
def publish(obj: Context, directory: Path, fmt: str) -> int:
    """Write the notice board into DIR: every notice in each language, the environment
    board and Atom feeds, as a static site that any web server can host or that opens
    from disk. Only files whose content changed are written; DIR's other files are
    left alone."""
    from releasegate.actions.publish import publish_site

    published, warnings = publish_site(obj.ledger(), directory)
    return finish(fmt, warnings, published.to_dict,
                  lambda: f"{published.index}\n{len(published.written)} written, "
                          f"{published.unchanged} unchanged, {len(published.removed)} removed "
                          f"({published.patches} patches in {' and '.join(published.languages)}"
                          f"; {published.rendered} rendered anew)")


COMMANDS = [publish]
