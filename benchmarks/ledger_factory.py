"""Build large, valid releasegate ledgers directly, without running the CLI per act.

Recording 20,000 events through `releasegate` would take hours (one process, one
commit per act). This module writes the same files the actions write, byte for byte
in shape, and commits each act as a commit of its own, as the CLI records it:

- the ledger starts as `releasegate init --example` makes it
  (`releasegate.actions.setup.init_ledger`);
- each patch gets `patches/<ID>/patch.yaml` (a manifest that passes the manifest
  schema) and 20 event files forming a correct hash chain at
  `releasegate.events.event_path`;
- checklist answers go through `releasegate.actions.evidence.normalize_answers`;
  test results are JUnit XML parsed by `releasegate.junit.parse_junit` and stored
  with their `summary_json` summary under `evidence/`, as `tests record` stores them;
- `promoted` events carry the verdict `releasegate.gates.evaluate_gate` gives at
  that point of the history, as `promote` records it (and the gate must be open),
  and the commit number they are (`ledger_height`);
- every act is a commit of its own, authored and committed by its actor's name and
  e-mail, with the message the CLI writes, timed at the event.

The files are the bytes `dump_yaml` writes, made faster (`render_event` took a third
of the build, `parse_event` and `parse_manifest` another third). A manifest goes through
`dump_yaml`'s own emitter (libyaml, by `strict_yaml`'s dumper) from nodes built here
as its representer builds them. An event is written key by key (a top-level key's
lines do not depend on the other keys, nor a list's items on each other): ids,
hashes, paths, times, numbers and short phrases directly, plainly or in single
quotes where the emitter's resolver would read them as something else; anything
else by that emitter, remembered, since the same sign-offs and verdict rows come
back. The `Event` each file reads back as, and the manifest, are built from the same
data (`manifest_from_data`, as the ledger reads a manifest back). One patch in 16,
and the first five, is also built the slow way and compared: each event's bytes
with `render_event`'s, what it reads back as with `parse_event`'s (which also checks
the hash chain), the manifest with `dump_yaml`'s and `parse_manifest`'s (its schema);
`--check-every 1` compares every patch.

Three histories of 20 events each, by patch number (1-based) modulo 5:

- 1, 2, 3 (60 %): through dev, a failed smoke run, a vendor re-delivery
  (`revised`), dev again, test, a failed and a clean regression run, four
  sign-offs, prod. In prod: no next gate.
- 4 (20 %): in test; the prod gate is CLOSED (a regression test still fails, the
  business owner rejected, other sign-offs were made stale by newer evidence).
- 0 (20 %): in test; the prod gate is OPEN (reruns clean, rejections withdrawn).

Patches come in runs of five per system (1-4 core banking, 5-9 payments, ...), so
every system has patches of every history. Patch numbers ending in 2 depend on the
patch before them, those ending in 0 on the patch two before them; both are in prod
by then. Where the pipeline's tests rules compare against a baseline, a promotion is
evaluated with the per-test results `releasegate.actions.gate.gate_results` would
load: the recording's stored summary, and the summary counted by the latest earlier
promotion (by `ledger_height`) of another patch of the same system out of the same
environment, looked up in an index by (system, environment, suite).

Three processes share the work. A building one makes the patches, one after
another, and sends each patch's acts down a pipe to a committing one, which commits
them as they come with `git_pack.Acts`: it writes a git pack file and its index
directly (`git fast-import` spends minutes on the `patches` tree, which every act
rewrites; see there). When that one has ended, the main process checks the working
tree and index out (`git reset --hard`, two checkout workers). Nothing the building
process keeps grows with the ledger: a patch's state is kept until the patch that
depends on it is built, baselines per (system, environment, suite), the latest two
patches each. The committing process keeps an index entry per object and the ids of
blobs and folders.

With `--signed` the ledger is one a signed prod gate keeps: a second commit registers
an ed25519 key per person in releasegate.yaml (keys made once with `ssh-keygen -t
ed25519 -N ''` and kept in a folder, by default benchmarks/.work/keys) and sets
`signatures: required` on the prod gate; every sign-off and checklist for prod is
signed as `releasegate.actions.signed_acts.sign_act` signs it (the canonical
statement of `releasegate.trust.statements.build` over the gate evidence the signer
saw, signed by `releasegate.trust.ssh_keygen.sign`, stored by
`releasegate.trust.stored.signature_record`); promotions into prod carry the
signatures row a checked gate gives, so `releasegate verify` reads the ledger back
clean. Signing takes one ssh-keygen process per signature; `--jobs 2` (the default)
runs two building processes, each of which builds every patch (cheap) and signs
every other one, and the committing process takes the patches from each in turn.

Usage: `python benchmarks/ledger_factory.py DIR --patches 1000 [--signed]`.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from releasegate import __version__ as RELEASEGATE_VERSION
from releasegate.actions.board_rows import board_rows, rows_recorded
from releasegate.actions.common import identity_of
from releasegate.actions.evidence import normalize_answers
from releasegate.actions.setup import init_ledger
from releasegate.config import strict_yaml
from releasegate.config.parse import manifest_from_data, parse_manifest
from releasegate.config.strict_yaml import dump_yaml, load_yaml
from releasegate.core.gates.evaluate import evaluate_gate
from releasegate.core.model import Artifact, Event, Person, Pipeline
from releasegate.core.regression import EvidenceOf, JUnitRun
from releasegate.core.state import COUNT_KEYS, PatchState, fold
from releasegate.core.text import text_in
from releasegate.demo import junit as junit_report
from releasegate.evidence.artifacts import digest_of
from releasegate.evidence.junit import merge_runs, run_from_json, summary_json
from releasegate.ledger.board_store import encode, path_of
from releasegate.ledger.events import PATCHES, event_path, parse_event, render_event
from releasegate.ledger.height import known_height, with_height
from releasegate.ledger.pipeline import CONFIG_FILE, load_pipeline
from releasegate.ledger.snapshot import Snapshot
from releasegate.ledger.transaction import Ledger, Write

sys.path.insert(0, str(Path(__file__).resolve().parent))
from git_pack import Acts

# Bump whenever the generated ledger changes shape: cached ledgers are keyed by it.
VERSION = "ledger-factory-12"  # 12: board rows (by system) recorded at the end, heights in commits
EVENTS_PER_PATCH = 20
START = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
PATCH_SPACING = timedelta(hours=7)
EVENT_SPACING = timedelta(minutes=19)

CHECK_EVERY = 16  # one patch in 16 is also built the slow way and compared
KEYS = Path(__file__).resolve().parent / ".work" / "keys"  # --signed: one key per person
PEOPLE = ("alice", "bob", "carol", "dave", "erin")  # the people of `init --example`
SIGNED_KINDS = ("signoff", "checklist")  # the kinds of act these histories sign


@dataclass(frozen=True)
class System:
    prefix: str
    name: str
    vendor: str
    product: str
    modules: tuple[str, ...]


SYSTEMS = (
    System("CBS", "core-banking", "Acme FinSoft", "cbs", ("deposits", "interest-accrual",
                                                          "loans", "general-ledger")),
    System("PAY", "payments-hub", "Northwind Payments", "payhub", ("swift-gateway",
                                                                   "ach", "sepa")),
    System("CRD", "card-management", "Contoso Cards", "cms", ("authorisation",
                                                              "card-issuing", "disputes")),
    System("TRS", "treasury", "Fabrikam Markets", "trs", ("fx-deals", "limits",
                                                          "settlement")),
    System("AML", "aml-screening", "Tailspin Compliance", "aml", ("watchlists",
                                                                  "case-manager")),
)

# Answers as a release manager types them; normalize_answers turns them into what
# `checklist fill` stores.
ANSWERS: dict[str, dict[str, Any]] = {
    "intake": {"version-controlled": "yes", "release-note-read": "yes",
               "problem-ticket": "https://itsm.bank.example/PRB-{n}"},
    "dev-review": {"walkthrough": "yes", "installed-cleanly": "yes",
                   "data-migration": {"value": "n/a", "reason": "no data migration"}},
    "test-review": {"regression-run": "yes", "fix-verified": "yes",
                    "business-verification": "yes",
                    "test-report": "https://qa.bank.example/reports/{id}"},
    "change-readiness": {"rollback-tested": "yes", "window-agreed": "yes",
                         "notice-sent": "yes", "on-call": "Erin Liu (primary), Bob Li (backup)"},
}
RISKS = ("low", "medium", "high")

SMOKE, REGRESSION, BATCH = "smoke-core", "regression-core", "regression-batch"
SMOKE_TESTS, REGRESSION_TESTS, BATCH_TESTS = 24, 180, 60


def failing(suite: str, numbers: tuple[int, ...]) -> tuple[str, ...]:
    return tuple(f"test_{suite.replace('-', '_')}_{i:03d}" for i in numbers)


# The step lists: (event type, actor, env, details). Promotions are evaluated, never
# written by hand; the details of the other events say what the actor did.
Step = tuple[str, str, str | None, dict[str, Any]]

THROUGH_PROD: tuple[Step, ...] = (
    ("submitted", "alice", None, {}),
    ("checklist", "alice", "dev", {"template": "intake"}),
    ("promoted", "alice", "dev", {}),
    ("tests", "alice", "dev", {"suite": SMOKE, "failing": failing(SMOKE, (7,))}),
    ("revised", "alice", None, {}),
    ("checklist", "alice", "dev", {"template": "intake"}),
    ("promoted", "alice", "dev", {}),
    ("tests", "alice", "dev", {"suite": SMOKE, "failing": ()}),
    ("checklist", "bob", "test", {"template": "dev-review"}),
    ("signoff", "bob", "test", {"role": "app-owner", "comment": "walkthrough done"}),
    ("promoted", "alice", "test", {}),
    ("tests", "alice", "test", {"suite": REGRESSION, "failing": failing(REGRESSION,
                                                                         (47, 112))}),
    ("checklist", "carol", "prod", {"template": "test-review"}),
    ("checklist", "erin", "prod", {"template": "change-readiness"}),
    ("tests", "alice", "test", {"suite": REGRESSION, "failing": (), "rerun": True}),
    ("signoff", "carol", "prod", {"role": "test-lead"}),
    ("signoff", "bob", "prod", {"role": "app-owner"}),
    ("signoff", "dave", "prod", {"role": "business"}),
    ("signoff", "erin", "prod", {"role": "change-manager"}),
    ("promoted", "alice", "prod", {}),
)

_TO_TEST: tuple[Step, ...] = (
    ("submitted", "alice", None, {}),
    ("checklist", "alice", "dev", {"template": "intake"}),
    ("promoted", "alice", "dev", {}),
    ("tests", "alice", "dev", {"suite": SMOKE, "failing": failing(SMOKE, (3,))}),
    ("tests", "alice", "dev", {"suite": SMOKE, "failing": (), "rerun": True}),
    ("checklist", "bob", "test", {"template": "dev-review"}),
    ("signoff", "bob", "test", {"role": "app-owner"}),
    ("promoted", "alice", "test", {}),
    ("tests", "alice", "test", {"suite": REGRESSION, "failing": failing(REGRESSION,
                                                                         (12, 47, 112))}),
    ("tests", "alice", "test", {"suite": REGRESSION, "failing": failing(REGRESSION, (47,)),
                                "rerun": True}),
    ("checklist", "carol", "prod", {"template": "test-review"}),
    ("signoff", "dave", "prod", {"role": "business", "reject": True,
                                 "comment": "statement defect 47 still open"}),
)

OPEN_IN_TEST: tuple[Step, ...] = (
    *_TO_TEST,
    ("tests", "alice", "test", {"suite": REGRESSION, "failing": (), "rerun": True}),
    ("tests", "alice", "test", {"suite": BATCH, "failing": ()}),
    ("checklist", "erin", "prod", {"template": "change-readiness"}),
    ("signoff", "bob", "prod", {"role": "app-owner", "reject": True,
                                "comment": "install notes lack the restart step"}),
    ("signoff", "carol", "prod", {"role": "test-lead"}),
    ("signoff", "dave", "prod", {"role": "business"}),
    ("signoff", "erin", "prod", {"role": "change-manager"}),
    ("signoff", "bob", "prod", {"role": "app-owner", "comment": "install notes updated"}),
)

CLOSED_IN_TEST: tuple[Step, ...] = (
    *_TO_TEST,
    ("checklist", "erin", "prod", {"template": "change-readiness"}),
    ("signoff", "carol", "prod", {"role": "test-lead"}),
    ("tests", "alice", "test", {"suite": REGRESSION, "failing": failing(REGRESSION, (47,)),
                                "rerun": True}),
    ("signoff", "erin", "prod", {"role": "change-manager"}),
    ("signoff", "bob", "prod", {"role": "app-owner"}),
    ("checklist", "erin", "prod", {"template": "change-readiness", "on_call": "Erin Liu"}),
    ("signoff", "dave", "prod", {"role": "business", "reject": True,
                                 "comment": "defect 47 is still open"}),
    ("signoff", "carol", "prod", {"role": "test-lead", "comment": "47 is a known issue"}),
)

HISTORIES = {"prod": THROUGH_PROD, "closed": CLOSED_IN_TEST, "open": OPEN_IN_TEST}
assert all(len(steps) == EVENTS_PER_PATCH for steps in HISTORIES.values())

# A patch only submitted and let into dev: the starting point of `tests record`.
IN_DEV: tuple[Step, ...] = THROUGH_PROD[:3]


def history_of(number: int) -> str:
    """Which history patch `number` (1-based) has."""
    return {1: "prod", 2: "prod", 3: "prod", 4: "closed", 0: "open"}[number % 5]


def system_of(number: int) -> System:
    return SYSTEMS[(number // 5) % len(SYSTEMS)]


def patch_id(number: int) -> str:
    return f"{system_of(number).prefix}-2026-{number:04d}"


def depends_of(number: int) -> tuple[str, ...]:
    """Dependencies: always on patches with the 'prod' history, numbered lower."""
    if number % 10 == 2:
        return (patch_id(number - 1),)
    if number % 10 == 0:
        return (patch_id(number - 2),)
    return ()


def manifest_doc(number: int, system: System, depends_on: tuple[str, ...]) -> dict[str, Any]:
    """A vendor manifest as submitted (it passes `releasegate schema manifest`)."""
    pid = patch_id(number)
    major, minor = 7 + number % 3, number % 10
    module = system.modules[number % len(system.modules)]
    doc: dict[str, Any] = {
        "id": pid, "system": system.name, "vendor": system.vendor,
        "vendor_ref": f"{system.product.upper()}-PATCH-{major}.{minor}-HF{number % 7 + 1}",
        "version": f"{major}.{minor}.{number % 13}-hf{number % 7 + 1}",
        "title": {"en": f"Fix {module} defect {number} reported by operations",
                  "zh-CN": f"修复运营报告的{module}缺陷{number}"},
        "summary": {"en": f"{module}: wrong results in an edge case (ticket PRB-{number}).",
                    "zh-CN": f"{module}：边界情况下结果错误（工单PRB-{number}）。"},
        "business_impact": {"en": "Results are correct again; no change to screens.",
                            "zh-CN": "结果恢复正确；界面无变化。"},
        "affected_modules": [module],
        "downtime": {"en": f"{5 * (number % 4 + 1)} minutes",
                     "zh-CN": f"{5 * (number % 4 + 1)}分钟"},
        "rollback_plan": {"en": "Reinstall the previous hotfix from the vendor drop.",
                          "zh-CN": "从厂商介质重新安装上一个热修复。"},
        "fixes": [{"en": f"{module} defect {number}", "zh-CN": f"{module}缺陷{number}"}],
        "contact": {"en": "IT service desk, ext. 8000", "zh-CN": "IT服务台，分机8000"},
        "artifacts": [f"{system.product}-{major}.{minor}-hf{number % 7 + 1}.tar",
                      "install-notes.txt"],
    }
    if depends_on:
        doc["depends_on"] = list(depends_on)
    return doc


def manifest_text(number: int, system: System, depends_on: tuple[str, ...]) -> str:
    """The manifest's file, as `dump_yaml` writes it."""
    return dump_yaml(manifest_doc(number, system, depends_on))


