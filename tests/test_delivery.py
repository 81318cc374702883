"""Delivering one notice through one channel, against real servers on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest

from releasegate.core.subscriptions import Channel, Delivery
from releasegate.delivery.attempt import Outcome
from releasegate.delivery.dispatch import deliver, preview
from releasegate.delivery.email import build_message
from releasegate.delivery.http import redact_url
from releasegate.delivery.signing import dingtalk_sign, feishu_sign
from tests.servers import (
    Answer,
    HttpServer,
    closed_port,
    http_server,
    loopback_certificate,
    silent_port,
    smtp_server,
)

NOW = 1_700_000_000.0
TOKEN = "tok3n0123456789abcdef"
SECRET = "SECf1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6"
PASSWORD = "pa55-w0rd-never-shown"
ROOM_WIDE = ("@all", "<!channel>", "<!here>", '<at user_id="all">', "<@U024BE7LH>")


@dataclass(frozen=True)
class Content:
    patch: str = "CBS-2026-0042"
    kind: str = "scheduled"
    audience: str = "business"
    lang: str = "zh-CN"
    subject: str = "核心系统补丁 CBS-2026-0042 将于周六上线"
    text: str = ("核心系统补丁将于周六 22:00 上线。\n"
                 "影响: 柜面 & 网银 <暂停> 30 分钟 @all <!channel> <!here>\n\n"
                 '联系人: 张三 <at user_id="all">所有人</at> <@U024BE7LH>')
    markdown: str = "### 核心系统补丁\n\n- 影响: 柜面 & 网银 30 分钟 @all\n"
    html: str = "<p>核心系统补丁将于周六 22:00 上线。</p>"


@dataclass
class FakeTime:
    """clock and sleep for deliver(): sleeping records the wait and moves the clock."""

    now: float = NOW
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    # requests honours proxy variables; the servers here are all on loopback.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def webhook(fmt: str, *, secret: bool = False, timeout: float = 2.0) -> Channel:
    return Channel(name=f"{fmt}-room", type="webhook", format=fmt, url_env="HOOK_URL",
                   secret_env="HOOK_SECRET" if secret else None, timeout=timeout)


def hook_env(server: HttpServer, *, query: bool = True) -> dict[str, str]:
    url = f"{server.url}/robot/{TOKEN}/send"
    if query:
        url += f"?access_token={TOKEN}"
    return {"HOOK_URL": url, "HOOK_SECRET": SECRET}


def send(channel: Channel, env: dict[str, str], fake_time: FakeTime,
         content: Content | None = None, **options: Any) -> Outcome:
    outcome = deliver(channel, Delivery(channel.name), content or Content(), env,
                      clock=fake_time.clock, sleep=fake_time.sleep, **options)
    assert_no_secret(outcome)
    return outcome


def assert_no_secret(outcome: Outcome) -> None:
    for secret in (TOKEN, SECRET, PASSWORD):
        assert secret not in outcome.detail


# --- signatures ----------------------------------------------------------------------


def test_dingtalk_signature_is_the_url_encoded_base64_hmac_of_timestamp_and_secret() -> None:
    stamp = 1_700_000_000_000
    mac = hmac.new(SECRET.encode(), f"{stamp}\n{SECRET}".encode(), hashlib.sha256).digest()
    assert dingtalk_sign(SECRET, stamp) == quote_plus(base64.b64encode(mac).decode())
    # The same value from `openssl dgst -sha256 -mac HMAC`, then URL-encoded by hand.
    assert dingtalk_sign(SECRET, stamp) == "PqpU50v3iQKXdhuKlNduPVBFVMld0LWy%2Bz%2FYmFyr1pc%3D"


def test_feishu_signature_is_the_base64_hmac_keyed_by_timestamp_and_secret() -> None:
    stamp = 1_700_000_000
    mac = hmac.new(f"{stamp}\n{SECRET}".encode(), b"", hashlib.sha256).digest()
    assert feishu_sign(SECRET, stamp) == base64.b64encode(mac).decode()
    assert feishu_sign(SECRET, stamp) == "h+c1h2+/pfMjTSe0SJyp1Soi2hz6Ay+8906MgofGhrU="


# --- webhook payloads per platform ---------------------------------------------------


def test_generic_webhook_posts_every_field_as_utf8_json(fake_time: FakeTime) -> None:
    with http_server(Answer(204)) as server:
        outcome = send(webhook("generic"), hook_env(server), fake_time)
    assert outcome == Outcome(ok=True, permanent=False, attempts=1,
                              detail=f"generic-room: {server.url}/… accepted the notice "
                                     "(HTTP 204)")
    [request] = server.received
    assert (request.method, request.path) == ("POST", f"/robot/{TOKEN}/send")
    assert request.query == {"access_token": TOKEN}
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    body = request.json()
    assert set(body) == {"patch", "kind", "audience", "lang", "subject", "text", "markdown",
                         "html"}
    assert body["subject"] == Content().subject
    assert "核心系统补丁" in request.body.decode("utf-8")  # UTF-8, not \u escapes


def test_generic_webhook_keeps_the_html_document_whole(fake_time: FakeTime) -> None:
    html = "<!DOCTYPE html>\n<html><!-- notice --><body><p>@all 上线</p></body></html>"
    with http_server(Answer(200)) as server:
        send(webhook("generic"), hook_env(server), fake_time, Content(html=html))
    assert server.received[0].json()["html"] == html.replace("@all", "@\u200ball")


def test_slack_gets_a_header_and_escaped_mrkdwn_sections(fake_time: FakeTime) -> None:
    with http_server(Answer(200, "ok")) as server:
        outcome = send(webhook("slack"), hook_env(server), fake_time)
    assert outcome.ok
    body = server.received[0].json()
    assert body["text"] == Content().subject
    header, section = body["blocks"]
    assert header == {"type": "header", "text": {"type": "plain_text", "emoji": False,
                                                 "text": Content().subject}}
    assert section["type"] == "section" and section["text"]["type"] == "mrkdwn"
    assert "柜面 &amp; 网银 &lt;暂停&gt; 30 分钟" in section["text"]["text"]
    assert "<" not in section["text"]["text"]


def test_slack_splits_long_text_into_sections_of_at_most_3000_characters(
        fake_time: FakeTime) -> None:
    long_text = "\n".join(f"line {i} & more" for i in range(600)) + "\n" + "<" * 4000
    with http_server(Answer(200, "ok")) as server:
        send(webhook("slack"), hook_env(server), fake_time, Content(text=long_text))
    sections = server.received[0].json()["blocks"][1:]
    texts = [s["text"]["text"] for s in sections]
    assert len(sections) > 3 and all(0 < len(t) <= 3000 for t in texts)
    joined = "".join(texts)
    assert "line 599 &amp; more" in joined and joined.count("&lt;") == 4000


@pytest.mark.parametrize("status", [202, 200])
def test_teams_workflow_gets_an_adaptive_card(fake_time: FakeTime, status: int) -> None:
    with http_server(Answer(status)) as server:
        outcome = send(webhook("teams"), hook_env(server), fake_time)
    assert outcome.ok, outcome.detail
    body = server.received[0].json()
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    runs = [block["inlines"][0] for block in card["body"]]
    assert all(block["type"] == "RichTextBlock" for block in card["body"])
    assert runs[0] == {"type": "TextRun", "text": Content().subject, "weight": "Bolder",
                       "size": "Medium"}
    assert [r["text"].split("\n")[0] for r in runs[1:]] == [
        "核心系统补丁将于周六 22:00 上线。",
        '联系人: 张三 <\u200bat user_id="all">所有人</at> <\u200b@U024BE7LH>']


def test_slack_counts_only_a_200_as_delivered(fake_time: FakeTime) -> None:
    with http_server(Answer(202)) as server:
        outcome = send(webhook("slack"), hook_env(server), fake_time)
    assert (outcome.ok, outcome.permanent, outcome.attempts) == (False, True, 1)
    assert "HTTP 202" in outcome.detail


def test_dingtalk_signs_with_timestamp_and_sign_query_parameters(fake_time: FakeTime) -> None:
    with http_server(Answer(200, {"errcode": 0, "errmsg": "ok"})) as server:
        outcome = send(webhook("dingtalk", secret=True), hook_env(server), fake_time)
    assert outcome.ok, outcome.detail
    [request] = server.received
    stamp = int(NOW * 1000)
    mac = hmac.new(SECRET.encode(), f"{stamp}\n{SECRET}".encode(), hashlib.sha256).digest()
    assert request.query == {"access_token": TOKEN, "timestamp": str(stamp),
                             "sign": base64.b64encode(mac).decode()}
    assert request.raw_query.endswith(f"&sign={quote_plus(base64.b64encode(mac).decode())}")
    assert request.json() == {"msgtype": "markdown", "markdown": {
        "title": Content().subject,
        "text": "### 核心系统补丁\n\n- 影响: 柜面 & 网银 30 分钟 @\u200ball\n"}}


def test_dingtalk_without_a_secret_sends_no_signature(fake_time: FakeTime) -> None:
    with http_server(Answer(200, {"errcode": 0, "errmsg": "ok"})) as server:
        assert send(webhook("dingtalk"), hook_env(server), fake_time).ok
    assert server.received[0].query == {"access_token": TOKEN}


def test_dingtalk_security_error_is_permanent(fake_time: FakeTime) -> None:
    reply = {"errcode": 310000, "errmsg": "keywords not in content, more: [...]"}
    with http_server(Answer(200, reply)) as server:
        outcome = send(webhook("dingtalk", secret=True), hook_env(server), fake_time)
    assert (outcome.ok, outcome.permanent, outcome.attempts) == (False, True, 1)
    assert "error 310000: keywords not in content" in outcome.detail
    assert len(server.received) == 1


def test_dingtalk_rate_limit_code_is_retried(fake_time: FakeTime) -> None:
    with http_server(Answer(200, {"errcode": 130101, "errmsg": "send too fast"}),
                     Answer(200, {"errcode": 0, "errmsg": "ok"})) as server:
        outcome = send(webhook("dingtalk"), hook_env(server), fake_time)
    assert (outcome.ok, outcome.attempts) == (True, 2)
    assert fake_time.sleeps == [1.0]


def test_wecom_gets_markdown_content_and_retries_45009(fake_time: FakeTime) -> None:
    with http_server(Answer(200, {"errcode": 45009, "errmsg": "api freq out of limit"}),
                     Answer(200, {"errcode": 0, "errmsg": "ok"})) as server:
        outcome = send(webhook("wecom"), hook_env(server), fake_time)
    assert (outcome.ok, outcome.attempts) == (True, 2)
    assert server.received[1].json() == {"msgtype": "markdown", "markdown": {
        "content": "### 核心系统补丁\n\n- 影响: 柜面 & 网银 30 分钟 @\u200ball\n"}}


def test_wecom_clips_markdown_to_4096_bytes(fake_time: FakeTime) -> None:
    with http_server(Answer(200, {"errcode": 0, "errmsg": "ok"})) as server:
        send(webhook("wecom"), hook_env(server), fake_time, Content(markdown="补" * 3000))
    content = server.received[0].json()["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4096 and content.endswith("…")


def test_wecom_other_error_codes_are_permanent(fake_time: FakeTime) -> None:
    with http_server(Answer(200, {"errcode": 93000, "errmsg": "invalid webhook url"})) as server:
        outcome = send(webhook("wecom"), hook_env(server), fake_time)
    assert (outcome.ok, outcome.permanent, outcome.attempts) == (False, True, 1)
    assert "error 93000: invalid webhook url" in outcome.detail


def test_feishu_signs_in_the_body_and_posts_rich_text(fake_time: FakeTime) -> None:
    with http_server(Answer(200, {"code": 0, "msg": "success", "data": {}})) as server:
        outcome = send(webhook("feishu", secret=True), hook_env(server), fake_time)
    assert outcome.ok, outcome.detail
    body = server.received[0].json()
    stamp = int(NOW)
    mac = hmac.new(f"{stamp}\n{SECRET}".encode(), b"", hashlib.sha256).digest()
    assert (body["timestamp"], body["sign"]) == (str(stamp), base64.b64encode(mac).decode())
    assert body["msg_type"] == "post"
    post = body["content"]["post"]["zh_cn"]
    assert post["title"] == Content().subject
    assert post["content"][0] == [{"tag": "text", "text": "核心系统补丁将于周六 22:00 上线。"}]


def test_feishu_accepts_the_status_code_of_older_bots(fake_time: FakeTime) -> None:
    reply = {"Extra": None, "StatusCode": 0, "StatusMessage": "success"}
    with http_server(Answer(200, reply)) as server:
        assert send(webhook("feishu"), hook_env(server), fake_time).ok


@pytest.mark.parametrize(("reply", "permanent", "attempts"), [
    ({"code": 19021, "msg": "sign match fail or timestamp is not within one hour"}, True, 1),
    ({"code": 11232, "msg": "frequency limited"}, False, 2),
    ({"msg": "no code at all"}, True, 1),
])
def test_feishu_error_codes(fake_time: FakeTime, reply: dict[str, Any], permanent: bool,
                            attempts: int) -> None:
    with http_server(Answer(200, reply)) as server:
        outcome = send(webhook("feishu", secret=True), hook_env(server), fake_time,
                       max_attempts=2)
    assert (outcome.ok, outcome.permanent, outcome.attempts) == (False, permanent, attempts)
    assert len(server.received) == attempts


@pytest.mark.parametrize("fmt", ["generic", "slack", "teams", "dingtalk", "wecom", "feishu"])
def test_room_wide_mentions_never_come_from_patch_texts(fake_time: FakeTime, fmt: str) -> None:
    markdown = "公告 " + " ".join(ROOM_WIDE)
    with http_server(Answer(200, {"errcode": 0, "code": 0})) as server:
        send(webhook(fmt), hook_env(server), fake_time, Content(markdown=markdown))
    sent = json.dumps(server.received[0].json(), ensure_ascii=False)
    for mention in ROOM_WIDE:
        assert mention not in sent
    assert "@all" not in sent.lower() and "<at" not in sent.lower()


# --- HTTP status, retries and time-outs ----------------------------------------------


def test_429_waits_as_retry_after_says_then_delivers(fake_time: FakeTime) -> None:
    with http_server(Answer(429, "slow down", {"Retry-After": "2"}), Answer(200)) as server:
        outcome = send(webhook("generic"), hook_env(server), fake_time)
    assert (outcome.ok, outcome.attempts) == (True, 2)
    assert fake_time.sleeps == [2.0]
    assert len(server.received) == 2


def test_retry_after_may_be_an_http_date(fake_time: FakeTime) -> None:
    when = format_datetime(datetime.fromtimestamp(NOW + 5, UTC), usegmt=True)
    with http_server(Answer(503, headers={"Retry-After": when}), Answer(200)) as server:
        outcome = send(webhook("generic"), hook_env(server), fake_time)
    assert outcome.ok and fake_time.sleeps == [5.0]


def test_retry_after_beyond_the_wait_bound_stops_without_waiting(fake_time: FakeTime) -> None:
    with http_server(Answer(429, headers={"Retry-After": "120"}), Answer(200)) as server:
        outcome = send(webhook("generic"), hook_env(server), fake_time, max_wait=30)
    assert (outcome.ok, outcome.permanent, outcome.attempts) == (False, False, 1)
    assert fake_time.sleeps == [] and len(server.received) == 1
    assert "HTTP 429" in outcome.detail and "120 s, beyond the 30 s allowed" in outcome.detail


def test_500_then_200_backs_off_and_delivers(fake_time: FakeTime) -> None:
    with http_server(Answer(500, "boom"), Answer(200)) as server:
        outcome = send(webhook("generic"), hook_env(server), fake_time)
    assert (outcome.ok, outcome.attempts, fake_time.sleeps) == (True, 2, [1.0])


def test_a_server_that_keeps_failing_is_given_max_attempts(fake_time: FakeTime) -> None:
    with http_server(Answer(502, "bad gateway")) as server:
        outcome = send(webhook("generic"), hook_env(server), fake_time, max_attempts=4)
    assert (outcome.ok, outcome.permanent, outcome.attempts) == (False, False, 4)
    assert len(server.received) == 4 and fake_time.sleeps == [1.0, 2.0, 4.0]
    assert outcome.detail.endswith("HTTP 502 Bad Gateway: bad gateway (after 4 attempts)")


def test_backoff_is_cut_to_the_wait_bound(fake_time: FakeTime) -> None:
    with http_server(Answer(500)) as server:
        outcome = send(webhook("generic"), hook_env(server), fake_time, max_attempts=10,
                       max_wait=5)
    assert fake_time.sleeps == [1.0, 2.0, 2.0]
    assert (outcome.ok, outcome.permanent, outcome.attempts) == (False, False, 4)
    assert len(server.received) == 4
    assert outcome.detail.endswith("the 5 s allowed for retries are used up (after 4 attempts)")


@pytest.mark.parametrize("status", [400, 403, 404, 410])
def test_other_4xx_are_permanent(fake_time: FakeTime, status: int) -> None:
    with http_server(Answer(status, "no_service")) as server:
        outcome = send(webhook("slack"), hook_env(server), fake_time)
    assert (outcome.ok, outcome.permanent, outcome.attempts) == (False, True, 1)
    assert f"HTTP {status}" in outcome.detail and "no_service" in outcome.detail


def test_redirects_are_not_followed(fake_time: FakeTime) -> None:
    with http_server(Answer(302, headers={"Location": "/elsewhere"}), Answer(200)) as server:
        outcome = send(webhook("generic"), hook_env(server), fake_time)
    assert (outcome.ok, outcome.permanent) == (False, True)
    assert len(server.received) == 1 and "redirects" in outcome.detail


def test_a_slow_server_times_out_and_is_retried(fake_time: FakeTime) -> None:
    started = time.monotonic()
    with http_server(Answer(200, delay=5)) as server:
        outcome = send(webhook("generic", timeout=0.3), hook_env(server), fake_time,
                       max_attempts=2)
    assert time.monotonic() - started < 3
    assert (outcome.ok, outcome.permanent, outcome.attempts) == (False, False, 2)
    assert f"{server.url}/… did not answer within 0.3 s" in outcome.detail
    assert len(server.received) == 2


def test_connection_refused_is_retried_then_left_for_later(fake_time: FakeTime) -> None:
    port = closed_port()
    env = {"HOOK_URL": f"http://127.0.0.1:{port}/hook/{TOKEN}?access_token={TOKEN}"}
    outcome = send(webhook("generic"), env, fake_time, max_attempts=3)
    assert (outcome.ok, outcome.permanent, outcome.attempts) == (False, False, 3)
    assert outcome.detail == (f"generic-room: could not connect to http://127.0.0.1:{port}/… "
                              "(connection refused) (after 3 attempts)")


# --- configuration and secrets -------------------------------------------------------


def test_a_missing_url_variable_is_permanent_and_named(fake_time: FakeTime) -> None:
    outcome = send(webhook("generic"), {}, fake_time)
    assert (outcome.ok, outcome.permanent, outcome.attempts) == (False, True, 1)
    assert "HOOK_URL is not set" in outcome.detail


def test_a_missing_secret_variable_is_permanent_and_nothing_is_sent(
        fake_time: FakeTime) -> None:
    with http_server() as server:
        env = {"HOOK_URL": hook_env(server)["HOOK_URL"]}
        outcome = send(webhook("feishu", secret=True), env, fake_time)
    assert (outcome.ok, outcome.permanent) == (False, True)
    assert "HOOK_SECRET is not set" in outcome.detail and server.received == []


def test_a_secret_for_a_format_that_signs_nothing_is_refused(fake_time: FakeTime) -> None:
    with http_server() as server:
        outcome = send(webhook("slack", secret=True), hook_env(server), fake_time)
    assert (outcome.ok, outcome.permanent) == (False, True) and server.received == []
    assert "signs nothing" in outcome.detail


def test_an_unknown_format_is_a_permanent_failure(fake_time: FakeTime) -> None:
    outcome = send(webhook("telegram"), {"HOOK_URL": "https://example.invalid/x"}, fake_time)
    assert (outcome.ok, outcome.permanent) == (False, True)
    assert "format 'telegram'" in outcome.detail


def test_a_reply_echoing_the_token_is_scrubbed(fake_time: FakeTime) -> None:
    reply = {"errcode": 300001, "errmsg": f"token {TOKEN} is not exist, secret {SECRET}"}
    with http_server(Answer(400, reply)) as server:
        outcome = send(webhook("dingtalk", secret=True), hook_env(server), fake_time)
    assert outcome.permanent and "token *** is not exist, secret ***" in outcome.detail


def test_webhook_urls_show_only_scheme_and_host() -> None:
    assert redact_url(f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}") == \
        "https://oapi.dingtalk.com/…"
    assert redact_url(f"https://user:{PASSWORD}@hooks.example:8443/services/{TOKEN}") == \
        "https://hooks.example:8443/…"
    assert redact_url("https://hooks.example") == "https://hooks.example"
    assert redact_url("not a url") == "<the webhook URL>"


def test_webhook_preview_shows_the_payload_and_sends_nothing() -> None:
    with http_server() as server:
        text = preview(webhook("dingtalk", secret=True), Delivery("dingtalk-room"), Content())
    assert server.received == []
    assert text.startswith("POST <URL from $HOOK_URL>&timestamp=<now, ms>&sign=<HMAC-SHA256 "
                           "keyed by $HOOK_SECRET>\nContent-Type: application/json")
    payload = json.loads(text[text.index("\n{") + 1:])
    assert payload["msgtype"] == "markdown" and payload["markdown"]["title"] == Content().subject


def test_feishu_preview_names_the_secret_variable_in_the_body() -> None:
    text = preview(webhook("feishu", secret=True), Delivery("feishu-room"), Content())
    payload = json.loads(text[text.index("\n{") + 1:])
    assert payload["sign"] == "<HMAC-SHA256 of $HOOK_SECRET>"


# --- e-mail --------------------------------------------------------------------------


def mail_channel(port: int, **options: Any) -> Channel:
    settings: dict[str, Any] = {"name": "mail", "type": "smtp", "host": "127.0.0.1",
                                "port": port, "sender": "发布门禁 <releasegate@bank.test>",
                                "timeout": 2.0, **options}
    return Channel(**settings)


def mail(channel: Channel, to: tuple[str, ...], env: dict[str, str] | None = None,
         **options: Any) -> Outcome:
    fake = FakeTime()
    outcome = deliver(channel, Delivery("mail", to), Content(), env or {}, clock=fake.clock,
                      sleep=fake.sleep, **options)
    assert_no_secret(outcome)
    return outcome


def test_mail_arrives_as_utf8_multipart_alternative() -> None:
    with smtp_server() as server:
        outcome = mail(mail_channel(server.port), ("ops@bank.test", "李四 <li@bank.test>"))
    assert outcome == Outcome(ok=True, permanent=False, attempts=1,
                              detail=f"mail: sent to ops@bank.test, li@bank.test via "
                                     f"127.0.0.1:{server.port}")
    [received] = server.received
    assert received.mail_from == "releasegate@bank.test"
    assert received.rcpt_tos == ("ops@bank.test", "li@bank.test")
    message = received.message()
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == Content().subject
    assert message["From"] == "发布门禁 <releasegate@bank.test>"
    assert message["To"] == "ops@bank.test, 李四 <li@bank.test>"
    assert message["MIME-Version"] == "1.0" and message["Date"]
    assert message["Message-ID"].endswith("@bank.test>")
    assert message.is_multipart()
    text, html = message.iter_parts()
    assert (text.get_content_type(), text.get_content_charset()) == ("text/plain", "utf-8")
    assert (html.get_content_type(), html.get_content_charset()) == ("text/html", "utf-8")
    assert text.get_content().replace("\r\n", "\n") == Content().text + "\n"
    assert html.get_content().strip() == Content().html
    assert all(b < 128 for b in received.data)  # 7bit on the wire


def test_a_refused_recipient_is_reported_by_name() -> None:
    with smtp_server(refuse={"gone@bank.test"}) as server:
        outcome = mail(mail_channel(server.port), ("ops@bank.test", "gone@bank.test"))
    assert (outcome.ok, outcome.permanent, outcome.attempts) == (False, True, 1)
    assert outcome.refused == ("gone@bank.test",)
    assert outcome.detail == (f"mail: 127.0.0.1:{server.port} refused gone@bank.test (550 "
                              "5.1.1 mailbox unavailable); sent to ops@bank.test")
    assert [m.rcpt_tos for m in server.received] == [("ops@bank.test",)]


@pytest.mark.parametrize(("reply", "permanent", "attempts"), [
    ("550 5.1.1 no such user", True, 1),
    ("450 4.2.1 try again later", False, 2),
])
def test_every_recipient_refused(reply: str, permanent: bool, attempts: int) -> None:
    with smtp_server(refuse={"a@bank.test", "b@bank.test"}, refuse_reply=reply) as server:
        outcome = mail(mail_channel(server.port), ("a@bank.test", "b@bank.test"),
                       max_attempts=2)
    assert (outcome.ok, outcome.permanent, outcome.attempts) == (False, permanent, attempts)
    assert outcome.refused == ("a@bank.test", "b@bank.test")
    assert server.received == []


@pytest.mark.parametrize(("reply", "permanent"), [("451 4.3.0 queue full", False),
                                                  ("554 5.6.0 message refused", True)])
def test_smtp_4xx_is_transient_and_5xx_permanent(reply: str, permanent: bool) -> None:
    with smtp_server(data_reply=reply) as server:
        outcome = mail(mail_channel(server.port), ("ops@bank.test",), max_attempts=1)
    assert (outcome.ok, outcome.permanent) == (False, permanent)
    assert outcome.detail == f"mail: 127.0.0.1:{server.port} answered {reply}"


def test_a_missing_credential_variable_is_permanent_and_named() -> None:
    channel = mail_channel(25, starttls=True, user_env="SMTP_USER",
                           password_env="SMTP_PASSWORD")
    with smtp_server() as server:
        outcome = mail(replace(channel, port=server.port), ("ops@bank.test",),
                       {"SMTP_USER": "releasegate"})
    assert (outcome.ok, outcome.permanent, outcome.attempts) == (False, True, 1)
    assert outcome.detail == ("mail: the environment variable SMTP_PASSWORD is not set; "
                              "set SMTP_PASSWORD for channel 'mail'")
    assert server.received == []


def test_a_password_is_never_sent_without_tls() -> None:
    channel = mail_channel(25, user_env="SMTP_USER", password_env="SMTP_PASSWORD")
    outcome = mail(channel, ("ops@bank.test",), {"SMTP_USER": "u", "SMTP_PASSWORD": PASSWORD})
    assert (outcome.ok, outcome.permanent) == (False, True)
    assert "would send its password unencrypted" in outcome.detail


def test_smtp_connection_refused_is_left_for_later() -> None:
    port = closed_port()
    outcome = mail(mail_channel(port), ("ops@bank.test",), max_attempts=2)
    assert (outcome.ok, outcome.permanent, outcome.attempts) == (False, False, 2)
    assert outcome.detail == (f"mail: 127.0.0.1:{port} refused the connection "
                              "(after 2 attempts)")


def test_a_silent_smtp_server_times_out() -> None:
    started = time.monotonic()
    with silent_port() as port:
        outcome = mail(mail_channel(port, timeout=0.3), ("ops@bank.test",), max_attempts=1)
    assert time.monotonic() - started < 3
    assert (outcome.ok, outcome.permanent) == (False, False)
    assert outcome.detail == f"mail: 127.0.0.1:{port} did not answer within 0.3 s"


def test_mail_preview_shows_envelope_and_text_and_sends_nothing() -> None:
    with smtp_server() as server:
        channel = mail_channel(server.port, starttls=True, user_env="SMTP_USER",
                               password_env="SMTP_PASSWORD")
        text = preview(channel, Delivery("mail", ("ops@bank.test",)), Content())
    assert server.received == []
    assert text.startswith(f"SMTP 127.0.0.1:{server.port} (STARTTLS, login $SMTP_USER / "
                           "$SMTP_PASSWORD)\nMAIL FROM:<releasegate@bank.test>\n"
                           "RCPT TO:<ops@bank.test>\n")
    assert f"Subject: {Content().subject}\n" in text
    assert Content().text in text


def test_build_message_keeps_a_subject_on_one_line() -> None:
    message = build_message(Content(subject="补丁\r\nBcc: everyone@bank.test"),
                            "releasegate@bank.test", ["ops@bank.test"])
    assert message["Subject"] == "补丁 Bcc: everyone@bank.test"
    assert "Bcc" not in message


def test_an_empty_html_falls_back_to_the_escaped_text() -> None:
    message = build_message(Content(html="", text="a <b> & c"), "rg@bank.test", ["x@bank.test"])
    html = message.get_body(("html",))
    assert html is not None and "a &lt;b&gt; &amp; c" in html.get_content()


# --- TLS and login against a loopback certificate ------------------------------------


@dataclass(frozen=True)
class Tls:
    server_context: ssl.SSLContext
    cert: Path


@pytest.fixture
def tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tls]:
    """A certificate for 127.0.0.1 that the client trusts through SSL_CERT_FILE."""
    cert, key = loopback_certificate(tmp_path)  # .ci/run installs the openssl command
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    yield Tls(context, cert)


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                  auth_data: Any) -> Any:
    from aiosmtpd.smtp import AuthResult

    good = (auth_data.login, auth_data.password) == (b"releasegate", PASSWORD.encode())
    return AuthResult(success=good, handled=False)


def login_env(password: str = PASSWORD) -> dict[str, str]:
    return {"SMTP_USER": "releasegate", "SMTP_PASSWORD": password}


def test_starttls_and_login(tls: Tls) -> None:
    with smtp_server(tls_context=tls.server_context, require_starttls=True,
                     authenticator=authenticator, auth_require_tls=True) as server:
        channel = mail_channel(server.port, starttls=True, user_env="SMTP_USER",
                               password_env="SMTP_PASSWORD")
        outcome = mail(channel, ("ops@bank.test",), login_env())
    assert outcome.ok, outcome.detail
    assert len(server.received) == 1


def test_a_refused_login_is_permanent_and_never_shows_the_password(tls: Tls) -> None:
    with smtp_server(tls_context=tls.server_context, require_starttls=True,
                     authenticator=authenticator, auth_require_tls=True) as server:
        channel = mail_channel(server.port, starttls=True, user_env="SMTP_USER",
                               password_env="SMTP_PASSWORD")
        outcome = mail(channel, ("ops@bank.test",), login_env("wrong-" + PASSWORD[::-1]))
    assert (outcome.ok, outcome.permanent, outcome.attempts) == (False, True, 1)
    assert "refused the login: 535" in outcome.detail
    assert "wrong-" not in outcome.detail and server.received == []


def test_smtp_over_tls(tls: Tls) -> None:
    with smtp_server(ssl_context=tls.server_context) as server:
        outcome = mail(mail_channel(server.port, tls=True), ("ops@bank.test",))
    assert outcome.ok, outcome.detail
    assert len(server.received) == 1


def test_an_untrusted_certificate_is_permanent(tls: Tls,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE")
    with smtp_server(tls_context=tls.server_context) as server:
        outcome = mail(mail_channel(server.port, starttls=True), ("ops@bank.test",))
    assert (outcome.ok, outcome.permanent) == (False, True)
    assert "did not verify" in outcome.detail and server.received == []
