"""Gate evaluation without a ledger: a pipeline and folded events in, condition rows out.

Each test builds the domain objects directly (Pipeline, Event, fold) and reads the
rows of `evaluate_gate`, as `check` would show them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pytest

from releasegate.core.errors import ReleasegateError
from releasegate.core.gates.evaluate import evaluate_gate
from releasegate.core.model import (
    ChecklistItem,
    ChecklistTemplate,
    Condition,
    Environment,
    Event,
    Gate,
    Manifest,
    Person,
    Pipeline,
    Rules,
    SignoffRule,
    Verdict,
)
from releasegate.core.model import TestsRule as ResultsRule  # a Test* name would be collected
from releasegate.core.state import PatchState, fold

PATCH_ID = "CBS-2026-0042"
DIGEST = "sha256:" + "1" * 64
NEW_DIGEST = "sha256:" + "2" * 64

REVIEW = ChecklistTemplate(
    id="review", title={"en": "Review"}, roles=("reviewer",),
    items=(ChecklistItem("walkthrough", {"en": "Walked through"}, "confirm"),
           ChecklistItem("migration", {"en": "Migration tested"}, "confirm", allow_na=True),
           ChecklistItem("risk", {"en": "Risk"}, "choice", choices=("low", "high")),
           ChecklistItem("notes", {"en": "Notes"}, "text", required=False)))
COMPLETE = {"walkthrough": "yes", "migration": "yes", "risk": "low"}
PEOPLE = ("alice", "bob", "carol", "dave", "erin")
ROLES = {"release-manager": ("alice",), "reviewer": ("carol", "dave"),
         "app-owner": ("bob", "erin"), "business": ("dave", "bob")}


NO_GATE = Gate()
DEFAULT_RULES = Rules()


def make_pipeline(gate: Gate = NO_GATE, *, rules: Rules = DEFAULT_RULES,
                  roles: Mapping[str, tuple[str, ...]] = ROLES) -> Pipeline:
    """dev -> test -> prod; `gate` is the test gate, the others ask for nothing."""
    return Pipeline(
        version=1, timezone="UTC",
        environments=(Environment("dev", Gate()), Environment("test", gate),
                      Environment("prod", Gate())),
        people={p: Person(p, p.title()) for p in PEOPLE}, roles=dict(roles), rules=rules,
        templates={"review": REVIEW})


class History:
    """A patch's events, built one by one, as the ledger would hold them."""

    def __init__(self, submitter: str = "alice", patch: str = PATCH_ID,
                 depends_on: tuple[str, ...] = ()) -> None:
        self.patch = patch
        self.manifest = Manifest(id=patch, system="core-banking", vendor="Acme FinSoft",
                                 title={"en": "Fix interest accrual"}, depends_on=depends_on)
        self.digest = DIGEST
        self.events: list[Event] = []
        self.add("submitted", submitter,
                 artifacts=[{"name": "patch.tar", "size": 1, "sha256": "a" * 64}])

    def add(self, kind: str, actor: str, env: str | None = None, *,
            digest: str | None = None, **data: Any) -> History:
        seq = len(self.events) + 1
        self.events.append(Event(
            type=kind, patch=self.patch, seq=seq, prev=None, at=f"2026-03-01T10:{seq:02d}:00Z",
            actor=actor, digest=digest or self.digest, env=env, data=data,
            path=f"patches/{self.patch}/events/{seq:04d}-{kind}.yaml", sha256=f"{seq:064x}"))
        return self

    def promoted(self, *envs: str) -> History:
        for env in envs:
            self.add("promoted", "alice", env)
        return self

    def revised(self, digest: str = NEW_DIGEST) -> History:
        self.digest = digest
        return self.add("revised", "alice", artifacts=[
            {"name": "patch.tar", "size": 2, "sha256": "b" * 64}])

    def checklist(self, person: str, answers: Mapping[str, Any], env: str = "test",
                  template: str = "review", **kw: Any) -> History:
        stored = {k: v if isinstance(v, dict) else {"value": v} for k, v in answers.items()}
        return self.add("checklist", person, env, template=template, answers=stored, **kw)

    def tests(self, suite: str, *, passed: int = 0, failed: int = 0, errors: int = 0,
              skipped: int = 0, flaky: int = 0, env: str = "dev", **kw: Any) -> History:
        counts = {"tests": passed + failed + errors + skipped + flaky, "passed": passed,
                  "flaky": flaky, "failed": failed, "errors": errors, "skipped": skipped}
        return self.add("tests", "alice", env, suite=suite, counts=counts, files=[], **kw)

    def signoff(self, person: str, role: str, *, reject: bool = False, env: str = "test",
                **kw: Any) -> History:
        return self.add("signoff", person, env, role=role,
                        decision="reject" if reject else "approve", **kw)

    def state(self) -> PatchState:
        return fold(self.manifest, self.events)


