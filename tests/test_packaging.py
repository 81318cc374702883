"""What `pip install .` ships: every package folder and the default checklists."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _declared() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return set(config["tool"]["setuptools"]["packages"])


def test_every_package_folder_is_declared_for_the_wheel() -> None:
    folders = {".".join(p.parent.relative_to(ROOT).parts)
               for p in (ROOT / "releasegate").rglob("__init__.py")}
    assert folders <= _declared(), f"missing from pyproject.toml: {folders - _declared()}"


def test_the_default_checklists_ship_inside_the_package() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["tool"]["setuptools"]["package-dir"]["releasegate.checklists"] == "checklists"
    assert "releasegate.checklists" in _declared()
    shipped = sorted(p.name for p in (ROOT / "checklists").glob("*.yaml"))
    assert shipped == ["change-readiness.yaml", "dev-review.yaml", "intake.yaml",
                       "test-review.yaml"]
