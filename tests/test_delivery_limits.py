"""Chat payloads stay within each platform's size limit, against a loopback HTTP server:
a notice too long for one message keeps its first lines whole and ends its list with
"… and N more" (and the notice's address, when it has one)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest

from releasegate.core.subscriptions import Channel, Delivery
from releasegate.delivery.dispatch import deliver
from tests.servers import Answer, Received, http_server

TEAMS_LIMIT = 28_000  # bytes; Teams documents about 28 KB per message
FAILING = 200
URL = "https://notices.bank.example/patches/CBS-2026-0042.html"


def failing_tests(count: int = FAILING) -> list[str]:
    return [f"com.bank.core.settlement.CrossCurrencyTransferFeeRoundingRegressionTests"
            f".test_{i:03d}_rounds_half_even_for_currency_pair_EUR_JPY_with_amount_{i}"
            for i in range(count)]


def technical_text(tests: list[str]) -> str:
    """A technical notice in the shape the plain-text template lays out."""
    head = ("【变更预告】CBS-2026-0042：修正跨币种转账手续费的舍入\n\n"
            "测试\n----\ncore-banking-regression (test)\n  2,431 个测试，200 个失败\n"
            "  - 新增失败：\n")
    return head + "".join(f"      {name}\n" for name in tests)


@dataclass(frozen=True)
class Content:
    patch: str = "CBS-2026-0042"
    kind: str = "upcoming"
    audience: str = "technical"
    lang: str = "zh-CN"
    subject: str = "【变更预告】CBS-2026-0042：修正跨币种转账手续费的舍入"
    text: str = technical_text(failing_tests())
    markdown: str = technical_text(failing_tests())
    html: str = "<p>CBS-2026-0042</p>"


@dataclass(frozen=True)
class LinkedContent(Content):
    url: str = URL


def post(fmt: str, content: Content, reply: Answer | None = None) -> Received:
    channel = Channel(name=f"{fmt}-room", type="webhook", format=fmt, url_env="HOOK_URL",
                      timeout=5.0)
    with http_server(reply or Answer(200, {"errcode": 0, "errmsg": "ok"})) as server:
        outcome = deliver(channel, Delivery(channel.name), content,
                          {"HOOK_URL": f"{server.url}/hook"}, max_attempts=1)
    assert outcome.ok, outcome.detail
    [request] = server.received
    return request


def more(text: str) -> int:
    """N of the "… and N more" line that ends `text`."""
    found = re.search(r"… and (\d+) more$", text)
    assert found is not None, text[-300:]
    return int(found.group(1))


def card_texts(request: Received) -> list[str]:
    body = json.loads(request.body.decode("utf-8"))  # valid JSON, as sent
    [attachment] = body["attachments"]
    return [block["inlines"][0]["text"] for block in attachment["content"]["body"]]


def test_a_teams_card_for_200_failing_tests_stays_under_28_kb() -> None:
    request = post("teams", Content(), Answer(202))
    assert len(Content().text.encode("utf-8")) > TEAMS_LIMIT  # it would not fit whole
    assert len(request.body) < TEAMS_LIMIT
    texts = card_texts(request)
    assert texts[0] == Content().subject
    last = texts[-1]
    assert last.rstrip().endswith("more")
    kept = [line.strip() for line in "\n".join(texts[1:]).splitlines()
            if line.strip().startswith("com.bank.")]
    assert kept == failing_tests()[:len(kept)]  # whole lines, in order
    assert len(kept) > 50 and more(last) == FAILING - len(kept)


def test_a_cut_teams_card_links_to_the_notice_when_it_has_an_address() -> None:
    request = post("teams", LinkedContent(), Answer(202))
    assert len(request.body) < TEAMS_LIMIT
    last = card_texts(request)[-1]
    assert last.endswith(URL)
    assert more(last.removesuffix(URL).rstrip()) > 0


def test_a_short_teams_card_is_not_cut() -> None:
    text = technical_text(failing_tests(3))
    texts = card_texts(post("teams", Content(text=text), Answer(202)))
    assert "more" not in texts[-1] and texts[-1].endswith(failing_tests(3)[-1])


def test_slack_ends_its_last_section_with_and_n_more_instead_of_dropping_blocks() -> None:
    tests = failing_tests(2000)  # 55 sections of 3,000 characters: more than 50 blocks
    request = post("slack", Content(text=technical_text(tests)), Answer(200, "ok"))
    blocks = request.json()["blocks"]
    assert len(blocks) <= 50
    last = blocks[-1]["text"]["text"]
    kept = sum(1 for b in blocks[1:] for line in b["text"]["text"].splitlines()
               if line.strip().startswith("com.bank."))
    assert more(last) == len(tests) - kept


def test_wecom_keeps_whole_lines_and_counts_the_rest() -> None:
    request = post("wecom", Content())
    content = request.json()["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4096
    kept = [line.strip() for line in content.splitlines()
            if line.strip().startswith("com.bank.")]
    assert kept == failing_tests()[:len(kept)]
    assert more(content) == FAILING - len(kept)


@pytest.mark.parametrize("fmt", ["teams", "wecom", "slack"])
def test_room_wide_mentions_stay_inert_in_the_link(fmt: str) -> None:
    content = LinkedContent(url=URL + "?to=@all")
    request = post(fmt, content, Answer(202 if fmt == "teams" else 200,
                                        "ok" if fmt == "slack" else {"errcode": 0}))
    assert "@all" not in request.body.decode("utf-8")
