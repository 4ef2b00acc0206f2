"""Dates in everyday words in both languages (bot/dates.py over dateparser), relative to a
fixed today (Monday 2026-11-23), repeated in words."""

from __future__ import annotations

from datetime import date

import pytest

from supportbot.bot import dates
from supportbot.bot.errors import InvalidInput

TODAY = date(2026, 11, 23)  # a Monday


@pytest.mark.parametrize(
    ("lang", "typed", "first", "last"),
    [
        ("es", "mañana", date(2026, 11, 24), date(2026, 11, 24)),
        ("es", "manana", date(2026, 11, 24), date(2026, 11, 24)),
        ("es", "Mañana", date(2026, 11, 24), date(2026, 11, 24)),
        ("es", "pasado mañana", date(2026, 11, 25), date(2026, 11, 25)),
        ("en", "tomorrow", date(2026, 11, 24), date(2026, 11, 24)),
        ("es", "el viernes", date(2026, 11, 27), date(2026, 11, 27)),
        ("es", "viernes", date(2026, 11, 27), date(2026, 11, 27)),
        ("en", "next friday", date(2026, 11, 27), date(2026, 11, 27)),
        ("es", "24/12", date(2026, 12, 24), date(2026, 12, 24)),
        ("es", "24 dic", date(2026, 12, 24), date(2026, 12, 24)),
        ("en", "dec 24", date(2026, 12, 24), date(2026, 12, 24)),
        ("en", "12/24", date(2026, 12, 24), date(2026, 12, 24)),
        ("en", "24/12", date(2026, 12, 24), date(2026, 12, 24)),  # no 24th month: day first
        ("es", "2026-12-24", date(2026, 12, 24), date(2026, 12, 24)),
        ("en", "2026-12-24", date(2026, 12, 24), date(2026, 12, 24)),
        ("es", "24/12..26/12", date(2026, 12, 24), date(2026, 12, 26)),
        ("es", "del 24 al 26 de diciembre", date(2026, 12, 24), date(2026, 12, 26)),
        ("en", "dec 24-26", date(2026, 12, 24), date(2026, 12, 26)),
        ("es", "24-26 dic", date(2026, 12, 24), date(2026, 12, 26)),
        ("en", "dec 24 to dec 26", date(2026, 12, 24), date(2026, 12, 26)),
        ("es", "30 dic - 2 ene", date(2026, 12, 30), date(2027, 1, 2)),
        ("es", "2026-12-24..2026-12-31", date(2026, 12, 24), date(2026, 12, 31)),
    ],
)
def test_days_and_ranges(lang: str, typed: str, first: date, last: date) -> None:
    span = dates.parse_span(typed, lang=lang, today=TODAY)
    assert (span.start, span.end) == (first, last)


def test_numeric_dates_day_first_in_spanish_month_first_in_english_and_said() -> None:
    es = dates.parse_span("3/4", lang="es", today=TODAY)
    en = dates.parse_span("3/4", lang="en", today=TODAY)
    assert es.start == date(2027, 4, 3) and not es.month_first
    assert en.start == date(2027, 3, 4) and en.month_first
    assert dates.span_in_words(en, "en", today=TODAY) == "Thu, Mar 4, 2027 (read month first)"
    assert not dates.parse_span("12/24", lang="en", today=TODAY).month_first  # not ambiguous


def test_past_is_preferred_when_asked() -> None:
    assert dates.parse_day("viernes", lang="es", today=TODAY, prefer="past") == date(2026, 11, 20)
    assert dates.parse_day("ayer", lang="es", today=TODAY, prefer="past") == date(2026, 11, 22)


def test_in_words() -> None:
    span = dates.parse_span("del 24 al 26 de diciembre", lang="es", today=TODAY)
    assert dates.span_in_words(span, "es", today=TODAY) == "jue 24 dic – sáb 26 dic"
    assert dates.span_in_words(span, "en", today=TODAY) == "Thu, Dec 24 – Sat, Dec 26"
    assert dates.in_words(date(2026, 12, 24), "es") == "jue 24 dic"


def test_leading_dates_and_the_rest() -> None:
    span, rest = dates.split_leading_span("del 24 al 26 de diciembre vacaciones en casa", lang="es", today=TODAY)
    assert (span.start, span.end, rest) == (date(2026, 12, 24), date(2026, 12, 26), "vacaciones en casa")
    span, rest = dates.split_leading_span("tomorrow dentist", lang="en", today=TODAY)
    assert (span.start, rest) == (date(2026, 11, 24), "dentist")


@pytest.mark.parametrize("typed", ["", "someday", "algún día", "2026-02-30", "32/13", "<!here>"])
def test_not_a_date(typed: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        dates.parse_span(typed, lang="es", today=TODAY)
    assert caught.value.key == "common.bad_date"
    assert "<" not in str(caught.value.params.get("value"))


def test_a_range_where_one_day_is_wanted() -> None:
    with pytest.raises(InvalidInput) as caught:
        dates.parse_day("24/12..26/12", lang="es", today=TODAY)
    assert caught.value.key == "common.one_date_only"
