"""tests: JUnit results recorded for the current digest are good enough.

Counts alone answer min_tests, max_failures and max_skipped_ratio. The regression
options (no_new_failures, no_missing_tests, known_failures) and waivers need every
test's outcome and the baseline's, which the caller loads into the context. The
caller also loads the outcomes of a counted run with failures, so that the row names
the failing tests (as `waive --test` takes them) beside their count.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from releasegate.core.clock import parse_stamp
from releasegate.core.gates.gate_context import GateContext
from releasegate.core.model import Condition, Pipeline, TestsRule
from releasegate.core.regression import FAILING, Comparison, SuiteResults, compare
from releasegate.core.state import COUNT_KEYS, TestRecording, Waiver

_SHOWN = 5
FAILING_SHOWN = 20  # failing tests named in a row; the rest are counted


def latest_by_suite(ctx: GateContext, env: str) -> dict[str, TestRecording]:
    """Per suite, the latest recording in `env` for the current digest."""
    latest: dict[str, TestRecording] = {}
    for recording in ctx.state.tests:
        if recording.env == env:
            latest[recording.suite] = recording
    return latest


def counted_recordings(ctx: GateContext, rule: TestsRule) -> list[TestRecording]:
    """The recordings a rule counts: the latest of every suite its patterns match."""
    latest = latest_by_suite(ctx, rule.env)
    return [r for suite, r in sorted(latest.items())
            if any(fnmatchcase(suite, p) for p in rule.suites)]


def conditions_counting(pipeline: Pipeline, env: str, suite: str) -> str:
    """The tests conditions, of every gate, whose patterns match `suite` recorded in
    `env` ("the tests condition test: regression* of the prod gate"); "" for none."""
    by_gate: dict[str, list[str]] = {}
    for gate in pipeline.environments:
        for rule in gate.gate.tests:
            if rule.env == env and any(fnmatchcase(suite, p) for p in rule.suites):
                by_gate.setdefault(gate.name, []).append(rule.name)
    if not by_gate:
        return ""
    count = sum(len(names) for names in by_gate.values())
    return (f"the tests condition{'s' if count > 1 else ''} "
            + " and ".join(f"{' and '.join(names)} of the {gate} gate"
                           for gate, names in by_gate.items()))


def active_waivers(ctx: GateContext) -> list[Waiver]:
    """Waivers for this gate and digest that have not expired."""
    return [w for w in ctx.state.waivers
            if w.env == ctx.target.name and parse_stamp(w.until) > ctx.now]


def needs_outcomes(ctx: GateContext, rule: TestsRule) -> bool:
    """Whether evaluating `rule` takes per-test outcomes rather than counts."""
    return rule.compares or bool(active_waivers(ctx))


def has_failures(recording: TestRecording) -> bool:
    """Whether a recording's counts show failed or errored tests (to be named)."""
    return recording.counts["failed"] + recording.counts["errors"] > 0


def failing_tests(results: list[SuiteResults]) -> list[str]:
    """The failed and errored tests of the runs, as "classname::name", sorted."""
    return sorted({test for result in results
                   for test, outcome in result.run.outcomes.items() if outcome in FAILING})


def name_some(tests: list[str], shown: int = FAILING_SHOWN) -> str:
    """The first `shown` tests, then how many more there are."""
    rest = len(tests) - shown
    return ", ".join(tests[:shown]) + (f" and {rest} more" if rest > 0 else "")


def evaluate(ctx: GateContext) -> list[Condition]:
    rows = [_evaluate_rule(ctx, rule) for rule in ctx.target.gate.tests]
    return rows + _waiver_rows(ctx)


@dataclass
class _Tally:
    failures: int
    new: list[str]
    known: list[str]
    missing: list[str]
    baselines: list[str]


def _evaluate_rule(ctx: GateContext, rule: TestsRule) -> Condition:
    latest = latest_by_suite(ctx, rule.env)
    for pattern in rule.suites:
        if not any(fnmatchcase(suite, pattern) for suite in latest):
            return _row(rule, "fail", f"no results recorded in {rule.env} for this digest "
                                      f"from a suite matching '{pattern}'")
    counted = counted_recordings(ctx, rule)
    total = {k: sum(r.counts[k] for r in counted) for k in COUNT_KEYS}
    tally = _Tally(total["failed"] + total["errors"], [], [], [], [])
    loaded = [ctx.results.get((r.env, r.suite)) for r in counted]
    if needs_outcomes(ctx, rule):
        if any(result is None for result in loaded):
            return _row(rule, "fail", "per-test results could not be loaded")
        tally = _tally(ctx, rule, [compare(r) for r in loaded if r is not None])
    problems = _empty_suites(counted) + _problems(rule, total, tally)
    detail = (_summary(total, [r.suite for r in counted])
              + _failing_note(tally, [r for r in loaded if r is not None])
              + _notes(rule, tally))
    if problems:
        return _row(rule, "fail", "; ".join(problems) + f" ({detail})")
    return _row(rule, "pass", detail)