def artifacts_for(names: list[str], pid: str, delivery: int) -> tuple[Artifact, ...]:
    """Artifacts as hash_artifacts reports them, for files we never need on disk."""
    found = []
    for name in names:
        content = f"{pid} {name} delivery {delivery}\n".encode() * (40 + len(name))
        found.append(Artifact(name, len(content), hashlib.sha256(content).hexdigest()))
    return tuple(sorted(found, key=lambda a: a.name))


# -- YAML as releasegate writes and reads it ------------------------------------------

_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_NULL, _BOOL, _INT = "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int"


class _Dumper(strict_yaml._Dumper):
    """The dumper `dump_yaml` uses, remembering how it resolves plain scalars: the
    same names, kinds and statuses come back in every event."""

    _resolved: dict[tuple[Any, Any], Any] = {}  # noqa: RUF012 (one memo for all)

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is not ScalarNode:
            return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
        key = (value, implicit)
        found = self._resolved.get(key)
        if found is None:
            if len(self._resolved) > 50_000:  # hashes and times never come back
                self._resolved.clear()
            found = self._resolved[key] = super().resolve(  # type: ignore[no-untyped-call]
                kind, value, implicit)
        return found

    @classmethod
    def plain_str(cls, text: str) -> bool:
        """Whether a plain scalar `text` reads back as a string."""
        return bool(cls._instance().resolve(ScalarNode, text, (True, False)) == _STR)

    @classmethod
    def _instance(cls) -> _Dumper:
        if cls._one is None:
            cls._one = cls(io.StringIO())
        return cls._one

    _one: _Dumper | None = None