def verdict(history: History, gate: Gate = NO_GATE, target: str = "test", *,
            rules: Rules = DEFAULT_RULES, roles: Mapping[str, tuple[str, ...]] = ROLES,
            dependencies: Mapping[str, PatchState | None] | None = None) -> Verdict:
    return evaluate_gate(make_pipeline(gate, rules=rules, roles=roles), history.state(),
                         target, dependencies)


def row(result: Verdict, kind: str, name: str | None = None) -> Condition:
    found = [c for c in result.conditions if c.kind == kind and (name is None or c.name == name)]
    assert len(found) == 1, result.conditions
    return found[0]


# --- order ---------------------------------------------------------------------------


def test_order_a_new_patch_may_enter_the_first_environment() -> None:
    result = verdict(History(), target="dev")
    assert row(result, "order").status == "pass"
    assert row(result, "order").detail == "in no environment, next in order is dev"
    assert result.open


@pytest.mark.parametrize(("envs", "target", "detail"), [
    ((), "test", "must come from dev; it is in no environment, and no environment may be "
                 "skipped"),
    (("dev",), "prod", "must come from test; it is in dev, and no environment may be skipped"),
    (("dev", "test"), "dev", "already past dev (in test); patches never go back"),
    (("dev", "test"), "test", "already in test"),
])
def test_order_refuses_skipping_going_back_and_repeating(envs: tuple[str, ...], target: str,
                                                         detail: str) -> None:
    result = verdict(History().promoted(*envs), target=target)
    assert row(result, "order") == Condition("order", "order", "fail", detail)
    assert not result.open


NAMES_DEV = r"(?<![\w-])dev(?![\w-])"  # dev, not dev-review or development


def test_order_fails_closed_for_an_environment_the_pipeline_no_longer_lists() -> None:
    # The committed config renamed dev after the patch entered it: the gate cannot tell
    # where the patch is, so it must say so (a closed gate or a clear error), not crash.
    renamed = make_pipeline()
    renamed = Pipeline(version=1, timezone="UTC",
                       environments=(Environment("development", Gate()),
                                     *renamed.environments[1:]),
                       people=renamed.people, roles=renamed.roles, templates=renamed.templates)
    state = History().promoted("dev").state()
    try:
        result = evaluate_gate(renamed, state, "test")
    except ReleasegateError as exc:
        assert re.search(NAMES_DEV, exc.message)
    else:
        assert row(result, "order").status == "fail"
        assert re.search(NAMES_DEV, row(result, "order").detail)


def test_order_starts_over_after_a_revision() -> None:
    history = History().promoted("dev", "test").revised()
    assert history.state().env is None
    assert row(verdict(history, target="prod"), "order").status == "fail"
    assert row(verdict(history, target="dev"), "order").status == "pass"


# --- depends -------------------------------------------------------------------------


def test_depends_without_dependencies_passes() -> None:
    assert row(verdict(History().promoted("dev")), "depends") == Condition(
        "depends", "depends", "pass", "no dependencies")


def test_depends_on_a_patch_not_in_the_ledger_fails() -> None:
    result = verdict(History(depends_on=("CBS-2026-0001",)).promoted("dev"),
                     dependencies={"CBS-2026-0001": None})
    assert row(result, "depends") == Condition(
        "depends", "CBS-2026-0001", "fail", "depends on CBS-2026-0001, which is not in the ledger")


@pytest.mark.parametrize(("dep_envs", "status", "detail"), [
    ((), "fail", "CBS-2026-0001 must be in test first; it is in no environment"),
    (("dev",), "fail", "CBS-2026-0001 must be in test first; it is in dev"),
    (("dev", "test"), "pass", "CBS-2026-0001 is in test"),
    (("dev", "test", "prod"), "pass", "CBS-2026-0001 is in prod"),
])
def test_depends_needs_the_dependency_in_the_target_already(dep_envs: tuple[str, ...],
                                                            status: str, detail: str) -> None:
    other = History(patch="CBS-2026-0001").promoted(*dep_envs).state()
    result = verdict(History(depends_on=("CBS-2026-0001",)).promoted("dev"),
                     dependencies={"CBS-2026-0001": other})
    assert row(result, "depends") == Condition("depends", "CBS-2026-0001", status, detail)


