"""Numbers, percentages, dates and durations the way each language writes them, via Babel.

English keeps `1,472`, `76.8%`, `Thu, Dec 24`; Spanish gets `1.472`, `76,8 %`, `jue 24 dic`.
Built to Babel's documented API:
https://babel.pocoo.org/en/latest/numbers.html (format_decimal, format_percent) and
https://babel.pocoo.org/en/latest/dates.html (format_date, format_datetime, format_timedelta).
Every placeholder of bot/messages/*.toml that shows a figure receives a string from here.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_timedelta
from babel.numbers import format_decimal, format_percent

from supportbot.bot.i18n import LANGUAGES, t


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
        moment = moment.astimezone(ZoneInfo(tz))
    return f"{day(lang, moment.date())}, {format_datetime(moment, 'HH:mm', locale=_locale(lang))}"


def duration(lang: str, seconds: float, *, format: str = "long") -> str:
    """`2 hours` / `2 horas` (rounded to the largest sensible unit)."""
    return format_timedelta(timedelta(seconds=seconds), format=format, locale=_locale(lang))


def weekday_time(lang: str, moment: datetime, tz: str | None = None) -> str:
    """`Thu 14:05` / `jue 14:05` in the zone `tz`: a time within the coming week."""
    if tz:
        moment = moment.astimezone(ZoneInfo(tz))
    return format_datetime(moment, "EEE HH:mm", locale=_locale(lang))
