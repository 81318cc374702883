"""patch submit, revise, list, show, log."""

from __future__ import annotations

from pathlib import Path

import click

from releasegate.cli.main import Context
from releasegate.cli.output import FORMAT, emit_json, warn

FILE = click.Path(dir_okay=False, path_type=Path)


@click.group("patch")
def patch() -> None:
    """Register vendor patches and look at them."""


@patch.command("submit")
@click.argument("manifest", type=FILE)
@click.option("--artifact", "artifacts", multiple=True, type=FILE,
              help="An artifact file (repeatable), besides those the manifest lists.")
@FORMAT
@click.pass_obj
def submit(obj: Context, manifest: Path, artifacts: tuple[Path, ...], fmt: str) -> int:
    """Register a vendor patch from MANIFEST; hashes its artifacts."""
    from releasegate.actions.patches import submit_patch
    from releasegate.cli.terminal import table

    result = submit_patch(obj.ledger(), obj.person, manifest, artifacts)
    warn(result.warnings)
    if fmt == "json":
        emit_json({"patch": result.patch, "digest": result.digest, "recorded": result.recorded,
                   "artifacts": [vars(a) for a in result.artifacts]})
    elif result.recorded:
        click.echo(f"submitted {result.patch}  {result.digest}")
        click.echo(table([[a.name, f"{a.size} bytes", a.sha256] for a in result.artifacts]))
    else:
        click.echo(f"{result.patch} was already submitted with these artifacts; nothing new "
                   "recorded")
    return 0


@patch.command("revise")
@click.argument("patch_id", metavar="ID")
@click.option("--artifact", "artifacts", multiple=True, type=FILE, required=True,
              help="An artifact file of the re-delivery (repeatable).")
@FORMAT
@click.pass_obj
def revise(obj: Context, patch_id: str, artifacts: tuple[Path, ...], fmt: str) -> int:
    """Record a vendor re-delivery: new digest, the patch starts over."""
    from releasegate.actions.patches import revise_patch

    result = revise_patch(obj.ledger(), obj.person, patch_id, artifacts)
    warn(result.warnings)
    if fmt == "json":
        emit_json({"patch": result.patch, "digest": result.digest, "recorded": result.recorded})
    elif result.recorded:
        click.echo(f"revised {result.patch}  {result.digest}; it starts over from the first "
                   "environment and earlier evidence no longer counts")
    else:
        click.echo(f"{result.patch} already has these artifacts; nothing new recorded")
    return 0


@patch.command("list")
@FORMAT
@click.pass_obj
def list_(obj: Context, fmt: str) -> int:
    """List the patches in the ledger."""
    from releasegate.actions.views import list_patches
    from releasegate.cli.terminal import table
    from releasegate.core.board import patch_summary
    from releasegate.core.text import text_in

    states, warnings = list_patches(obj.ledger())
    warn(warnings)
    if fmt == "json":
        emit_json([patch_summary(s) for s in states])
    elif not states:
        click.echo("no patches yet; register one with `releasegate patch submit MANIFEST`")
    else:
        rows = [["ID", "ENV", "SYSTEM", "TITLE"]]
        rows += [[s.id, s.env or "-", s.manifest.system, text_in(s.manifest.title)]
                 for s in states]
        click.echo(table(rows, indent=""))
    return 0


@patch.command("show")
@click.argument("patch_id", metavar="ID")
@FORMAT
@click.pass_obj
def show(obj: Context, patch_id: str, fmt: str) -> int:
    """A patch's state, its evidence per gate and its next verdict."""
    from releasegate.actions.views import show_patch
    from releasegate.cli.terminal import patch_detail, patch_json

    view, warnings = show_patch(obj.ledger(), patch_id)
    warn(warnings)
    if fmt == "json":
        emit_json(patch_json(view))
    else:
        click.echo(patch_detail(view))
    return 0


@patch.command("log")
@click.argument("patch_id", metavar="ID")
@FORMAT
@click.pass_obj
def log(obj: Context, patch_id: str, fmt: str) -> int:
    """The audit trail: who did what, when."""
    from releasegate.actions.views import patch_log
    from releasegate.cli.terminal import event_json, event_line

    state, warnings = patch_log(obj.ledger(), patch_id)
    warn(warnings)
    if fmt == "json":
        emit_json([event_json(e) for e in state.events])
    else:
        for event in state.events:
            click.echo(event_line(event))
    return 0


COMMANDS = [patch]
