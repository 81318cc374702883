"""Every test runs with its own HOME and git configuration, and no releasegate variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasegate.actions.setup import init_ledger
from tests.helpers import PATCH, Cli, answers_file, junit_file, write_manifest
from tests.system_tools import install_missing


def pytest_configure(config: pytest.Config) -> None:
    # Once, in the main process before any worker starts: what the suite drives.
    if not hasattr(config, "workerinput"):
        still = install_missing()
        if still:
            print(f"warning: not installed: {', '.join(still)}; the tests that drive them "
                  "will fail")


@pytest.fixture(autouse=True)
def isolated(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("home")
    gitconfig = home / ".gitconfig"
    gitconfig.write_text("[user]\n\tname = Test Runner\n\temail = nobody@test.invalid\n"
                         "[init]\n\tdefaultBranch = main\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("RELEASEGATE_LOG_DIR", str(home / "logs"))
    for name in ("RELEASEGATE_LEDGER", "RELEASEGATE_USER", "GITHUB_ACTIONS",
                 "GITHUB_STEP_SUMMARY", "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def ledger_root(tmp_path: Path) -> Path:
    """A fresh example ledger (people alice, bob, carol, dave, erin)."""
    root = tmp_path / "ledger"
    init_ledger(root, example=True)
    return root


@pytest.fixture
def rg(ledger_root: Path) -> Cli:
    return Cli(ledger_root)


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    folder = tmp_path / "inputs"
    folder.mkdir()
    return folder


@pytest.fixture
def submitted(rg: Cli, inputs: Path) -> Cli:
    """The example ledger with CBS-2026-0042 submitted by alice."""
    result = rg("patch", "submit", str(write_manifest(inputs)), person="alice")
    assert result.exit_code == 0, result.output
    return rg


@pytest.fixture
def in_test(submitted: Cli, inputs: Path) -> Cli:
    """CBS-2026-0042 walked into test, its prod gate not yet started."""
    rg = submitted
    steps = [
        ("checklist", "fill", PATCH, "intake", "--env", "dev", "--answers",
         str(answers_file(inputs, "intake")), "alice"),
        ("promote", PATCH, "alice"),
        ("tests", "record", PATCH, "--env", "dev", str(junit_file(inputs, "smoke", 5)),
         "alice"),
        ("checklist", "fill", PATCH, "dev-review", "--env", "test", "--answers",
         str(answers_file(inputs, "dev-review")), "bob"),
        ("signoff", PATCH, "--env", "test", "--role", "app-owner", "bob"),
        ("promote", PATCH, "alice"),
    ]
    for *args, person in steps:
        result = rg(*args, person=person)
        assert result.exit_code == 0, result.output
    return rg
