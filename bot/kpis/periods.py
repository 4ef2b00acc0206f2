"""Periods in the team's time zone: `today`, `week`, a day, a range... and the comparable
period before each."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from supportbot.bot import dates, formats, keywords
from supportbot.bot.errors import InvalidInput
from supportbot.bot.timeutil import local_midnight, zone


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC, with the comparable period before it and a label."""

    key: str
    label: str
    start: datetime
    end: datetime
    prev_start: datetime
    prev_end: datetime


_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
PERIOD_WORDS = ("today", "yesterday", "week", "last-week", "month", "last-month")


def is_period(text: str) -> bool:
    """A period keyword in either language (`week`, `semana`) or an ISO day or range."""
    word = keywords.canonical("kpis", text) or text.lower()
    return word in PERIOD_WORDS or bool(_DAY.match(word) or _RANGE.match(word))


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    return date(d.year + y, m + 1, 1)


def _local_at(day: date, wall: time, tz: str) -> datetime:
    return datetime.combine(day, wall, tzinfo=zone(tz))


def parse_period(text: str, *, now: datetime, tz: str, lang: str = "en") -> Period:
    """`today`, `yesterday`, `week`, `last-week`, `month`, `last-month` (or their Spanish
    words: `hoy`, `ayer`, `semana`...), a day or a range in words or numbers (`ayer`,
    `el viernes`, `24/11`, `nov 20-22`, ISO): those are labelled in words.

    Every label is in words in `lang` (bot/formats.py, Babel): `Mon, Nov 23` / `lun 23 nov`,
    `Mon, Nov 16 – Sun, Nov 22`, `November 2026` / `noviembre de 2026`.

    Days are calendar days in the team's zone (23 or 25 hours on DST days). Partial
    periods (today, week, month) compare with the same elapsed part of the one before;
    `today` with the same hours of the same weekday a week earlier.
    """
    word = (text or "today").strip().lower()
    word = keywords.canonical("kpis", word) or word
    local_now = now.astimezone(zone(tz))
    today = local_now.date()
    wall = local_now.timetz().replace(tzinfo=None)

    def day_start(d: date) -> datetime:
        return local_midnight(d, tz)

    if word == "today":
        week_ago = today - timedelta(days=7)
        return _mk(
            word, formats.day(lang, today), day_start(today), now,
            day_start(week_ago), _local_at(week_ago, wall, tz),
        )
    if word == "yesterday":
        d = today - timedelta(days=1)
        return _days(word, formats.day(lang, d), d, d, tz)
    if word in ("week", "last-week"):
        monday = today - timedelta(days=today.weekday())
        if word == "week":
            prev = monday - timedelta(days=7)
            label = dates.span_in_words(dates.Span(monday, today), lang)
            return Period(
                word, label, day_start(monday), now,
                day_start(prev), _local_at(prev + (today - monday), wall, tz),
            )
        start = monday - timedelta(days=7)
        last = monday - timedelta(days=1)
        return _days(word, dates.span_in_words(dates.Span(start, last), lang), start, last, tz)
    if word in ("month", "last-month"):
        first = _month_start(today)
        if word == "month":
            prev = _add_months(first, -1)
            elapsed = today - first
            prev_day = min(prev + elapsed, first - timedelta(days=1))
            prev_end = (
                _local_at(prev_day, wall, tz) if prev + elapsed < first else day_start(first)
            )
            return _mk(word, formats.month(lang, first), day_start(first), now, day_start(prev), prev_end)
        start = _add_months(first, -1)
        return _mk(
            word, formats.month(lang, start), day_start(start), day_start(first),
            day_start(_add_months(first, -2)), day_start(start),
        )
    try:
        span = dates.parse_span(text, lang=lang, today=today, prefer="past")
    except InvalidInput:
        if any(ch.isdigit() for ch in text):
            raise
        raise InvalidInput("kpis.bad_period", value=text) from None
    if span.end < span.start:
        raise InvalidInput("kpis.bad_range", value=text)
    if (span.end - span.start).days > 731:
        raise InvalidInput("kpis.range_too_long", value=text)
    iso = span.start.isoformat() if span.days == 1 else f"{span.start.isoformat()}..{span.end.isoformat()}"
    return _days(iso, dates.span_in_words(span, lang, today=today), span.start, span.end, tz)


def _mk(key: str, label: str, *bounds: datetime) -> Period:
    start, end, prev_start, prev_end = (b.astimezone(UTC) for b in bounds)
    return Period(key, label, start, end, prev_start, prev_end)


def _days(key: str, label: str, first: date, last: date, tz: str) -> Period:
    """Whole calendar days first..last, compared with as many days just before."""
    n = (last - first).days + 1
    return _mk(
        key,
        label,
        local_midnight(first, tz),
        local_midnight(last + timedelta(days=1), tz),
        local_midnight(first - timedelta(days=n), tz),
        local_midnight(first, tz),
    )


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    return local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)
