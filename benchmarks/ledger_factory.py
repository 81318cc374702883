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

With `--signed` the ledger is one a signed prod gate keeps: a second commit registers
an ed25519 key per person in releasegate.yaml (keys made once with `ssh-keygen -t
ed25519 -N ''` and kept in a folder, by default benchmarks/.work/keys) and sets
`signatures: required` on the prod gate; every sign-off and checklist for prod is
signed as `releasegate.actions.signed_acts.sign_act` signs it (the canonical
statement of `releasegate.trust.statements.build` over the gate evidence the signer
saw, signed by `releasegate.trust.ssh_keygen.sign`, stored by
`releasegate.trust.stored.signature_record`); promotions into prod carry the
signatures row a checked gate gives. Every act is then a commit of its own, authored
by its actor, as the CLI records it, and promotions carry their `ledger_height`, so
`releasegate verify` reads the ledger back clean. Signing takes one ssh-keygen
process per signature; `--jobs 2` (the default) splits them between two processes,
each of which runs the whole (cheap) build and signs every other patch.

Usage: `python benchmarks/ledger_factory.py DIR --patches 1000 [--signed]`.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from releasegate import __version__ as RELEASEGATE_VERSION
from releasegate.actions.common import identity_of
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
from releasegate.ledger.pipeline import CONFIG_FILE, load_pipeline
from releasegate.ledger.store import Author
from releasegate.ledger.transaction import Ledger, Write

# Bump whenever the generated ledger changes shape: cached ledgers are keyed by it.
VERSION = "ledger-factory-7"  # bump when the ledger format changes
EVENTS_PER_PATCH = 20
START = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
PATCH_SPACING = timedelta(hours=7)
EVENT_SPACING = timedelta(minutes=19)

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
    height: int = 0  # the promotion's `ledger_height` (0: one commit for everything)


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
    """What the gates of later patches look up (states for `depends`, baselines) and,
    when every act is a commit of its own, the ledger's height and the signer."""

    per_act: bool = False  # one commit per act (else one commit for everything)
    height: int = 0  # commits so far, as `Snapshot.height` counts them
    signer: _Signer | None = None
    states: dict[str, PatchState] = field(default_factory=dict)
    shipped: list[_Shipped] = field(default_factory=list)

    def baseline(self, system: str, env: str, suite: str, exclude: str) -> _Shipped | None:
        """As releasegate.evidence.baselines.find_baseline chooses: by commit number
        (`ledger_height`), by time where promotions record none."""
        found = [s for s in self.shipped if s.system == system and s.env == env
                 and s.suite == suite and s.patch != exclude]
        return max(found, key=lambda s: (s.height, s.promoted_at, s.patch, s.tests_event),
                   default=None)


@dataclass(frozen=True)
class _Act:
    """One act as the CLI records it: a commit by its actor adding these files."""

    actor: str
    at: str
    message: str
    files: dict[str, bytes]


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
        self.acts: list[_Act] = []
        self._new: dict[str, bytes] = {}  # files of the act being written
        self.events: list[Event] = []
        self.clock = START + PATCH_SPACING * number
        self.delivery = 1
        depends_on = depends_of(number)
        raw = manifest_text(number, self.system, depends_on).encode("utf-8")
        self.manifest = parse_manifest(load_yaml(raw, f"{PATCHES}/{self.id}/patch.yaml"))
        self.manifest_raw = raw
        self.add(f"{PATCHES}/{self.id}/patch.yaml", raw)
        self.artifacts = artifacts_for(list(self.manifest.artifacts), self.id, self.delivery)

    def add(self, path: str, data: bytes) -> None:
        self.files[path] = data
        self._new[path] = data

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
            deps = {d: self.states.get(d) for d in self.manifest.depends_on}
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
            data = {"from": verdict.source,
                    "verdict": [c.to_dict() for c in verdict.conditions],
                    "evidence": list(verdict.evidence)}
            height = 0
            if self.ledgerwide.per_act:  # as `promote` records it: the commit's number
                height = data["ledger_height"] = self.ledgerwide.height + 1
            self.ship(verdict.source, at, verdict.evidence, height)
        else:
            raise ValueError(kind)
        if (kind in SIGNED_KINDS and env is not None and self.ledgerwide.signer is not None
                and self.pipeline.environment(env).gate.signatures):
            assert state is not None
            data = self.sign(kind, actor, env, at, data, state)
        self.append(kind, actor, env, digest, at, data)

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
                                      base.tests_event, base.evidence, base.height)
                    base_run = merge_runs([run_from_json(b) for b in base.summaries])
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
                self.ledgerwide.shipped.append(_Shipped(
                    self.manifest.system, self.id, source, str(event.data["suite"]), at, path,
                    EvidenceOf.of(path, files, event.data.get("counts") or {}),
                    self.summaries(files), height))

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
        self.add(path, raw)
        self.events.append(parse_event(path, raw, previous))
        self.acts.append(_Act(actor, at, _message(self.id, kind, actor, env, digest, data),
                              self._new))
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
                scratch: Path, ledgerwide: _Ledgerwide | None = None
                ) -> Iterator[tuple[_PatchWriter, PatchState]]:
    """Each patch number's writer, with all its files and acts, and its final state."""
    evidence = _Evidence(scratch)
    ledgerwide = ledgerwide or _Ledgerwide()
    for number in numbers:
        writer = _PatchWriter(pipeline, evidence, number, ledgerwide)
        steps = IN_DEV if history == "dev" else HISTORIES[history or history_of(number)]
        state = writer.run(steps)
        yield writer, state


