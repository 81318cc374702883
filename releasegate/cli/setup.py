"""init, demo, schema."""

from __future__ import annotations

from pathlib import Path

import click

from releasegate.cli.main import Context


@click.command("init")
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--example", is_flag=True, help="Add example people and roles (alice, bob, "
              "carol, dave, erin) so every command can be tried at once.")
@click.option("--timezone", default="UTC", show_default=True,
              help="IANA time zone of the pipeline.")
def init(directory: Path, example: bool, timezone: str) -> int:
    """Make a new ledger: a git repository with a default pipeline and checklists."""
    from releasegate.actions.setup import init_ledger

    result = init_ledger(directory, example=example, timezone=timezone)
    click.echo(f"new ledger in {result.root}")
    for path in result.files:
        click.echo(f"  {path}")
    if not example:
        click.echo("next: add people and roles to releasegate.yaml, then commit it with git")
    else:
        click.echo(f"next: releasegate --ledger {result.root} --as alice patch submit MANIFEST")
    return 0


@click.command("demo")
@click.argument("directory", default="releasegate-demo",
                type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the folder's contents if not empty.")
def demo(directory: Path, force: bool) -> int:
    """Walk a vendor patch through every gate on an example ledger."""
    from releasegate.demo import run_demo

    run_demo(directory, force=force, say=click.echo)
    return 0


@click.command("schema")
@click.argument("name", type=click.Choice(["pipeline", "manifest", "checklist"]))
def schema(name: str) -> int:
    """Print the JSON Schema of releasegate.yaml, a manifest or a checklist template."""
    from releasegate.config.schema import schema_text

    click.echo(schema_text(name), nl=False)
    return 0




@click.command("sync")
@click.pass_obj
def sync(obj: Context) -> int:
    """Pull the shared ledger (git upstream of the branch) and push local commits."""
    from releasegate.actions.setup import sync_ledger
    from releasegate.cli.output import warn

    result, warnings = sync_ledger(obj.ledger())
    warn(warnings)
    if result.remote is None:
        click.echo("no shared remote: the branch has no upstream (see `git branch -u`)")
    else:
        click.echo(f"in step with {result.remote}: {result.arrived} new files arrived"
                   + ("; local commits pushed" if result.pushed else ""))
    return 0


COMMANDS = [init, demo, schema, sync]
