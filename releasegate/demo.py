"""The demo: an example ledger and one vendor patch walked through every gate.

It uses the same actions as the command line, so what it shows is what a release
manager gets. It narrates through `say` and never touches the terminal itself.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from releasegate.actions.evidence import fill_checklist, record_tests, sign_off, waive
from releasegate.actions.gate import check_gate, diff_tests
from releasegate.actions.patches import submit_patch
from releasegate.actions.promote import promote
from releasegate.actions.setup import init_ledger
from releasegate.actions.views import status_board
from releasegate.cli.terminal import board_text, comparison_text, verdict_text
from releasegate.core.errors import UsageError
from releasegate.ledger.transaction import Ledger

MARKER = ".releasegate-demo"
PATCH = "CBS-2026-0042"

MANIFEST = """\
id: CBS-2026-0042
system: core-banking
vendor: Acme FinSoft
vendor_ref: AFS-PATCH-7.4.2-HF3
version: 7.4.2-hf3
title:
  en: Fix interest accrual on accounts opened on the last day of a month
  zh-CN: 修复月末最后一天开立账户的利息计提错误
summary:
  en: Daily interest was accrued twice for accounts opened on the 31st.
  zh-CN: 31日开立的账户每日利息被重复计提。
business_impact:
  en: Retail deposit interest is correct again; no change to screens.
  zh-CN: 零售存款利息恢复正确；界面无变化。
affected_modules: [deposits, interest-accrual]
downtime: {en: 15 minutes, zh-CN: 15分钟}
rollback_plan:
  en: Reinstall 7.4.2-hf2 from the vendor drop and rerun the accrual batch.
  zh-CN: 从厂商介质重新安装7.4.2-hf2并重跑计提批处理。
fixes:
  - {en: Double interest accrual for month-end accounts, zh-CN: 月末账户利息重复计提}
contact: {en: "IT service desk, ext. 8000", zh-CN: "IT服务台，分机8000"}
artifacts: [cbs-7.4.2-hf3.tar, install-notes.txt]
"""

ANSWERS = {
    "intake": {"version-controlled": "yes", "release-note-read": "yes", "risk": "medium",
               "problem-ticket": "https://itsm.bank.example/PRB-1187"},
    "dev-review": {"walkthrough": "yes", "installed-cleanly": "yes",
                   "data-migration": {"value": "n/a", "reason": "no data migration"}},
    "test-review": {"regression-run": "yes", "fix-verified": "yes",
                    "business-verification": "yes"},
    "change-readiness": {"rollback-tested": "yes", "window-agreed": "yes", "notice-sent": "yes",
                         "on-call": "Erin Liu (primary), Bob Li (backup)"},
}


def junit(suite: str, total: int, failing: dict[str, str]) -> str:
    """A JUnit XML report of `total` tests, the named ones failing."""
    cases = []
    for i in range(1, total + 1):
        name = f"test_{suite.replace('-', '_')}_{i:03d}"
        body = ""
        if name in failing:
            body = f'<failure message="{failing[name]}">AssertionError: {failing[name]}</failure>'
        cases.append(f'    <testcase classname="cbs.{suite}" name="{name}" time="0.05">{body}'
                     "</testcase>")
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="{suite}" '
            f'tests="{total}">\n' + "\n".join(cases) + "\n</testsuite>\n")


EARLIER = "CBS-2026-0031"
EARLIER_MANIFEST = """\
id: CBS-2026-0031
system: core-banking
vendor: Acme FinSoft
vendor_ref: AFS-PATCH-7.4.2-HF2
version: 7.4.2-hf2
title:
  en: Correct rounding of cross-currency transfer fees
  zh-CN: 修正跨币种转账手续费的舍入
business_impact:
  en: Cross-currency fees are rounded half-up to the cent, as the tariff says.
  zh-CN: 跨币种手续费按费率表四舍五入到分。