def _node(value: Any) -> Node:
    """The node strict_yaml's representers make of `value`; TypeError for a type
    this does not build (dump_yaml then writes the document)."""
    kind = type(value)
    if kind is str:
        return ScalarNode(_STR, value, style="|" if "\n" in value else None)
    if kind is dict:
        pairs = []
        for key, item in value.items():
            if type(key) is not str:
                raise TypeError(f"mapping key {key!r}")
            pairs.append((_node(key), _node(item)))
        return MappingNode(_MAP, pairs, flow_style=False)
    if kind is list or kind is tuple:
        return SequenceNode(_SEQ, [_node(item) for item in value], flow_style=False)
    if value is None:
        return ScalarNode(_NULL, "null")
    if kind is bool:
        return ScalarNode(_BOOL, "true" if value else "false")
    if kind is int:
        return ScalarNode(_INT, str(value))
    raise TypeError(f"a {kind.__name__}")


def yaml_text(value: Any) -> str:
    """What `dump_yaml(value)` returns: its emitter, its settings, nodes built here."""
    try:
        node = _node(value)
    except TypeError:
        return dump_yaml(value)
    stream = io.StringIO()
    dumper = _Dumper(stream, default_flow_style=False, allow_unicode=True, sort_keys=False,
                     width=100)
    try:
        dumper.open()
        dumper.serialize(node)
        dumper.close()
    finally:
        dumper.dispose()
    return stream.getvalue()


# Scalars the emitter writes on the key's line as they are, or in single quotes where
# its resolver would read the plain text as something else (a time, a number): ids,
# hashes, paths, times. No character of theirs is an indicator in block context.
_SHORT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/+:-]*(?<!:)\Z")
# Words, written plainly: no leading or trailing space, no ": " or " #"; up to 50
# characters after keys of up to 30, so that no line reaches the emitter's width (100),
# past which it would fold them.
_WORDS = re.compile(r"(?!.*: )[A-Za-z0-9][A-Za-z0-9 ._/+,():-]*(?<![ :])\Z")
_PAIRS: dict[tuple[str, Any], str] = {}  # (key, frozen value) -> its lines
_TEXT: dict[str, str | None] = {}  # scalar -> as written (None: by the emitter)
_KEYS: dict[Any, bool] = {}


def _frozen(value: Any) -> Any:
    """`value` as a key of a memo (True and 1 apart: they are written differently)."""
    kind = type(value)
    if kind is str:
        return value
    if kind is dict:
        return (dict, *((key, _frozen(item)) for key, item in value.items()))
    if kind is list or kind is tuple:
        return (list, *(_frozen(item) for item in value))
    return (kind, value)


def _short(value: Any) -> str | None:
    """How the emitter writes a short scalar (None, a number, an id, a hash, a path,
    a time, a few words): plainly unless its resolver reads the plain text as
    something else, and then in single quotes. None for anything else."""
    kind = type(value)
    if kind is str:
        try:
            return _TEXT[value]
        except KeyError:
            pass
        text: str | None = None
        if _SHORT.match(value):
            text = value if _Dumper.plain_str(value) else f"'{value}'"
        elif len(value) <= 50 and _WORDS.match(value) and _Dumper.plain_str(value):
            text = value
        if len(_TEXT) > 50_000:  # hashes and times never come back
            _TEXT.clear()
        _TEXT[value] = text
        return text
    if value is None:
        return "null"
    if kind is int:
        return str(value)
    return None


def _key(key: Any) -> bool:
    """Whether `key` is written plainly, as itself."""
    found = _KEYS.get(key)
    if found is None:
        found = _KEYS[key] = (type(key) is str and len(key) <= 30 and bool(_SHORT.match(key))
                              and _short(key) == key)
    return found


def _simple_mapping(value: Any) -> list[tuple[str, str]] | None:
    """A mapping of plain keys to short scalars, written; None for anything else."""
    if type(value) is not dict or not value:
        return None
    lines = []
    for key, item in value.items():
        text = _short(item)
        if text is None or not _key(key):
            return None
        lines.append((key, text))
    return lines


