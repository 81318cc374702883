"""Time: the one place releasegate reads the clock and parses dates users give."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from releasegate.core.errors import InputError

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2}(?::?\d{2}(?:\.\d+)?)?)$")

# The dates a person may give as an expiry: the end of the last one must still be a
# time in every zone, and the first keeps stamps four-digit years.
EARLIEST = date(1970, 1, 1)
LATEST = date(9999, 12, 30)
# The offsets zones really have (UTC-12:00 to UTC+14:00).
_MIN_OFFSET, _MAX_OFFSET = timedelta(hours=-12), timedelta(hours=14)


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
    an ISO 8601 date and time with its offset; returned in UTC. Dates lie between
    EARLIEST and LATEST, offsets between UTC-12:00 and UTC+14:00."""
    text = text.strip()
    try:
        if _DATE.fullmatch(text):
            day = datetime.strptime(text, "%Y-%m-%d").date()
            _check_range(day, text, option)
            end = datetime.combine(day + timedelta(days=1), time(0), ZoneInfo(timezone))
            return end.astimezone(UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None and _OFFSET.search(text):
        try:  # a date and time that only its offset spoils
            datetime.fromisoformat(_OFFSET.sub("", text))
        except ValueError:
            pass
        else:
            raise _bad_offset(text, option)
    if moment is None or moment.tzinfo is None:
        raise InputError(f"{option} {text!r} is not a date (YYYY-MM-DD) or a date and time "
                         "with its offset", code="bad-time",
                         hint="e.g. 2026-12-31, or 2026-12-31T18:00+08:00")
    offset = moment.utcoffset()
    if offset is None or not _MIN_OFFSET <= offset <= _MAX_OFFSET:
        raise _bad_offset(text, option)
    _check_range(moment.date(), text, option)
    return moment.astimezone(UTC)


def _check_range(day: date, text: str, option: str) -> None:
    if not EARLIEST <= day <= LATEST:
        raise InputError(f"{option} {text!r} is out of range; give a date between "
                         f"{EARLIEST.isoformat()} and {LATEST.isoformat()}", code="bad-time")


def _bad_offset(text: str, option: str) -> InputError:
    return InputError(f"{option} {text!r} has an offset no time zone has; give one between "
                      "-12:00 and +14:00, e.g. 2026-12-31T18:00+08:00", code="bad-time")