affected_modules: [payments]
contact: {en: "IT service desk, ext. 8000", zh-CN: "IT服务台，分机8000"}
artifacts: [cbs-7.4.2-hf2.tar]
"""
KNOWN = "test_regression_core_150"
NEW = "test_regression_core_047"
SIGNERS = (("carol", "test-lead"), ("bob", "app-owner"), ("dave", "business"),
           ("erin", "change-manager"))


def run_demo(directory: Path, *, force: bool = False,
             say: Callable[[str], None] = print) -> Ledger:
    """Build the example ledger in `directory`, ship an earlier patch that sets the
    baseline, then walk CBS-2026-0042 to prod past a surprise the prod gate stops."""
    root = _prepare(directory, force)
    drop = _vendor_drop(root)
    results = root / "test-results"
    results.mkdir()

    say("== 1. A new ledger: a git repository holding the pipeline and every decision")
    keys = _make_keys(root / "keys")
    init_ledger(root / "ledger", example=True, timezone="Asia/Shanghai",
                signing_keys={person: line for person, (_, line) in keys.items()})
    ledger = Ledger((root / "ledger").resolve())
    say(f"   {ledger.root}: dev -> test -> prod, people alice (release manager), bob "
        "(app owner), carol (test lead), dave (business), erin (change manager)")
    say(f"   the prod gate requires signatures: each approver has an SSH key in {root / 'keys'}")

    say(f"\n== 2. Last month: {EARLIER} went to prod and set the regression baseline")
    _ship_earlier(ledger, say, drop, results, keys)

    say(f"\n== 3. Acme FinSoft delivers {PATCH}; alice registers it")
    submitted = submit_patch(ledger, "alice", drop / "manifest.yaml")
    say(f"   digest {submitted.digest}")
    say("   (sha256 over the artifacts: what is tested is byte for byte what ships)")
    _to_test(ledger, say, results, PATCH)

    say("\n== 4. The regression run in test finds a surprise")
    _record(ledger, say, results, PATCH, "regression-core", "test",
            {NEW: "fee posted twice on month-end", KNOWN: "AFS-991 statement footer"})
    _prod_checklists(ledger, keys, PATCH)
    comparisons, _ = diff_tests(ledger, PATCH, "test")
    say(f"   releasegate tests diff {PATCH} --env test")
    say(_indent(comparison_text(comparisons[0])))
    verdict, _ = check_gate(ledger, PATCH, "prod")
    say(f"   releasegate check {PATCH} --to prod")
    say(_indent(verdict_text(verdict)))
    say(f"   The prod gate is CLOSED: {NEW} passed in {EARLIER}'s run and fails now (a new")
    say(f"   failure), while {KNOWN}, failing since before, is a known failure and allowed.")
    say("   Nothing reached production; the surprise stayed in test.")

    say("\n== 5. The vendor's fix for the test data; the rerun has only the known failure")
    _record(ledger, say, results, PATCH, "regression-core", "test",
            {KNOWN: "AFS-991 statement footer"}, rerun=True)

    say("\n== 6. Sign-offs: four people in four roles, each signed with the signer's own key;")
    say("   the submitter may not sign")
    for person, role in SIGNERS:
        sign_off(ledger, person, PATCH, "prod", role, key=keys[person][0])
        say(f"   {person} approved as {role} (signed with {keys[person][0].name})")
    _promote(ledger, say, PATCH, "prod")

    say("\n== 7. The board")
    board, _ = status_board(ledger)
    say(_indent(board_text(board)))
    _publish(ledger, say, root / "site")
    _audit(ledger, say, drop)
    _next_steps(ledger, say)
    return ledger


def _make_keys(folder: Path) -> dict[str, tuple[Path, str]]:
    """An SSH key for each approver of the prod gate: private key path, public line."""
    from releasegate.trust.ssh_keygen import generate

    folder.mkdir()
    return {person: (folder / person, generate(folder / person, f"{person}@demo"))
            for person in ("carol", "bob", "dave", "erin")}


def _prod_checklists(ledger: Ledger, keys: dict[str, tuple[Path, str]], patch: str) -> None:
    fill_checklist(ledger, "carol", patch, "test-review", "prod", ANSWERS["test-review"],
                   key=keys["carol"][0])
    fill_checklist(ledger, "erin", patch, "change-readiness", "prod",
                   ANSWERS["change-readiness"], key=keys["erin"][0])


def _audit(ledger: Ledger, say: Callable[[str], None], drop: Path) -> None:
    from releasegate.actions.artifact_check import verify_artifacts
    from releasegate.actions.audit import verify_ledger

    say("\n== 10. The auditor and the deploy job check, offline, with git and ssh-keygen")
    audit, _ = verify_ledger(ledger)
    say("   releasegate verify")
    say(f"   {audit.patches} patches, {audit.events} events, {audit.signatures} signatures, "
        f"{audit.promotions} promotions re-evaluated: "
        + ("CLEAN" if audit.ok else f"{len(audit.findings)} findings"))
    files = [drop / "cbs-7.4.2-hf3.tar", drop / "install-notes.txt"]
    check, _ = verify_artifacts(ledger, PATCH, files)
    say(f"   releasegate verify-artifact {PATCH} cbs-7.4.2-hf3.tar install-notes.txt")
    say(f"   {'OK' if check.ok else 'DIFFERENT'}: the files are the artifacts approved for "
        f"{check.env} (digest {check.digest[:19]}...)")


def _publish(ledger: Ledger, say: Callable[[str], None], site: Path) -> None:
    from releasegate.actions.notices import notice_for
    from releasegate.actions.publish import publish_site

    say("\n== 8. The notice board: a static site for the intranet (it opens from disk too)")
    published, _ = publish_site(ledger, site)
    say(f"   {published.index}")
    say(f"   {len(published.written)} files: every notice in Chinese and English, the "
        "environment board, Atom feeds")
    say(f"\n== 9. What the business units read about {PATCH}")
    for lang in ("zh-CN", "en"):
        notice, _ = notice_for(ledger, PATCH, audience="business", lang=lang)
        say(f"   --- {lang} ---")
        say(_indent("\n".join(line for line in notice.markdown.splitlines()
                               if line.strip() and line.strip() != "---")))


def _vendor_drop(root: Path) -> Path:
    drop = root / "vendor-drop"
    drop.mkdir()
    (drop / "manifest.yaml").write_text(MANIFEST, encoding="utf-8")
    (drop / "cbs-7.4.2-hf3.tar").write_bytes(b"acme finsoft core banking 7.4.2-hf3\n" * 512)
    (drop / "install-notes.txt").write_text("stop batch, install, restart, run accrual\n")
    (drop / "earlier.yaml").write_text(EARLIER_MANIFEST, encoding="utf-8")
    (drop / "cbs-7.4.2-hf2.tar").write_bytes(b"acme finsoft core banking 7.4.2-hf2\n" * 512)
    return drop


def _to_test(ledger: Ledger, say: Callable[[str], None], results: Path, patch: str) -> None:
    fill_checklist(ledger, "alice", patch, "intake", "dev", ANSWERS["intake"])
    _promote(ledger, say, patch, "dev")
    _record(ledger, say, results, patch, "smoke-core", "dev", {})
    fill_checklist(ledger, "bob", patch, "dev-review", "test", ANSWERS["dev-review"])
    sign_off(ledger, "bob", patch, "test", "app-owner", comment="walkthrough done")
    _promote(ledger, say, patch, "test")


def _ship_earlier(ledger: Ledger, say: Callable[[str], None], drop: Path,
                  results: Path, keys: dict[str, tuple[Path, str]]) -> None:
    from releasegate.core import clock

    submit_patch(ledger, "alice", drop / "earlier.yaml")
    _to_test(ledger, say, results, EARLIER)
    _record(ledger, say, results, EARLIER, "regression-core", "test",
            {KNOWN: "AFS-991 statement footer"})
    until = (clock.now() + timedelta(days=90)).strftime("%Y-%m-%d")
    waive(ledger, "carol", EARLIER, "prod", f"cbs.regression-core::{KNOWN}",
          "known vendor defect AFS-991, fix due in 7.5", until, key=keys["carol"][0])
    say(f"   carol (test lead) waived the long-standing failure {KNOWN} until {until}")
    _prod_checklists(ledger, keys, EARLIER)
    for person, role in SIGNERS:
        sign_off(ledger, person, EARLIER, "prod", role, key=keys[person][0])
    _promote(ledger, say, EARLIER, "prod")


def _prepare(directory: Path, force: bool) -> Path:
    root = directory.resolve()
    if root.exists() and any(root.iterdir()):
        if not force:
            raise UsageError(f"{root} is not empty", code="not-empty",
                             hint="choose another folder, or pass --force to replace an "
                                  "earlier demo there")
        if not (root / MARKER).exists():
            raise UsageError(f"{root} is not empty and holds no earlier demo; --force only "
                             "replaces an earlier demo", code="not-empty")
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).write_text("made by `releasegate demo`; --force may replace this folder\n")
    return root


def _record(ledger: Ledger, say: Callable[[str], None], folder: Path, patch: str, suite: str,
            env: str, failing: dict[str, str], rerun: bool = False) -> None:
    total = 24 if suite.startswith("smoke") else 180
    path = folder / f"{patch}-{suite}{'-rerun' if rerun else ''}.xml"
    path.write_text(junit(suite, total, failing), encoding="utf-8")
    recorded, _ = record_tests(ledger, "alice", patch, env, [path], suite)
    d = recorded.detail
    say(f"   {patch}: recorded {suite} in {env}: {d['tests']} tests, {d['failed']} failed")


def _promote(ledger: Ledger, say: Callable[[str], None], patch: str, env: str) -> None:
    result, _ = promote(ledger, "alice", patch, env)
    if not result.recorded:
        raise RuntimeError(f"demo: the {env} gate did not open:\n{verdict_text(result.verdict)}")
    say(f"   gate open: {patch} promoted to {env}")


def _indent(text: str) -> str:
    return "\n".join("   " + line for line in text.splitlines())


def _next_steps(ledger: Ledger, say: Callable[[str], None]) -> None:
    base = f"releasegate --ledger {ledger.root}"
    say("\nTry next:")
    for line in (f"{base} patch show {PATCH}", f"{base} patch log {PATCH}",
                 f"{base} tests diff {PATCH} --env test",
                 f"{base} patch show {EARLIER} --format json", f"{base} status",
                 f"{base} verify",
                 f"{base} verify-artifact {PATCH} "
                 f"{ledger.root.parent / 'vendor-drop' / 'cbs-7.4.2-hf3.tar'} "
                 f"{ledger.root.parent / 'vendor-drop' / 'install-notes.txt'}",
                 f"git -C {ledger.root} log --oneline"):
        say(f"   {line}")
