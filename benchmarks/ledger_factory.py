"""Build large, valid releasegate ledgers directly, without running the CLI per act.

Recording 20,000 events through `releasegate` would take hours (one process, one
commit per act). This module writes the same files the actions write, byte for byte
in shape, and commits them all in one commit with `git fast-import`:

- the ledger starts as `releasegate init --example` makes it
  (`releasegate.actions.setup.init_ledger`);
- each patch gets `patches/<ID>/patch.yaml` (a manifest that passes the manifest
  schema) and 20 event files forming a correct hash chain, rendered with
  `releasegate.events.render_event` at `releasegate.events.event_path`;
- checklist answers go through `releasegate.actions.evidence.normalize_answers`;
  test results are JUnit XML parsed by `releasegate.junit.parse_junit` and stored
  with their `summary_json` summary under `evidence/`, as `tests record` stores them;
- `promoted` events carry the verdict `releasegate.gates.evaluate_gate` gives at
  that point of the history, as `promote` records it (and the gate must be open);
- every event is read back with `releasegate.events.parse_event`, which checks the
  hash chain, before it is used.

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
promotion of another patch of the same system out of the same environment.

Usage: `python benchmarks/ledger_factory.py DIR --patches 1000`.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from releasegate import __version__ as RELEASEGATE_VERSION
from releasegate.actions.evidence import normalize_answers
from releasegate.actions.setup import init_ledger
from releasegate.config.parse import parse_manifest
from releasegate.config.strict_yaml import dump_yaml, load_yaml
from releasegate.core.gates.evaluate import evaluate_gate
from releasegate.core.model import Artifact, Event, Pipeline
from releasegate.core.regression import EvidenceOf
from releasegate.core.state import COUNT_KEYS, PatchState, fold
from releasegate.core.text import text_in
from releasegate.demo import junit as junit_report
from releasegate.evidence.artifacts import digest_of
from releasegate.evidence.junit import merge_runs, run_from_json, summary_json
from releasegate.ledger.events import PATCHES, event_path, parse_event, render_event
from releasegate.ledger.pipeline import load_pipeline
from releasegate.ledger.transaction import Ledger

# Bump whenever the generated ledger changes shape: cached ledgers are keyed by it.
VERSION = "ledger-factory-7"  # bump when the ledger format changes
EVENTS_PER_PATCH = 20
START = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
PATCH_SPACING = timedelta(hours=7)
EVENT_SPACING = timedelta(minutes=19)


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


def manifest_text(number: int, system: System, depends_on: tuple[str, ...]) -> str:
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
    return dump_yaml(doc)


def artifacts_for(names: list[str], pid: str, delivery: int) -> tuple[Artifact, ...]:
    """Artifacts as hash_artifacts reports them, for files we never need on disk."""
    found = []
    for name in names:
        content = f"{pid} {name} delivery {delivery}\n".encode() * (40 + len(name))
        found.append(Artifact(name, len(content), hashlib.sha256(content).hexdigest()))
    return tuple(sorted(found, key=lambda a: a.name))


class _Evidence:
    """JUnit reports and their stored summaries, as `tests record` writes them."""

    def __init__(self, scratch: Path) -> None:
        self._scratch = scratch
        self._summaries: dict[tuple[str, int, tuple[str, ...]], tuple[bytes, dict[str, int]]]
        self._summaries = {}

    def report(self, suite: str, failing_tests: tuple[str, ...], at: str,
               file_name: str) -> tuple[bytes, bytes, dict[str, int], dict[str, Any]]:
        total = {SMOKE: SMOKE_TESTS, REGRESSION: REGRESSION_TESTS, BATCH: BATCH_TESTS}[suite]
        messages = {name: f"AssertionError: {name.rsplit('_', 1)[-1]} expected 0.00"
                    for name in failing_tests}
        xml = junit_report(suite, total, messages).replace(
            f'<testsuite name="{suite}"',
            f'<testsuite name="{suite}" timestamp="{at[:-1]}"',
            1).encode("utf-8")
        key = (suite, total, failing_tests)
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


class _Ledgerwide:
    """What the gates of later patches look up: states for `depends`, baselines."""

    def __init__(self) -> None:
        self.states: dict[str, PatchState] = {}
        self.shipped: list[_Shipped] = []

    def baseline(self, system: str, env: str, suite: str, exclude: str) -> _Shipped | None:
        """As releasegate.baselines.find_baseline chooses."""
        found = [s for s in self.shipped if s.system == system and s.env == env
                 and s.suite == suite and s.patch != exclude]
        return max(found, key=lambda s: (s.promoted_at, s.patch, s.tests_event), default=None)


class _PatchWriter:
    """One patch's files, event by event, each read back and checked."""

    def __init__(self, pipeline: Pipeline, evidence: _Evidence, number: int,
                 ledgerwide: _Ledgerwide) -> None:
        self.pipeline, self.evidence, self.number = pipeline, evidence, number
        self.ledgerwide = ledgerwide
        self.states = ledgerwide.states
        self.system = system_of(number)
        self.id = patch_id(number)
        self.files: dict[str, bytes] = {}
        self.events: list[Event] = []
        self.clock = START + PATCH_SPACING * number
        self.delivery = 1
        depends_on = depends_of(number)
        raw = manifest_text(number, self.system, depends_on).encode("utf-8")
        self.manifest = parse_manifest(load_yaml(raw, f"{PATCHES}/{self.id}/patch.yaml"))
        self.manifest_raw = raw
        self.files[f"{PATCHES}/{self.id}/patch.yaml"] = raw
        self.artifacts = artifacts_for(list(self.manifest.artifacts), self.id, self.delivery)

    def state(self) -> PatchState:
        return fold(self.manifest, self.events)

    def run(self, steps: tuple[Step, ...]) -> PatchState:
        for kind, actor, env, details in steps:
            self.step(kind, actor, env, details)
        state = self.state()
        self.states[self.id] = state
        return state

    def step(self, kind: str, actor: str, env: str | None, details: dict[str, Any]) -> None:
        self.clock += EVENT_SPACING * (1 + len(self.events) % 3)
        at = self.clock.strftime("%Y-%m-%dT%H:%M:%SZ")
        state = self.state() if self.events else None
        digest = state.digest if state else digest_of(self.artifacts)
        data: dict[str, Any]
        if kind == "submitted":
            data = {"system": self.manifest.system, "vendor": self.manifest.vendor,
                    "title": text_in(self.manifest.title),
                    "manifest_sha256": hashlib.sha256(self.manifest_raw).hexdigest(),
                    "artifacts": [_artifact_data(a) for a in self.artifacts]}
        elif kind == "revised":
            assert state is not None
            self.delivery += 1
            names = [n.replace(".tar", f"-r{self.delivery}.tar") for n in self.manifest.artifacts]
            self.artifacts = artifacts_for(names, self.id, self.delivery)
            digest = digest_of(self.artifacts)
            data = {"previous_digest": state.digest,
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
            self.files[prefix + ".xml"] = xml
            self.files[prefix + ".json"] = summary
            data = {"suite": suite, "files": [listed], "counts": counts}
        elif kind == "signoff":
            data = {"role": details["role"],
                    "decision": "reject" if details.get("reject") else "approve"}
            if details.get("comment"):
                data["comment"] = details["comment"]
        elif kind == "promoted":
            assert state is not None and env is not None
            deps = {d: self.states.get(d) for d in self.manifest.depends_on}
            results = self.gate_results(state, env)
            verdict = (evaluate_gate(self.pipeline, state, env, deps) if results is None else
                       evaluate_gate(self.pipeline, state, env, deps, results=results))
            if not verdict.open:
                raise AssertionError(f"{self.id}: the {env} gate is closed at event "
                                     f"{len(self.events) + 1}: {verdict.to_dict()}")
            data = {"from": verdict.source,
                    "verdict": [c.to_dict() for c in verdict.conditions],
                    "evidence": list(verdict.evidence)}
            self.ship(verdict.source, at, verdict.evidence)
        else:
            raise ValueError(kind)
        self.append(kind, actor, env, digest, at, data)

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
            from releasegate.evidence.junit import run_from_json
        except ImportError:
            return None
        ctx = GateContext(self.pipeline, state, self.pipeline.environment(target))
        results = {}
        for rule in ctx.target.gate.tests:
            if not tests_gate.needs_outcomes(ctx, rule):
                continue
            for recording in tests_gate.counted_recordings(ctx, rule):
                run = merge_runs([run_from_json(b) for b in self.summaries(recording.files)])
                base = self.ledgerwide.baseline(self.manifest.system, recording.env,
                                                recording.suite, exclude=self.id)
                ref = base_run = None
                if base is not None:
                    ref = BaselineRef(base.patch, base.env, base.suite, base.promoted_at,
                                      base.tests_event, base.evidence)
                    base_run = merge_runs([run_from_json(b) for b in base.summaries])
                results[(recording.env, recording.suite)] = SuiteResults(
                    recording.env, recording.suite, run, recording.event.path, ref, base_run)
        return results

    def ship(self, source: str | None, at: str, evidence: tuple[str, ...]) -> None:
        """Remember the test results this promotion counted, as baselines._shipped does."""
        if not source:
            return
        by_path = {e.path: e for e in self.events}
        for path in evidence:
            event = by_path.get(path)
            if event is not None and event.type == "tests" and event.env == source:
                files = event.data.get("files") or ()
                self.ledgerwide.shipped.append(_Shipped(
                    self.manifest.system, self.id, source, str(event.data["suite"]), at, path,
                    EvidenceOf.of(path, files, event.data.get("counts") or {}),
                    self.summaries(files)))

    def append(self, kind: str, actor: str, env: str | None, digest: str, at: str,
               data: dict[str, Any]) -> None:
        seq = len(self.events) + 1
        previous = self.events[-1] if self.events else None
        common: dict[str, Any] = {"type": kind, "patch": self.id, "seq": seq,
                                  "prev": previous.sha256 if previous else None,
                                  "at": at, "actor": actor, "digest": digest}
        if env is not None:
            common["env"] = env
        path = event_path(self.id, seq, kind)
        raw = render_event(common, data)
        self.files[path] = raw
        self.events.append(parse_event(path, raw, previous))


def _artifact_data(artifact: Artifact) -> dict[str, Any]:
    return {"name": artifact.name, "size": artifact.size, "sha256": artifact.sha256}


def patch_files(pipeline: Pipeline, numbers: range, *, history: str | None = None,
                scratch: Path) -> Iterator[tuple[str, dict[str, bytes], PatchState]]:
    """(patch id, its files, its final state) for each patch number, in order."""
    evidence = _Evidence(scratch)
    ledgerwide = _Ledgerwide()
    for number in numbers:
        writer = _PatchWriter(pipeline, evidence, number, ledgerwide)
        steps = IN_DEV if history == "dev" else HISTORIES[history or history_of(number)]
        state = writer.run(steps)
        yield writer.id, writer.files, state


def build_ledger(root: Path, patches: int, *, first: int = 1,
                 history: str | None = None) -> dict[str, str]:
    """A new ledger at `root` holding patches numbered first..first+patches-1.

    `history` forces one history ("prod", "closed", "open" or "dev", the last with
    only 3 events) for every patch. Returns each patch id's final environment.
    """
    init_ledger(root, example=True, timezone="Asia/Shanghai")
    ledger = Ledger(root.resolve())
    snap = ledger.snapshot()
    pipeline, parent = load_pipeline(snap), snap.head
    assert parent is not None
    envs: dict[str, str] = {}
    last = START
    with tempfile.TemporaryDirectory(prefix="rg-factory-") as scratch:
        stream = _FastImport(root)
        for pid, files, state in patch_files(pipeline, range(first, first + patches),
                                             history=history, scratch=Path(scratch)):
            for path, data in files.items():
                stream.file(path, data)
            envs[pid] = state.env or "-"
            last = max(last, datetime.strptime(state.events[-1].at, "%Y-%m-%dT%H:%M:%SZ")
                       .replace(tzinfo=UTC))
        message = (f"{patches} patches recorded in bulk, "
                   f"{EVENTS_PER_PATCH if history != 'dev' else len(IN_DEV)} events each")
        stream.commit(ledger.ref, parent, message, int(last.timestamp()))
    # Bring the index and working tree in step, as a ledger used through the CLI is.
    subprocess.run(["git", "-C", str(root), "reset", "-q", "--hard"], check=True)
    return envs


class _FastImport:
    """Collects files, then commits them in one commit through `git fast-import`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._commands: list[bytes] = []

    def file(self, path: str, data: bytes) -> None:
        self._commands.append(b"M 100644 inline %s\ndata %d\n%s\n"
                              % (path.encode("utf-8"), len(data), data))

    def commit(self, ref: str, parent: str, message: str, when: int) -> None:
        who = b"Release Office <release-office@bank.example> %d +0000" % when
        text = message.encode("utf-8")
        head = (b"commit %s\nauthor %s\ncommitter %s\ndata %d\n%s\nfrom %s\n"
                % (ref.encode(), who, who, len(text), text, parent.encode()))
        stream = head + b"".join(self._commands) + b"done\n"
        subprocess.run(["git", "-C", str(self.root), "fast-import", "--quiet", "--done"],
                       input=stream, check=True)


def cached_ledger(work: Path, patches: int, *, first: int = 1,
                  history: str | None = None) -> Path:
    """The ledger build_ledger makes, built once under `work` and reused after."""
    key = f"{VERSION}-rg{RELEASEGATE_VERSION}-n{patches}-f{first}-{history or 'mixed'}"
    root = work / "ledgers" / key
    done = root / ".git" / "factory-complete"
    if done.exists():
        return root
    if root.exists():
        shutil.rmtree(root)
    build_ledger(root, patches, first=first, history=history)
    done.write_text(key + "\n")
    return root


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("directory", type=Path)
    options.add_argument("--patches", type=int, default=1000)
    options.add_argument("--first", type=int, default=1)
    options.add_argument("--history", choices=[*HISTORIES, "dev"])
    args = options.parse_args()
    started = time.perf_counter()
    envs = build_ledger(args.directory, args.patches, first=args.first, history=args.history)
    tally: dict[str, int] = {}
    for env in envs.values():
        tally[env] = tally.get(env, 0) + 1
    where = ", ".join(f"{n} in {env}" for env, n in sorted(tally.items()))
    print(f"{args.directory}: {len(envs)} patches ({where}) in "
          f"{time.perf_counter() - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
