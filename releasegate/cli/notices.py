"""notice and notify: render a release notice, deliver it to its subscribers."""

from __future__ import annotations

from pathlib import Path

import click

from releasegate.cli.main import Context
from releasegate.cli.output import finish, warn
from releasegate.core.errors import InputError
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





@click.command("notify")
@click.argument("patch_id", metavar="ID")
@click.option("--channel", help="Deliver only through this channel.")
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send and record "
              "nothing.")
@click.option("--kind", type=click.Choice(["upcoming", "released", "rolled-back"]),
              help="Which notice (default: from the patch's state).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@click.pass_obj
def notify(obj: Context, patch_id: str, channel: str | None, dry_run: bool, kind: str | None,
           fmt: str) -> int:
    """Deliver patch ID's due notices to its subscribers, each exactly once.

    Exit 0 when everything due was delivered (or nothing was due); 3 when a delivery
    failed and waits in the outbox for the next run.
    """
    from releasegate.actions.notify import notify as deliver_notices
    from releasegate.core.errors import EXIT_OK, EXIT_TRANSIENT

    attempts, warnings = deliver_notices(obj.ledger(), obj.person, patch_id, channel=channel,
                                         dry_run=dry_run, kind=kind)

    def text() -> str:
        if not attempts:
            return (f"nothing due for {patch_id}: every subscriber of its system has this "
                    "notice, or none is configured (notices.subscribers)")
        lines = []
        for attempt in attempts:
            mark = "would send" if dry_run else ("sent" if attempt.ok else "FAILED")
            lines.append(f"{mark}: {attempt.due.kind} notice to {attempt.due.label}"
                         + ("" if attempt.ok else f" ({attempt.detail})"))
            if attempt.preview:
                lines.append("  " + attempt.preview.replace("\n", "\n  "))
        return "\n".join(lines)

    return finish(fmt, warnings,
                  lambda: {"patch": patch_id, "dry_run": dry_run, "deliveries": [
                      {"id": a.due.id, "kind": a.due.kind, "subscriber": a.due.subscriber.name,
                       "channel": a.due.delivery.channel, "to": list(a.due.delivery.to),
                       "ok": a.ok, "detail": a.detail} for a in attempts]}, text,
                  EXIT_OK if all(a.ok for a in attempts) else EXIT_TRANSIENT)


COMMANDS = [notice, notify]