# --- checklists ----------------------------------------------------------------------

REVIEW_GATE = Gate(checklists=("review",))


def test_checklist_not_filled_names_who_fills_it() -> None:
    assert row(verdict(History(), REVIEW_GATE), "checklists", "review") == Condition(
        "checklists", "review", "fail", "not filled for this digest; to be filled by reviewer")


def test_checklist_completed_by_a_role_holder_passes() -> None:
    result = verdict(History().checklist("carol", COMPLETE), REVIEW_GATE)
    assert row(result, "checklists").status == "pass"
    assert row(result, "checklists").detail.startswith("completed by carol at ")


@pytest.mark.parametrize(("answers", "problem"), [
    ({"walkthrough": "yes", "migration": "yes"}, "'risk' not answered"),
    ({**COMPLETE, "walkthrough": "no"}, "'walkthrough' answered no (Walked through)"),
    ({**COMPLETE, "walkthrough": {"value": "n/a", "reason": "none"}},
     "'walkthrough' is n/a without an allowed reason"),
    ({**COMPLETE, "migration": {"value": "n/a"}}, "'migration' is n/a without an allowed reason"),
])
def test_checklist_incomplete_fails_with_the_item(answers: dict[str, Any], problem: str) -> None:
    result = verdict(History().checklist("carol", answers), REVIEW_GATE)
    assert row(result, "checklists") == Condition("checklists", "review", "fail",
                                                  f"incomplete: carol: {problem}")


def test_checklist_n_a_with_a_reason_where_allowed_passes() -> None:
    answers = {**COMPLETE, "migration": {"value": "n/a", "reason": "no data changes"}}
    assert row(verdict(History().checklist("carol", answers), REVIEW_GATE),
               "checklists").status == "pass"


def test_checklist_filler_who_lost_the_role_does_not_count() -> None:
    roles = {**ROLES, "reviewer": ("dave",)}
    result = verdict(History().checklist("carol", COMPLETE), REVIEW_GATE, roles=roles)
    assert row(result, "checklists") == Condition(
        "checklists", "review", "fail",
        "incomplete: carol no longer holds a role of this checklist")


def test_checklist_latest_filling_per_person_counts() -> None:
    fixed = History().checklist("carol", {**COMPLETE, "walkthrough": "no"}) \
        .checklist("carol", COMPLETE)
    assert row(verdict(fixed, REVIEW_GATE), "checklists").status == "pass"
    withdrawn = History().checklist("carol", COMPLETE) \
        .checklist("carol", {**COMPLETE, "walkthrough": "no"})
    assert row(verdict(withdrawn, REVIEW_GATE), "checklists").status == "fail"


def test_checklist_one_complete_filling_among_people_is_enough() -> None:
    history = History().checklist("dave", {**COMPLETE, "walkthrough": "no"}) \
        .checklist("carol", COMPLETE)
    assert row(verdict(history, REVIEW_GATE), "checklists").status == "pass"


def test_checklist_for_another_gate_or_an_earlier_digest_does_not_count() -> None:
    other_gate = History().checklist("carol", COMPLETE, env="prod")
    assert row(verdict(other_gate, REVIEW_GATE), "checklists").status == "fail"
    before_revision = History().checklist("carol", COMPLETE).revised()
    assert row(verdict(before_revision, REVIEW_GATE), "checklists").detail.startswith(
        "not filled for this digest")


def test_evidence_for_an_old_digest_arriving_late_does_not_count() -> None:
    history = History().revised().checklist("carol", COMPLETE, digest=DIGEST)
    assert row(verdict(history, REVIEW_GATE), "checklists").status == "fail"


def test_revising_back_to_earlier_artifacts_does_not_revive_their_evidence() -> None:
    history = History().checklist("carol", COMPLETE).promoted("dev").revised() \
        .revised(DIGEST)
    state = history.state()
    assert state.digest == DIGEST and state.env is None and state.checklists == ()
    assert row(verdict(history, REVIEW_GATE), "checklists").status == "fail"


# --- tests ---------------------------------------------------------------------------

SMOKE = ResultsRule(env="dev", suites=("smoke*",), max_failures=0)


def results_row(history: History, rule: ResultsRule = SMOKE) -> Condition:
    return row(verdict(history, Gate(tests=(rule,))), "tests")


