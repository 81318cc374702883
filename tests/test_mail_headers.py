"""Mail headers built from ledger text (a patch title, a person's or team's name) arrive
exactly as meant: folded without doubled or lost spaces, no line over 998 octets, and no
control or bidi-override character in any header. Checked on what a loopback SMTP server
receives, parsed with Python's `email` package (policy=email.policy.default)."""

from __future__ import annotations

import email
import email.policy
import io
import random
import re
import unicodedata
from dataclasses import dataclass
from email.generator import BytesGenerator
from email.message import EmailMessage

import pytest

from releasegate.core.subscriptions import Channel, Delivery
from releasegate.delivery.dispatch import deliver
from releasegate.delivery.email import build_message
from tests.servers import smtp_server

SENDER = "发布门禁 <releasegate@bank.test>"


@dataclass(frozen=True)
class Content:
    patch: str = "CBS-2026-0107"
    kind: str = "released"
    audience: str = "business"
    lang: str = "zh-CN"
    subject: str = "【已上线】CBS-2026-0107：修正跨币种转账手续费的舍入"
    text: str = "修正跨币种转账手续费的舍入。\n"
    markdown: str = "修正跨币种转账手续费的舍入。\n"
    html: str = "<p>修正跨币种转账手续费的舍入。</p>"


SUBJECTS = {
    "ascii": "[Released] CBS-2026-0107: Correct rounding of cross-currency transfer fees",
    "ascii long": "[Released] CBS-2026-0107: " + " ".join(["Correct rounding of "
                                                           "cross-currency fees"] * 12),
    "chinese": "【已上线】CBS-2026-0107：修正跨币种转账手续费的舍入",
    "chinese long": "【已上线】CBS-2026-0107：" + "修正跨币种转账手续费的舍入" * 30,
    "mixed": "[Released] CBS-2026-0107: 修正跨币种转账手续费的舍入 Correct rounding 修正",
    # Found by folding at random: the space before an encoded word came out doubled,
    # and a space between two encoded words was lost.
    "ascii before an encoded word at the fold": (
        "a 【已上线】 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx Ünïcödé ： rounding, tab (test) "
        "CBS-2026-0107: CBS-2026-0107: rounding, xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx "
        "修正跨币种转账手续费的舍入 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx 中 (test) 中 ： é"),
    "encoded words meeting at the fold": (
        "é ： rounding, fees fees ： 【已上线】 中 CBS-2026-0107: "
        + "修正跨币种转账手续费的舍入" * 3 + " é " + "x" * 30 + " — é CBS-2026-0107:"),
    "a long word": "Patch " + "x" * 120 + " 上线 " + "y" * 1200,
    "text that looks encoded": "Fix =?utf-8?q?x?= parsing =?utf-8?b?5Lit?= 上线",
    "punctuation": 'Fix "quoted" (comment) <angle> a,b;c:d [list] \\ =? ?= 中',
}


def wire(message: EmailMessage) -> bytes:
    """The message as smtplib sends it."""
    out = io.BytesIO()
    BytesGenerator(out, policy=message.policy).flatten(message, linesep="\r\n")
    return out.getvalue()


