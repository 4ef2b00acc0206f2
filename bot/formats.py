"""Numbers, percentages, dates and durations the way each language writes them, via Babel.

English keeps `1,472`, `76.8%`, `Thu, Dec 24`; Spanish gets `1.472`, `76,8 %`, `jue 24 dic`.
Built to Babel's documented API:
https://babel.pocoo.org/en/latest/numbers.html (format_decimal, format_percent) and
https://babel.pocoo.org/en/latest/dates.html (format_date, format_datetime, format_timedelta),
https://babel.pocoo.org/en/latest/api/units.html (format_unit) and
https://babel.pocoo.org/en/latest/api/lists.html (format_list, the CLDR "unit" list styles).
Every placeholder of bot/messages/*.toml that shows a figure receives a string from here.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_timedelta
from babel.lists import format_list
from babel.numbers import format_decimal, format_percent
from babel.units import format_unit

from supportbot.bot.i18n import LANGUAGES, t


def _aware(moment: datetime) -> datetime:
    """The database hands SQLite timestamps back naive; they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _locale(lang: str) -> str:
    return lang if lang in LANGUAGES else "en"


def _with_digits(pattern: str, digits: int) -> str:
    """`#,##0 %` -> `#,##0.0 %` for digits=1 (the locale's pattern, fixed decimals)."""
    if digits <= 0:
        return pattern
    return re.sub(r"0(?=[^0#.,]*$)", "0." + "0" * digits, pattern, count=1)


def number(lang: str, x: float | int, digits: int = 0, *, sign: bool = False) -> str:
    """`1,472` / `1.472`; `digits` fixed decimals; `sign` adds `+` to positive numbers."""
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    text = format_decimal(x, format=pattern, locale=_locale(lang))
    return ("+" + text) if sign and x > 0 else text


def percent(lang: str, x: float, digits: int = 1, *, sign: bool = False) -> str:
    """`x` in points (76.8 -> `76.8%` / `76,8 %`)."""
    pattern = _with_digits(Locale.parse(_locale(lang)).percent_formats[None].pattern, digits)
    text = format_percent(x / 100.0, format=pattern, locale=_locale(lang))
    return ("+" + text) if sign and x > 0 else text


def day(lang: str, d: date, *, year: bool = False) -> str:
    """`Thu, Dec 24` / `jue 24 dic` (with the year when `year`)."""
    key = "common.date_words_year" if year else "common.date_words"
    return format_date(d, t(_locale(lang), key), locale=_locale(lang))


def short_day(lang: str, d: date) -> str:
    """`12/24` / `24/12`: a chart's axis label."""
    return format_date(d, "M/d" if _locale(lang) == "en" else "d/M", locale=_locale(lang))


def when(lang: str, moment: datetime, tz: str | None = None) -> str:
    """`Thu, Dec 24, 14:05` / `jue 24 dic, 14:05` in the zone `tz` (the team's)."""
    if tz:
        moment = _aware(moment).astimezone(ZoneInfo(tz))
    return f"{day(lang, moment.date())}, {format_datetime(moment, 'HH:mm', locale=_locale(lang))}"


def duration(lang: str, seconds: float, *, format: str = "long") -> str:
    """`2 hours` / `2 horas` (rounded to the largest sensible unit)."""
    return format_timedelta(timedelta(seconds=seconds), format=format, locale=_locale(lang))


def weekday_time(lang: str, moment: datetime, tz: str | None = None) -> str:
    """`Thu 14:05` / `jue 14:05` in the zone `tz`: a time within the coming week."""
    if tz:
        moment = _aware(moment).astimezone(ZoneInfo(tz))
    return format_datetime(moment, "EEE HH:mm", locale=_locale(lang))


def month(lang: str, d: date) -> str:
    """`November 2026` / `noviembre de 2026`: a calendar month."""
    return format_date(d, "LLLL y" if _locale(lang) == "en" else "LLLL 'de' y", locale=_locale(lang))


def time_of_day(lang: str, moment: datetime, tz: str | None = None) -> str:
    """`14:05` in the zone `tz` (both languages write the 24-hour clock the bot uses)."""
    if tz:
        moment = _aware(moment).astimezone(ZoneInfo(tz))
    return format_datetime(moment, "HH:mm", locale=_locale(lang))


_UNITS = (("duration-day", 86400), ("duration-hour", 3600), ("duration-minute", 60), ("duration-second", 1))


def elapsed(lang: str, seconds: float, *, length: str = "narrow") -> str:
    """An age or a wait to the minute, at most two units: narrow `2h 5m` / `2h 5min`
    (where space is tight), long `2 hours, 5 minutes` / `2 horas y 5 minutos`.

    Seconds show only under a minute, minutes under a day (as `format_duration` did);
    each part is Babel's `format_unit` and the parts are joined by the locale's CLDR unit
    list pattern.
    """
    total = max(0, int(seconds))
    if total < 60:
        parts = [(total, "duration-second")]
    else:
        minutes = total // 60
        days, rest = divmod(minutes, 24 * 60)
        hours, minutes = divmod(rest, 60)
        if days:
            parts = [(days, "duration-day"), (hours, "duration-hour")]
        elif hours:
            parts = [(hours, "duration-hour"), (minutes, "duration-minute")]
        else:
            parts = [(minutes, "duration-minute")]
        parts = [p for p in parts if p[0]] or parts[:1]
    return _joined_units(_locale(lang), tuple(parts), length)


# Few distinct values are ever shown (deadlines, and ages to the minute), and Babel's
# pattern lookups cost more than the rest of an /escalate confirmation: kept per process.
@lru_cache(maxsize=4096)
def _joined_units(loc: str, parts: tuple[tuple[int, str], ...], length: str) -> str:
    words = [format_unit(n, unit, length=length, locale=loc) for n, unit in parts]
    if len(words) == 1:
        return words[0]
    style = "unit-narrow" if length == "narrow" else "unit"
    patterns = Locale.parse(loc).list_patterns.get(style, {})
    if "2" not in patterns and "end" in patterns:
        # Babel's data for `es` keeps only CLDR's `end` pattern of this style (`{0} y {1}`),
        # which is the two-item pattern too.
        return str(patterns["end"]).format(*words)
    return format_list(words, style=style, locale=loc)


def score(lang: str, value: float | None, scale: int | None = None, *, digits: int = 1, sign: bool = False) -> str:
    """`3.6/5` / `3,6/5`, or `–` when there is no value (an average nobody may see yet)."""
    if value is None:
        return "–"
    text = number(lang, value, digits, sign=sign)
    return f"{text}/{scale}" if scale else text
