"""Every outside package releasegate imports is declared in pyproject.toml, so a fresh
`pip install .` never fails at run time on a package that only happened to be there."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {_normalized(re.split(r"[<>=!~;\[ ]", spec, maxsplit=1)[0])
            for spec in project["dependencies"]}


def _imported_top_levels() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "releasegate").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"releasegate"}


def test_every_imported_package_is_a_declared_dependency() -> None:
    providers = packages_distributions()
    undeclared = {name: providers.get(name, ["(not installed)"])
                  for name in _imported_top_levels()
                  if not {_normalized(d) for d in providers.get(name, [])} & _declared()}
    assert undeclared == {}
