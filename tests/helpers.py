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
