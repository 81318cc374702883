"""Notices to chat webhooks: one payload shape per platform, and what each platform's
reply means (delivered, try again, or give up until a person fixes something).

Texts from patch manifests reach chat rooms, so each payload escapes what the platform
would interpret, and mentions that notify a whole room (@all, <!channel>, <at ...>)
are broken with a zero-width space: a vendor's text never pages everyone.

Each platform refuses a message past its size (Slack 50 blocks, WeCom 4096 bytes, Teams
about 28 KB); `fit` cuts a notice that is too long for one at a line end, the same way
for every platform, and says how many lines it left out ("… and 150 more") followed by
the notice's address when the content has one (a `url` member).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any

from releasegate.core.errors import ConfigError
from releasegate.core.subscriptions import Channel
from releasegate.delivery.attempt import Attempt, NoticeContent
from releasegate.delivery.http import Reply, post_json, redact_url, retry_after
from releasegate.delivery.signing import dingtalk_sign, feishu_sign

SIGNED = ("dingtalk", "feishu")
# Reply codes meaning "too fast" or "busy": worth another attempt.
RETRYABLE_CODES: Mapping[str, frozenset[int]] = {
    "dingtalk": frozenset({-1, 130101, 90030}),
    "wecom": frozenset({-1, 45009}),
    "feishu": frozenset({11232, 99991400}),
}
ACCEPTED_STATUS: Mapping[str, tuple[int, ...]] = {
    "slack": (200,), "teams": (202, 200), "dingtalk": (200,), "wecom": (200,), "feishu": (200,),
}
SLACK_SECTION = 3000  # characters of mrkdwn per section block
SLACK_BLOCKS = 50
WECOM_BYTES = 4096
# Teams refuses a message above about 28 KB; the JSON body stays below this many bytes.
TEAMS_BYTES = 27 * 1024
TEAMS_SUBJECT = 1000  # characters

_ZWSP = "\u200b"
_ROOM_WORD = re.compile(r"@(?=all|everyone|channel|here|所有人)", re.IGNORECASE)
_MENTION_TAG = re.compile(r"<(?=[!@]|at\b)", re.IGNORECASE)


@dataclass(frozen=True)
class Notice:
    """A `NoticeContent` with its room-wide mentions neutralised."""

    patch: str
    kind: str
    audience: str
    lang: str
    subject: str
    text: str
    markdown: str
    html: str
    url: str = ""  # the notice's address, when the content has one


CONTENT_FIELDS = tuple(f.name for f in fields(Notice) if f.name != "url")


def neutralise_mentions(text: str, *, tags: bool = True) -> str:
    """`text` with @all, @channel and the like made inert, and with `tags` also the
    mention tags <!here>, <@id> and <at ...>."""
    text = _ROOM_WORD.sub("@" + _ZWSP, text)
    return _MENTION_TAG.sub("<" + _ZWSP, text) if tags else text


def escape_mrkdwn(text: str) -> str:
    """Slack's three control characters as entities, so text shows as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def safe_notice(content: NoticeContent) -> Notice:
    # The HTML keeps its <!DOCTYPE> and comments: the renderer escaped every "<" of
    # the patch texts in it, and no chat platform reads it for mentions.
    values = {name: neutralise_mentions(str(getattr(content, name)), tags=name != "html")
              for name in CONTENT_FIELDS}
    url = neutralise_mentions(str(getattr(content, "url", None) or ""))
    return Notice(**values, url=" ".join(url.split()))


def generic_payload(notice: Notice) -> dict[str, Any]:
    return {name: getattr(notice, name) for name in CONTENT_FIELDS}


def slack_payload(notice: Notice) -> dict[str, Any]:
    """An incoming-webhook message: a header and the plain text in mrkdwn sections."""
    header = {"type": "header", "text": {"type": "plain_text", "emoji": False,
                                         "text": _clip(notice.subject or notice.patch, 150)}}

    def sections(text: str) -> list[str]:
        return _chunks(escape_mrkdwn(text), SLACK_SECTION)

    text = fit(notice.text, lambda t: len(sections(t)) < SLACK_BLOCKS, notice.url)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": chunk}}
              for chunk in sections(text)]
    return {"text": escape_mrkdwn(notice.subject), "blocks": [header, *blocks]}


def teams_payload(notice: Notice) -> dict[str, Any]:
    """A Workflows message with one Adaptive Card 1.4; TextRuns are never read as
    markdown, so patch texts show as written. The JSON body stays below TEAMS_BYTES."""
    subject = _clip(notice.subject, TEAMS_SUBJECT)
    text = fit(notice.text, lambda t: _json_size(_teams_message(subject, t)) <= TEAMS_BYTES,
               notice.url)
    return _teams_message(subject, text)


