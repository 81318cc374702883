"""checklist fill, tests record and diff, waive, signoff: evidence for a gate."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from releasegate.cli.main import Context
from releasegate.cli.output import FORMAT, finish
from releasegate.core.errors import InputError

if TYPE_CHECKING:
    from releasegate.core.model import ChecklistItem, ChecklistTemplate

FILE = click.Path(dir_okay=False, path_type=Path)
LANGUAGES = ("en", "zh-CN")  # of the prompts


def interactive() -> bool:
    """Whether a person is at the terminal to answer prompts."""
    return sys.stdin.isatty()


@click.group("checklist")
def checklist() -> None:
    """Review checklists."""


KEY = click.option("--key", type=click.Path(path_type=Path, dir_okay=False),
                   help="Sign with this SSH key (a private key, or its .pub when ssh-agent "
                        "holds it); default: $RELEASEGATE_SIGNING_KEY, else git's "
                        "user.signingKey where gpg.format is ssh. A gate with signatures: "
                        "required refuses the act unsigned.")


def _key(obj: Context, key: Path | None) -> Path | None:
    import os

    from releasegate.trust.signing_key import signing_key

    return signing_key(key, os.environ, obj.ledger().store)


@checklist.command("fill")
@click.argument("patch_id", metavar="ID")
@click.argument("template")
@click.option("--env", required=True, help="The gate the checklist serves (the environment "
              "being entered).")
@click.option("--answers", "answers_file", type=FILE,
              help="A YAML map of item id to answer; without it, prompts on a terminal.")
@click.option("--lang", type=click.Choice(LANGUAGES),
              help="The language of the prompts (default: the locale's, from LC_ALL, "
                   "LC_MESSAGES or LANG: zh-CN when it starts with zh, else en).")
@KEY
@FORMAT
@click.pass_obj
def fill(obj: Context, patch_id: str, template: str, env: str, answers_file: Path | None,
         lang: str | None, key: Path | None, fmt: str) -> int:
    """Complete checklist TEMPLATE for patch ID."""
    from releasegate.actions.evidence import fill_checklist, find_template

    ledger = obj.ledger()
    doc = None
    if answers_file is not None:
        answers, doc = _read_answers(answers_file)
    elif interactive():
        from releasegate.ledger.pipeline import load_pipeline

        chosen = find_template(load_pipeline(ledger.snapshot()), template, env)
        answers = prompt_answers(chosen, prompt_language(lang))
    else:
        raise InputError("no answers given and no terminal to ask on", code="usage",
                         hint="pass --answers FILE (a YAML map of item id to answer)")
    result, warnings = fill_checklist(ledger, obj.person, patch_id, template, env, answers,
                                      doc, key=_key(obj, key))
    return finish(fmt, warnings, lambda: {"patch": result.patch, "env": env, **result.detail},
                  lambda: f"recorded checklist {template} for {result.patch} ({env} gate)")


def _read_answers(path: Path) -> tuple[Any, Any]:
    from releasegate.config.strict_yaml import DEFAULT_MAX_BYTES, load_yaml
    from releasegate.evidence.artifacts import read_regular

    raw = read_regular(path, "answers file", DEFAULT_MAX_BYTES)
    doc = load_yaml(raw, str(path))
    return doc.data, doc


# What the prompts say around the template's own texts, per language.
_PHRASES = {
    "en": {"optional": " (optional, Enter to skip)", "why": "  why does it not apply?",
           "needed": "{item}: an answer is needed", "one_of": "{value!r} is not one of {options}",
           "url": "{item}: expected an http(s) URL; got {value!r}", "and": ", "},
    "zh-CN": {"optional": "（可选，直接回车跳过）", "why": "  为何不适用？",
              "needed": "{item}：此项必须回答", "one_of": "{value!r} 不是 {options} 之一",
              "url": "{item}：需要 http(s) 链接，收到 {value!r}", "and": "、"},
}
_YES_NO = {"y": "yes", "yes": "yes", "n": "no", "no": "no", "n/a": "n/a"}


def prompt_language(chosen: str | None = None) -> str:
    """`chosen` (--lang), else the locale's: zh-CN when it starts with zh, else en."""
    if chosen:
        return chosen
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):  # the first one set decides
        value = os.environ.get(name)
        if value:
            return "zh-CN" if value.lower().startswith("zh") else "en"
    return "en"


def prompt_answers(template: ChecklistTemplate, lang: str = "en") -> dict[str, Any]:
    """Ask item by item in `lang`; a wrong answer is asked again, the others are kept.
    Each answer is checked as the core checks a file's."""
    from releasegate.core.text import text_in

    click.echo(f"{text_in(template.title, lang)} ({template.id})")
    answers: dict[str, Any] = {}
    for item in template.items:
        value = _ask(template, item, lang)
        if value == "n/a":
            reason = click.prompt(_PHRASES[lang]["why"])
            answers[item.id] = {"value": "n/a", "reason": reason}
        elif value:
            answers[item.id] = value
    return answers


