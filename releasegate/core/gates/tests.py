"""tests: JUnit results recorded for the current digest are good enough.

Counts alone answer min_tests, max_failures and max_skipped_ratio. The regression
options (no_new_failures, no_missing_tests, known_failures) and waivers need every
test's outcome and the baseline's, which the caller loads into the context.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from releasegate.core.clock import parse_stamp
from releasegate.core.gates.gate_context import GateContext
from releasegate.core.model import Condition, TestsRule
from releasegate.core.regression import FAILING, Comparison, compare
from releasegate.core.state import COUNT_KEYS, TestRecording, Waiver

_SHOWN = 5


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


def active_waivers(ctx: GateContext) -> list[Waiver]:
    """Waivers for this gate and digest that have not expired."""
    return [w for w in ctx.state.waivers
            if w.env == ctx.target.name and parse_stamp(w.until) > ctx.now]


def needs_outcomes(ctx: GateContext, rule: TestsRule) -> bool:
    """Whether evaluating `rule` takes per-test outcomes rather than counts."""
    return rule.compares or bool(active_waivers(ctx))


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
    if needs_outcomes(ctx, rule):
        loaded = [ctx.results.get((r.env, r.suite)) for r in counted]
        if any(result is None for result in loaded):
            return _row(rule, "fail", "per-test results could not be loaded")
        tally = _tally(ctx, rule, [compare(r) for r in loaded if r is not None])
    problems = _problems(rule, total, tally)
    detail = _summary(total, [r.suite for r in counted]) + _notes(rule, tally)
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


def _problems(rule: TestsRule, total: dict[str, int], tally: _Tally) -> list[str]:
    problems = []
    if total["tests"] - total["skipped"] <= 0:
        problems.append("nothing executed")
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
