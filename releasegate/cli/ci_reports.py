"""Gate reports for CI: markdown for step summaries, JUnit XML, GitHub annotations."""

from __future__ import annotations

from collections.abc import Sequence

from releasegate.core.model import Condition, Verdict
from releasegate.core.regression import Comparison

MARKDOWN_LIMIT = 50
_ICON = {"pass": "✅ pass", "fail": "❌ fail", "waived": "⚠️ waived"}


def _cell(text: str) -> str:
    flat = " ".join(text.splitlines())  # CR, LF, CRLF and the other line breaks
    return flat.replace("\\", "\\\\").replace("|", "\\|")


def verdict_markdown(verdict: Verdict, comparisons: Sequence[Comparison] = ()) -> str:
    """A compact table of the verdict and the new failures, for a summary or a comment."""
    state = "open" if verdict.open else "closed"
    lines = [f"### releasegate: {verdict.patch} {verdict.source or '(none)'} → "
             f"{verdict.target}: gate {state}", "",
             f"Digest `{verdict.digest}`", "",
             "| status | condition | name | detail |", "|---|---|---|---|"]
    lines += [f"| {_ICON[c.status]} | {c.kind} | {_cell(c.name)} | {_cell(c.detail)} |"
              for c in verdict.conditions]
    new = [(c, t) for c in comparisons for t in c.new_failures]
    if new:
        lines += ["", f"**New failures ({len(new)})**", ""]
        for comp, test in new[:MARKDOWN_LIMIT]:
            message = comp.messages.get(test, "")
            lines.append(f"- `{test}` ({comp.suite})" + (f": {_cell(message)}" if message
                                                         else ""))
        if len(new) > MARKDOWN_LIMIT:
            lines.append(f"- … and {len(new) - MARKDOWN_LIMIT} more")
    return "\n".join(lines) + "\n"


def verdict_junit(verdict: Verdict) -> str:
    """Each condition as a test case, so CI test reporters show the gate beside tests.

    Failed conditions are failures with their reason; waived ones are skipped (a
    waived failure never reads as passed).
    """
    from junitparser import Failure, JUnitXml, Skipped, TestCase, TestSuite

    suite = TestSuite(f"releasegate gate {verdict.patch} -> {verdict.target}")
    for condition in verdict.conditions:
        case = TestCase(f"{condition.kind}: {condition.name}",
                        classname=f"releasegate.{verdict.patch}.{verdict.target}", time=0)
        if condition.status == "fail":
            case.result = [Failure(condition.detail)]
        elif condition.status == "waived":
            case.result = [Skipped(condition.detail)]
        case.system_out = condition.detail
        suite.add_testcase(case)
    suite.update_statistics()  # type: ignore[no-untyped-call]
    report = JUnitXml()
    report.add_testsuite(suite)
    report.update_statistics()  # type: ignore[no-untyped-call]
    body: bytes = report.tostring()  # type: ignore[no-untyped-call]
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body.decode("utf-8") + "\n"


def escape_data(text: str) -> str:
    """A workflow command's message, escaped as GitHub's runner expects."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value, escaped as GitHub's runner expects."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotations(verdict: Verdict) -> list[str]:
    """One ::error command per failed condition."""
    return [f"::error title={escape_property(_title(verdict, c))}::{escape_data(c.detail)}"
            for c in verdict.conditions if c.status == "fail"]


def _title(verdict: Verdict, condition: Condition) -> str:
    return f"{verdict.patch} → {verdict.target}: {condition.kind} {condition.name}"
