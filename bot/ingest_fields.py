"""Reading one CSV field: times, whole numbers in a range, CSAT (imports and the helpdesk
sync share these); a bad value raises ValueError with what was expected."""

from __future__ import annotations

import math
from datetime import UTC, datetime


def parse_time(text: str) -> datetime:
    """ISO 8601; no offset means UTC. Also `YYYY-MM-DD HH:MM[:SS]` and a `Z` suffix."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not an ISO 8601 time: {text!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def utc_time(value: str) -> datetime:
    """parse_time for a stripped value, with the common case first."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return parse_time(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed if parsed.tzinfo is UTC else parsed.astimezone(UTC)


def whole(text: str, name: str, low: int, high: int) -> int:
    """integer for a stripped value, with plain digits first."""
    try:
        number = int(text)
    except ValueError:
        return integer(text, name, low, high)
    return number if low <= number <= high else integer(text, name, low, high)


def integer(text: str, name: str, low: int, high: int) -> int:
    try:
        number = float(text.strip())
    except ValueError:
        raise ValueError(f"{name} must be a number, got {text!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a number, got {text!r}")
    if number != int(number):
        raise ValueError(f"{name} must be a whole number, got {text!r}")
    if not low <= number <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {text!r}")
    return int(number)


def parse_csat(text: str) -> tuple[int | None, bool]:
    """1-5 (4-5 satisfied) or good/bad."""
    value = text.strip().lower()
    if value in ("good", "satisfied"):
        return None, True
    if value in ("bad", "unsatisfied"):
        return None, False
    score = integer(value, "csat", 1, 5) if value.replace(".", "", 1).isdigit() else None
    if score is None:
        raise ValueError(f"csat must be 1-5, good or bad, got {text!r}")
    return score, score >= 4
