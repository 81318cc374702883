"""notice: render a release notice."""

from __future__ import annotations

from pathlib import Path

import click

from releasegate.cli.main import Context
from releasegate.cli.output import warn
from releasegate.errors import InputError
from releasegate.notices import AUDIENCES, FORMATS, KINDS, LANGUAGES


@click.command("notice")
@click.argument("patch_id", metavar="ID")
@click.option("--audience", type=click.Choice(AUDIENCES), default="business", show_default=True,
              help="business: what changes, when, what to do, whom to ask; technical adds "
                   "artifacts, digests, tests, the gate verdict and the rollback plan.")
@click.option("--lang", type=click.Choice(LANGUAGES),
              help="The reader's language (default: the first of notices.languages).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="md", show_default=True,
              help="md, text, html (a whole page), or eml (an e-mail message).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the notice to this file instead of standard output.")
@click.option("--kind", type=click.Choice(KINDS),
              help="Default: released once the patch is in the last environment, else "
                   "upcoming; rolled-back only when asked for.")
@click.option("--from", "sender", metavar="ADDRESS",
              help="eml: the From address (default: releasegate <noreply@releasegate.invalid>)"
                   "; also named in the footer.")
@click.option("--to", "to", metavar="ADDRESS", multiple=True,
              help="eml: a recipient (repeatable; default: none).")
@click.pass_obj
def notice(obj: Context, patch_id: str, audience: str, lang: str | None, fmt: str,
           output: Path | None, kind: str | None, sender: str | None,
           to: tuple[str, ...]) -> int:
    """Render the release notice of a patch; record nothing."""
    from releasegate.actions.notices import notice_for
    from releasegate.notices.render import DEFAULT_SENDER, build_email

    rendered, warnings = notice_for(obj.ledger(), patch_id, audience=audience, lang=lang,
                                    kind=kind, sender=sender)
    warn(warnings)
    if fmt == "eml":
        data = build_email(rendered, sender or DEFAULT_SENDER, to).as_bytes()
    else:
        text = {"md": rendered.markdown, "text": rendered.text, "html": rendered.html}[fmt]
        data = text.encode("utf-8")
    _emit(data, output)
    return 0


def _emit(data: bytes, output: Path | None) -> None:
    if output is None:
        click.echo(data, nl=False)
        return
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror or exc}", file=str(output),
                         code="unwritable-file") from None


COMMANDS = [notice]
