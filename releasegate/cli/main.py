"""The command line: the one error boundary and the command group.

Commands are thin: parse, call one action, render, return an exit status. Every
expected failure is a ReleasegateError carrying its exit status; anything else is a
bug, reported in one line with the traceback written to a log file (exit 4).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from releasegate import __version__
from releasegate.core.errors import EXIT_BAD_INPUT, EXIT_BUG, ReleasegateError


class Context:
    """What the global options give every command."""

    def __init__(self, ledger: str | None, person: str | None) -> None:
        self.ledger_option = ledger
        self.person = person or os.environ.get("RELEASEGATE_USER") or None

    def ledger(self) -> Any:
        from releasegate.ledger.transaction import Ledger

        return Ledger.discover(self.ledger_option, os.environ, Path.cwd())


# Each command's module, imported only when the command runs (or help lists them all),
# so a command does not pay for loading every other one.
COMMAND_MODULES = {
    "init": "setup", "demo": "setup", "schema": "setup", "sync": "setup", "patch": "patch",
    "checklist": "evidence", "tests": "evidence", "signoff": "evidence", "waive": "evidence",
    "check": "gate", "promote": "gate", "status": "views", "reindex": "views",
    "notice": "notices",
    "notify": "notices", "publish": "publish", "verify-artifact": "verify",
    "verify": "verify",
}


class Group(click.Group):
    """A click group whose `main` is releasegate's error boundary."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMAND_MODULES.get(cmd_name)
        if module is None:
            return None
        commands = importlib.import_module(f"releasegate.cli.{module}").COMMANDS
        found: click.Command = next(c for c in commands if c.name == cmd_name)
        return found

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> NoReturn:
        argv = list(sys.argv[1:] if args is None else args)
        as_json = _wants_json(argv)
        try:
            argv = hoist_global_options(self, argv)
            result = super().main(argv, prog_name or "releasegate", complete_var,
                                  standalone_mode=False, **extra)
            code = result if isinstance(result, int) else 0
        except ReleasegateError as exc:
            code = _report(exc, as_json)
        except click.exceptions.Abort:
            click.echo("error: aborted; nothing recorded", err=True)
            code = EXIT_BAD_INPUT
        except click.ClickException as exc:
            code = _report(ReleasegateError(exc.format_message(), code="usage",
                                            hint=_usage_hint(exc)), as_json)
        except Exception as exc:  # the boundary: anything unexpected is a bug
            code = _report_bug(exc, as_json)
        sys.exit(code)


GLOBAL_OPTIONS = ("--ledger", "--as")


def hoist_global_options(group: click.Group, argv: list[str]) -> list[str]:
    """`--ledger` and `--as` may also follow the command (`signoff ID ... --as dave`):
    move them, with their values, in front of it, where click reads them.

    The arguments are walked as click would read them, so a value of another option
    that happens to read `--as` (`--comment --as`) stays where it is, and nothing after
    `--` (the end of options) is moved."""
    front: list[str] = []
    rest: list[str] = []
    command: click.Command | None = group
    ctx = click.Context(group)
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--":
            rest.extend(argv[i - 1:])
            break
        name, equals, _ = arg.partition("=")
        if name in GLOBAL_OPTIONS:
            if not equals and i == len(argv):
                raise click.UsageError(f"Option '{arg}' requires an argument.")
            front += [arg] if equals else [arg, argv[i]]
            i += 0 if equals else 1
            continue
        rest.append(arg)
        if arg.startswith("-") and arg != "-":
            if command is not None and _takes_value(command, arg) and i < len(argv):
                rest.append(argv[i])
                i += 1
        elif isinstance(command, click.Group):
            command = command.get_command(ctx, arg)
    return front + rest


def _takes_value(command: click.Command, arg: str) -> bool:
    """Whether option `arg` of `command` takes the next argument as its value."""
    if arg.startswith("--"):
        name, attached = arg.partition("=")[0], "=" in arg
    else:  # -o VALUE, or -oVALUE
        name, attached = arg[:2], len(arg) > 2
    for param in command.params:
        if isinstance(param, click.Option) and name in (*param.opts, *param.secondary_opts):
            return not attached and not param.is_flag and not param.count
    return False


def _wants_json(argv: list[str]) -> bool:
    for i, arg in enumerate(argv):
        if arg == "--format=json" or (arg == "--format" and argv[i + 1:i + 2] == ["json"]):
            return True
    return False


def _usage_hint(exc: click.ClickException) -> str | None:
    ctx = getattr(exc, "ctx", None)
    return f"see `{ctx.command_path} --help`" if ctx is not None else None


def _report(exc: ReleasegateError, as_json: bool) -> int:
    if as_json:
        click.echo(json.dumps({"error": exc.to_dict()}, ensure_ascii=False, indent=2))
    else:
        from releasegate.core.text import shown_text  # the error path only

        click.echo(f"error: {shown_text(str(exc))}", err=True)  # it may quote input
    return exc.exit_status


def _report_bug(exc: Exception, as_json: bool) -> int:
    import traceback

    folder = Path(os.environ.get("RELEASEGATE_LOG_DIR")
                  or Path.home() / ".cache" / "releasegate")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    log = folder / f"crash-{stamp}-{os.getpid()}.log"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        log.write_text(f"releasegate {__version__}\nargv: {sys.argv}\n\n"
                       + traceback.format_exc(), encoding="utf-8")
        where = f"details in {log}"
    except OSError:
        where = "could not write the log file"
    message = (f"internal error in releasegate ({type(exc).__name__}: {exc}); {where}; "
               "please report it")
    click.echo(f"error: {message}", err=True)
    if as_json:
        click.echo(json.dumps({"error": {"code": "bug", "exit_status": EXIT_BUG,
                                          "message": message}}, ensure_ascii=False))
    return EXIT_BUG


@click.group(name="releasegate", cls=Group, context_settings={"help_option_names": ["-h", "--help"],
                                          "max_content_width": 100})
@click.option("--ledger", metavar="DIR", help="The ledger folder (default: $RELEASEGATE_LEDGER, "
              "else the nearest folder upwards holding releasegate.yaml).")
@click.option("--as", "person", metavar="PERSON", help="Act as PERSON (default: "
              "$RELEASEGATE_USER, else git's user.email matched to a person).")
@click.version_option(__version__, prog_name="releasegate")
@click.pass_context
def cli(ctx: click.Context, ledger: str | None, person: str | None) -> None:
    """Vendor patches go dev -> test -> prod, gate by gate, on a git ledger.

    Exit status: 0 done or gate open; 1 gate closed; 2 bad usage or input (nothing
    recorded); 3 transient, retry may succeed; 4 a bug in releasegate.
    """
    ctx.obj = Context(ledger, person)


def main() -> NoReturn:
    cli.main()
