"""Parsing and converting times the way users type them."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from supportbot.bot import formats
from supportbot.bot.errors import InvalidInput

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|min|h|d)?\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("common.bad_timezone", value=name) from None


def is_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
        return "/" in name or name == "UTC"
    except (ZoneInfoNotFoundError, ValueError):
        return False


def parse_duration(text: str) -> timedelta:
    """'5m', '1h', '90s', '2d' or a bare number of minutes."""
    match = _DURATION.match(text)
    if not match:
        raise InvalidInput("common.bad_duration", value=text)
    unit = (match.group(2) or "m").lower()
    seconds = int(match.group(1)) * _UNITS[unit]
    if seconds <= 0:
        raise InvalidInput("common.bad_duration", value=text)
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta, lang: str = "en", *, length: str = "narrow") -> str:
    """An age or a wait the way `lang` writes it, via Babel (bot/formats.py `elapsed`):
    narrow `2h 5m` / `2h 5min` where space is tight, long `2 hours, 5 minutes` /
    `2 horas y 5 minutos`."""
    return formats.elapsed(lang, delta.total_seconds(), length=length)


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput("common.bad_date", value=text) from None


def local(when: datetime, tz: str) -> datetime:
    return when.astimezone(zone(tz))


def local_midnight(day: date, tz: str) -> datetime:
    """The aware instant a calendar day starts in a zone (DST-safe)."""
    return datetime(day.year, day.month, day.day, tzinfo=zone(tz))


def parse_hhmm(text: str) -> str:
    """'9:30' or '09:30' -> '09:30'."""
    match = re.fullmatch(r"\s*([01]?\d|2[0-3]):([0-5]\d)\s*", text or "")
    if not match:
        raise InvalidInput("common.bad_time", value=text)
    return f"{int(match.group(1)):02d}:{match.group(2)}"
