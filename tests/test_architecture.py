"""The package's folders are its architecture (docs/architecture.md): the import graph
between releasegate's modules has no cycle, counting imports inside functions and
under TYPE_CHECKING, and each layer imports only what the document allows it to."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "releasegate"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}


def _imported(path: Path) -> Iterator[str]:
    """Every module of releasegate or outside it that `path` imports, anywhere in it."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                yield submodule if submodule in MODULES else node.module


GRAPH = {name: sorted(set(_imported(path))) for name, path in MODULES.items()}


def _internal(name: str) -> list[str]:
    return [m for m in GRAPH[name] if m in MODULES and m != name]


def _find_cycle() -> list[str] | None:
    done: set[str] = set()
    for start in sorted(GRAPH):
        stack, on_path = [(start, iter(_internal(start)))], [start]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                on_path.pop()
                done.add(node)
            elif child in on_path:
                return [*on_path[on_path.index(child):], child]
            elif child not in done:
                stack.append((child, iter(_internal(child))))
                on_path.append(child)
    return None


def test_no_import_cycle_among_releasegates_modules() -> None:
    cycle = _find_cycle()
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_sees_a_cycle_through_a_function_level_import(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(GRAPH, "releasegate.core.errors", ["releasegate.core.model"])
    monkeypatch.setitem(GRAPH, "releasegate.core.model", ["releasegate.core.errors"])
    assert _find_cycle() is not None


def test_few_modules_sit_flat_in_the_package() -> None:
    flat = sorted(p.name for p in PACKAGE.glob("*.py")
                  if p.name not in ("__init__.py", "__main__.py"))
    assert len(flat) <= 5, flat


def test_module_names_do_not_repeat_outside_the_command_and_action_mirrors() -> None:
    # cli/<verb>.py parses what actions/<verb>.py does: the one intended repetition.
    seen: dict[str, list[str]] = {}
    for name, path in MODULES.items():
        if path.name != "__init__.py":
            seen.setdefault(path.stem, []).append(name)
    repeated = {stem: names for stem, names in seen.items() if len(names) > 1
                and sorted(n.split(".")[1] for n in names) != ["actions", "cli"]}
    assert repeated == {}


# Which parts each part may import (docs/architecture.md draws this); the package's
# own __init__ (its version) is open to all. Outside libraries are checked below.
PARTS = ("core", "config", "ledger", "evidence", "trust", "notices", "site", "delivery",
         "actions", "cli", "demo")
ALLOWED = {
    "core": {"core"},
    "config": {"config", "core"},
    "ledger": {"ledger", "config", "core"},
    "evidence": {"evidence", "ledger", "core"},
    "trust": {"trust", "evidence", "ledger", "config", "core"},
    "notices": {"notices", "ledger", "core"},  # ledger: template overrides committed there
    "site": {"site", "notices", "ledger", "core"},
    "delivery": {"delivery", "core"},
    "actions": {"actions", "trust", "notices", "site", "delivery", "evidence", "ledger",
                "config", "core"},
    "demo": {"demo", "actions", "cli", "trust", "ledger", "core"},
    "cli": set(PARTS),
}
NO_CLICK = {"core", "config", "ledger", "evidence", "trust", "notices", "site", "delivery",
            "actions"}


def _part(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "releasegate" and len(parts) > 1 else None


# Each outside library enters through one module of releasegate.
ADAPTERS = {
    "git": {"releasegate.ledger.store"},
    "subprocess": {"releasegate.ledger.store", "releasegate.ledger.objects",
                   "releasegate.trust.ssh_keygen"},
    "yaml": {"releasegate.config.strict_yaml"},
    "defusedxml": {"releasegate.evidence.junit"},
    "junitparser": {"releasegate.cli.ci_reports"},
    "requests": {"releasegate.delivery.http"},
    "smtplib": {"releasegate.delivery.email"},
    "jsonschema": {"releasegate.config.schema"},
    "jinja2": {"releasegate.notices.render", "releasegate.site.build"},
}


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _may_import(module: str, target: str) -> bool:
    part = _part(module)
    if part in NO_CLICK and _within(target, "click"):
        return False
    if part not in ALLOWED or target not in MODULES:
        return True
    return _part(target) in ALLOWED[part] | {None, "__main__"}


def test_each_layer_imports_only_what_it_may() -> None:
    broken = [f"{module} imports {target}" for module, targets in GRAPH.items()
              for target in targets if not _may_import(module, target)]
    assert broken == []


def test_every_folder_of_the_package_is_a_known_part() -> None:
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert folders - {"checklists"} == set(PARTS) - {"demo"}


def test_each_outside_library_enters_through_one_module() -> None:
    strays = [f"{module} imports {library}"
              for module, targets in GRAPH.items() for target in targets
              for library, allowed in ADAPTERS.items()
              if _within(target, library) and module not in allowed]
    assert strays == []


def test_the_layer_check_sees_a_forbidden_import(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(GRAPH, "releasegate.core.gates.tests", ["releasegate.ledger.snapshot"])
    with pytest.raises(AssertionError, match=r"core\.gates\.tests imports releasegate\.ledger"):
        test_each_layer_imports_only_what_it_may()
