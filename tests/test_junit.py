"""JUnit XML as the producers write it: outcomes, messages, hostile files, storage."""

from __future__ import annotations

import io
import itertools
import json
import tracemalloc
from pathlib import Path
from xml.etree import ElementTree

import pytest

from releasegate.core.errors import EXIT_BAD_INPUT, InputError
from releasegate.evidence import junit, runs
from releasegate.evidence.junit import (
    DEFAULT_MAX_BYTES,
    OUTCOMES,
    JUnitRun,
    merge_runs,
    parse_junit,
    read_junit,
    run_from_json,
    summary_json,
)
from releasegate.evidence.runs import SummaryWriter, merged_counts

FIXTURES = Path(__file__).parent / "fixtures" / "junit"
DTD_MESSAGE = ("JUnit XML may not contain a DTD (it can declare entities that read local "
               "files or expand without end); remove the <!DOCTYPE> declaration")
NOT_JUNIT = ("not a JUnit XML file (root element <html>); expected <testsuites> or "
             "<testsuite>: record the test runner's JUnit report, not another file")
TRUNCATED = ("the file ends before its root element is closed; it looks truncated (did the "
             "test run stop while writing it?): record the complete report")


def parse(name: str) -> JUnitRun:
    return parse_junit(FIXTURES / name, display_name=name)


def counts(run: JUnitRun) -> dict[str, int]:
    return {"tests": run.tests, "passed": run.passed, "failed": run.failed,
            "errors": run.errors, "flaky": run.flaky, "skipped": run.skipped}


def refusal(path: Path, name: str | None = None) -> InputError:
    with pytest.raises(InputError) as caught:
        parse_junit(path, display_name=name)
    return caught.value


def test_pytest_report() -> None:
    run = parse("pytest.xml")
    assert counts(run) == {"tests": 7, "passed": 2, "failed": 2, "errors": 1, "flaky": 0,
                           "skipped": 2}
    assert run.outcomes == {
        "tests.test_ledger.TestAppend::test_append_first_event": "passed",
        "tests.test_ledger.TestAppend::test_append_rejects_stale_head": "failed",
        "tests.test_gates::test_soak_window[Europe/Berlin]": "skipped",
        "tests.test_gates::test_soak_window[UTC]": "passed",
        "tests.test_gates::test_parity_with_sibling_patch": "error",
        "tests.test_notices::test_render_html_notice": "skipped",
        "tests.test_notices::test_render_markdown_notice": "failed",
    }
    assert run.messages == {
        "tests.test_ledger.TestAppend::test_append_rejects_stale_head":
            "AssertionError: assert 'e3b0c442' == '9f86d081'",
        "tests.test_gates::test_parity_with_sibling_patch":
            "failed on setup with \"FileNotFoundError: [Errno 2] No such file or directory: "
            "'pipeline.yaml'\"",
        "tests.test_notices::test_render_markdown_notice": "[XPASS(strict)] fixed upstream",
    }
    assert run.suites == ("pytest",)


def test_surefire_reruns_give_flaky_and_failed() -> None:
    run = parse("surefire_reruns.xml")
    test = "com.bank.core.PaymentServiceTest::"
    assert run.outcomes == {
        test + "transfersBetweenOwnAccounts": "passed",
        test + "rejectsOverdraft": "flaky",
        test + "settlesBeforeCutoff": "failed",
        test + "reconnectsToCoreLedger": "error",
        test + "retriesGatewayOnce": "flaky",
        test + "postsFeesNightly": "skipped",
    }
    assert run.messages == {
        test + "rejectsOverdraft": "expected: <REJECTED> but was: <PENDING>",
        test + "settlesBeforeCutoff": "settlesBeforeCutoff() timed out after 5 seconds",
        test + "reconnectsToCoreLedger": 'java.lang.NullPointerException: Cannot invoke '
                                         '"com.bank.core.Ledger.head()" because '
                                         '"this.ledger" is null',
        test + "retriesGatewayOnce": "Connection reset",
    }
    assert counts(run) == {"tests": 6, "passed": 1, "failed": 1, "errors": 1, "flaky": 2,
                           "skipped": 1}


