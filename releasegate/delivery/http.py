"""The one adapter around `requests`: a JSON POST with connect and read timeouts.

Failures leave as our own errors: `Unreachable` (transient: refused, reset, timed out)
or `BadEndpoint` (the URL or its TLS set-up is wrong; retrying will not help). Messages
name the endpoint only as scheme://host/…, since webhook URLs carry their tokens in the
path or the query string.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from releasegate.core.errors import ConfigError, ReleasegateError, TransientError

CONTENT_TYPE = "application/json; charset=utf-8"
MAX_BODY = 64 * 1024


class Unreachable(TransientError):
    code = "unreachable"


class BadEndpoint(ConfigError):
    code = "bad-endpoint"


@dataclass(frozen=True)
class Reply:
    status: int
    reason: str
    headers: Mapping[str, str]  # names in lower case
    text: str

    def json(self) -> Mapping[str, Any] | None:
        """The body as a JSON object, or None when it is not one."""
        try:
            data = json.loads(self.text)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def excerpt(self, limit: int = 200) -> str:
        text = " ".join(self.text.split())
        return text if len(text) <= limit else text[:limit] + "…"


def post_json(url: str, body: Mapping[str, Any], timeout: float) -> Reply:
    """POST `body` as UTF-8 JSON; redirects are not followed (requests would turn the
    POST into a GET), so a 3xx comes back as the reply."""
    import requests

    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": CONTENT_TYPE, "User-Agent": "releasegate"}
    try:
        response = requests.post(url, data=data, headers=headers, timeout=(timeout, timeout),
                                 allow_redirects=False)
    except requests.exceptions.RequestException as error:
        raise _translate(error, url, timeout) from None
    return Reply(status=response.status_code, reason=response.reason or "",
                 headers={k.lower(): v for k, v in response.headers.items()},
                 text=response.content[:MAX_BODY].decode("utf-8", "replace"))


def _translate(error: Exception, url: str, timeout: float) -> ReleasegateError:
    from requests import exceptions as failed

    where = redact_url(url)
    if isinstance(error, failed.Timeout):
        return Unreachable(f"{where} did not answer within {timeout:g} s")
    if isinstance(error, failed.SSLError):
        return BadEndpoint(f"TLS with {where} failed",
                           hint="check the server certificate; REQUESTS_CA_BUNDLE names "
                                "the CA bundle to trust")
    if isinstance(error, failed.MissingSchema | failed.InvalidSchema | failed.InvalidURL):
        return BadEndpoint(f"the webhook URL ({where}) is not a valid http(s) URL")
    if isinstance(error, failed.ConnectionError):
        return Unreachable(f"could not connect to {where} ({_connection_problem(error)})")
    return Unreachable(f"the request to {where} failed ({type(error).__name__})")


def _connection_problem(error: Exception) -> str:
    # The message of requests' error embeds the full URL: look, never show it.
    text = str(error).lower()
    for clue, problem in (("refused", "connection refused"), ("reset", "connection reset"),
                          ("name or service", "host name not found"),
                          ("nodename nor servname", "host name not found"),
                          ("proxy", "proxy failed")):
        if clue in text:
            return problem
    return "connection failed"


def redact_url(url: str) -> str:
    """`scheme://host[:port]/…`: the URL without credentials, path or query."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return "<the webhook URL>"
    if not parts.scheme or not host:
        return "<the webhook URL>"
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    hidden = parts.path not in ("", "/") or parts.query or parts.fragment
    return f"{parts.scheme}://{netloc}{'/…' if hidden else ''}"


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - now)