def _in_context(key: str, value: Any) -> str:
    """The lines of `value` inside the document {key: ...}, by the emitter itself,
    remembered: the same sign-offs, answers and verdict rows come back."""
    memo = (key, _frozen(value))
    found = _PAIRS.get(memo)
    if found is None:
        if len(_PAIRS) > 20_000:
            _PAIRS.clear()
        found = _PAIRS[memo] = yaml_text({key: value})
    return found


def _pair(key: str, value: Any) -> str:
    """The lines of one top-level `key: value` of a block mapping, as the emitter
    writes them: they do not depend on the other keys, nor a sequence's items or a
    mapping's pairs on each other."""
    text = _short(value)
    if text is not None:
        return f"{key}: {text}\n"
    kind = type(value)
    if kind is list and value:  # a block sequence, its items at the key's indent
        lines = [f"{key}:\n"]
        for item in value:
            text = _short(item)
            pairs = None if text is not None else _simple_mapping(item)
            if text is not None:
                lines.append(f"- {text}\n")
            elif pairs is not None:
                lines.append("".join([f"{'- ' if i == 0 else '  '}{k}: {v}\n"
                                      for i, (k, v) in enumerate(pairs)]))
            else:
                lines.append(_in_context(key, [item]).split("\n", 1)[1])
        return "".join(lines)
    if kind is dict and value:  # a block mapping, indented by two
        lines = [f"{key}:\n"]
        for sub, item in value.items():
            text = _short(item) if _key(sub) else None
            pairs = None if text is not None else _simple_mapping(item)
            if text is not None:
                lines.append(f"  {sub}: {text}\n")
            elif pairs is not None and _key(sub):
                lines.append(f"  {sub}:\n" + "".join([f"    {k}: {v}\n" for k, v in pairs]))
            else:
                lines.append(_in_context(key, {sub: item}).split("\n", 1)[1])
        return "".join(lines)
    return _in_context(key, value)


def mapping_text(doc: Mapping[str, Any]) -> str:
    """What `yaml_text(doc)` returns for a mapping with plain keys, written pair by
    pair: short scalars directly, anything longer by the emitter, remembered."""
    if not all(_key(key) for key in doc):
        return yaml_text(doc)
    return "".join([_pair(key, value) for key, value in doc.items()])