def _teams_message(subject: str, text: str) -> dict[str, Any]:
    body = [_rich_text(subject, weight="Bolder", size="Medium")]
    body += [_rich_text(p) for p in _paragraphs(text)]
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard", "version": "1.4", "body": body,
            "msteams": {"width": "Full"}}
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
         "content": card}]}


def _json_size(body: Mapping[str, Any]) -> int:
    """Bytes of `body` as `http.post_json` sends it."""
    return len(json.dumps(body, ensure_ascii=False).encode("utf-8"))


def dingtalk_payload(notice: Notice) -> dict[str, Any]:
    return {"msgtype": "markdown",
            "markdown": {"title": notice.subject, "text": notice.markdown}}


def wecom_payload(notice: Notice) -> dict[str, Any]:
    return {"msgtype": "markdown",
            "markdown": {"content": fit(notice.markdown,
                                        lambda t: len(t.encode("utf-8")) <= WECOM_BYTES,
                                        notice.url)}}


def feishu_payload(notice: Notice) -> dict[str, Any]:
    """A rich-text post; its text elements are shown literally, never as markup."""
    lang = "zh_cn" if notice.lang.lower().startswith("zh") else "en_us"
    rows = [[{"tag": "text", "text": line}] for line in notice.text.splitlines()]
    return {"msg_type": "post",
            "content": {"post": {lang: {"title": notice.subject, "content": rows}}}}


PAYLOADS: Mapping[str, Callable[[Notice], dict[str, Any]]] = {
    "generic": generic_payload, "slack": slack_payload, "teams": teams_payload,
    "dingtalk": dingtalk_payload, "wecom": wecom_payload, "feishu": feishu_payload,
}


def payload(channel: Channel, content: NoticeContent) -> dict[str, Any]:
    """The JSON body for the channel's format, before any signature."""
    build = PAYLOADS.get(channel.format)
    if build is None:
        raise ConfigError(f"channel '{channel.name}' has format '{channel.format}'; expected "
                          f"one of {', '.join(PAYLOADS)}",
                          key=f"notices.channels.{channel.name}.format", code="channel-format")
    return build(safe_notice(content))


def send(channel: Channel, content: NoticeContent, environ: Mapping[str, str],
         clock: Callable[[], float]) -> Attempt:
    """One POST of the notice; the reply judged by the channel's format."""
    body = payload(channel, content)
    url = _variable(channel, channel.url_env, "url_env", environ)
    secret = _secret(channel, environ)
    if secret is not None:
        url, body = sign(channel.format, url, body, secret, clock())
    reply = post_json(url, body, channel.timeout)
    return judge(channel.format, reply, redact_url(url), clock())


def sign(fmt: str, url: str, body: dict[str, Any], secret: str,
         now: float) -> tuple[str, dict[str, Any]]:
    """The URL and body carrying the platform's signature of time `now`."""
    if fmt == "dingtalk":
        stamp = int(now * 1000)
        joiner = "&" if "?" in url else "?"
        return f"{url}{joiner}timestamp={stamp}&sign={dingtalk_sign(secret, stamp)}", body
    stamp = int(now)
    return url, {**body, "timestamp": str(stamp), "sign": feishu_sign(secret, stamp)}


def judge(fmt: str, reply: Reply, where: str, now: float) -> Attempt:
    """Delivered, worth retrying (429, 5xx, a rate-limit code) or permanently failed."""
    code, message = _reply_code(fmt, reply)
    answered = f"{where} answered HTTP {reply.status} {reply.reason}".rstrip()
    if code is not None and code != 0:
        answered += f", error {code}" + (f": {message}" if message else "")
    elif not 200 <= reply.status < 300 and reply.text.strip():
        answered += f": {reply.excerpt()}"
    busy = reply.status == 429 or reply.status >= 500
    if busy or code in RETRYABLE_CODES.get(fmt, ()):
        return Attempt(ok=False, permanent=False, detail=answered,
                       retry_after=retry_after(reply.headers.get("retry-after"), now))
    if not _accepted(fmt, reply.status):
        hint = "; use the URL it redirects to" if 300 <= reply.status < 400 else ""
        return Attempt(ok=False, permanent=True, detail=answered + hint)
    if fmt in RETRYABLE_CODES and code != 0:
        why = "" if code is not None else f" without an error code: {reply.excerpt()}"
        return Attempt(ok=False, permanent=True, detail=answered + why)
    return Attempt(ok=True, permanent=False, detail=f"{where} accepted the notice "
                                                    f"(HTTP {reply.status})")


