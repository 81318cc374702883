"""notify: every subscriber gets each notice once, through real loopback servers."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import PATCH, Cli, fingerprint, git, must, walk_to_test
from tests.servers import Answer, closed_port, http_server, smtp_server

NOTICES = """
notices:
  languages: [zh-CN, en]
  contact: {{en: "IT service desk, ext. 8000", zh-CN: "IT服务台，分机8000"}}
  on_promote: {on_promote}
  channels:
    retail-mail: {{type: smtp, host: 127.0.0.1, port: {smtp_port}, from: releasegate@bank.example}}
    retail-hook: {{type: webhook, format: wecom, url_env: RETAIL_WECOM_URL}}
  subscribers:
    retail-banking:
      systems: [core-banking]
      language: zh-CN
      audience: business
      channels:
        - {{channel: retail-mail, to: [retail-ops@bank.example]}}
        - {{channel: retail-hook}}
    treasury:
      systems: [treasury]
      channels:
        - {{channel: retail-hook}}
"""


def configure(rg: Cli, smtp_port: int, on_promote: bool = False) -> None:
    config = rg.root / "releasegate.yaml"
    config.write_text(config.read_text(encoding="utf-8") + NOTICES.format(
        smtp_port=smtp_port, on_promote=str(on_promote).lower()), encoding="utf-8")
    git(rg.root, "commit", "-qam", "notices for retail banking")


def notify(rg: Cli, *args: str, url: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = rg("notify", PATCH, *args, "--format", "json", person="alice",
                env={"RETAIL_WECOM_URL": url})
    return result.exit_code, json.loads(result.stdout)


def notified_events(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "patches" / PATCH / "events").glob("*-notified.yaml"))


def test_each_subscriber_channel_gets_the_notice_once(in_test: Cli) -> None:
    with smtp_server() as smtp, http_server(Answer(200, {"errcode": 0, "errmsg": "ok"})) as hook:
        configure(in_test, smtp.port)
        code, doc = notify(in_test, url=hook.url)
        again, second = notify(in_test, url=hook.url)

        assert code == 0, doc
        assert [(d["subscriber"], d["channel"], d["ok"]) for d in doc["deliveries"]] == [
            ("retail-banking", "retail-mail", True), ("retail-banking", "retail-hook", True)]
        assert {d["kind"] for d in doc["deliveries"]} == {"upcoming"}
        mail = smtp.received[0].message()
        assert smtp.received[0].rcpt_tos == ("retail-ops@bank.example",)
        assert "修复利息计提" in mail["Subject"]
        assert mail.get_content_type() == "multipart/alternative"
        body = hook.received[0].json()
        assert body["msgtype"] == "markdown" and "修复利息计提" in body["markdown"]["content"]
        assert (again, second["deliveries"]) == (0, [])  # a rerun sends nothing twice
        assert len(smtp.received) == 1 and len(hook.received) == 1
    assert len(notified_events(in_test.root)) == 2


def test_a_failed_delivery_waits_in_the_outbox_and_is_retried(in_test: Cli) -> None:
    with smtp_server() as smtp:
        configure(in_test, smtp.port)
        code, doc = notify(in_test, url=f"http://127.0.0.1:{closed_port()}/hook")
        assert code == 3
        assert [(d["channel"], d["ok"]) for d in doc["deliveries"]] == [
            ("retail-mail", True), ("retail-hook", False)]
        assert len(notified_events(in_test.root)) == 1  # only the delivered one

        with http_server(Answer(200, {"errcode": 0})) as hook:
            code, doc = notify(in_test, url=hook.url)
            assert code == 0
            assert [d["channel"] for d in doc["deliveries"]] == ["retail-hook"]
            assert len(hook.received) == 1
        assert len(smtp.received) == 1
    assert len(notified_events(in_test.root)) == 2


def test_an_error_code_in_a_200_answer_is_not_recorded_as_sent(in_test: Cli) -> None:
    with smtp_server() as smtp, http_server(Answer(200, {"errcode": 93000,
                                                         "errmsg": "invalid webhook url"})) as hook:
        configure(in_test, smtp.port)
        code, doc = notify(in_test, "--channel", "retail-hook", url=hook.url)
    assert code == 3
    assert doc["deliveries"][0]["ok"] is False
    assert "93000" in doc["deliveries"][0]["detail"]
    assert notified_events(in_test.root) == []


def test_dry_run_shows_what_would_be_sent_and_records_nothing(in_test: Cli) -> None:
    with smtp_server() as smtp, http_server() as hook:
        configure(in_test, smtp.port)
        before = fingerprint(in_test.root)
        result = in_test("notify", PATCH, "--dry-run", env={"RETAIL_WECOM_URL": hook.url})
        assert result.exit_code == 0, result.output
        assert "would send: upcoming notice to retail-banking via retail-mail to " \
               "retail-ops@bank.example" in result.stdout
        assert hook.received == [] and smtp.received == []
    assert fingerprint(in_test.root) == before


def test_the_webhook_token_never_appears_in_messages(in_test: Cli) -> None:
    with smtp_server() as smtp:
        configure(in_test, smtp.port)
        url = f"http://127.0.0.1:{closed_port()}/cgi-bin/webhook/send?key=SECRET-TOKEN-123"
        result = in_test("notify", PATCH, "--channel", "retail-hook", person="alice",
                         env={"RETAIL_WECOM_URL": url})
    assert result.exit_code == 3
    assert "SECRET-TOKEN-123" not in result.output


def test_promote_notifies_and_a_failed_delivery_never_fails_the_promotion(
        in_test: Cli, inputs: Path) -> None:
    from tests.helpers import record_regression, sign_prod_gate

    record_regression(in_test, inputs, PATCH, {"cbs.accrual::a": "passed"})
    sign_prod_gate(in_test, inputs)
    with smtp_server() as smtp:
        configure(in_test, smtp.port, on_promote=True)
        url = f"http://127.0.0.1:{closed_port()}/hook"
        result = in_test("promote", PATCH, person="alice", env={"RETAIL_WECOM_URL": url})
        assert result.exit_code == 0, result.output
        assert f"promoted {PATCH} to prod" in result.stdout
        assert "not delivered" in result.stderr and "waits in the outbox" in result.stderr
        assert [m.message()["Subject"] for m in smtp.received] == [
            f"【已上线】{PATCH}：修复利息计提"]
    assert must(in_test, "patch", "show", PATCH, "--format", "json")


def test_an_unknown_channel_is_refused(in_test: Cli) -> None:
    with smtp_server() as smtp:
        configure(in_test, smtp.port)
        result = in_test("notify", PATCH, "--channel", "retail-mial", person="alice")
    assert result.exit_code == 2
    assert "did you mean 'retail-mail'" in result.stderr


def test_only_subscribers_of_the_patch_system_are_notified(rg: Cli, inputs: Path) -> None:
    walk_to_test(rg, inputs, PATCH)
    with smtp_server() as smtp, http_server(Answer(200, {"errcode": 0})) as hook:
        configure(rg, smtp.port)
        code, doc = notify(rg, url=hook.url)
    assert code == 0
    assert {d["subscriber"] for d in doc["deliveries"]} == {"retail-banking"}


def test_a_partly_refused_mail_is_not_sent_again_to_those_who_got_it(in_test: Cli) -> None:
    config = in_test.root / "releasegate.yaml"
    with smtp_server(refuse={"gone@bank.example"}) as smtp:
        configure(in_test, smtp.port)
        config.write_text(config.read_text(encoding="utf-8").replace(
            "to: [retail-ops@bank.example]", "to: [retail-ops@bank.example, gone@bank.example]"))
        git(in_test.root, "commit", "-qam", "two recipients")
        code, doc = notify(in_test, "--channel", "retail-mail", url="http://127.0.0.1:9/")
        again, second = notify(in_test, "--channel", "retail-mail", url="http://127.0.0.1:9/")
        assert code == 3
        assert "gone@bank.example" in doc["deliveries"][0]["detail"]
        assert (again, second["deliveries"]) == (0, [])
        assert [m.rcpt_tos for m in smtp.received] == [("retail-ops@bank.example",)]
    event = next((in_test.root / "patches" / PATCH / "events").glob("*-notified.yaml"))
    text = event.read_text(encoding="utf-8")
    assert "refused:\n- gone@bank.example" in text and "to:\n- retail-ops@bank.example" in text


def test_a_detached_checkout_sends_nothing_it_could_not_record(in_test: Cli) -> None:
    with smtp_server() as smtp, http_server(Answer(200, {"errcode": 0})) as hook:
        configure(in_test, smtp.port)
        git(in_test.root, "checkout", "-q", "--detach")
        result = in_test("notify", PATCH, person="alice", env={"RETAIL_WECOM_URL": hook.url})
        assert result.exit_code == 2
        assert "detached HEAD" in result.stderr
        assert smtp.received == [] and hook.received == []