def _tally(ctx: GateContext, rule: TestsRule, comparisons: list[Comparison]) -> _Tally:
    waivers = active_waivers(ctx)
    tally = _Tally(0, [], [], [], [])
    for comp in comparisons:
        result = ctx.results[(comp.env, comp.suite)]
        known = set(comp.still_failing) if rule.known_failures == "allow" else set()
        for test, outcome in result.run.outcomes.items():
            if outcome in FAILING and not _waived(waivers, test) and test not in known:
                tally.failures += 1
        tally.new += [t for t in comp.new_failures if not _waived(waivers, t)]
        tally.known += sorted(known)
        tally.missing += list(comp.missing)
        tally.baselines.append(f"{comp.baseline.patch} (promoted out of {comp.env} at "
                               f"{comp.baseline.promoted_at})" if comp.baseline
                               else f"no baseline for {comp.suite}")
    return tally


def _failing_note(tally: _Tally, loaded: list[SuiteResults]) -> str:
    """The failing tests the row names nowhere else (new failures and allowed known
    failures have notes of their own); with no baseline, that is every one."""
    named = {*tally.new, *tally.known}
    failing = [t for t in failing_tests(loaded) if t not in named]
    if not failing:
        return ""
    return f"; {'also ' if named else ''}failing: {name_some(failing)}"


def _empty_suites(counted: list[TestRecording]) -> list[str]:
    """Each counted suite that executed nothing fails the row on its own: another
    suite's tests do not make up for it."""
    return [f"nothing executed in {r.suite} ({r.counts['tests']} tests, "
            f"{r.counts['skipped']} skipped)"
            for r in counted if r.counts["tests"] - r.counts["skipped"] <= 0]


def _problems(rule: TestsRule, total: dict[str, int], tally: _Tally) -> list[str]:
    problems = []
    if rule.min_tests is not None and total["tests"] < rule.min_tests:
        problems.append(f"{total['tests']} tests, fewer than the {rule.min_tests} required")
    if rule.max_failures is not None and tally.failures > rule.max_failures:
        problems.append(f"{tally.failures} failed or errored, more than the "
                        f"{rule.max_failures} allowed")
    if rule.max_skipped_ratio is not None and total["tests"]:
        ratio = total["skipped"] / total["tests"]
        if ratio > rule.max_skipped_ratio:
            problems.append(f"{ratio:.1%} skipped, more than the "
                            f"{rule.max_skipped_ratio:.1%} allowed")
    if rule.no_new_failures and tally.new:
        problems.append(f"{len(tally.new)} new failure{'s' if len(tally.new) > 1 else ''}: "
                        + _names(tally.new))
    if rule.no_missing_tests is not None and len(tally.missing) > rule.no_missing_tests:
        count = len(tally.missing)
        problems.append(f"{count} test{'s' if count > 1 else ''} of the baseline missing, more "
                        f"than the {rule.no_missing_tests} allowed: {_names(tally.missing)}")
    if rule.flaky == "deny" and total["flaky"]:
        problems.append(f"{total['flaky']} flaky (passed only on a rerun), and flaky: deny")
    return problems


def _notes(rule: TestsRule, tally: _Tally) -> str:
    notes = []
    if tally.known:
        notes.append(f"{len(tally.known)} known failure{'s' if len(tally.known) > 1 else ''} "
                     f"allowed: {_names(tally.known)}")
    if rule.compares and tally.baselines:
        notes.append("baseline: " + ", ".join(tally.baselines))
    return "".join(f"; {n}" for n in notes)


def _waiver_rows(ctx: GateContext) -> list[Condition]:
    waivers = active_waivers(ctx)
    if not waivers:
        return []
    failing = sorted({test for result in ctx.results.values()
                      if result.env in {r.env for r in ctx.target.gate.tests}
                      for test, outcome in result.run.outcomes.items() if outcome in FAILING})
    rows = []
    for waiver in waivers:
        matched = [t for t in failing if matches(t, waiver.pattern)]
        who = f"by {waiver.person} until {waiver.until} ({waiver.reason})"
        if matched:
            rows.append(Condition("waiver", waiver.pattern, "waived",
                                  f"{len(matched)} failing test{'s' if len(matched) > 1 else ''}"
                                  f" waived {who}: {_names(matched)}"))
        else:
            rows.append(Condition("waiver", waiver.pattern, "pass",
                                  f"matches no failing test; waived {who}"))
    return rows


def matches(test: str, pattern: str) -> bool:
    """A waiver's pattern names the test exactly, or as a glob ("[EUR]" in a
    parametrized test's name is first taken literally)."""
    return test == pattern or fnmatchcase(test, pattern)


def _waived(waivers: list[Waiver], test: str) -> bool:
    return any(matches(test, w.pattern) for w in waivers)


def _names(tests: list[str]) -> str:
    shown = ", ".join(tests[:_SHOWN])
    return shown + (f" (+{len(tests) - _SHOWN} more)" if len(tests) > _SHOWN else "")


def _summary(total: dict[str, int], suites: list[str]) -> str:
    return (f"{total['tests']} tests: {total['passed']} passed, {total['flaky']} flaky, "
            f"{total['failed']} failed, {total['errors']} errors, {total['skipped']} skipped "
            f"in {', '.join(suites)}")


def _row(rule: TestsRule, status: str, detail: str) -> Condition:
    return Condition("tests", rule.name, status, detail)
