"""Time: the one place releasegate reads the clock and parses dates users give."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from releasegate.core.errors import InputError

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def now() -> datetime:
    """The current time, in UTC."""
    return datetime.now(UTC)


def stamp(moment: datetime, *, millis: bool = True) -> str:
    """The ISO 8601 UTC form events record, to the millisecond: writes are serialized
    by the ledger's compare-and-swap, so stamps also order promotions (baselines).
    Expiry times people give are kept to the second (`millis=False`)."""
    utc = moment.astimezone(UTC)
    if not millis:
        return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_stamp(text: str) -> datetime:
    """A recorded UTC time stamp back as a datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def parse_until(text: str, timezone: str, option: str = "--until") -> datetime:
    """An expiry given as a date (the end of that day in the pipeline's time zone) or
    an ISO 8601 date and time with its offset; returned in UTC."""
    text = text.strip()
    try:
        if _DATE.fullmatch(text):
            day = datetime.strptime(text, "%Y-%m-%d").date()
            end = datetime.combine(day + timedelta(days=1), time(0), ZoneInfo(timezone))
            return end.astimezone(UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InputError(f"{option} {text!r} is not a date (YYYY-MM-DD) or a date and time "
                         "with its offset", code="bad-time",
                         hint="e.g. 2026-12-31, or 2026-12-31T18:00+08:00")
    return moment.astimezone(UTC)