def test_tests_without_a_matching_suite_fail() -> None:
    history = History().promoted("dev").tests("unit", passed=5)
    assert results_row(history) == Condition(
        "tests", "dev: smoke*", "fail",
        "no results recorded in dev for this digest from a suite matching 'smoke*'")


def test_tests_every_pattern_must_match_a_suite() -> None:
    rule = ResultsRule(env="dev", suites=("smoke*", "api*"))
    history = History().promoted("dev").tests("smoke", passed=5)
    assert "matching 'api*'" in results_row(history, rule).detail


def test_tests_recorded_in_another_environment_do_not_count() -> None:
    history = History().promoted("dev", "test").tests("smoke", passed=5, env="test")
    assert results_row(history).status == "fail"


def test_tests_passing_results_pass_with_a_summary() -> None:
    history = History().promoted("dev").tests("smoke", passed=4, skipped=1)
    assert results_row(history) == Condition(
        "tests", "dev: smoke*", "pass",
        "5 tests: 4 passed, 0 flaky, 0 failed, 0 errors, 1 skipped in smoke")


def test_tests_latest_recording_per_suite_counts() -> None:
    rerun = History().promoted("dev").tests("smoke", passed=4, failed=1) \
        .tests("smoke", passed=5)
    assert results_row(rerun).status == "pass"
    regressed = History().promoted("dev").tests("smoke", passed=5) \
        .tests("smoke", passed=4, failed=1)
    assert results_row(regressed).status == "fail"


def test_tests_all_matching_suites_are_summed() -> None:
    history = History().promoted("dev").tests("smoke-api", passed=3) \
        .tests("smoke-ui", passed=2, failed=1)
    result = results_row(history)
    assert result.status == "fail"
    assert result.detail == ("1 failed or errored, more than the 0 allowed (6 tests: 5 passed, "
                             "0 flaky, 1 failed, 0 errors, 0 skipped in smoke-api, smoke-ui)")


def test_tests_min_tests() -> None:
    rule = ResultsRule(env="dev", suites=("smoke*",), min_tests=5)
    assert results_row(History().promoted("dev").tests("smoke", passed=3), rule).detail \
        .startswith("3 tests, fewer than the 5 required")
    assert results_row(History().promoted("dev").tests("smoke", passed=5), rule).status == "pass"


def test_tests_max_failures_counts_failures_and_errors() -> None:
    rule = ResultsRule(env="dev", suites=("smoke*",), max_failures=1)
    both = History().promoted("dev").tests("smoke", passed=3, failed=1, errors=1)
    assert results_row(both, rule).detail.startswith("2 failed or errored, more than the 1 allowed")
    one = History().promoted("dev").tests("smoke", passed=3, errors=1)
    assert results_row(one, rule).status == "pass"


def test_tests_max_skipped_ratio() -> None:
    rule = ResultsRule(env="dev", suites=("smoke*",), max_skipped_ratio=0.05)
    over = History().promoted("dev").tests("smoke", passed=9, skipped=1)
    assert results_row(over, rule).detail.startswith("10.0% skipped, more than the 5.0% allowed")
    at_limit = History().promoted("dev").tests("smoke", passed=19, skipped=1)
    assert results_row(at_limit, rule).status == "pass"


@pytest.mark.parametrize("skipped", [0, 3])
def test_tests_nothing_executed_fails(skipped: int) -> None:
    rule = ResultsRule(env="dev", suites=("smoke*",))
    history = History().promoted("dev").tests("smoke", skipped=skipped)
    assert results_row(history, rule).status == "fail"
    assert results_row(history, rule).detail.startswith("nothing executed")


# --- signoffs ------------------------------------------------------------------------

APP_OWNER = Gate(signoffs=(SignoffRule("app-owner"),))


def signoff_row(history: History, gate: Gate = APP_OWNER, role: str = "app-owner",
                **kw: Any) -> Condition:
    return row(verdict(history, gate, **kw), "signoffs", role)


def test_signoff_missing_says_how_many_are_needed() -> None:
    assert signoff_row(History()) == Condition(
        "signoffs", "app-owner", "fail", "needs 1 approval from role app-owner; has 0")


def test_signoff_approval_by_a_holder_passes() -> None:
    assert signoff_row(History().signoff("bob", "app-owner")) == Condition(
        "signoffs", "app-owner", "pass", "approved by bob")


