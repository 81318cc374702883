"""verify-artifact: are these files exactly what was approved?"""

from __future__ import annotations

from pathlib import Path

import click

from releasegate.cli.main import Context
from releasegate.cli.output import FORMAT, finish


@click.command("verify-artifact")
@click.argument("patch_id", metavar="ID")
@click.argument("files", nargs=-1, required=True, metavar="FILE...",
                type=click.Path(path_type=Path, dir_okay=False))
@click.option("--env", metavar="ENV", help="The environment the patch must have entered "
              "with these files' digest (default: the last one, e.g. prod).")
@FORMAT
@click.pass_obj
def verify_artifact(obj: Context, patch_id: str, files: tuple[Path, ...], env: str | None,
                    fmt: str) -> int:
    """Exit 0 only when FILE... are the approved artifacts of patch ID.

    The files' names and bytes must give the patch's current digest, and the patch must
    have been promoted into ENV with it. Exit 1 says which file differs and how.
    """
    from releasegate.actions.artifacts import verify_artifacts

    result, warnings = verify_artifacts(obj.ledger(), patch_id, files, env)
    doc = {"patch": result.patch, "env": result.env, "approved_digest": result.digest,
           "given_digest": result.given, "ok": result.ok, "problems": list(result.problems)}
    text = (f"OK: the {len(files)} file(s) are the artifacts of {result.patch} approved "
            f"for {result.env}\ndigest {result.digest}") if result.ok else "\n".join(
        [f"DIFFERENT: the files are not the artifacts of {result.patch} approved for "
         f"{result.env}", f"approved digest {result.digest}",
         f"given digest    {result.given}", *(f"  - {p}" for p in result.problems)])
    return finish(fmt, warnings, lambda: doc, lambda: text, 0 if result.ok else 1)


COMMANDS = [verify_artifact]
