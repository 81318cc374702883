"""Request signatures of the chat robots that take a signing secret.

Both sign an HMAC-SHA256 over the time stamp and the secret; they differ in which of
the two is the key, the time unit, and whether the result is URL-encoded (DingTalk
sends it in the query string, Feishu in the JSON body).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote_plus


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's `sign` query value, already URL-encoded: base64 of the HMAC-SHA256
    keyed with the secret over "<timestamp in ms>\\n<secret>"."""
    message = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode("ascii"))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's `sign` body field: base64 of the HMAC-SHA256 keyed with
    "<timestamp in s>\\n<secret>" over the empty message."""
    key = f"{timestamp_s}\n{secret}".encode()
    digest = hmac.new(key, b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")
