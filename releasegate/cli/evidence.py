"""checklist fill, tests record and diff, waive, signoff: evidence for a gate."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from releasegate.cli.main import Context
from releasegate.cli.output import FORMAT, finish
from releasegate.core.errors import InputError

if TYPE_CHECKING:
    from releasegate.core.model import ChecklistTemplate

FILE = click.Path(dir_okay=False, path_type=Path)


def interactive() -> bool:
    """Whether a person is at the terminal to answer prompts."""
    return sys.stdin.isatty()


@click.group("checklist")
def checklist() -> None:
    """Review checklists."""


@checklist.command("fill")
@click.argument("patch_id", metavar="ID")
@click.argument("template")
@click.option("--env", required=True, help="The gate the checklist serves (the environment "
              "being entered).")
@click.option("--answers", "answers_file", type=FILE,
              help="A YAML map of item id to answer; without it, prompts on a terminal.")
@FORMAT
@click.pass_obj
def fill(obj: Context, patch_id: str, template: str, env: str, answers_file: Path | None,
         fmt: str) -> int:
    """Complete checklist TEMPLATE for patch ID."""
    from releasegate.actions.evidence import fill_checklist, find_template

    ledger = obj.ledger()
    doc = None
    if answers_file is not None:
        answers, doc = _read_answers(answers_file)
    elif interactive():
        from releasegate.ledger.pipeline import load_pipeline

        chosen = find_template(load_pipeline(ledger.snapshot()), template, env)
        answers = prompt_answers(chosen)
    else:
        raise InputError("no answers given and no terminal to ask on", code="usage",
                         hint="pass --answers FILE (a YAML map of item id to answer)")
    result, warnings = fill_checklist(ledger, obj.person, patch_id, template, env, answers,
                                      doc)
    return finish(fmt, warnings, lambda: {"patch": result.patch, "env": env, **result.detail},
                  lambda: f"recorded checklist {template} for {result.patch} ({env} gate)")


def _read_answers(path: Path) -> tuple[Any, Any]:
    from releasegate.config.strict_yaml import DEFAULT_MAX_BYTES, load_yaml
    from releasegate.evidence.artifacts import read_regular

    raw = read_regular(path, "answers file", DEFAULT_MAX_BYTES)
    doc = load_yaml(raw, str(path))
    return doc.data, doc


def prompt_answers(template: ChecklistTemplate) -> dict[str, Any]:
    """Ask item by item; the core checks the answers as it would a file's."""
    from releasegate.core.text import text_in

    click.echo(f"{text_in(template.title)} ({template.id})")
    answers: dict[str, Any] = {}
    for item in template.items:
        label = text_in(item.text)
        optional = "" if item.required else " (optional, Enter to skip)"
        if item.type == "confirm":
            options = ["yes", "no"] + (["n/a"] if item.allow_na else [])
            value = click.prompt(f"{label}{optional}", type=click.Choice(options),
                                 default="" if not item.required else None,
                                 show_default=False)
        elif item.type == "choice":
            value = click.prompt(f"{label}{optional}", type=click.Choice(list(item.choices)),
                                 default="" if not item.required else None,
                                 show_default=False)
        else:
            value = click.prompt(f"{label}{optional}", default="" if not item.required else None,
                                 show_default=False)
        if value == "n/a":
            reason = click.prompt("  why does it not apply?")
            answers[item.id] = {"value": "n/a", "reason": reason}
        elif value != "":
            answers[item.id] = value
    return answers


@click.group("tests")
def tests() -> None:
    """JUnit test results."""


