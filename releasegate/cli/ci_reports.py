"""Gate reports for CI: markdown for step summaries, JUnit XML, GitHub annotations.

Conditions carry vendor and user text (test names and messages, waiver reasons,
checklist answers). Each output kind has one helper that every such text goes through:
`md_text` (and `md_code` for a code span) for markdown, `xml_text` for JUnit XML,
`escape_data` and `escape_property` for workflow commands.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from releasegate.core.model import Condition, Verdict
from releasegate.core.regression import Comparison

MARKDOWN_LIMIT = 50
_ICON = {"pass": "✅ pass", "fail": "❌ fail", "waived": "⚠️ waived"}


# -- markdown ---------------------------------------------------------------------------

# What can start markup inside a line: HTML and autolinks (< > &), links and images
# ([ ]), code spans (`), emphasis and strikethrough (* ~ _), table cells (|) and the
# escape itself. Line starts (#, -, >, 1.) never hold outside text here.
_MARKUP = re.compile(r"[\\`*~\[\]<>&|]|(?<![^\W_])_|_(?![^\W_])")  # `_` inside a word is inert
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")


def _escaped(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


def _one_line(text: str) -> str:
    """CR, LF, CRLF and the other line breaks as spaces; other controls escaped."""
    return _CONTROLS.sub(_escaped, " ".join(text.splitlines()))


def md_text(text: str) -> str:
    """`text` as literal markdown on one line, also inside a table cell: every character
    that could start markup or HTML is backslash-escaped, line breaks become spaces and
    other control characters show as escapes (\\x1b)."""
    return _one_line(_MARKUP.sub(r"\\\g<0>", text))


def md_code(text: str) -> str:
    """`text` as an inline code span (not for table cells, where | ends the cell): the
    fence is one backtick longer than the longest run inside, padded where needed."""
    flat = _one_line(text)
    fence = "`" * (max((len(run) for run in re.findall("`+", flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def verdict_markdown(verdict: Verdict, comparisons: Sequence[Comparison] = ()) -> str:
    """A compact table of the verdict and the new failures, for a summary or a comment."""
    state = "open" if verdict.open else "closed"
    gate = (f"already in {verdict.target}" if verdict.source == verdict.target
            and verdict.open else
            f"{verdict.source or '(none)'} → {verdict.target}: gate {state}")
    lines = [f"### releasegate: {md_text(verdict.patch)} {md_text(gate)}", "",
             f"Digest {md_code(verdict.digest)}", "",
             "| status | condition | name | detail |", "|---|---|---|---|"]
    lines += [f"| {_ICON[c.status]} | {md_text(c.kind)} | {md_text(c.name)} | "
              f"{md_text(c.detail)} |" for c in verdict.conditions]
    new = [(c, t) for c in comparisons for t in c.new_failures]
    if new:
        lines += ["", f"**New failures ({len(new)})**", ""]
        for comp, test in new[:MARKDOWN_LIMIT]:
            message = comp.messages.get(test, "")
            lines.append(f"- {md_code(test)} ({md_text(comp.suite)})"
                         + (f": {md_text(message)}" if message else ""))
        if len(new) > MARKDOWN_LIMIT:
            lines.append(f"- … and {len(new) - MARKDOWN_LIMIT} more")
    return "\n".join(lines) + "\n"


# -- JUnit XML --------------------------------------------------------------------------

# What XML 1.0 forbids (C0 controls but tab, LF and CR; lone surrogates; U+FFFE and
# U+FFFF), and the C1 controls and DEL it allows but terminals act on.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """`text` fit for an XML 1.0 document: each character XML forbids shown as its
    escape (ESC as \\x1b); the serializer escapes markup (< & " and the like)."""
    return _NOT_XML.sub(_escaped_xml, text)


def _escaped_xml(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape", "backslashreplace").decode("ascii")


def verdict_junit(verdict: Verdict) -> str:
    """Each condition as a test case, so CI test reporters show the gate beside tests.

    Failed conditions are failures with their reason; waived ones are skipped (a
    waived failure never reads as passed). The document validates against the JUnit
    schemas Jenkins reads (the xunit-plugin's junit-10.xsd, the JUnit 4 schema of its
    JUnit plugin): no `skipped` count on <testsuites>, <skipped> with text only.
    """
    from junitparser import Failure, Skipped
    from junitparser.xunit2 import JUnitXml, TestCase, TestSuite

    suite = TestSuite(  # type: ignore[no-untyped-call]
        xml_text(f"releasegate gate {verdict.patch} -> {verdict.target}"))
    for condition in verdict.conditions:
        detail = xml_text(condition.detail)
        case = TestCase(xml_text(f"{condition.kind}: {condition.name}"),
                        classname=xml_text(f"releasegate.{verdict.patch}.{verdict.target}"),
                        time=0)
        if condition.status == "fail":
            case.result = [Failure(detail)]
        elif condition.status == "waived":
            skipped = Skipped()
            skipped.text = detail
            case.result = [skipped]
        case.system_out = detail
        suite.add_testcase(case)
    suite.update_statistics()  # type: ignore[no-untyped-call]
    report = JUnitXml()
    report.add_testsuite(suite)
    report.update_statistics()  # type: ignore[no-untyped-call]
    body: bytes = report.tostring()  # type: ignore[no-untyped-call]
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body.decode("utf-8") + "\n"


# -- GitHub workflow commands -------------------------------------------------------------


def escape_data(text: str) -> str:
    """A workflow command's message, escaped as GitHub's runner expects; other control
    characters show as escapes (\\x1b), for the job log is a terminal's text."""
    escaped = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return _CONTROLS.sub(_escaped, escaped)


def escape_property(text: str) -> str:
    """A workflow command's property value, escaped as GitHub's runner expects."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotations(verdict: Verdict) -> list[str]:
    """One ::error command per failed condition."""
    return [f"::error title={escape_property(_title(verdict, c))}::{escape_data(c.detail)}"
            for c in verdict.conditions if c.status == "fail"]


def _title(verdict: Verdict, condition: Condition) -> str:
    return f"{verdict.patch} → {verdict.target}: {condition.kind} {condition.name}"