def test_signoff_count_two_needs_two_distinct_people() -> None:
    gate = Gate(signoffs=(SignoffRule("app-owner", count=2),))
    twice = History().signoff("bob", "app-owner").signoff("bob", "app-owner")
    assert signoff_row(twice, gate) == Condition(
        "signoffs", "app-owner", "fail", "needs 2 approvals from role app-owner; has 1 (bob)")
    two = History().signoff("bob", "app-owner").signoff("erin", "app-owner")
    assert signoff_row(two, gate).status == "pass"


def test_signoff_by_the_submitter_does_not_count() -> None:
    roles = {**ROLES, "app-owner": ("alice",)}
    history = History(submitter="alice").signoff("alice", "app-owner")
    result = signoff_row(history, roles=roles)
    assert result.status == "fail"
    assert "alice submitted the patch" in result.detail
    assert signoff_row(history, roles=roles, rules=Rules(four_eyes=False)).status == "pass"


def test_signoff_by_someone_who_lost_the_role_does_not_count() -> None:
    roles = {**ROLES, "app-owner": ("erin",)}
    result = signoff_row(History().signoff("bob", "app-owner"), roles=roles)
    assert result.status == "fail"
    assert "bob no longer holds app-owner" in result.detail


def test_signoff_one_person_counts_for_one_role() -> None:
    gate = Gate(signoffs=(SignoffRule("app-owner"), SignoffRule("business")))
    history = History().signoff("bob", "app-owner").signoff("bob", "business")
    assert signoff_row(history, gate, "app-owner").status == "pass"
    business = signoff_row(history, gate, "business")
    assert business.status == "fail"
    assert business.detail == ("needs 1 approval from role business; has 0; not counted: "
                               "bob already counts as app-owner")
    off = Rules(one_role_per_person=False)
    assert signoff_row(history, gate, "business", rules=off).status == "pass"


@pytest.mark.parametrize("newer", ["checklist", "tests"])
def test_signoff_before_newer_gate_evidence_is_stale(newer: str) -> None:
    gate = Gate(checklists=("review",), tests=(SMOKE,), signoffs=(SignoffRule("app-owner"),))
    history = History().promoted("dev").tests("smoke", passed=5) \
        .checklist("carol", COMPLETE).signoff("bob", "app-owner")
    assert signoff_row(history, gate).status == "pass"
    if newer == "checklist":
        history.checklist("dave", COMPLETE)
    else:
        history.tests("smoke", passed=6)
    stale = signoff_row(history, gate)
    assert stale.status == "fail"
    assert "bob signed before newer evidence" in stale.detail and "stale" in stale.detail
    assert signoff_row(history, gate, rules=Rules(stale_signoffs=False)).status == "pass"
    history.signoff("bob", "app-owner")
    assert signoff_row(history, gate).status == "pass"


def test_signoff_is_not_made_stale_by_evidence_for_another_gate() -> None:
    gate = Gate(tests=(SMOKE,), signoffs=(SignoffRule("app-owner"),))
    history = History().promoted("dev").tests("smoke", passed=5).signoff("bob", "app-owner") \
        .tests("unit", passed=3).checklist("carol", COMPLETE, env="prod")
    assert signoff_row(history, gate).status == "pass"


def test_signoff_rejection_blocks_until_the_same_person_approves() -> None:
    history = History().signoff("bob", "app-owner", reject=True, comment="rollback untested")
    rejected = Condition("signoffs", "app-owner", "fail",
                         "rejected by bob (rollback untested); blocks until the same person "
                         "approves")
    assert signoff_row(history) == rejected
    history.signoff("erin", "app-owner")
    assert signoff_row(history) == rejected
    history.signoff("bob", "app-owner")
    assert signoff_row(history).status == "pass"


def test_signoff_approval_then_rejection_by_the_same_person_blocks() -> None:
    history = History().signoff("bob", "app-owner").signoff("erin", "app-owner") \
        .signoff("bob", "app-owner", reject=True)
    assert signoff_row(history).detail.startswith("rejected by bob")


def test_signoffs_for_another_gate_do_not_count() -> None:
    history = History().signoff("bob", "app-owner", env="prod")
    assert signoff_row(history).status == "fail"


def test_verdict_is_open_only_when_no_row_fails() -> None:
    gate = Gate(checklists=("review",), tests=(SMOKE,), signoffs=(SignoffRule("app-owner"),))
    history = History().promoted("dev").tests("smoke", passed=5).checklist("carol", COMPLETE)
    assert not verdict(history, gate).open
    history.signoff("bob", "app-owner")
    result = verdict(history, gate)
    assert result.open
    assert [c.status for c in result.conditions] == ["pass"] * 5
    assert result.to_dict()["open"] is True