def parsed(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def raw_lines(data: bytes) -> list[bytes]:
    """Every line of the message as sent, headers of the message and its parts included
    (the bodies are base64 or quoted-printable: printable ASCII too)."""
    assert data.endswith(b"\r\n")
    return data[:-2].split(b"\r\n")


def is_control(char: str) -> bool:
    return unicodedata.category(char) == "Cc" or "\u202a" <= char <= "\u202e" \
        or "\u2066" <= char <= "\u2069"


def assert_clean_headers(data: bytes) -> EmailMessage:
    for line in raw_lines(data):
        assert len(line) <= 998
        assert b"\r" not in line and b"\n" not in line  # no bare CR or LF
        assert all(32 <= byte < 127 for byte in line), line  # 7bit, no control bytes
    message = parsed(data)
    for part in message.walk():
        for name, value in part.items():
            assert not any(is_control(c) for c in str(value)), (name, str(value))
            assert "  " not in str(value), (name, str(value))
    return message


def send(content: Content, sender: str = SENDER,
         to: tuple[str, ...] = ("ops@bank.test",)) -> bytes:
    with smtp_server() as server:
        channel = Channel(name="mail", type="smtp", host="127.0.0.1", port=server.port,
                          sender=sender, timeout=5.0)
        outcome = deliver(channel, Delivery("mail", to), content, {}, max_attempts=1)
        assert outcome.ok, outcome.detail
        [received] = server.received
    assert received.rcpt_tos == tuple(re.sub(r".*<|>", "", a) for a in to)
    return received.data


@pytest.mark.parametrize("case", sorted(SUBJECTS))
def test_a_subject_arrives_exactly_as_written(case: str) -> None:
    subject = SUBJECTS[case]
    message = assert_clean_headers(send(Content(subject=subject)))
    assert message["Subject"] == subject
    assert message.get_all("Subject") == [subject]


def test_random_subjects_decode_to_what_was_written() -> None:
    pieces = ["CBS-2026-0107:", "[Released]", "修正跨币种转账手续费的舍入", "【已上线】", "fees",
              "a", "Ünïcödé", "x" * 30, "中", "rounding,", "(test)", '"quoted"', "é", "：",
              "—", "y" * 80, "修正跨币种转账手续费的舍入" * 3, "=?", "?=", "\\"]
    rng = random.Random(20261128)
    for _ in range(400):
        subject = rng.choice([" ", ""]).join(rng.choice(pieces)
                                             for _ in range(rng.randint(1, 30)))
        expected = " ".join(subject.split())
        data = wire(build_message(Content(subject=subject), SENDER, ["ops@bank.test"]))
        assert assert_clean_headers(data)["Subject"] == expected, subject


HOSTILE = ("补丁 \x1b[31mCBS-2026-0107\x07 上线\r\nBcc: evil@x \u202eabc\u2066 end\x9b\x85"
           "\tTab\x00\x7f \ud800")
# As every output shows them (core.text.shown_line): visible escapes, a break a space.
CLEANED = ("补丁 \\x1b[31mCBS-2026-0107\\x07 上线 Bcc: evil@x \\u202eabc\\u2066 end\\x9b\\x85 "
           "Tab\\x00\\x7f \\ud800")


def test_control_characters_never_reach_a_header() -> None:
    data = send(Content(subject=HOSTILE, lang="zh-CN\x1b"),
                sender="发布门禁\x1b[31m\u202e <releasegate@bank.test>",
                to=("ops@bank.test", "李四\x07\u2067 <li@bank.test>"))
    message = assert_clean_headers(data)
    assert message.get_all("Subject") == [CLEANED]
    assert "Bcc" not in message
    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("发布门禁\\x1b[31m\\u202e",
                                                       "releasegate@bank.test")
    assert [(a.display_name, a.addr_spec) for a in message["To"].addresses] == [
        ("", "ops@bank.test"), ("李四\\x07\\u2067", "li@bank.test")]
    assert message["Content-Language"] == "zh-CN\\x1b"
    assert message["Message-ID"].endswith("@bank.test>")


@pytest.mark.parametrize("title", ["\x1b[31m红色\x1b[0m", "\x07", "a\r\nBcc: evil@x",
                                   "\u202egnp.exe", "\r", "\n", "x\x85y", "\ud800"])
def test_each_hostile_title_is_cleaned(title: str) -> None:
    message = build_message(Content(subject=f"补丁 {title} 上线"), SENDER, ["ops@bank.test"])
    decoded = assert_clean_headers(wire(message))
    assert len(decoded.get_all("Subject") or []) == 1 and "Bcc" not in decoded
    assert decoded["Subject"].startswith("补丁 ") and decoded["Subject"].endswith(" 上线")


def test_long_names_in_address_headers_fold_cleanly() -> None:
    team = "零售银行核心系统变更管理委员会" * 2
    to = ("ops@bank.test", f"{team} <team@bank.test>", "IT Operations <it@bank.test>",
          '"Ops, Night Shift" <night@bank.test>')
    message = assert_clean_headers(wire(build_message(Content(), SENDER, list(to))))
    assert [(a.display_name, a.addr_spec) for a in message["To"].addresses] == [
        ("", "ops@bank.test"), (team, "team@bank.test"), ("IT Operations", "it@bank.test"),
        ("Ops, Night Shift", "night@bank.test")]


@pytest.mark.parametrize("case", sorted(SUBJECTS))
def test_a_notice_rendered_as_eml_keeps_its_subject_exactly(case: str) -> None:
    from releasegate.notices.render import RenderedNotice, build_email

    notice = RenderedNotice("CBS-2026-0107", "released", "business", "en", SUBJECTS[case], "text",
                            "text", "<p>text</p>", "<p>text</p>")
    message = assert_clean_headers(wire(build_email(notice, SENDER, ["ops@bank.test"])))
    assert message["Subject"] == SUBJECTS[case]