def _as_read(value: Any) -> Any:
    """`value` as the strict loader gives it back: every scalar a string, or None."""
    if isinstance(value, dict):
        return {key: _as_read(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_as_read(item) for item in value]
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    raise TypeError(f"no YAML scalar for a {type(value).__name__}")


def event_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """An event's own fields as `parse_event` reads them back: strings, but for the
    numbers it restores (test counts, file sizes)."""
    read: dict[str, Any] = _as_read(data)
    if isinstance(read.get("counts"), dict):
        read["counts"] = {key: int(count) for key, count in read["counts"].items()}
    for key in ("artifacts", "files"):
        for item in read.get(key) or ():
            if isinstance(item, dict) and "size" in item:
                item["size"] = int(item["size"])
    return read


# -- evidence, baselines, signatures ---------------------------------------------------

class _Evidence:
    """JUnit reports and their stored summaries, as `tests record` writes them. The
    report of a suite with the same failing tests differs only in its timestamp, so
    it is made once and the timestamp put in; so is its summary."""

    def __init__(self, scratch: Path) -> None:
        self._scratch = scratch
        self._reports: dict[tuple[str, tuple[str, ...]], str] = {}
        self._summaries: dict[tuple[str, tuple[str, ...]], tuple[bytes, dict[str, int]]]
        self._summaries = {}

    def report(self, suite: str, failing_tests: tuple[str, ...], at: str,
               file_name: str) -> tuple[bytes, bytes, dict[str, int], dict[str, Any]]:
        key = (suite, failing_tests)
        if key not in self._reports:
            total = {SMOKE: SMOKE_TESTS, REGRESSION: REGRESSION_TESTS,
                     BATCH: BATCH_TESTS}[suite]
            messages = {name: f"AssertionError: {name.rsplit('_', 1)[-1]} expected 0.00"
                        for name in failing_tests}
            self._reports[key] = junit_report(suite, total, messages)
        xml = self._reports[key].replace(f'<testsuite name="{suite}"',
                                         f'<testsuite name="{suite}" timestamp="{at[:-1]}"',
                                         1).encode("utf-8")
        if key not in self._summaries:
            path = self._scratch / file_name
            path.write_bytes(xml)
            data = summary_json(path, display_name=str(path))
            run = run_from_json(data)
            self._summaries[key] = (data, {k: getattr(run, k) for k in COUNT_KEYS})
        summary, counts = self._summaries[key]
        listed = {"name": file_name, "sha256": hashlib.sha256(xml).hexdigest(),
                  "size": len(xml), "summary_sha256": hashlib.sha256(summary).hexdigest()}
        return xml, summary, counts, listed


@dataclass(frozen=True)
class _Shipped:
    """Test results a promotion out of `env` counted: a baseline for later patches."""

    system: str
    patch: str
    env: str
    suite: str
    promoted_at: str
    tests_event: str
    evidence: EvidenceOf  # the tests event's files and counts, as baselines reads them
    summaries: tuple[bytes, ...]
    height: int  # the promotion's `ledger_height`

    def order(self) -> tuple[int, str, str, str]:
        """As baselines._order ranks them: the latest promotion last."""
        return (self.height, self.promoted_at, self.patch, self.tests_event)


PLACEHOLDER = (b"-----BEGIN SSH SIGNATURE-----\nnot signed: another process signs "
               b"this patch\n-----END SSH SIGNATURE-----\n")


@dataclass
class _Signer:
    """Signs statements with `releasegate.trust.ssh_keygen.sign` in the kind's
    namespace, as `trust.signatures.sign` does (one ssh-keygen process each), for the
    patches whose index modulo `jobs` is `part`; the others get a placeholder: the
    process that keeps them signs them for real."""

    ledger: str  # the ledger's first commit, which every statement names
    keys: Mapping[str, Path]  # person -> private key file
    first: int = 1
    part: int = 0
    jobs: int = 1
    signed: int = 0

    def mine(self, number: int) -> bool:
        return (number - self.first) % self.jobs == self.part

    def sign(self, number: int, person: str, kind: str, statement: bytes) -> tuple[bytes, str]:
        """The armored signature of `statement` by `person` and the key's fingerprint."""
        from releasegate.core.sshsig import read_signature
        from releasegate.trust.keys import NAMESPACES
        from releasegate.trust.ssh_keygen import sign

        if not self.mine(number):
            return PLACEHOLDER, "SHA256:placeholder"
        signature = sign(statement, self.keys[person], NAMESPACES[kind])
        self.signed += 1
        return signature, read_signature(signature, str(self.keys[person])).fingerprint


@dataclass
class _Ledgerwide:
    """What the gates of later patches look up (states for `depends`, baselines), the
    ledger's height (one commit per act) and the signer."""

    height: int = 0  # commits so far, as `Snapshot.height` counts them
    signer: _Signer | None = None
    # The states of patches a later patch depends on, until that one is built.
    states: dict[str, PatchState] = field(default_factory=dict)
    dependents: Counter[str] = field(default_factory=Counter)
    # Per (system, env, suite): the latest shipped results, and the latest of
    # another patch than that one: all find_baseline can choose from.
    latest: dict[tuple[str, str, str], list[_Shipped]] = field(default_factory=dict)
    runs: dict[tuple[bytes, ...], JUnitRun] = field(default_factory=dict)

    def ship(self, shipped: _Shipped) -> None:
        key = (shipped.system, shipped.env, shipped.suite)
        kept: list[_Shipped] = []
        for candidate in sorted([*self.latest.get(key, ()), shipped], key=_Shipped.order,
                                reverse=True):
            if len(kept) < 2 and all(k.patch != candidate.patch for k in kept):
                kept.append(candidate)
        self.latest[key] = kept

    def baseline(self, system: str, env: str, suite: str, exclude: str) -> _Shipped | None:
        """As releasegate.evidence.baselines.find_baseline chooses: the latest
        promotion (by `ledger_height`) of another patch than `exclude`."""
        for shipped in self.latest.get((system, env, suite), ()):
            if shipped.patch != exclude:
                return shipped
        return None

    def run(self, summaries: tuple[bytes, ...]) -> JUnitRun:
        """The merged run of stored summaries (the same few come back again and again)."""
        found = self.runs.get(summaries)
        if found is None:
            found = self.runs[summaries] = merge_runs([run_from_json(b) for b in summaries])
        return found


@dataclass(frozen=True)
class _Act:
    """One act as the CLI records it: a commit by its actor adding these files."""

    actor: str
    at: str
    message: str
    files: dict[str, bytes]
    when: int  # `at` in seconds since 1970


class _PatchWriter:
    """One patch's files, event by event, act by act."""

    def __init__(self, pipeline: Pipeline, evidence: _Evidence, number: int,
                 ledgerwide: _Ledgerwide, *, check: bool = False) -> None:
        self.pipeline, self.evidence, self.number = pipeline, evidence, number
        self.ledgerwide = ledgerwide
        self.check = check  # also build every file the slow way and compare
        self.system = system_of(number)
        self.id = patch_id(number)
        self.files: dict[str, bytes] = {}
        self.acts: list[_Act] = []
        self._new: dict[str, bytes] = {}  # files of the act being written
        self.events: list[Event] = []
        self.clock = START + PATCH_SPACING * number
        self.delivery = 1
        doc = manifest_doc(number, self.system, depends_of(number))
        path = f"{PATCHES}/{self.id}/patch.yaml"
        raw = yaml_text(doc).encode("utf-8")
        # As the ledger reads a manifest back: validated when it was submitted.
        self.manifest = manifest_from_data(doc)
        if check and (raw != dump_yaml(doc).encode("utf-8")
                      or parse_manifest(load_yaml(raw, path)) != self.manifest):
            raise AssertionError(f"{path}: the fast and the slow way differ")
        self.manifest_raw = raw
        self.add(path, raw)
        self.artifacts = artifacts_for(list(self.manifest.artifacts), self.id, self.delivery)
        self.digest = digest_of(self.artifacts)

    def add(self, path: str, data: bytes) -> None:
        self.files[path] = data
        self._new[path] = data

    def state(self) -> PatchState:
        state = fold(self.manifest, self.events)
        if state.digest != self.digest:
            raise AssertionError(f"{self.id}: digest {state.digest}, expected {self.digest}")
        return state

    def run(self, steps: tuple[Step, ...]) -> PatchState:
        for kind, actor, env, details in steps:
            self.step(kind, actor, env, details)
        return self.state()

    def step(self, kind: str, actor: str, env: str | None, details: dict[str, Any]) -> None:
        self.clock += EVENT_SPACING * (1 + len(self.events) % 3)
        at = self.clock.strftime("%Y-%m-%dT%H:%M:%SZ")
        signs = (kind in SIGNED_KINDS and env is not None and self.ledgerwide.signer is not None
                 and self.pipeline.environment(env).gate.signatures)
        # The folded state, where the act needs more than the patch's digest.
        state = self.state() if kind == "promoted" or signs else None
        data: dict[str, Any]
        if kind == "submitted":
            data = {"system": self.manifest.system, "vendor": self.manifest.vendor,
                    "title": text_in(self.manifest.title),
                    "manifest_sha256": hashlib.sha256(self.manifest_raw).hexdigest(),
                    "artifacts": [_artifact_data(a) for a in self.artifacts]}
        elif kind == "revised":
            self.delivery += 1
            names = [n.replace(".tar", f"-r{self.delivery}.tar") for n in self.manifest.artifacts]
            self.artifacts = artifacts_for(names, self.id, self.delivery)
            previous, self.digest = self.digest, digest_of(self.artifacts)
            data = {"previous_digest": previous,
                    "artifacts": [_artifact_data(a) for a in self.artifacts]}
        elif kind == "checklist":
            template = details["template"]
            raw = {k: (v.format(n=self.number, id=self.id) if isinstance(v, str) else v)
                   for k, v in ANSWERS[template].items()}
            if template == "intake":
                raw["risk"] = RISKS[self.number % 3]
            if "on_call" in details:
                raw["on-call"] = details["on_call"]
            data = {"template": template,
                    "answers": normalize_answers(self.pipeline.templates[template], raw)}
        elif kind == "tests":
            suite = details["suite"]
            file_name = f"{suite}{'-rerun' if details.get('rerun') else ''}.xml"
            xml, summary, counts, listed = self.evidence.report(
                suite, details["failing"], at, file_name)
            prefix = f"{PATCHES}/{self.id}/evidence/{listed['sha256']}"
            self.add(prefix + ".xml", xml)
            self.add(prefix + ".json", summary)
            data = {"suite": suite, "files": [listed], "counts": counts}
        elif kind == "signoff":
            data = {"role": details["role"],
                    "decision": "reject" if details.get("reject") else "approve"}
            if details.get("comment"):
                data["comment"] = details["comment"]
        elif kind == "promoted":
            assert state is not None and env is not None
            deps = {d: self.ledgerwide.states.get(d) for d in self.manifest.depends_on}
            extra: dict[str, Any] = {}
            results = self.gate_results(state, env)
            if results is not None:
                extra["results"] = results
            report = self.signature_report(state, env)
            if report is not None:
                extra["signatures"] = report
            verdict = evaluate_gate(self.pipeline, state, env, deps, **extra)
            if not verdict.open:
                raise AssertionError(f"{self.id}: the {env} gate is closed at event "
                                     f"{len(self.events) + 1}: {verdict.to_dict()}")
            # As `promote` records it, with the commit's number in the ledger.
            height = self.ledgerwide.height + 1
            data = {"from": verdict.source,
                    "verdict": [c.to_dict() for c in verdict.conditions],
                    "evidence": list(verdict.evidence), "ledger_height": height}
            self.ship(verdict.source, at, verdict.evidence, height)
        else:
            raise ValueError(kind)
        if signs:
            assert state is not None and env is not None
            data = self.sign(kind, actor, env, at, data, state)
        self.append(kind, actor, env, at, data)

    def sign(self, kind: str, actor: str, env: str, at: str, data: dict[str, Any],
             state: PatchState) -> dict[str, Any]:
        """`data` signed by `actor`, as `sign_act` signs an act for a gate that
        requires signatures: the statement names the gate evidence the signer saw."""
        from releasegate.core.gates.gate_context import GateContext
        from releasegate.core.gates.gate_evidence import gate_evidence
        from releasegate.trust import statements
        from releasegate.trust.stored import signature_record

        signer = self.ledgerwide.signer
        assert signer is not None
        ctx = GateContext(self.pipeline, state, self.pipeline.environment(env))
        seen = [{"path": e.path, "sha256": e.sha256} for e in gate_evidence(ctx)]
        statement = statements.build(kind, ledger=signer.ledger, patch=self.id,
                                     digest=state.digest, env=env, signer=actor, at=at,
                                     decided=statements.decided(kind, data), evidence=seen)
        signature, fingerprint = signer.sign(self.number, actor, kind, statement)
        record, files = signature_record(self.id, len(self.events) + 1, kind, statement,
                                         signature, fingerprint)
        for path, blob in files.items():
            self.add(path, blob)
        return {**data, "signature": record}

    def signature_report(self, state: PatchState, target: str) -> Any:
        """What `signed_state` reports for a gate that requires signatures (every
        signature in this ledger checks, so none is left out); None for another gate."""
        if not self.pipeline.environment(target).gate.signatures:
            return None
        from releasegate.core.gates.gate_context import SignatureReport

        events = ([c.event for c in state.checklists] + [s.event for s in state.signoffs]
                  + [w.event for w in state.waivers])
        return SignatureReport(checked=len({e.path for e in events if e.env == target}))

    def summaries(self, files: Any) -> tuple[bytes, ...]:
        return tuple(self.files[f"{PATCHES}/{self.id}/evidence/{f['sha256']}.json"]
                     for f in files)

    def gate_results(self, state: PatchState, target: str) -> dict[Any, Any] | None:
        """The per-test results releasegate.actions.gate.gate_results loads for the gate;
        None when this releasegate evaluates tests from counts alone."""
        try:
            from releasegate.core.gates import tests as tests_gate
            from releasegate.core.gates.gate_context import GateContext
            from releasegate.core.regression import BaselineRef, SuiteResults
        except ImportError:
            return None
        ctx = GateContext(self.pipeline, state, self.pipeline.environment(target))
        results = {}
        for rule in ctx.target.gate.tests:
            if not tests_gate.needs_outcomes(ctx, rule):
                continue
            for recording in tests_gate.counted_recordings(ctx, rule):
                run = self.ledgerwide.run(self.summaries(recording.files))
                base = self.ledgerwide.baseline(self.manifest.system, recording.env,
                                                recording.suite, exclude=self.id)
                ref = base_run = None
                if base is not None:
                    ref = BaselineRef(base.patch, base.env, base.suite, base.promoted_at,
                                      base.tests_event, base.evidence, base.height)
                    base_run = self.ledgerwide.run(base.summaries)
                results[(recording.env, recording.suite)] = SuiteResults(
                    recording.env, recording.suite, run, recording.event.path, ref, base_run)
        return results

    def ship(self, source: str | None, at: str, evidence: tuple[str, ...],
             height: int) -> None:
        """Remember the test results this promotion counted, as baselines._shipped does."""
        if not source:
            return
        by_path = {e.path: e for e in self.events}
        for path in evidence:
            event = by_path.get(path)
            if event is not None and event.type == "tests" and event.env == source:
                files = event.data.get("files") or ()
                self.ledgerwide.ship(_Shipped(
                    self.manifest.system, self.id, source, str(event.data["suite"]), at, path,
                    EvidenceOf.of(path, files, event.data.get("counts") or {}),
                    self.summaries(files), height))

    def append(self, kind: str, actor: str, env: str | None, at: str,
               data: dict[str, Any]) -> None:
        seq = len(self.events) + 1
        previous = self.events[-1] if self.events else None
        common: dict[str, Any] = {"type": kind, "patch": self.id, "seq": seq,
                                  "prev": previous.sha256 if previous else None,
                                  "at": at, "actor": actor, "digest": self.digest}
        if env is not None:
            common["env"] = env
        path = event_path(self.id, seq, kind)
        raw = mapping_text({**common, **data}).encode("utf-8")
        self.add(path, raw)
        event = Event(type=kind, patch=self.id, seq=seq, prev=common["prev"], at=at,
                      actor=actor, digest=self.digest, env=env, data=event_data(data),
                      path=path, sha256=hashlib.sha256(raw).hexdigest())
        if self.check and (raw != render_event(common, data)
                           or parse_event(path, raw, previous) != event):
            raise AssertionError(f"{path}: the fast and the slow way differ")
        self.events.append(event)
        self.acts.append(_Act(actor, at, _message(self.id, kind, actor, env, self.digest,
                                                  data), self._new,
                              int(self.clock.timestamp())))
        self._new = {}
        self.ledgerwide.height += 1


def _message(pid: str, kind: str, actor: str, env: str | None, digest: str,
             data: dict[str, Any]) -> str:
    """The commit message the CLI writes for the act."""
    if kind == "submitted":
        return f"{pid}: submitted by {actor}\n\n{digest}"
    if kind == "revised":
        what = f"revised by {actor}; starts over\n\n{digest}"
    elif kind == "checklist":
        what = f"checklist {data['template']} for {env} by {actor}"
    elif kind == "tests":
        counts = data["counts"]
        what = (f"tests {data['suite']} in {env}: {counts['tests']} tests, "
                f"{counts['failed']} failed, {counts['errors']} errors")
    elif kind == "signoff":
        what = f"{data['decision']} for {env} as {data['role']} by {actor}"
    else:
        what = f"promoted to {env} by {actor}"
    return f"{pid}: {what}\n\nby {actor}"


def _artifact_data(artifact: Artifact) -> dict[str, Any]:
    return {"name": artifact.name, "size": artifact.size, "sha256": artifact.sha256}


def patch_files(pipeline: Pipeline, numbers: range, *, history: str | None = None,
                scratch: Path, ledgerwide: _Ledgerwide | None = None,
                check_every: int = CHECK_EVERY) -> Iterator[tuple[_PatchWriter, PatchState]]:
    """Each patch number's writer, with all its files and acts, and its final state."""
    evidence = _Evidence(scratch)
    ledgerwide = ledgerwide or _Ledgerwide()
    ledgerwide.dependents.update(d for n in numbers for d in depends_of(n))
    for number in numbers:
        index = number - numbers.start
        writer = _PatchWriter(pipeline, evidence, number, ledgerwide,
                              check=index < 5 or index % check_every == 0)
        steps = IN_DEV if history == "dev" else HISTORIES[history or history_of(number)]
        state = writer.run(steps)
        if ledgerwide.dependents[writer.id]:
            ledgerwide.states[writer.id] = state
        for dependency in writer.manifest.depends_on:
            ledgerwide.dependents[dependency] -= 1
            if ledgerwide.dependents[dependency] <= 0:
                ledgerwide.states.pop(dependency, None)
        yield writer, state


def build_ledger(root: Path, patches: int, *, first: int = 1, history: str | None = None,
                 signed: bool = False, keys: Path = KEYS, jobs: int = 2,
                 check_every: int = CHECK_EVERY,
                 measured: dict[str, float] | None = None) -> dict[str, str]:
    """A new ledger at `root` holding patches numbered first..first+patches-1, one
    commit per act.

    `history` forces one history ("prod", "closed", "open" or "dev", the last with
    only 3 events) for every patch. `signed`: keys registered, the prod gate requires
    signatures (see the module's docstring); `jobs` processes share the signing.
    Returns each patch id's final environment; `measured`, when given, gets the
    seconds spent building and committing the acts ("acts") and checking them out
    ("checkout"), and the ledger's commits ("commits").
    """
    measured = {} if measured is None else measured
    init_ledger(root, example=True, timezone="Asia/Shanghai")
    ledger = Ledger(root.resolve())
    if signed:
        register_keys(ledger, {person: line for person, (_, line)
                               in signing_keys(keys).items()})
    snap = ledger.snapshot()
    assert snap.head is not None
    height = snap.height()
    started = time.perf_counter()
    # The committing process ends before the checkout: what it kept (an id, an offset
    # and a checksum per object for the pack's index) is not held while git runs.
    context = multiprocessing.get_context("fork")
    source, out = context.Pipe(duplex=False)
    committer = context.Process(target=_committer, args=(
        ledger.root, snap.head, range(first, first + patches), history,
        keys if signed else None, max(1, jobs) if signed else 1, check_every, out))
    committer.start()
    out.close()
    try:
        result: tuple[dict[str, str], int] = _receive(source)
    finally:
        committer.join()
    envs, commits = result
    measured["acts"] = time.perf_counter() - started
    # The acts above carry no board rows (each act of the CLI writes its patch's row):
    # one more commit records them all, as `releasegate reindex` does. They are
    # derived from the committed objects alone, by another process (on the other
    # core), while git checks the files out.
    source, out = context.Pipe(duplex=False)
    deriver = context.Process(target=_deriver, args=(root.resolve(), out))
    deriver.start()
    out.close()
    # Bring the index and working tree in step, as a ledger used through the CLI is:
    # two processes write the files (checkout.workers). Git maps the pack file into
    # memory as it reads; at 10,000 patches (350 MB) the mapped pages would count in
    # its resident set, so it maps at most 64 MB at once.
    small = ["-c", "core.packedGitWindowSize=16m", "-c", "core.packedGitLimit=64m"]
    try:
        subprocess.run(["git", "-C", str(root), *small, "-c", "checkout.workers=2", "reset",
                        "-q", "--hard"], check=True)
        measured["checkout"] = time.perf_counter() - started - measured["acts"]
        rows: tuple[str, dict[str, bytes]] = _receive(source)
    finally:
        deriver.join()
    written = _record_rows(Ledger(root.resolve()), *rows)
    measured["rows"] = time.perf_counter() - started - measured["acts"] - measured["checkout"]
    counted = subprocess.run(["git", "-C", str(root), *small, "rev-list", "--count",
                              "--first-parent", "HEAD"], capture_output=True, text=True,
                             check=True).stdout
    if written != patches or int(counted) != height + commits + 1:
        raise AssertionError("the ledger's height is not one commit per act")
    measured["commits"] = int(counted)
    return envs


def _commit_args(act: _Act, people: Mapping[str, Person]) -> tuple[dict[str, bytes], bytes,
                                                                    bytes]:
    """An act as `Acts.act` commits it: authored and committed by its actor, timed at
    the event, with the message the CLI writes."""
    who = identity_of(people[act.actor])
    return (act.files, f"{who.name} <{who.email}> {act.when} +0000".encode(),
            act.message.encode("utf-8"))


def _build_part(root: Path, numbers: range, history: str | None, keys: Path | None,
                part: int, parts: int, check_every: int, out: Connection) -> None:
    """A building process: every patch built (the later patches' gates look up the
    earlier ones), those whose index modulo `parts` is `part` sent down `out` as
    (number, id, final environment, acts), then the number of signatures made; on
    a failure, its traceback."""
    try:
        ledger = Ledger(root)
        snap = ledger.snapshot()
        assert snap.head is not None
        pipeline = load_pipeline(snap)
        signer = None
        if keys is not None:
            signer = _Signer(snap.store.root_commit(snap.head),
                             {p: key for p, (key, _) in signing_keys(keys).items()},
                             numbers.start, part, parts)
        ledgerwide = _Ledgerwide(height=snap.height(), signer=signer)
        with tempfile.TemporaryDirectory(prefix="rg-factory-") as scratch:
            for writer, state in patch_files(pipeline, numbers, history=history,
                                             scratch=Path(scratch), ledgerwide=ledgerwide,
                                             check_every=check_every):
                if (writer.number - numbers.start) % parts == part:
                    out.send((writer.number, writer.id, state.env or "-",
                              [_commit_args(act, pipeline.people) for act in writer.acts]))
        out.send(signer.signed if signer else 0)
    except BaseException:
        out.send(traceback.format_exc())  # raised by the process that reads it
        sys.exit(1)
    finally:
        out.close()


def _deriver(root: Path, out: Connection) -> None:
    """The process deriving every patch's board row from the events, as `releasegate
    reindex` does (`board_rows`, nothing stored used): the head they were derived on
    and the rows' files, sent down `out` (on a failure, its traceback)."""
    try:
        ledger = Ledger(root)
        snap = ledger.snapshot()
        rows = board_rows(ledger, snap, verdicts=True, anew=True)
        out.send((snap.head, {path_of(row.patch, row.system): encode(row) for row in rows}))
    except BaseException:
        out.send(traceback.format_exc())
        sys.exit(1)
    finally:
        out.close()


def _record_rows(ledger: Ledger, derived_on: str, files: dict[str, bytes]) -> int:
    """Commit the rows derived on `derived_on`, with the message `reindex` writes;
    the number of rows."""
    def operation(snap: Snapshot) -> Write[int]:
        if snap.head != derived_on:
            raise RuntimeError("the ledger moved while its board rows were derived")
        return Write(dict(files), rows_recorded(len(files)), len(files))

    return ledger.transact(operation)[0]


def _receive(source: Connection) -> Any:
    """What a building or committing process sent; its failure raised here."""
    try:
        message = source.recv()
    except EOFError:
        raise RuntimeError("a factory process ended before it sent its result") from None
    if isinstance(message, str):
        raise RuntimeError(f"a factory process failed:\n{message}")
    return message


def _committer(root: Path, head: str, numbers: range, history: str | None,
               keys: Path | None, parts: int, check_every: int, out: Connection) -> None:
    """The committing process: `_commit_acts`, its result sent down `out` (on a
    failure, its traceback)."""
    try:
        out.send(_commit_acts(Ledger(root), head, numbers, history, keys, parts,
                              check_every))
    except BaseException:
        out.send(traceback.format_exc())  # raised by the process that reads it
        sys.exit(1)
    finally:
        out.close()


def _commit_acts(ledger: Ledger, head: str, numbers: range, history: str | None,
                 keys: Path | None, parts: int, check_every: int) -> tuple[dict[str, str], int]:
    """The patches' acts, one commit each, on top of `head`, as `parts` building
    processes send them; each patch's final environment, and the commits made."""
    context = multiprocessing.get_context("fork")
    sources, builders = [], []
    for part in range(parts):
        source, out = context.Pipe(duplex=False)
        builder = context.Process(target=_build_part, daemon=True,
                                  args=(ledger.root, numbers, history, keys, part, parts,
                                        check_every, out))
        builder.start()
        out.close()
        sources.append(source)
        builders.append(builder)
    acts = Acts(ledger.root, ledger.ref, head)
    height = known_height(ledger.store, head)  # each commit says its number, as the CLI's do
    envs: dict[str, str] = {}
    stored = made = 0
    try:
        for number in numbers:
            got, pid, env, patch_acts = _receive(sources[(number - numbers.start) % parts])
            if got != number:
                raise AssertionError(f"patch {got} came where {number} was expected")
            for files, who, message in patch_acts:
                signatures = [data for path, data in files.items() if path.endswith(".sig")]
                if PLACEHOLDER in signatures:
                    raise AssertionError(f"{pid}: a signature was not made by the process "
                                         "that sent it")
                stored += len(signatures)
                acts.act(files, who, with_height(message.decode("utf-8"),
                                                 height + acts.commits + 1).encode("utf-8"))
            envs[pid] = env
        made = sum(_receive(source) for source in sources)
    except BaseException:
        for builder in builders:
            builder.terminate()
        acts.abandon()
        raise
    finally:
        for builder in builders:
            builder.join()
    if stored != made:
        raise AssertionError(f"{made} signatures made, {stored} stored")
    acts.close()
    return envs, acts.commits


# -- signed ledgers: keys and the signed gate -----------------------------------------

def signatures_in(patches: int, *, first: int = 1, history: str | None = None) -> int:
    """How many signed acts a `--signed` ledger of these patches holds: its prod
    gate's sign-offs and checklists (6, 9 or 8 a patch by history; 7 on average)."""
    total = 0
    for number in range(first, first + patches):
        steps = IN_DEV if history == "dev" else HISTORIES[history or history_of(number)]
        total += sum(kind in SIGNED_KINDS and env == "prod" for kind, _, env, _ in steps)
    return total


def signing_keys(folder: Path) -> dict[str, tuple[Path, str]]:
    """An ed25519 key per person (private key file, public key line), made once with
    `ssh-keygen -t ed25519 -N ''` in `folder` and reused after."""
    folder.mkdir(parents=True, exist_ok=True)
    found = {}
    for person in PEOPLE:
        key, public = folder / person, folder / f"{person}.pub"
        if not (key.is_file() and public.is_file()):
            with tempfile.TemporaryDirectory(dir=folder) as tmp:  # never a half-made pair
                made = Path(tmp) / person
                subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                                f"{person}@releasegate-benchmarks", "-f", str(made)],
                               check=True, stdin=subprocess.DEVNULL)
                os.replace(made.with_name(f"{person}.pub"), public)
                os.replace(made, key)
        found[person] = (key, public.read_text(encoding="utf-8").strip())
    return found