def _ask(template: ChecklistTemplate, item: ChecklistItem, lang: str) -> str:
    """One item's answer ("" for an optional item skipped), asked until it is valid."""
    from releasegate.core.text import text_in

    phrases = _PHRASES[lang]
    label = text_in(item.text, lang) + ("" if item.required else phrases["optional"])
    na = ["n/a"] if item.allow_na else []
    if item.type == "confirm":
        label += f" ({'/'.join(['y', 'n', *na])})"
    elif item.type == "choice":
        label += f" ({', '.join([*item.choices, *na])})"
    while True:
        value = click.prompt(label, default="", show_default=False).strip()
        problem = _problem(template, item, value, lang)
        if problem is None:
            return _canonical(item, value)
        click.echo(problem, err=True)


def _problem(template: ChecklistTemplate, item: ChecklistItem, value: str,
             lang: str) -> str | None:
    """What is wrong with `value` as the answer to `item`, in `lang`; None if nothing."""
    from dataclasses import replace

    from releasegate.actions.evidence import normalize_answers

    phrases = _PHRASES[lang]
    if not value:
        return None if not item.required else phrases["needed"].format(item=item.id)
    canonical = _canonical(item, value)
    options = ["yes", "no"] if item.type == "confirm" else list(item.choices)
    options += ["n/a"] if item.allow_na else []
    if item.type in ("confirm", "choice") and canonical not in options:
        return phrases["one_of"].format(
            value=value, options=phrases["and"].join(repr(o) for o in options))
    if canonical == "n/a" and item.allow_na:
        return None  # the reason is asked next
    try:
        normalize_answers(replace(template, items=(item,)), {item.id: canonical})
    except InputError as exc:
        if item.type == "url":
            return phrases["url"].format(item=item.id, value=value)
        return f"{item.id}: {exc.message}"
    return None


def _canonical(item: ChecklistItem, value: str) -> str:
    """`y`, `YES`, `No` as yes and no; a choice in any case as the choice."""
    if item.type == "confirm":
        return _YES_NO.get(value.lower(), value)
    if item.type == "choice" and value not in item.choices:
        folded = [c for c in item.choices if c.casefold() == value.casefold()]
        return folded[0] if len(folded) == 1 else value
    return "n/a" if value.lower() == "n/a" else value


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
@KEY
@FORMAT
@click.pass_obj
def waive(obj: Context, patch_id: str, env: str, pattern: str, reason: str, until: str,
          key: Path | None, fmt: str) -> int:
    """Waive named failing tests of patch ID for a gate, for its current digest only."""
    from releasegate.actions.evidence import waive as record_waiver

    result, warnings = record_waiver(obj.ledger(), obj.person, patch_id, env, pattern, reason,
                                     until, key=_key(obj, key))
    return finish(fmt, warnings, lambda: {"patch": result.patch, "env": env, **result.detail},
                  lambda: f"waived {pattern} for {result.patch} ({env} gate) until "
                          f"{result.detail['until']}")


@click.command("signoff")
@click.argument("patch_id", metavar="ID")
@click.option("--env", required=True, help="The gate signed (the environment being entered).")
@click.option("--role", required=True, help="The role you sign in (with --on-behalf-of: the "
              "role the approver holds).")
@click.option("--reject", is_flag=True, help="Reject instead of approve; blocks the gate "
              "until the approver approves later.")
@click.option("--comment", help="A comment kept with the sign-off.")
@click.option("--on-behalf-of", "on_behalf_of", metavar="PERSON",
              help="Record PERSON's decision, which reached you by e-mail or from an OA "
                   "system (a proxy sign-off; you need a role of rules.proxies_by). Needs "
                   "--evidence.")
@click.option("--evidence", type=FILE,
              help="With --on-behalf-of: the file the decision arrived in (an .eml, a PDF, "
                   "a screenshot; a regular file of at most 10 MiB), kept in the ledger by "
                   "its sha256.")
@KEY
@FORMAT
@click.pass_obj
def signoff(obj: Context, patch_id: str, env: str, role: str, reject: bool,
            comment: str | None, on_behalf_of: str | None, evidence: Path | None,
            key: Path | None, fmt: str) -> int:
    """Approve (or reject) patch ID for a gate, in a role; or record someone else's
    decision on their behalf (--on-behalf-of PERSON --evidence FILE)."""
    from releasegate.actions.evidence import sign_off

    result, warnings = sign_off(obj.ledger(), obj.person, patch_id, env, role, reject,
                                comment, key=_key(obj, key), on_behalf_of=on_behalf_of,
                                evidence=evidence)
    word = "rejected" if reject else "approved"
    proxy = result.detail.get("proxy")

    def text() -> str:
        if not proxy:
            return f"{word} {result.patch} for {env} as {role}"
        return (f"{word} {result.patch} for {env} as {role} on behalf of {proxy['for']} "
                f"(recorded by {proxy['recorded_by']}; evidence {proxy['evidence_name']}, "
                f"sha256 {proxy['evidence_sha256']})")

    return finish(fmt, warnings, lambda: {"patch": result.patch, "env": env, **result.detail},
                  text)


COMMANDS = [checklist, tests, signoff, waive]
