"""Making a new ledger: a git repository with the default pipeline and checklists."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from releasegate.core.errors import UsageError
from releasegate.ledger.pipeline import CHECKLISTS, CONFIG_FILE
from releasegate.ledger.snapshot import Snapshot
from releasegate.ledger.store import GitStore, init_repository
from releasegate.ledger.transaction import Ledger, Write

PIPELINE = """\
# releasegate pipeline. Edit, then commit with git: releasegate reads only what is
# committed. `releasegate schema pipeline` prints the JSON Schema of this file.
version: 1
timezone: {timezone}

# The order a vendor patch passes through. Each environment has an entry gate.
environments:
  - name: dev
    gate:
      checklists: [intake]
  - name: test
    gate:
      checklists: [dev-review]
      tests:
        - {{env: dev, suites: ["smoke*"], max_failures: 0}}
      signoffs:
        - {{role: app-owner}}
  - name: prod
    gate:
      checklists: [test-review, change-readiness]
      tests:
        - env: test
          suites: ["regression*"]
          min_tests: 1
          max_failures: 0             # failed + errors, after waivers and known failures
          max_skipped_ratio: 0.05
          no_new_failures: true       # nothing that passed in the baseline may fail now
          no_missing_tests: true      # every test of the baseline must still run
          known_failures: allow       # tests failing in the baseline too are listed, not counted
      signoffs:
        - {{role: test-lead}}
        - {{role: app-owner}}
        - {{role: business}}
        - {{role: change-manager}}

{people}

rules:
  four_eyes: true             # the submitter of a patch may not sign it off
  one_role_per_person: true   # one person counts for one role in a gate
  stale_signoffs: true        # a sign-off older than the gate's newest evidence is void
  waivers_by: [test-lead]     # who may waive named failing tests (never the submitter)
"""

NO_PEOPLE = """\
# Everyone who acts on the ledger; releasegate matches git's user.email to them.
# Uncomment the examples and make them your people: one a line, each line ending
# with a comma, all between the braces.
people: {
  # alice: {name: Alice Wang, email: alice@bank.example},
  # bob: {name: Bob Li, email: bob@bank.example},
}

# Who holds which role, by the ids above: e.g. release-manager: [alice]
roles:
  release-manager: []
  app-owner: []
  test-lead: []
  business: []
  change-manager: []"""

EXAMPLE_PEOPLE = """\
# Everyone who acts on the ledger; releasegate matches git's user.email to them.
people:
  alice: {name: Alice Wang, email: alice@bank.example}
  bob: {name: Bob Li, email: bob@bank.example}
  carol: {name: Carol Zhang, email: carol@bank.example}
  dave: {name: Dave Chen, email: dave@bank.example}
  erin: {name: Erin Liu, email: erin@bank.example}

roles:
  release-manager: [alice]
  app-owner: [bob]
  test-lead: [carol]
  business: [dave]
  change-manager: [erin]"""


def default_checklists() -> dict[str, bytes]:
    """The checklist templates shipped with releasegate, by file name."""
    folder = resources.files("releasegate.checklists")
    found = {f.name: f.read_bytes() for f in folder.iterdir() if f.name.endswith(".yaml")}
    return dict(sorted(found.items()))


def _with_keys(config: str, keys: Mapping[str, str]) -> str:
    config = config.replace(
        "      checklists: [test-review, change-readiness]\n",
        "      signatures: required        # sign-offs, checklists and waivers carry SSH "
        "signatures\n      checklists: [test-review, change-readiness]\n", 1)
    lines = []
    for line in config.splitlines(keepends=True):
        person = line.strip().split(":", 1)[0]
        if person in keys and line.startswith("  ") and line.rstrip().endswith("}"):
            line = line.rstrip()[:-1] + f', keys: ["{keys[person]}"]}}\n'
        lines.append(line)
    return "".join(lines)


@dataclass(frozen=True)
class Initialized:
    root: Path
    files: tuple[str, ...]


def init_ledger(directory: Path, *, example: bool = False, timezone: str = "UTC",
                signing_keys: Mapping[str, str] | None = None) -> Initialized:
    """A new ledger in `directory`: git repository, pipeline and checklists, committed.
    With `signing_keys` (person -> public key line; example people only), those keys
    are registered and the prod gate requires signatures."""
    root = directory.resolve()
    _refuse_occupied(root)
    people = EXAMPLE_PEOPLE if example else NO_PEOPLE
    config = PIPELINE.format(timezone=timezone, people=people)
    if signing_keys:
        config = _with_keys(config, signing_keys)
    files: dict[str, bytes | Path] = {CONFIG_FILE: config.encode()}
    for name, data in default_checklists().items():
        files[f"{CHECKLISTS}/{name}"] = data
    _validate_defaults(files)
    init_repository(root)
    ledger = Ledger(root)

    def operation(snap: Snapshot) -> Write[Initialized]:
        if snap.head is not None:
            raise UsageError(f"{root} already has commits", code="not-empty")
        return Write(files, "releasegate ledger: default pipeline and checklists",
                     Initialized(root, tuple(files)))

    result: Initialized = ledger.transact(operation)[0]
    return result


def _validate_defaults(files: dict[str, bytes | Path]) -> None:
    """Check the pipeline about to be written (e.g. its time zone) before any disk change."""
    from releasegate.config.parse import parse_pipeline, parse_template
    from releasegate.config.strict_yaml import load_yaml

    templates = {}
    for path, data in files.items():
        if path.startswith(CHECKLISTS) and isinstance(data, bytes):
            template = parse_template(load_yaml(data, path))
            templates[template.id] = template
    config = files[CONFIG_FILE]
    assert isinstance(config, bytes)
    parse_pipeline(load_yaml(config, CONFIG_FILE), templates)


def _refuse_occupied(root: Path) -> None:
    if (root / CONFIG_FILE).exists():
        raise UsageError(f"{root} is already a releasegate ledger", code="exists")
    if not root.exists():
        return
    if not root.is_dir():
        raise UsageError(f"{root} exists and is not a folder", code="not-empty")
    others = [p.name for p in root.iterdir() if p.name != ".git"]
    if others:
        raise UsageError(f"{root} is not empty ({', '.join(sorted(others)[:3])}...)",
                         code="not-empty", hint="choose a new or empty folder")
    if (root / ".git").exists() and GitStore(root).resolve("HEAD"):
        raise UsageError(f"{root} is a git repository with commits", code="not-empty",
                         hint="a ledger starts in an empty repository")


@dataclass(frozen=True)
class Synced:
    remote: str | None
    arrived: int
    pushed: bool


def sync_ledger(ledger: Ledger) -> tuple[Synced, list[str]]:
    """Pull the shared ledger and push local commits it lacks."""
    from releasegate.ledger.transaction import dropped_notes

    upstream, pulled, pushed = ledger.sync()
    if upstream is None:
        return Synced(None, 0, False), []
    return Synced(upstream.remote, len(pulled.arrived), pushed), dropped_notes(pulled, upstream)