def signed_config(text: str, keys: Mapping[str, str]) -> str:
    """releasegate.yaml of `init --example` with each person's key registered and
    `signatures: required` on the prod gate."""
    gate = "      checklists: [test-review, change-readiness]\n"
    if text.count(gate) != 1:
        raise AssertionError("releasegate.yaml no longer has the prod gate this expects")
    text = text.replace(gate, "      signatures: required\n" + gate)
    lines, registered = [], set()
    for line in text.splitlines(keepends=True):
        person = line.strip().split(":", 1)[0]
        if person in keys and line.startswith("  ") and line.rstrip().endswith("}"):
            line = line.rstrip()[:-1] + f', keys: ["{keys[person]}"]}}\n'
            registered.add(person)
        lines.append(line)
    if registered != set(keys):
        raise AssertionError(f"no line in releasegate.yaml for {set(keys) - registered}")
    return "".join(lines)


def register_keys(ledger: Ledger, keys: Mapping[str, str]) -> None:
    """Commit the signed gate's releasegate.yaml, as the release manager would."""
    snap = ledger.snapshot()
    raw = snap.read(CONFIG_FILE)
    assert raw is not None
    config = signed_config(raw.decode("utf-8"), keys).encode("utf-8")
    alice = load_pipeline(snap).people["alice"]
    ledger.transact(lambda _: Write({CONFIG_FILE: config}, "releasegate.yaml: register the "
                                    "signing keys; the prod gate requires signatures", None,
                                    identity_of(alice)))
    pipeline = load_pipeline(ledger.snapshot())
    if not pipeline.environment("prod").gate.signatures or \
            any(not pipeline.people[p].keys for p in keys):
        raise AssertionError("the registered keys or the signed prod gate did not take")


