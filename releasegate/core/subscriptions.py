"""The notices part of the pipeline: languages, channels and subscribers.

Kept apart from releasegate.model so commands that never send a notice (a gate
check) do not pay for defining these types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from releasegate.core.text import Text


@dataclass(frozen=True)
class Channel:
    """Where notices go: an SMTP server or a chat webhook; secrets stay in the
    environment variables named here, never in the ledger."""

    name: str
    type: str  # smtp | webhook
    host: str | None = None
    port: int | None = None
    sender: str | None = None
    starttls: bool = False
    tls: bool = False
    user_env: str | None = None
    password_env: str | None = None
    format: str = "generic"  # generic | slack | teams | dingtalk | wecom | feishu
    url_env: str | None = None
    secret_env: str | None = None
    timeout: float = 10.0


@dataclass(frozen=True)
class Delivery:
    channel: str
    to: tuple[str, ...] = ()


@dataclass(frozen=True)
class Subscriber:
    name: str
    systems: tuple[str, ...]
    deliveries: tuple[Delivery, ...]
    language: str = "zh-CN"
    audience: str = "business"


@dataclass(frozen=True)
class Notices:
    languages: tuple[str, ...] = ("zh-CN", "en")
    contact: Text | None = None
    on_promote: bool = False
    channels: Mapping[str, Channel] = field(default_factory=dict)
    subscribers: Mapping[str, Subscriber] = field(default_factory=dict)