@tests.command("record")
@click.argument("patch_id", metavar="ID")
@click.argument("files", nargs=-1, required=True, type=FILE)
@click.option("--env", required=True, help="The environment the tests ran in.")
@click.option("--suite", help="Suite name (default: the first file's name without .xml).")
@FORMAT
@click.pass_obj
def record(obj: Context, patch_id: str, files: tuple[Path, ...], env: str,
           suite: str | None, fmt: str) -> int:
    """Record JUnit XML results for patch ID."""
    from releasegate.evidence.junit_job import JUnitJob

    with JUnitJob(files) as job:  # the files are parsed while the rest is imported
        from releasegate.actions.evidence import record_tests

        result, warnings = record_tests(obj.ledger(), obj.person, patch_id, env, list(files),
                                        suite, job)
    d = result.detail
    return finish(fmt, warnings,
                  lambda: {"patch": result.patch, "env": env, "suite": d["suite"],
                           "digest": d["digest"], **{k: d[k] for k in
                                                     ("tests", "passed", "flaky", "failed",
                                                      "errors", "skipped")}},
                  lambda: f"recorded {d['suite']} for {result.patch} in {env}: {d['tests']} "
                          f"tests, {d['passed']} passed, {d['flaky']} flaky, {d['failed']} "
                          f"failed, {d['errors']} errors, {d['skipped']} skipped")


@tests.command("diff")
@click.argument("patch_id", metavar="ID")
@click.option("--env", required=True, help="The environment the tests ran in.")
@click.option("--suite", help="Only this suite (default: every suite recorded in ENV).")
@FORMAT
@click.pass_obj
def diff(obj: Context, patch_id: str, env: str, suite: str | None, fmt: str) -> int:
    """Compare patch ID's latest results in ENV with the baseline, test by test."""
    from releasegate.actions.gate import diff_tests
    from releasegate.cli.terminal import comparison_text

    comparisons, warnings = diff_tests(obj.ledger(), patch_id, env, suite)
    return finish(fmt, warnings,
                  lambda: {"patch": patch_id, "env": env,
                           "suites": [c.to_dict() for c in comparisons]},
                  lambda: "\n\n".join(comparison_text(c) for c in comparisons))


@click.command("waive")
@click.argument("patch_id", metavar="ID")
@click.option("--env", required=True, help="The gate the waiver serves (the environment "
              "being entered).")
@click.option("--test", "pattern", required=True,
              help="Glob on 'classname::name' of the failing tests to waive.")
@click.option("--reason", required=True, help="Why the failures may ship.")
@click.option("--until", required=True,
              help="Expiry: YYYY-MM-DD (end of that day in the pipeline's time zone) or an "
                   "ISO 8601 time with offset.")
@FORMAT
@click.pass_obj
def waive(obj: Context, patch_id: str, env: str, pattern: str, reason: str, until: str,
          fmt: str) -> int:
    """Waive named failing tests of patch ID for a gate, for its current digest only."""
    from releasegate.actions.evidence import waive as record_waiver

    result, warnings = record_waiver(obj.ledger(), obj.person, patch_id, env, pattern, reason,
                                     until)
    return finish(fmt, warnings, lambda: {"patch": result.patch, "env": env, **result.detail},
                  lambda: f"waived {pattern} for {result.patch} ({env} gate) until "
                          f"{result.detail['until']}")


@click.command("signoff")
@click.argument("patch_id", metavar="ID")
@click.option("--env", required=True, help="The gate signed (the environment being entered).")
@click.option("--role", required=True, help="The role you sign in.")
@click.option("--reject", is_flag=True, help="Reject instead of approve; blocks the gate "
              "until you approve later.")
@click.option("--comment", help="A comment kept with the sign-off.")
@FORMAT
@click.pass_obj
def signoff(obj: Context, patch_id: str, env: str, role: str, reject: bool,
            comment: str | None, fmt: str) -> int:
    """Approve (or reject) patch ID for a gate, in a role."""
    from releasegate.actions.evidence import sign_off

    result, warnings = sign_off(obj.ledger(), obj.person, patch_id, env, role, reject,
                                comment)
    word = "rejected" if reject else "approved"
    return finish(fmt, warnings, lambda: {"patch": result.patch, "env": env, **result.detail},
                  lambda: f"{word} {result.patch} for {env} as {role}")


COMMANDS = [checklist, tests, signoff, waive]
