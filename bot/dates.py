"""Dates and date ranges as people type them, in English or Spanish, read by `dateparser`.

dateparser (https://dateparser.readthedocs.io/en/latest/settings.html) reads relative days
(`mañana`, `tomorrow`), weekdays (`viernes`, `next friday`), day and month in words or
numbers (`24 dic`, `dec 24`, `24/12`) and ISO dates. This module only adds what it does
not do: splitting a range (`24/12..26/12`, `del 24 al 26 de diciembre`, `dec 24-26`),
dropping the filler words of `[dates]` in bot/messages/common.toml (`el viernes`), and the
reading order: numeric dates are day-first in Spanish; in English they are month-first and
the answer says how an ambiguous one (`3/4`) was read.

Everything is relative to `today`, the caller's local day (the team's zone, from rt.clock).
Answers repeat what was read in words (`jue 24 dic – sáb 26 dic`) via `in_words`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from importlib import resources

import dateparser
from babel.dates import format_date

from supportbot.bot import formats
from supportbot.bot.errors import InvalidInput
from supportbot.bot.i18n import t
from supportbot.bot.keywords import fold

MAX_WORDS = 8
MAX_YEARS_AWAY = 5
_DAY_MONTH = re.compile(r"^(\d{1,2})[/.-](\d{1,2})$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_BARE_DAY = re.compile(r"^\d{1,2}$")
_AMBIGUOUS = re.compile(r"(?<![\d/.-])(\d{1,2})[/.-](\d{1,2})(?![\d/.-]\d{1,2}\b)")
# A range: `..`, a spaced dash, `–`, or the words of [dates] range_words (al, to, hasta...).
_DAY_DASH_DAY = re.compile(r"(?<=\d)\s*-\s*(?=\d{1,2}\b)")


@dataclass(frozen=True)
class Span:
    """What was read: first and last day (equal for one day), and whether an ambiguous
    numeric date was read month-first (English)."""

    start: date
    end: date
    month_first: bool = False

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@lru_cache(maxsize=1)
def _words() -> dict[str, list[str]]:
    path = resources.files("supportbot.bot") / "messages" / "common.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {k: [fold(w) for w in v] for k, v in data.get("dates", {}).items() if isinstance(v, list)}


@lru_cache(maxsize=1)
def _phrases() -> list[tuple[str, str]]:
    path = resources.files("supportbot.bot") / "messages" / "common.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    table = data.get("dates", {}).get("phrases", {})
    return sorted(((fold(k), v) for k, v in table.items()), key=lambda kv: -len(kv[0]))


def _clean(text: str) -> str:
    """Folded, phrases replaced (`pasado mañana` -> `en 2 dias`), fillers dropped."""
    text = " ".join(fold(text).replace(",", " ").split())
    for phrase, replacement in _phrases():
        text = re.sub(rf"(?<!\S){re.escape(phrase)}(?!\S)", replacement, text)
    fillers = set(_words().get("fillers", []))
    return " ".join(w for w in text.split() if w not in fillers)


def _settings(lang: str, today: date, prefer: str) -> dict[str, object]:
    return {
        "RELATIVE_BASE": datetime.combine(today, time(12, 0)),
        "PREFER_DATES_FROM": prefer,
        "DATE_ORDER": "DMY" if lang == "es" else "MDY",
        "PREFER_DAY_OF_MONTH": "first",
        "RETURN_AS_TIMEZONE_AWARE": False,
    }


def _one(text: str, *, lang: str, today: date, prefer: str) -> date | None:
    if not text:
        return None
    if _ISO.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    if _BARE_DAY.match(text):
        return None  # a bare number is only a day inside a range (`24-26 dic`)
    pair = _DAY_MONTH.match(text)
    if pair and not (min(map(int, pair.groups())) <= 12 and max(map(int, pair.groups())) <= 31):
        return None  # `32/13` is no day of any month (dateparser would read a year)
    languages = ["es", "en"] if lang == "es" else ["en", "es"]
    parsed = dateparser.parse(text, languages=languages, settings=_settings(lang, today, prefer))  # type: ignore[arg-type]
    if parsed is None or abs(parsed.year - today.year) > MAX_YEARS_AWAY:
        return None
    return parsed.date()


def _split_range(text: str) -> tuple[str, str] | None:
    if ".." in text:
        a, _sep, b = text.partition("..")
        return a.strip(), b.strip()
    for sep in _words().get("range_words", []):
        parts = re.split(rf"(?<!\S){re.escape(sep)}(?!\S)", text, maxsplit=1)
        if len(parts) == 2 and parts[0].strip() and parts[1].strip():
            return parts[0].strip(), parts[1].strip()
    if " - " in text or "–" in text:
        a, _sep, b = text.replace("–", " - ").partition(" - ")
        return a.strip(), b.strip()
    if re.search(r"[a-z]", text) and _DAY_DASH_DAY.search(text):  # `dec 24-26`, `24-26 dic`
        a, b = _DAY_DASH_DAY.split(text, maxsplit=1)
        return a.strip(), b.strip()
    return None


def _with_day(other: date, day_text: str, *, before: bool) -> date | None:
    """`24` next to `26 dic`: the 24th of that month (or of the month before, if later)."""
    try:
        day = other.replace(day=int(day_text))
    except ValueError:
        return None
    if before and day > other:
        month = other.month - 1 or 12
        year = other.year - (1 if other.month == 1 else 0)
        try:
            day = date(year, month, int(day_text))
        except ValueError:
            return None
    return day


def _month_first(raw: str, lang: str) -> bool:
    if lang == "es":
        return False
    return any(
        int(a) <= 12 and int(b) <= 12 and a != b for a, b in _AMBIGUOUS.findall(raw)
    )


def parse_span(text: str, *, lang: str, today: date, prefer: str = "future") -> Span:
    """One day or a range, in words or numbers; InvalidInput (common.bad_date) otherwise."""
    raw = (text or "").strip()
    cleaned = _clean(raw)
    pieces = _split_range(cleaned)
    if pieces is None:
        day = _one(cleaned, lang=lang, today=today, prefer=prefer)
        if day is None:
            raise InvalidInput("common.bad_date", value=_quote(raw))
        return Span(day, day, _month_first(raw, lang))
    a_text, b_text = pieces
    start = _one(a_text, lang=lang, today=today, prefer=prefer)
    end = _one(b_text, lang=lang, today=today, prefer=prefer)
    if start is None and end is not None and _BARE_DAY.match(a_text):
        start = _with_day(end, a_text, before=True)
    elif end is None and start is not None and _BARE_DAY.match(b_text):
        end = _with_day(start, b_text, before=False)
    if start is None or end is None:
        raise InvalidInput("common.bad_date", value=_quote(raw))
    if end < start and end.replace(year=end.year + 1) >= start and not _ISO.match(b_text):
        end = end.replace(year=end.year + 1)  # `30 dic..2 ene`
    return Span(start, end, _month_first(raw, lang))


def read_day(text: str, *, lang: str, today: date, prefer: str = "future") -> Span:
    """One day (as a one-day Span, to repeat it with `span_in_words`); a range is refused."""
    span = parse_span(text, lang=lang, today=today, prefer=prefer)
    if span.start != span.end:
        raise InvalidInput("common.one_date_only", value=_quote(text))
    return span


def parse_day(text: str, *, lang: str, today: date, prefer: str = "future") -> date:
    return read_day(text, lang=lang, today=today, prefer=prefer).start


def split_leading_span(text: str, *, lang: str, today: date, prefer: str = "future") -> tuple[Span, str]:
    """The longest run of leading words that reads as a day or range, and the rest
    (`mañana médico` -> (tomorrow, "médico"))."""
    words = (text or "").split()
    for n in range(min(len(words), MAX_WORDS), 0, -1):
        try:
            span = parse_span(" ".join(words[:n]), lang=lang, today=today, prefer=prefer)
        except InvalidInput:
            continue
        return span, " ".join(words[n:])
    raise InvalidInput("common.bad_date", value=_quote(" ".join(words[:3])))


def in_words(day: date, lang: str) -> str:
    """`jue 24 dic` / `Thu, Dec 24` (bot/formats.py, the one place that writes figures)."""
    return formats.day(lang, day)


def span_in_words(span: Span, lang: str, *, today: date | None = None) -> str:
    """`jue 24 dic – sáb 26 dic`, or one day; plus how an ambiguous date was read."""
    pattern = t(lang, "common.date_words")
    if today is not None and (span.start.year != today.year or span.end.year != today.year):
        pattern = t(lang, "common.date_words_year")
    first = format_date(span.start, pattern, locale=lang)
    text = first if span.start == span.end else f"{first} – {format_date(span.end, pattern, locale=lang)}"
    if span.month_first:
        text += " " + t(lang, "common.date_month_first")
    return text


def _quote(text: str) -> str:
    text = (text or "")[:40]
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