def build_ledger(root: Path, patches: int, *, first: int = 1, history: str | None = None,
                 signed: bool = False, keys: Path = KEYS, jobs: int = 2) -> dict[str, str]:
    """A new ledger at `root` holding patches numbered first..first+patches-1.

    `history` forces one history ("prod", "closed", "open" or "dev", the last with
    only 3 events) for every patch. `signed`: keys registered, the prod gate requires
    signatures, every act a commit of its own (see the module's docstring); `jobs`
    processes share the signing. Returns each patch id's final environment.
    """
    init_ledger(root, example=True, timezone="Asia/Shanghai")
    ledger = Ledger(root.resolve())
    if signed:
        register_keys(ledger, {person: line for person, (_, line)
                               in signing_keys(keys).items()})
        return _build_act_by_act(ledger, range(first, first + patches), history, keys,
                                 max(1, jobs))
    snap = ledger.snapshot()
    pipeline, parent = load_pipeline(snap), snap.head
    assert parent is not None
    envs: dict[str, str] = {}
    last = START
    with tempfile.TemporaryDirectory(prefix="rg-factory-") as scratch:
        stream = _FastImport(root)
        for writer, state in patch_files(pipeline, range(first, first + patches),
                                         history=history, scratch=Path(scratch)):
            for path, data in writer.files.items():
                stream.file(path, data)
            envs[writer.id] = state.env or "-"
            last = max(last, datetime.strptime(state.events[-1].at, "%Y-%m-%dT%H:%M:%SZ")
                       .replace(tzinfo=UTC))
        message = (f"{patches} patches recorded in bulk, "
                   f"{EVENTS_PER_PATCH if history != 'dev' else len(IN_DEV)} events each")
        stream.commit(ledger.ref, parent, message, int(last.timestamp()))
    # Bring the index and working tree in step, as a ledger used through the CLI is.
    subprocess.run(["git", "-C", str(root), "reset", "-q", "--hard"], check=True)
    return envs


# -- signed ledgers: keys, the signed gate, one commit per act ------------------------

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


@dataclass(frozen=True)
class _Built:
    """A patch built act by act: what the commits need."""

    number: int
    id: str
    env: str
    acts: tuple[_Act, ...]


def _build_part(root: Path, numbers: range, history: str | None, keys: Path, part: int,
                jobs: int) -> tuple[list[_Built], int]:
    """Every patch built (every process computes the baselines and states the later
    patches' gates look up), those whose index modulo `jobs` is `part` signed and
    returned, with the number of signatures made."""
    ledger = Ledger(root)
    snap = ledger.snapshot()
    assert snap.head is not None
    pipeline = load_pipeline(snap)
    signer = _Signer(snap.store.root_commit(snap.head),
                     {p: key for p, (key, _) in signing_keys(keys).items()},
                     numbers.start, part, jobs)
    ledgerwide = _Ledgerwide(per_act=True, height=snap.height(), signer=signer)
    built = []
    with tempfile.TemporaryDirectory(prefix="rg-factory-") as scratch:
        for writer, state in patch_files(pipeline, numbers, history=history,
                                         scratch=Path(scratch), ledgerwide=ledgerwide):
            if signer.mine(writer.number):
                built.append(_Built(writer.number, writer.id, state.env or "-",
                                    tuple(writer.acts)))
    return built, signer.signed


