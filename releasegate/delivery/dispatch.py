"""Delivering one rendered notice through one channel: SMTP e-mail or a chat webhook.

Nothing here reads or writes the ledger: `deliver` returns an `Outcome` and the caller
records it, so a failed delivery is retried on a later run and never marked as sent.
Secrets come from the environment mapping passed in and never reach an outcome's text.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl, urlsplit

from releasegate.core.errors import ConfigError, ReleasegateError, TransientError
from releasegate.core.subscriptions import Channel, Delivery
from releasegate.delivery.attempt import Attempt, NoticeContent, Outcome

FIRST_BACKOFF = 1.0  # seconds; doubled after each failed attempt


def deliver(channel: Channel, delivery: Delivery, content: NoticeContent,
            environ: Mapping[str, str], *, clock: Callable[[], float] = time.time,
            sleep: Callable[[float], None] = time.sleep, max_attempts: int = 4,
            max_wait: float = 30.0) -> Outcome:
    """Send `content` through `channel` to `delivery.to`, retrying transient failures
    (unreachable server, HTTP 429 and 5xx, rate-limit codes, SMTP 4xx) at most
    `max_attempts` times and waiting at most `max_wait` seconds in all, honouring
    Retry-After. Never raises for a failed delivery: the outcome says whether it may
    succeed later (`permanent` false) or needs a person to fix something first."""
    def attempt() -> Attempt:
        return _attempt(channel, delivery, content, environ, clock)

    outcome = _retrying(attempt, clock, sleep, max(1, max_attempts), max_wait)
    detail = scrub(f"{channel.name}: {outcome.detail}", secrets_of(channel, environ))
    return Outcome(ok=outcome.ok, permanent=outcome.permanent, detail=detail,
                   attempts=outcome.attempts, refused=outcome.refused)


def preview(channel: Channel, delivery: Delivery, content: NoticeContent) -> str:
    """What `deliver` would send (for --dry-run): the envelope or request line and the
    payload, with secrets shown only as the names of their variables. Sends nothing."""
    if channel.type == "smtp":
        from releasegate.delivery import email as mail

        return mail.preview(channel, delivery, content)
    if channel.type == "webhook":
        from releasegate.delivery import webhooks

        return webhooks.preview(channel, content)
    raise _unknown_type(channel)


def _attempt(channel: Channel, delivery: Delivery, content: NoticeContent,
             environ: Mapping[str, str], clock: Callable[[], float]) -> Attempt:
    try:
        if channel.type == "smtp":
            from releasegate.delivery import email as mail

            return mail.send(channel, delivery, content, environ)
        if channel.type == "webhook":
            from releasegate.delivery import webhooks

            return webhooks.send(channel, content, environ, clock)
        raise _unknown_type(channel)
    except ReleasegateError as error:
        detail = error.message + (f"; {error.hint}" if error.hint else "")
        return Attempt(ok=False, permanent=not isinstance(error, TransientError),
                       detail=detail)


def _unknown_type(channel: Channel) -> ConfigError:
    return ConfigError(f"channel '{channel.name}' has type '{channel.type}'; expected smtp "
                       "or webhook", key=f"notices.channels.{channel.name}.type",
                       code="channel-type")


def _retrying(attempt: Callable[[], Attempt], clock: Callable[[], float],
              sleep: Callable[[float], None], max_attempts: int, max_wait: float) -> Outcome:
    deadline = clock() + max_wait
    number = 0
    while True:
        number += 1
        result = attempt()
        if result.ok or result.permanent or number >= max_attempts:
            return _finish(result, number)
        wait = _wait(number, result.retry_after, deadline - clock())
        if wait is None:
            return _finish(result, number, _why_not_waiting(result.retry_after, max_wait))
        sleep(wait)


def _wait(number: int, asked: float | None, remaining: float) -> float | None:
    """Seconds to wait before the next attempt; None when the bound forbids waiting."""
    if asked is not None:
        return asked if asked <= remaining else None
    if remaining <= 0:
        return None
    return min(FIRST_BACKOFF * 2.0 ** (number - 1), remaining)


def _why_not_waiting(asked: float | None, max_wait: float) -> str:
    if asked is None:
        return f"the {max_wait:g} s allowed for retries are used up"
    return f"the server asks to wait {asked:g} s, beyond the {max_wait:g} s allowed"


def _finish(result: Attempt, attempts: int, note: str = "") -> Outcome:
    detail = result.detail
    if note:
        detail += f"; {note}"
    if attempts > 1:
        detail += f" (after {attempts} attempts)"
    return Outcome(ok=result.ok, permanent=result.permanent, detail=detail,
                   attempts=attempts, refused=result.refused)


def secrets_of(channel: Channel, environ: Mapping[str, str]) -> tuple[str, ...]:
    """The secret values a channel uses: its URL and the tokens inside it, its signing
    secret and its password, longest first."""
    found = {environ.get(name or "", "") for name in
             (channel.url_env, channel.secret_env, channel.password_env)}
    url = environ.get(channel.url_env or "", "")
    if url:
        try:
            parts = urlsplit(url)
        except ValueError:
            parts = None
        if parts is not None:
            found.update(s for s in parts.path.split("/") if len(s) >= 16)
            found.update(v for _, v in parse_qsl(parts.query) if len(v) >= 8)
            found.add(parts.password or "")
    return tuple(sorted((s for s in found if len(s) >= 4), key=len, reverse=True))


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with every secret replaced by ***."""
    for secret in secrets:
        text = text.replace(secret, "***")
    return text