def test_gradle_report() -> None:
    run = parse("gradle.xml")
    assert counts(run) == {"tests": 4, "passed": 2, "failed": 1, "errors": 0, "flaky": 0,
                           "skipped": 1}
    assert run.outcomes["com.bank.fx.RateCacheTest::[1] EUR, USD"] == "passed"
    assert run.outcomes["com.bank.fx.RateCacheTest::refreshesInBackground()"] == "skipped"
    assert run.messages == {
        "com.bank.fx.RateCacheTest::expiresAfterTtl()":
            "org.opentest4j.AssertionFailedError: expected: <1.0842> but was: <1.0839>"}


def test_jest_junit_report_takes_messages_from_text() -> None:
    run = parse("jest_junit.xml")
    assert counts(run) == {"tests": 6, "passed": 3, "failed": 1, "errors": 1, "flaky": 0,
                           "skipped": 1}
    assert run.messages == {
        "PatchList shows an empty state::PatchList shows an empty state":
            "Error: expect(received).toBe(expected) // Object.is equality",
        "Test suite failed to run::src/components/NoticeBoard.test.tsx":
            "● Test suite failed to run",
    }
    assert run.suites == ("PatchList", "api client", "src/components/NoticeBoard.test.tsx")


def test_go_junit_report() -> None:
    run = parse("go_junit_report.xml")
    ledger, notify = "github.com/bank/gate-agent/ledger::", "github.com/bank/gate-agent/notify::"
    assert run.outcomes == {
        ledger + "TestAppend": "passed",
        ledger + "TestAppend/first_event": "passed",
        ledger + "TestAppend/rejects_stale_head": "failed",
        ledger + "TestVerifySignatures": "skipped",
        notify + "[build failed]": "error",
        "github.com/bank/gate-agent/window::TestFreezeWindowDST": "passed",
    }
    assert run.messages == {ledger + "TestAppend/rejects_stale_head": "Failed",
                            notify + "[build failed]": "Build error"}
    assert len(run.suites) == 3


def test_ctest_report_counts_notrun_and_disabled_as_skipped() -> None:
    run = parse("ctest.xml")
    assert run.outcomes == {"ledger_unit::ledger_unit": "passed",
                            "ledger_stress::ledger_stress": "failed",
                            "gpu_kernels::gpu_kernels": "skipped",
                            "legacy_io::legacy_io": "skipped"}
    assert run.messages == {"ledger_stress::ledger_stress": "Failed"}
    assert run.suites == ("Linux-c++",)


def test_phpunit_nested_suites() -> None:
    run = parse("phpunit_nested.xml")
    assert counts(run) == {"tests": 6, "passed": 3, "failed": 1, "errors": 1, "flaky": 0,
                           "skipped": 1}
    assert run.suites == ("Core Banking", "Unit", "Bank\\Tests\\Unit\\LedgerTest",
                          "Bank\\Tests\\Unit\\LedgerTest::testRejects", "Integration",
                          "Bank\\Tests\\Integration\\GatewayTest")
    failed = 'Bank.Tests.Unit.LedgerTest::testRejects with data set "empty ledger"'
    assert run.outcomes[failed] == "failed"
    assert run.messages[failed] == ('Bank\\Tests\\Unit\\LedgerTest::testRejects with data '
                                    'set "empty ledger"')
    assert run.outcomes["Bank.Tests.Integration.GatewayTest::testConnect"] == "error"


@pytest.mark.parametrize(("name", "outcomes", "messages"), [
    ("utf16_bom.xml",
     {"Zahlungsverkehr.Überweisung::test_sepa_überweisung_ausführen": "passed",
      "Zahlungsverkehr.Überweisung::test_gebühr_für_eilüberweisung": "failed",
      "清算::测试_日终批处理": "passed"},
     {"Zahlungsverkehr.Überweisung::test_gebühr_für_eilüberweisung":
      "Gebühr 2,50 € erwartet, 0,00 € erhalten"}),
    ("latin1_declared.xml",
     {"comptes.Épargne::test_intérêts_composés": "passed",
      "comptes.Épargne::test_clôture_anticipée": "failed"},
     {"comptes.Épargne::test_clôture_anticipée":
      "Pénalité non appliquée: attendu 1,5 %, reçu 0 %"}),
    ("gbk_declared.xml",
     {"支付.转账::测试_跨行转账": "passed", "支付.转账::测试_余额不足时拒绝": "failed",
      "支付.对账::测试_日终对账": "skipped"},
     {"支付.转账::测试_余额不足时拒绝": "应拒绝交易，实际状态为：处理中"}),
    ("shift_jis_declared.xml",
     {"振込.国内::テスト_振込手数料": "passed", "振込.国内::テスト_残高不足": "error"},
     {"振込.国内::テスト_残高不足": "接続がタイムアウトしました"}),
    ("utf8_bom.xml",
     {"notices.render::test_euro_sign_€": "passed", "notices.render::test_zh_通知": "skipped"},
     {}),
])
def test_encodings(name: str, outcomes: dict[str, str], messages: dict[str, str]) -> None:
    run = parse(name)
    assert run.outcomes == outcomes
    assert run.messages == messages


