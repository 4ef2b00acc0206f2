"""bot/formats.py: figures in English and Spanish through Babel."""

from datetime import UTC, date, datetime

from supportbot.bot import formats


def test_numbers():
    assert formats.number("en", 1472) == "1,472"
    assert formats.number("es", 14720) == "14.720"
    assert formats.number("en", 3.26, 1) == "3.3"
    assert formats.number("es", 3.5, 1) == "3,5"
    assert formats.number("en", 12, sign=True) == "+12"
    assert formats.number("es", -12) == "-12"


def test_percentages():
    assert formats.percent("en", 76.8) == "76.8%"
    assert formats.percent("es", 76.8) == "76,8\xa0%"
    assert formats.percent("en", 80, 0) == "80%"
    assert formats.percent("es", 5.5, sign=True) == "+5,5\xa0%"


def test_days():
    d = date(2026, 12, 24)
    assert formats.day("en", d) == "Thu, Dec 24"
    assert formats.day("es", d) == "jue 24 dic"
    assert formats.day("es", d, year=True) == "jue 24 dic 2026"
    assert formats.short_day("en", d) == "12/24"
    assert formats.short_day("es", d) == "24/12"


def test_when_in_team_zone():
    moment = datetime(2026, 12, 24, 13, 5, tzinfo=UTC)
    assert formats.when("en", moment, "Europe/Madrid") == "Thu, Dec 24, 14:05"
    assert formats.when("es", moment, "Europe/Madrid") == "jue 24 dic, 14:05"


def test_durations():
    assert formats.duration("en", 2 * 3600) == "2 hours"
    assert formats.duration("es", 2 * 3600) == "2 horas"
    assert formats.duration("es", 90, format="short") in ("2 min", "1 min")


def test_unknown_language_falls_back_to_english():
    assert formats.percent("fr", 76.8) == "76.8%"


def test_weekday_time():
    moment = datetime(2026, 12, 24, 13, 5, tzinfo=UTC)
    assert formats.weekday_time("en", moment, "Europe/Madrid") == "Thu 14:05"
    assert formats.weekday_time("es", moment, "Europe/Madrid") == "jue 14:05"


def test_elapsed_narrow_where_space_is_tight_long_in_sentences():
    assert [formats.elapsed("en", s) for s in (45, 300, 3600, 7500, 90000)] == ["45s", "5m", "1h", "2h 5m", "1d 1h"]
    assert [formats.elapsed("es", s) for s in (45, 300, 3600, 7500, 90000)] == ["45s", "5min", "1h", "2h 5min", "1d 1h"]
    assert formats.elapsed("en", 3900, length="long") == "1 hour, 5 minutes"
    assert formats.elapsed("es", 3900, length="long") == "1 hora y 5 minutos"
    assert formats.elapsed("es", 900, length="long") == "15 minutos"
    assert formats.elapsed("es", -30) == "0s"  # a clock a little behind never shows a negative age


def test_format_duration_is_babel_in_the_readers_language():
    from datetime import timedelta

    from supportbot.bot.timeutil import format_duration

    assert format_duration(timedelta(minutes=125)) == "2h 5m"
    assert format_duration(timedelta(minutes=125), "es") == "2h 5min"
    assert format_duration(timedelta(hours=1), "es", length="long") == "1 hora"


def test_months_scores_and_naive_database_times():
    assert formats.month("en", date(2026, 11, 5)) == "November 2026"
    assert formats.month("es", date(2026, 11, 5)) == "noviembre de 2026"
    assert formats.score("en", 3.64, 5) == "3.6/5" and formats.score("es", 3.64, 5) == "3,6/5"
    assert formats.score("es", None, 5) == "–"
    assert formats.score("es", 20, digits=0, sign=True) == "+20"
    naive = datetime(2026, 12, 24, 13, 5)  # SQLite hands timestamps back without a zone: UTC
    assert formats.when("es", naive, "Europe/Madrid") == "jue 24 dic, 14:05"
    assert formats.time_of_day("en", naive, "Europe/Madrid") == "14:05"