def preview(channel: Channel, content: NoticeContent) -> str:
    """The request `send` would make, with the URL and secret named, not shown."""
    body = payload(channel, content)
    line = f"POST <URL from ${channel.url_env}>"
    if channel.secret_env and channel.format == "dingtalk":
        line += f"&timestamp=<now, ms>&sign=<HMAC-SHA256 keyed by ${channel.secret_env}>"
    elif channel.secret_env and channel.format == "feishu":
        body = {**body, "timestamp": "<now, s>",
                "sign": f"<HMAC-SHA256 of ${channel.secret_env}>"}
    text = json.dumps(body, ensure_ascii=False, indent=2)
    return (f"{line}\nContent-Type: application/json; charset=utf-8\n"
            f"# channel '{channel.name}', format {channel.format}\n\n{text}\n")


def _accepted(fmt: str, status: int) -> bool:
    return status in ACCEPTED_STATUS.get(fmt, range(200, 300))


def _reply_code(fmt: str, reply: Reply) -> tuple[int | None, str]:
    """The platform's own result code and message in a JSON reply, if it has one."""
    if fmt not in RETRYABLE_CODES:
        return None, ""
    data = reply.json() or {}
    for code_key, message_key in (("errcode", "errmsg"), ("code", "msg"),
                                  ("StatusCode", "StatusMessage")):
        code = data.get(code_key)
        if isinstance(code, int) and not isinstance(code, bool):
            return code, str(data.get(message_key, ""))
    return None, ""


def _variable(channel: Channel, name: str | None, key: str, environ: Mapping[str, str]) -> str:
    if not name:
        raise ConfigError(f"channel '{channel.name}' names no variable in '{key}'",
                          key=f"notices.channels.{channel.name}.{key}", code="channel-secret")
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigError(f"the environment variable {name} is not set",
                          hint=f"set {name} for channel '{channel.name}' ({key})",
                          code="channel-secret")
    return value


def _secret(channel: Channel, environ: Mapping[str, str]) -> str | None:
    if not channel.secret_env:
        return None
    if channel.format not in SIGNED:
        raise ConfigError(f"channel '{channel.name}': format '{channel.format}' signs nothing",
                          hint="remove secret_env, or use format dingtalk or feishu",
                          key=f"notices.channels.{channel.name}.secret_env",
                          code="channel-secret")
    return _variable(channel, channel.secret_env, "secret_env", environ)


def fit(text: str, fits: Callable[[str], bool], url: str = "") -> str:
    """`text` whole if `fits` it, else its longest run of first lines that fits followed
    by "… and N more" (N: the non-blank lines left out) and `url` on a line of its own.
    A first line too long on its own is cut with "…". `fits` says whether a candidate is
    small enough for the platform; it is asked about O(log lines) candidates."""
    if fits(text):
        return text
    lines = text.splitlines()
    # A link that does not fit is left out rather than the text.
    return _cut_lines(lines, fits, url) or _cut_lines(lines, fits, "") or "…"


def _cut_lines(lines: list[str], fits: Callable[[str], bool], link: str) -> str | None:
    def cut(keep: int, partial: str = "") -> str:
        head = "\n".join([*lines[:keep], partial]).rstrip()
        left = sum(1 for line in lines[keep + bool(partial):] if line.strip())
        tail = [f"… and {left} more"] if left else []
        tail += [link] if link and (left or partial) else []
        return "\n".join([head, *tail] if head else tail)

    if not fits(cut(0)):
        return None
    keep = _largest(0, len(lines) - 1, lambda k: fits(cut(k)))
    if keep == 0 and lines:  # not even the first line fits whole: cut inside it
        first = lines[0]
        chars = _largest(0, len(first) - 1, lambda c: fits(cut(0, first[:c] + "…")))
        if chars:
            return cut(0, first[:chars] + "…")
    return cut(keep)


def _largest(low: int, high: int, ok: Callable[[int], bool]) -> int:
    """The largest n in [low, high] with ok(n), by bisection; `ok(low)` holds."""
    while low < high:
        middle = (low + high + 1) // 2
        if ok(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _chunks(text: str, limit: int) -> list[str]:
    """`text` cut into pieces of at most `limit` characters, at line ends if possible."""
    pieces: list[str] = []
    current = ""
    for line in _short_lines(text, limit):
        if len(current) + len(line) > limit:
            pieces.append(current)
            current = ""
        current += line
    pieces.append(current)
    return [p.strip("\n") for p in pieces if p.strip()]


def _short_lines(text: str, limit: int) -> Iterator[str]:
    for line in text.splitlines(keepends=True):
        while len(line) > limit:
            cut = _entity_safe_cut(line, limit)
            yield line[:cut]
            line = line[cut:]
        yield line


def _entity_safe_cut(line: str, limit: int) -> int:
    # Never split an escaped &amp; / &lt; / &gt; in two.
    amp = line.rfind("&", limit - 4, limit)
    return amp if amp > 0 and ";" not in line[amp:limit] else limit


def _paragraphs(text: str) -> list[str]:
    return [p.strip("\n") for p in re.split(r"\n\s*\n", text) if p.strip()]


def _rich_text(text: str, **style: str) -> dict[str, Any]:
    return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": text, **style}]}