@pytest.mark.parametrize(("name", "line", "column", "message"), [
    ("xxe.xml", 2, 22, DTD_MESSAGE),
    ("billion_laughs.xml", 2, 22, DTD_MESSAGE),
    ("dtd.xml", 2, 67, DTD_MESSAGE),
    ("truncated.xml", 9, 109, TRUNCATED),
    ("empty.xml", 1, 1, "the file is empty, not JUnit XML; the test run may have stopped "
                        "before writing its report"),
    ("control_char.xml", 5, 32, "the control character U+001B is not allowed in XML; the "
                                "producer must strip or escape it (it usually comes from "
                                "captured output)"),
    ("undeclared_latin1.xml", 4, 49, "byte 0xE9 is not valid UTF-8 and the file declares no "
                                     "other encoding; save it as UTF-8 or declare its "
                                     "encoding, e.g. <?xml version=\"1.0\" "
                                     "encoding=\"ISO-8859-1\"?>"),
    ("gbk_invalid_bytes.xml", 5, 39, "byte 0xFF is not valid GBK, the encoding the file "
                                     "declares; re-save it in that encoding or declare the "
                                     "one it really uses"),
    ("html_root.xml", 1, 1, NOT_JUNIT),
    ("nameless_testcase.xml", 4, 3, "<testcase> has no name attribute; every test case "
                                    "needs a name (classname is optional)"),
])
def test_bad_files_are_refused_with_their_place(name: str, line: int, column: int,
                                                message: str) -> None:
    error = refusal(FIXTURES / name, name)
    assert (error.file, error.line, error.column, error.message) == (name, line, column,
                                                                     message)
    assert error.exit_status == EXIT_BAD_INPUT
    assert str(error).startswith(f"{name}:{line}:{column}: ")


def test_external_entity_is_never_resolved() -> None:
    error = refusal(FIXTURES / "xxe.xml")
    assert "root:" not in str(error)
    assert error.file == str(FIXTURES / "xxe.xml")  # the path when no display name


@pytest.mark.parametrize(("content", "line", "column", "message"), [
    (b"<!DOCTYPE html>\n<html><body/></html>", 1, 15, NOT_JUNIT),
    (b"<testsuite/>\n<testsuite/>", 2, 1, "there is more after the root element ends (were "
     "two reports joined into one file?); record each report as its own file"),
    (b'<testsuite><testcase name="a"></testsuite>', 1, 33, "a closing tag does not match "
     "the element it closes; the producer wrote malformed XML"),
    (b'<testsuite><testcase name="a&nbsp;b"/></testsuite>', 1, 12, "the file uses an "
     "undefined entity; only &lt; &gt; &amp; &quot; &apos; and numeric references exist, "
     "so write a literal & as &amp;"),
    (b'<testsuite><testcase name="&#27;[31m"/></testsuite>', 1, 28, "a character "
     "reference names a character XML forbids (such as &#1;); the producer must strip "
     "control characters from test output"),
    (b"  \n   ", 2, 4, "the file contains no XML element; expected JUnit XML with a "
     "<testsuites> or <testsuite> root element"),
    (b'<?xml version="1.0" encoding="x-klingon"?><testsuite/>', 1, 31, "the XML "
     "declaration names the encoding 'x-klingon', which cannot be read; save the file as "
     "UTF-8 and declare encoding=\"UTF-8\""),
    (b'\xef\xbb\xbf<?xml version="1.0" encoding="GBK"?><testsuite/>', 1, 32, "the file's "
     "encoding cannot be read (multi-byte encodings are not supported); save it as UTF-8 "
     "without a conflicting byte order mark"),
    ('<?xml version="1.0" encoding="GBK"?>\n<testsuite>\n<testcase name="中\x01"/>'
     '</testsuite>'.encode("gbk"), 3, 18, "the control character U+0001 is not allowed in "
     "XML; the producer must strip or escape it (it usually comes from captured output)"),
    ('<testsuite>\n<testcase name="中\x07"/></testsuite>'.encode("utf-16"), 2, 18, "the "
     "control character U+0007 is not allowed in XML; the producer must strip or escape it "
     "(it usually comes from captured output)"),
])
def test_malformed_xml_is_explained(tmp_path: Path, content: bytes, line: int, column: int,
                                    message: str) -> None:
    path = tmp_path / "results.xml"
    path.write_bytes(content)
    error = refusal(path, "results.xml")
    assert (error.line, error.column, error.message) == (line, column, message)