def _build_act_by_act(ledger: Ledger, numbers: range, history: str | None, keys: Path,
                      jobs: int) -> dict[str, str]:
    """The patches, one commit per act, on top of the ledger's head."""
    snap = ledger.snapshot()
    assert snap.head is not None
    height, people = snap.height(), load_pipeline(snap).people
    if jobs == 1:
        parts = [_build_part(ledger.root, numbers, history, keys, 0, 1)]
    else:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(jobs, mp_context=context) as pool:
            parts = list(pool.map(_build_part, *zip(*[(ledger.root, numbers, history, keys,
                                                        part, jobs) for part in range(jobs)],
                                                      strict=True)))
    built = sorted((b for found, _ in parts for b in found), key=lambda b: b.number)
    if [b.number for b in built] != list(numbers):
        raise AssertionError("the processes did not build every patch once")
    stored = [data for b in built for act in b.acts for path, data in act.files.items()
              if path.endswith(".sig")]
    if len(stored) != sum(signed for _, signed in parts) or PLACEHOLDER in stored:
        raise AssertionError("a signature was not made by the process that kept it")
    stream = _FastImport(ledger.root)
    acts = 0
    for patch in built:
        for act in patch.acts:
            stream.act(act, identity_of(people[act.actor]))
            acts += 1
    stream.commit_acts(ledger.ref, snap.head)
    subprocess.run(["git", "-C", str(ledger.root), "reset", "-q", "--hard"], check=True)
    if ledger.snapshot().height() != height + acts:
        raise AssertionError("the ledger's height is not one commit per act")
    return {b.id: b.env for b in built}


class _FastImport:
    """Collects files, then commits them through `git fast-import`: all in one commit
    (`file`, `commit`) or one commit per act (`act`, `commit_acts`)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._commands: list[bytes] = []
        self._acts: list[tuple[bytes, bytes, list[bytes]]] = []  # who, message, files

    def file(self, path: str, data: bytes) -> None:
        self._commands.append(self._file(path, data))

    @staticmethod
    def _file(path: str, data: bytes) -> bytes:
        return b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode("utf-8"), len(data), data)

    def commit(self, ref: str, parent: str, message: str, when: int) -> None:
        who = b"Release Office <release-office@bank.example> %d +0000" % when
        text = message.encode("utf-8")
        head = (b"commit %s\nauthor %s\ncommitter %s\ndata %d\n%s\nfrom %s\n"
                % (ref.encode(), who, who, len(text), text, parent.encode()))
        self._run([head, *self._commands])

    def act(self, act: _Act, author: Author) -> None:
        when = int(datetime.strptime(act.at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
                   .timestamp())
        self._acts.append((f"{author.name} <{author.email}> {when} +0000".encode(),
                           act.message.encode("utf-8"),
                           [self._file(path, data) for path, data in act.files.items()]))

    def commit_acts(self, ref: str, parent: str) -> None:
        """The acts in order, the first on top of `parent`, each on the one before."""
        stream = []
        for i, (who, text, files) in enumerate(self._acts):
            stream.append(b"commit %s\nauthor %s\ncommitter %s\ndata %d\n%s\n"
                          % (ref.encode(), who, who, len(text), text))
            if i == 0:
                stream.append(b"from %s\n" % parent.encode())
            stream += files
        self._run(stream)

    def _run(self, commands: list[bytes]) -> None:
        subprocess.run(["git", "-C", str(self.root), "fast-import", "--quiet", "--done"],
                       input=b"".join(commands) + b"done\n", check=True)


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
                              "its sign-offs and checklists, one commit per act")
    options.add_argument("--keys", type=Path, default=KEYS,
                         help="with --signed: the folder of the people's keys (made there "
                              "once)")
    options.add_argument("--jobs", type=int, default=2,
                         help="with --signed: processes that share the signing")
    args = options.parse_args()
    started = time.perf_counter()
    envs = build_ledger(args.directory, args.patches, first=args.first, history=args.history,
                        signed=args.signed, keys=args.keys, jobs=args.jobs)
    tally: dict[str, int] = {}
    for env in envs.values():
        tally[env] = tally.get(env, 0) + 1
    where = ", ".join(f"{n} in {env}" for env, n in sorted(tally.items()))
    print(f"{args.directory}: {len(envs)} patches ({where}) in "
          f"{time.perf_counter() - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
