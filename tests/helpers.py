"""Shared test helpers: run the CLI, make manifests and JUnit files, fingerprint a ledger."""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from releasegate.cli.main import cli

PATCH = "CBS-2026-0042"


@dataclass
class Cli:
    """Runs `releasegate --ledger <root> ...` in-process through CliRunner."""

    root: Path

    def __call__(self, *args: str, person: str | None = None, input: str | None = None,
                 env: dict[str, str] | None = None) -> Result:
        argv = ["--ledger", str(self.root)]
        if person:
            argv += ["--as", person]
        runner = CliRunner()
        return runner.invoke(cli, [*argv, *args], input=input, env=env,
                             catch_exceptions=False)

    def json(self, *args: str, person: str | None = None) -> Any:
        result = self(*args, "--format", "json", person=person)
        return json.loads(result.stdout)


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                          text=True).stdout


def fingerprint(root: Path) -> dict[str, str]:
    """Everything a refused act must leave as it was: refs, HEAD, index, working tree."""
    marks = {"HEAD": git(root, "rev-parse", "HEAD"),
             "refs": git(root, "for-each-ref"),
             "status": git(root, "status", "--porcelain", "--untracked-files=all")}
    index = root / ".git" / "index"
    marks["index"] = hashlib.sha256(index.read_bytes()).hexdigest() if index.exists() else ""
    for path in sorted(root.rglob("*")):
        if ".git" not in path.relative_to(root).parts and path.is_file():
            marks[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return marks


MANIFEST = """\
id: {id}
system: {system}
vendor: Acme FinSoft
vendor_ref: AFS-1
version: 7.4.2
title:
  en: Fix interest accrual
  zh-CN: 修复利息计提
artifacts: [{artifact}]
{extra}"""


def write_manifest(folder: Path, patch: str = PATCH, *, system: str = "core-banking",
                   artifact: str = "patch.tar", content: bytes = b"payload-1\n",
                   extra: str = "") -> Path:
    """A manifest and its one artifact in `folder`; returns the manifest path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / artifact).write_bytes(content)
    path = folder / f"{patch}.yaml"
    path.write_text(MANIFEST.format(id=patch, system=system, artifact=artifact, extra=extra),
                    encoding="utf-8")
    return path


def junit_file(folder: Path, suite: str, passed: int, failed: int = 0, skipped: int = 0,
               errors: int = 0) -> Path:
    """A JUnit XML file with the given outcome counts."""
    cases = []
    for i in range(passed):
        cases.append(f'<testcase classname="{suite}" name="pass_{i}"/>')
    for i in range(failed):
        cases.append(f'<testcase classname="{suite}" name="fail_{i}">'
                     f'<failure message="boom {i}"/></testcase>')
    for i in range(errors):
        cases.append(f'<testcase classname="{suite}" name="error_{i}"><error/></testcase>')
    for i in range(skipped):
        cases.append(f'<testcase classname="{suite}" name="skip_{i}"><skipped/></testcase>')
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{suite}.xml"
    path.write_text(f'<testsuite name="{suite}">{"".join(cases)}</testsuite>',
                    encoding="utf-8")
    return path


ANSWERS = {
    "intake": "version-controlled: 'yes'\nrelease-note-read: 'yes'\nrisk: low\n",
    "dev-review": "walkthrough: 'yes'\ninstalled-cleanly: 'yes'\n"
                  "data-migration: {value: n/a, reason: none}\n",
    "test-review": "regression-run: 'yes'\nfix-verified: 'yes'\nbusiness-verification: 'yes'\n",
    "change-readiness": "rollback-tested: 'yes'\nwindow-agreed: 'yes'\nnotice-sent: 'yes'\n"
                        "on-call: erin\n",
}


def answers_file(folder: Path, template: str, text: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{template}-answers.yaml"
    path.write_text(text if text is not None else ANSWERS[template], encoding="utf-8")
    return path


# --- regression results, patch walks and pipeline edits ---------------------------------

_CHILD = {"failed": "failure", "error": "error", "flaky": "flakyFailure"}
OUTCOME_NAMES = ("passed", "failed", "error", "skipped", "flaky")


def junit_cases(folder: Path, suite: str, outcomes: dict[str, str],
                messages: dict[str, str] | None = None) -> Path:
    """`folder/<suite>.xml` holding one <testcase> per "classname::name" with the chosen
    outcome (passed, failed, error, skipped or flaky); failed, error and flaky cases carry
    the given message, else "<outcome>: <name>"."""
    from xml.sax.saxutils import quoteattr

    cases = []
    for test, outcome in outcomes.items():
        assert outcome in OUTCOME_NAMES, outcome
        classname, _, name = test.partition("::")
        attrs = f"classname={quoteattr(classname)} name={quoteattr(name)}"
        if outcome == "passed":
            cases.append(f"<testcase {attrs}/>")
        elif outcome == "skipped":
            cases.append(f"<testcase {attrs}><skipped/></testcase>")
        else:
            message = (messages or {}).get(test, f"{outcome}: {name}")
            cases.append(f"<testcase {attrs}><{_CHILD[outcome]} "
                         f"message={quoteattr(message)}/></testcase>")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{suite}.xml"
    path.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n'
                    f'<testsuite name={quoteattr(suite)}>{"".join(cases)}</testsuite>\n',
                    encoding="utf-8")
    return path


def passing(classname: str, *names: str) -> dict[str, str]:
    """{"classname::name": "passed"} for each name."""
    return {f"{classname}::{name}": "passed" for name in names}


def must(rg: Cli, *args: str, person: str | None = "alice") -> Result:
    """Run a command that must succeed (exit 0)."""
    result = rg(*args, person=person)
    assert result.exit_code == 0, (args, result.output)
    return result


def walk_to_test(rg: Cli, inputs: Path, patch: str = PATCH, *,
                 system: str = "core-banking", content: bytes = b"payload-1\n",
                 dev: dict[str, dict[str, str]] | None = None) -> None:
    """Submit `patch` (by alice, unless it exists) and walk its current digest into test
    through the example pipeline's dev and test gates; `dev` maps the suites recorded in
    dev to their outcomes (default: a passing smoke suite)."""
    folder = inputs / patch
    if not (rg.root / "patches" / patch).exists():
        must(rg, "patch", "submit", str(write_manifest(folder, patch, system=system,
                                                       content=content)))
    must(rg, "checklist", "fill", patch, "intake", "--env", "dev", "--answers",
         str(answers_file(folder, "intake")))
    must(rg, "promote", patch, "--to", "dev")
    for suite, outcomes in (dev or {"smoke": passing("smoke", "login", "balance")}).items():
        record_regression(rg, inputs, patch, outcomes, suite=suite, env="dev")
    must(rg, "checklist", "fill", patch, "dev-review", "--env", "test", "--answers",
         str(answers_file(folder, "dev-review")), person="bob")
    must(rg, "signoff", patch, "--env", "test", "--role", "app-owner", person="bob")
    must(rg, "promote", patch, "--to", "test")


def record_regression(rg: Cli, inputs: Path, patch: str, outcomes: dict[str, str], *,
                      suite: str = "regression", env: str = "test",
                      messages: dict[str, str] | None = None) -> None:
    """Record JUnit results of `suite` in `env` with the given per-test outcomes."""
    (inputs / patch).mkdir(parents=True, exist_ok=True)
    folder = inputs / patch / f"run-{len(list((inputs / patch).glob('run-*')))}"
    must(rg, "tests", "record", patch, "--env", env,
         str(junit_cases(folder, suite, outcomes, messages)))


def sign_prod_gate(rg: Cli, inputs: Path, patch: str = PATCH) -> None:
    """Fill the prod gate's checklists and give its four sign-offs."""
    folder = inputs / patch
    must(rg, "checklist", "fill", patch, "test-review", "--env", "prod", "--answers",
         str(answers_file(folder, "test-review")), person="carol")
    must(rg, "checklist", "fill", patch, "change-readiness", "--env", "prod", "--answers",
         str(answers_file(folder, "change-readiness")), person="erin")
    for person, role in (("carol", "test-lead"), ("bob", "app-owner"), ("dave", "business"),
                         ("erin", "change-manager")):
        must(rg, "signoff", patch, "--env", "prod", "--role", role, person=person)


def walk_to_prod(rg: Cli, inputs: Path, patch: str, regression: dict[str, str], *,
                 system: str = "core-banking", waive: tuple[str, ...] = ()) -> None:
    """Walk `patch` into test, record `regression` there, waive the given patterns (as
    carol), sign the prod gate and promote: its results become the next baseline."""
    walk_to_test(rg, inputs, patch, system=system)
    record_regression(rg, inputs, patch, regression)
    for pattern in waive:
        must(rg, "waive", patch, "--env", "prod", "--test", pattern, "--reason",
             "known vendor defect", "--until", "2099-12-31", person="carol")
    sign_prod_gate(rg, inputs, patch)
    result = must(rg, "promote", patch, "--to", "prod")
    assert f"promoted {patch} to prod" in result.stdout, result.output


def edit_pipeline(root: Path, change: Any, message: str = "edit pipeline") -> None:
    """Load releasegate.yaml, let `change(config)` edit the dict, save and commit it
    (releasegate reads only the committed pipeline)."""
    import yaml

    path = root / "releasegate.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(config)
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True),
                    encoding="utf-8")
    git(root, "commit", "-qam", message)


def gate_of(config: dict[str, Any], env: str) -> dict[str, Any]:
    """The gate mapping of `env` in a loaded releasegate.yaml."""
    return next(e["gate"] for e in config["environments"] if e["name"] == env)


def conditions(verdict: dict[str, Any]) -> dict[tuple[str, str], dict[str, str]]:
    """A check --format json document's rows by (kind, name)."""
    return {(c["kind"], c["name"]): c for c in verdict["conditions"]}