def cached_path(work: Path, patches: int, *, first: int = 1, history: str | None = None,
                signed: bool = False) -> Path:
    """Where cached_ledger keeps that ledger (complete when cached_complete says so)."""
    key = (f"{VERSION}-rg{RELEASEGATE_VERSION}-n{patches}-f{first}-{history or 'mixed'}"
           + ("-signed" if signed else ""))
    return work / "ledgers" / key


def cached_complete(root: Path) -> bool:
    return (root / ".git" / "factory-complete").exists()


def cached_ledger(work: Path, patches: int, *, first: int = 1, history: str | None = None,
                  signed: bool = False, jobs: int = 2) -> Path:
    """The ledger build_ledger makes, built once under `work` and reused after (a
    signed one with the keys under `work`/keys)."""
    root = cached_path(work, patches, first=first, history=history, signed=signed)
    key = root.name
    done = root / ".git" / "factory-complete"
    if cached_complete(root):
        return root
    if root.exists():
        shutil.rmtree(root)
    build_ledger(root, patches, first=first, history=history, signed=signed,
                 keys=work / "keys", jobs=jobs)
    done.write_text(key + "\n")
    return root


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("directory", type=Path)
    options.add_argument("--patches", type=int, default=1000)
    options.add_argument("--first", type=int, default=1)
    options.add_argument("--history", choices=[*HISTORIES, "dev"])
    options.add_argument("--signed", action="store_true",
                         help="register keys, require signatures at the prod gate, sign "
                              "its sign-offs and checklists")
    options.add_argument("--keys", type=Path, default=KEYS,
                         help="with --signed: the folder of the people's keys (made there "
                              "once)")
    options.add_argument("--jobs", type=int, default=2,
                         help="with --signed: processes that share the signing")
    options.add_argument("--check-every", type=int, default=CHECK_EVERY, metavar="N",
                         help="also build one patch in N the slow way (render_event, "
                              "parse_event, parse_manifest) and compare; 1: every patch")
    args = options.parse_args()
    started = time.perf_counter()
    measured: dict[str, float] = {}
    envs = build_ledger(args.directory, args.patches, first=args.first, history=args.history,
                        signed=args.signed, keys=args.keys, jobs=args.jobs,
                        check_every=max(1, args.check_every), measured=measured)
    tally: dict[str, int] = {}
    for env in envs.values():
        tally[env] = tally.get(env, 0) + 1
    where = ", ".join(f"{n} in {env}" for env, n in sorted(tally.items()))
    print(f"{args.directory}: {len(envs)} patches ({where}), {measured['commits']:.0f} "
          "commits, in "
          f"{time.perf_counter() - started:.1f} s (acts {measured['acts']:.1f} s, checkout "
          f"{measured['checkout']:.1f} s, board rows {measured['rows']:.1f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
