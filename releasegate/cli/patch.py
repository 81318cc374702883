"""patch submit, revise, list, show, log."""

from __future__ import annotations

from pathlib import Path

import click

from releasegate.cli.main import Context
from releasegate.cli.output import FORMAT, finish

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

    def text() -> str:
        if not result.recorded:
            return (f"{result.patch} was already submitted with these artifacts; nothing new "
                    "recorded")
        rows = [[a.name, f"{a.size} bytes", a.sha256] for a in result.artifacts]
        return f"submitted {result.patch}  {result.digest}\n{table(rows)}"

    return finish(fmt, result.warnings,
                  lambda: {"patch": result.patch, "digest": result.digest,
                           "recorded": result.recorded,
                           "artifacts": [vars(a) for a in result.artifacts]}, text)


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
    return finish(fmt, result.warnings,
                  lambda: {"patch": result.patch, "digest": result.digest,
                           "recorded": result.recorded},
                  lambda: f"revised {result.patch}  {result.digest}; it starts over from the "
                          "first environment and earlier evidence no longer counts"
                          if result.recorded else
                          f"{result.patch} already has these artifacts; nothing new recorded")


@patch.command("list")
@FORMAT
@click.pass_obj
def list_(obj: Context, fmt: str) -> int:
    """List the patches in the ledger."""
    from releasegate.actions.views import list_patches
    from releasegate.cli.terminal import table

    patches, warnings = list_patches(obj.ledger())

    def text() -> str:
        if not patches:
            return "no patches yet; register one with `releasegate patch submit MANIFEST`"
        rows = [["ID", "ENV", "SYSTEM", "TITLE"]]
        rows += [[p["id"], p["env"] or "-", p["system"], p["title"]] for p in patches]
        return table(rows, indent="")

    return finish(fmt, warnings, lambda: patches, text)


@patch.command("show")
@click.argument("patch_id", metavar="ID")
@FORMAT
@click.pass_obj
def show(obj: Context, patch_id: str, fmt: str) -> int:
    """A patch's state, its evidence per gate and its next verdict."""
    from releasegate.actions.views import show_patch
    from releasegate.cli.terminal import patch_detail, patch_json

    view, warnings = show_patch(obj.ledger(), patch_id)
    return finish(fmt, warnings, lambda: patch_json(view), lambda: patch_detail(view))


@patch.command("log")
@click.argument("patch_id", metavar="ID")
@FORMAT
@click.pass_obj
def log(obj: Context, patch_id: str, fmt: str) -> int:
    """The audit trail: who did what, when."""
    from releasegate.actions.views import patch_log
    from releasegate.cli.terminal import event_json, event_line

    state, warnings = patch_log(obj.ledger(), patch_id)
    # A patch's state always holds its submission event, so the text is never empty.
    return finish(fmt, warnings, lambda: [event_json(e) for e in state.events],
                  lambda: "\n".join(event_line(e) for e in state.events))


COMMANDS = [patch]