def test_size_is_checked_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.xml"
    path.write_bytes(b"\x00 not even XML " * 8)  # would be refused as XML if it were read
    with pytest.raises(InputError) as caught:
        parse_junit(path, display_name="huge.xml", max_bytes=100)
    assert (caught.value.file, caught.value.line, caught.value.message) == (
        "huge.xml", None,
        "huge.xml is 120 bytes, over the limit of 100 bytes; split the test results into "
        "smaller files")
    assert DEFAULT_MAX_BYTES == 200 * 1024 * 1024


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_unreadable_path_is_input_error(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "missing.xml" if kind == "missing" else tmp_path
    error = refusal(path, "results.xml")
    assert error.file == "results.xml"
    assert error.message.startswith("cannot read the file (")
    assert error.message.endswith("); check the path and its permissions")


def test_file_without_testcases_is_an_empty_run() -> None:
    run = parse("no_testcases.xml")
    assert counts(run) == {"tests": 0, "passed": 0, "failed": 0, "errors": 0, "flaky": 0,
                           "skipped": 0}
    assert run.suites == ("empty",)


def test_testcases_outside_a_testsuite_do_not_count() -> None:
    run = parse("outside_suite.xml")
    assert run.outcomes == {"kept::test_one": "passed", "kept::test_two": "passed"}
    assert run.messages == {}


def test_duplicates_in_one_file_keep_the_worst_outcome() -> None:
    run = parse("duplicates.xml")
    assert run.outcomes == {"dup::test_fails_then_passes": "failed",
                            "dup::test_skipped_then_passes": "passed",
                            "dup::test_flaky_then_error": "error",
                            "dup::test_passes_twice": "passed",
                            "::test_without_classname": "passed"}
    assert run.messages == {"dup::test_fails_then_passes": "first attempt failed",
                            "dup::test_flaky_then_error": "database gone"}
    assert (run.tests, run.passed) == (5, 3)
    assert run.suites == ("shard-1", "shard-2")


def test_status_notrun_is_skipped_unless_it_failed() -> None:
    run = parse("notrun.xml")
    assert run.outcomes == {"needs_gpu::needs_gpu": "skipped", "runs::runs": "passed",
                            "notrun_but_failed::notrun_but_failed": "failed"}


def test_odd_time_attributes_are_ignored() -> None:
    run = parse("times.xml")
    assert counts(run) == {"tests": 4, "passed": 4, "failed": 0, "errors": 0, "flaky": 0,
                           "skipped": 0}


def test_counts_come_from_elements_not_attributes(tmp_path: Path) -> None:
    path = tmp_path / "liar.xml"
    path.write_text('<testsuite name="s" tests="99" failures="0">'
                    '<testcase classname="c" name="t"><failure message="m"/></testcase>'
                    "</testsuite>", encoding="utf-8")
    assert counts(parse_junit(path)) == {"tests": 1, "passed": 0, "failed": 1, "errors": 0,
                                         "flaky": 0, "skipped": 0}


def test_message_is_the_first_line_cut_at_200_characters(tmp_path: Path) -> None:
    long = "x" * 300
    path = tmp_path / "messages.xml"
    path.write_text(
        '<testsuite name="s">'
        f'<testcase classname="c" name="long"><failure message="{long}&#10;second"/></testcase>'
        '<testcase classname="c" name="text"><error>\n\n   first line  \nsecond</error>'
        "</testcase>"
        '<testcase classname="c" name="blank"><failure message="  ">from text</failure>'
        "</testcase>"
        '<testcase classname="c" name="none"><failure/></testcase>'
        '<testcase classname="c" name="skip"><skipped message="not kept"/></testcase>'
        "</testsuite>", encoding="utf-8")
    assert parse_junit(path).messages == {"c::long": "x" * 200, "c::text": "first line",
                                          "c::blank": "from text", "c::none": ""}


def test_failure_outranks_error_flaky_and_skip_within_a_testcase(tmp_path: Path) -> None:
    path = tmp_path / "children.xml"
    path.write_text(
        '<testsuite name="s"><testcase classname="c" name="t">'
        '<skipped/><flakyError message="flaky"/><error message="error"/>'
        '<failure message="failure"/><rerunFailure message="rerun"/>'
        "</testcase></testsuite>", encoding="utf-8")
    run = parse_junit(path)
    assert (run.outcomes, run.messages) == ({"c::t": "failed"}, {"c::t": "failure"})


def run_of(outcomes: dict[str, str], messages: dict[str, str] | None = None,
           suites: tuple[str, ...] = ("s",)) -> JUnitRun:
    """A run as one file would give it (merging a single run recomputes its counts)."""
    return merge_runs([JUnitRun(0, 0, 0, 0, 0, 0, outcomes, messages or {}, suites)])


def test_merge_runs_keeps_the_worst_outcome_of_each_test() -> None:
    first = run_of({"a": "passed", "b": "skipped", "c": "flaky", "d": "error", "e": "passed"},
                   {"c": "flaked", "d": "boom"}, ("unit", "api"))
    second = run_of({"a": "failed", "b": "passed", "c": "error", "d": "failed", "f": "skipped"},
                    {"a": "broke", "c": "gone", "d": "assert"}, ("api", "ui"))
    merged = merge_runs([first, second])
    assert merged.outcomes == {"a": "failed", "b": "passed", "c": "error", "d": "failed",
                               "e": "passed", "f": "skipped"}
    assert merged.messages == {"a": "broke", "c": "gone", "d": "assert"}
    assert merged.suites == ("unit", "api", "ui")
    assert counts(merged) == {"tests": 6, "passed": 2, "failed": 2, "errors": 1, "flaky": 0,
                              "skipped": 1}


def test_merge_runs_keeps_the_first_message_of_equal_outcomes() -> None:
    merged = merge_runs([run_of({"a": "failed"}, {"a": "first"}),
                         run_of({"a": "failed"}, {"a": "second"})])
    assert merged.messages == {"a": "first"}


def test_merge_order_is_outcomes_order() -> None:
    for worse, better in itertools.pairwise(OUTCOMES):
        for pair in ([run_of({"t": better}), run_of({"t": worse})],
                     [run_of({"t": worse}), run_of({"t": better})]):
            assert merge_runs(pair).outcomes == {"t": worse}


def test_merge_of_no_runs_is_empty() -> None:
    assert counts(merge_runs([])) == {"tests": 0, "passed": 0, "failed": 0, "errors": 0,
                                      "flaky": 0, "skipped": 0}


def test_merge_of_real_files() -> None:
    merged = merge_runs([parse("pytest.xml"), parse("duplicates.xml")])
    assert merged.tests == 12
    assert merged.suites == ("pytest", "shard-1", "shard-2")


def stored(path: Path) -> bytes:
    """The summary bytes `tests record` stores for a file."""
    return summary_json(path)


def test_summary_lists_each_outcome_in_the_order_of_the_file() -> None:
    data = stored(FIXTURES / "gbk_declared.xml")
    assert data == stored(FIXTURES / "gbk_declared.xml")  # the same file, the same bytes
    assert b": " not in data and b", " not in data
    assert "支付.转账::测试_跨行转账".encode() in data  # UTF-8, not \\u escapes
    doc = json.loads(data)
    assert doc["format"] == "releasegate.junit-summary/3"
    assert doc["counts"] == {"tests": 3, "passed": 1, "failed": 1, "errors": 0, "flaky": 0,
                             "skipped": 1}
    ordered = json.loads(stored(FIXTURES / "pytest.xml"))["tests"]
    assert ordered["failed"] == ["tests.test_ledger.TestAppend::test_append_rejects_stale_head",
                                 "tests.test_notices::test_render_markdown_notice"]
    assert ordered["skipped"] == ["tests.test_gates::test_soak_window[Europe/Berlin]",
                                  "tests.test_notices::test_render_html_notice"]


def test_summaries_sorted_by_the_previous_version_are_still_read() -> None:
    second = (b'{"counts":{"errors":0,"failed":1,"flaky":0,"passed":2,"skipped":0,"tests":3},'
              b'"format":"releasegate.junit-summary/2","messages":{"m::b":"boom"},'
              b'"suites":["s"],"tests":{"failed":["m::b"],"passed":["m::a","m::c"]}}')
    run = run_from_json(second)
    assert run.outcomes == {"m::a": "passed", "m::b": "failed", "m::c": "passed"}
    assert run.messages == {"m::b": "boom"}


def expected_outcomes(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Outcomes and messages by the plain rule: per test id, the worst case wins and,
    among equals, the first. Used to check the spooled, hash-keyed writer."""
    outcomes: dict[str, str] = {}
    messages: dict[str, str] = {}
    rank = {outcome: i for i, outcome in enumerate(OUTCOMES)}
    for case in ElementTree.parse(path).iter("testcase"):
        test = f"{case.get('classname', '')}::{case.get('name')}"
        child = next(iter(case), None)
        outcome = {"failure": "failed", "skipped": "skipped"}.get(
            child.tag if child is not None else "", "passed")
        if test not in outcomes or rank[outcome] < rank[outcomes[test]]:
            outcomes[test] = outcome
            if outcome == "failed":
                messages[test] = child.get("message", "") if child is not None else ""
    return outcomes, messages


def repeated_cases(path: Path, cases: int) -> Path:
    """A report of `cases` test cases in which every third id comes back later with
    another outcome, as retrying runners write them."""
    kinds = ["", "<failure message='m{n}'/>", "<skipped/>"]
    with path.open("w", encoding="utf-8") as out:
        out.write("<testsuites><testsuite name='s'>")
        for n in range(cases):
            out.write(f"<testcase classname='c{n % 7}' name='t{n}'>"
                      f"{kinds[n % 3].format(n=n)}</testcase>")
        for n in range(0, cases, 3):
            out.write(f"<testcase classname='c{n % 7}' name='t{n}'>"
                      f"{kinds[(n // 3) % 3].format(n=-n)}</testcase>")
        out.write("</testsuite></testsuites>")
    return path


@pytest.mark.parametrize("cases", [30, 25_000])  # in memory; spooled to temporary files
def test_repeated_test_cases_keep_their_worst_outcome_once(tmp_path: Path, cases: int) -> None:
    path = repeated_cases(tmp_path / "retries.xml", cases)
    run = parse_junit(path)
    assert (run.outcomes, run.messages) == expected_outcomes(path)
    assert run.tests == cases
    doc = json.loads(stored(path))
    listed = [test for ids in doc["tests"].values() for test in ids]
    assert len(listed) == len(set(listed)) == cases


@pytest.mark.parametrize("cases", [40, 25_000])
def test_ids_with_equal_hashes_stay_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          cases: int) -> None:
    # Distinct ids are told apart by their text, not by the hash kept in memory: with
    # a hash that gives only five values, every id collides with thousands of others.
    def weak_hash(value: object) -> int:
        return len(str(value)) % 5

    monkeypatch.setattr(runs, "hash", weak_hash, raising=False)
    monkeypatch.setattr(junit, "hash", weak_hash, raising=False)
    path = repeated_cases(tmp_path / "collide.xml", cases)
    run = parse_junit(path)
    assert (run.outcomes, run.messages) == expected_outcomes(path)
    assert run.tests == cases


def test_counts_of_several_files_count_a_shared_test_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = tmp_path / "a.xml"
    second = tmp_path / "b.xml"
    first.write_text("<testsuite name='s'><testcase classname='c' name='x'/>"
                     "<testcase classname='c' name='y'><failure/></testcase>"
                     "<testcase classname='c' name='z'><skipped/></testcase></testsuite>")
    second.write_text("<testsuite name='s'><testcase classname='c' name='x'><failure/>"
                      "</testcase><testcase classname='c' name='y'/>"
                      "<testcase classname='c' name='w'/></testsuite>")
    expected = {"tests": 4, "passed": 1, "flaky": 0, "failed": 2, "errors": 0, "skipped": 1}
    for weak in (False, True):
        if weak:  # every id has the same hash: still exact
            monkeypatch.setattr(runs, "hash", lambda value: 1, raising=False)
            monkeypatch.setattr(junit, "hash", lambda value: 1, raising=False)
        writers = [read_junit(first), read_junit(second)]
        try:
            assert merged_counts(writers) == expected
        finally:
            for writer in writers:
                writer.close()
    assert counts(merge_runs([parse_junit(first), parse_junit(second)])) == {
        "tests": 4, "passed": 1, "failed": 2, "errors": 0, "flaky": 0, "skipped": 1}


def test_a_writer_fed_directly_settles_repeats() -> None:
    writer = SummaryWriter()
    for test, outcome, message in [("a", "passed", ""), ("b", "failed", "first"),
                                   ("a", "error", "late"), ("b", "failed", "second"),
                                   ("c", "skipped", "ignored")]:
        writer.add(test, outcome, message)
    assert writer.finish() == {"tests": 3, "passed": 0, "flaky": 0, "failed": 1,
                               "errors": 1, "skipped": 1}
    out = io.StringIO()
    writer.write(out)
    writer.close()
    run = run_from_json(out.getvalue().encode())
    assert run.outcomes == {"a": "error", "b": "failed", "c": "skipped"}
    assert run.messages == {"a": "late", "b": "first"}


@pytest.mark.parametrize("data", [
    b"", b"not json", b"\xff\xfe", b"[]", b'{"format": "something else"}',
    b'{"format":"releasegate.junit-summary/2","counts":{},"tests":{},"messages":{}}',
    b'{"format":"releasegate.junit-summary/2","counts":{"tests":1,"passed":0,"flaky":0,'
    b'"failed":0,"errors":0,"skipped":0},"tests":{"exploded":["a"]},"messages":{},'
    b'"suites":[]}',
    b'{"format":"releasegate.junit-summary/2","counts":{"tests":1,"passed":0,"flaky":0,'
    b'"failed":0,"errors":0,"skipped":0},"tests":{"passed":"a"},"messages":{},'
    b'"suites":[]}',
    b'{"format":"releasegate.junit-summary/2","counts":{"tests":2,"passed":1,"flaky":0,'
    b'"failed":0,"errors":0,"skipped":0},"tests":{"passed":["a"]},"messages":{},'
    b'"suites":[]}',
    b'{"format":"releasegate.junit-summary/1","counts":{"tests":1,"passed":1,"flaky":0,'
    b'"failed":0,"errors":0,"skipped":0},"tests":{"passed":["a"]},"messages":{},'
    b'"suites":[]}',
])
def test_damaged_json_is_input_error(data: bytes) -> None:
    with pytest.raises(InputError) as caught:
        run_from_json(data)
    assert caught.value.message == ("the stored test summary is damaged; record the JUnit "
                                    "results again")


def test_memory_stays_flat_for_200000_testcases(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n')
        for suite in range(200):
            out.write(f'<testsuite name="suite{suite}">\n')
            for case in range(1000):
                failure = '><failure message="boom">trace</failure></testcase>' if (
                    case == 0) else "/>"
                out.write(f'<testcase classname="tests.mod{suite}.TestThing" '
                          f'name="test_{case:04d}_does_things" time="0.001"{failure}\n')
            out.write("</testsuite>\n")
        out.write("</testsuites>\n")
    assert path.stat().st_size > 15_000_000
    tracemalloc.start()
    try:
        writer = read_junit(path)
        summary = tmp_path / "summary.json"
        with summary.open("w", encoding="utf-8") as out:
            writer.write(out)
        writer.close()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (writer.counts["tests"], writer.counts["failed"], len(writer.suites)) == (
        200_000, 200, 200)
    assert run_from_json(summary.read_bytes()).tests == 200_000
    assert peak < 30 * 1024 * 1024  # a hash per test (~100 bytes); never the ids


def test_summaries_stored_in_the_first_format_are_still_read() -> None:
    # Ledgers recorded before outcomes were grouped keep working as baselines.
    first = (b'{"counts":{"errors":0,"failed":1,"flaky":0,"passed":1,"skipped":0,"tests":2},'
             b'"format":"releasegate.junit-summary/1","messages":{"cbs::b":"boom"},'
             b'"outcomes":{"cbs::a":"passed","cbs::b":"failed"},"suites":["regression"]}')
    run = run_from_json(first)
    assert run.outcomes == {"cbs::a": "passed", "cbs::b": "failed"}
    assert (run.tests, run.passed, run.failed, run.messages) == (2, 1, 1, {"cbs::b": "boom"})
