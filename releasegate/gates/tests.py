"""tests: JUnit results recorded for the current digest are good enough."""

from __future__ import annotations

from fnmatch import fnmatchcase

from releasegate.gates import GateContext
from releasegate.model import Condition, TestsRule
from releasegate.state import COUNT_KEYS, TestRecording


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


def evaluate(ctx: GateContext) -> list[Condition]:
    return [_evaluate_rule(ctx, rule) for rule in ctx.target.gate.tests]


def _evaluate_rule(ctx: GateContext, rule: TestsRule) -> Condition:
    latest = latest_by_suite(ctx, rule.env)
    for pattern in rule.suites:
        if not any(fnmatchcase(suite, pattern) for suite in latest):
            return _row(rule, "fail", f"no results recorded in {rule.env} for this digest "
                                      f"from a suite matching '{pattern}'")
    counted = counted_recordings(ctx, rule)
    total = {k: sum(r.counts[k] for r in counted) for k in COUNT_KEYS}
    summary = _summary(total, [r.suite for r in counted])
    failures = total["failed"] + total["errors"]
    executed = total["tests"] - total["skipped"]
    problems = []
    if executed <= 0:
        problems.append("nothing executed")
    if rule.min_tests is not None and total["tests"] < rule.min_tests:
        problems.append(f"{total['tests']} tests, fewer than the {rule.min_tests} required")
    if rule.max_failures is not None and failures > rule.max_failures:
        problems.append(f"{failures} failed or errored, more than the {rule.max_failures} "
                        "allowed")
    if rule.max_skipped_ratio is not None and total["tests"]:
        ratio = total["skipped"] / total["tests"]
        if ratio > rule.max_skipped_ratio:
            problems.append(f"{ratio:.1%} skipped, more than the "
                            f"{rule.max_skipped_ratio:.1%} allowed")
    if problems:
        return _row(rule, "fail", "; ".join(problems) + f" ({summary})")
    return _row(rule, "pass", summary)


def _summary(total: dict[str, int], suites: list[str]) -> str:
    return (f"{total['tests']} tests: {total['passed']} passed, {total['flaky']} flaky, "
            f"{total['failed']} failed, {total['errors']} errors, {total['skipped']} skipped "
            f"in {', '.join(suites)}")


def _row(rule: TestsRule, status: str, detail: str) -> Condition:
    return Condition("tests", rule.name, status, detail)
