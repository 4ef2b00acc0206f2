"""KPI figures against hand calculations: a DST day in Europe/Madrid (25 hours), tickets
solved on another day than created, team attribution, SLA for unanswered tickets, empty
periods ("no data"), and the period arithmetic of `/kpis`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from supportbot.bot import kpis, teams
from supportbot.bot.errors import InvalidInput, NotAllowed
from supportbot.storage import kpis as store
from supportbot.storage.db import make_engine, transaction

MADRID = "Europe/Madrid"


def z(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def ticket(tid: str, created: str, **fields) -> dict:  # type: ignore[no-untyped-def]
    row = {name: None for name in store.TICKET_FIELDS}
    row["ticket_id"] = tid
    row["created_at"] = z(created)
    first = fields.pop("first_response", None)
    if first is not None:
        row["first_response_at"] = z(created) + timedelta(minutes=first)
        row["frt_seconds"] = int(first * 60)
    if fields.get("solved_at"):
        fields["solved_at"] = z(fields["solved_at"])
    if "csat" in fields:
        value = fields.pop("csat")
        row["csat"], row["csat_good"] = (None, value == "good") if isinstance(value, str) else (value, value >= 4)
    if fields.get("team"):
        fields["team_key"] = fields["team"].lower()
    row.update(fields)
    return row


# Hand-computed fixture for Sunday 2026-10-25 in Madrid: [2026-10-24 22:00Z, 2026-10-25 23:00Z)
TICKETS = [
    # created on the 24th local (23:59 CEST), solved on the 25th local (01:00 CEST)
    ticket("T1", "2026-10-24T21:59", agent_id="U0AGENT01", first_response=31, solved_at="2026-10-24T23:00", csat=5, nps=10, handle_time_seconds=300, agent_replies=1),
    # first instant of the 25th; solved on the 26th
    ticket("T2", "2026-10-24T22:00", agent_id="U0AGENT01", first_response=10, solved_at="2026-10-26T10:00", csat=5, nps=10, handle_time_seconds=600, agent_replies=1),
    # last minute of the 25th (23:59 CET), answered late against the default 60 min
    ticket("T3", "2026-10-25T22:59", agent_id="U0AGENT02", first_response=90),
    # own target 20 min, answered in 30: late; solved the same day with a bad rating
    ticket("T4", "2026-10-25T10:00", agent_id="U0AGENT02", first_response=30, sla_target_minutes=20, solved_at="2026-10-25T12:00", csat="bad", nps=6, handle_time_seconds=1200, agent_replies=3),
    # never answered: breached once 60 minutes have passed
    ticket("T5", "2026-10-25T11:00", agent_id="U0AGENT01"),
    # another team by name, even though the agent is ours: not counted
    ticket("T6", "2026-10-25T12:00", agent_id="U0AGENT01", team="Other", first_response=5),
    # an agent outside the team and no team column: not counted
    ticket("T7", "2026-10-25T13:00", agent_id="U0STRANGER", first_response=5),
    # the team named in its column (any case), no agent
    ticket("T8", "2026-10-25T14:00", team="tier1", first_response=20, solved_at="2026-10-25T15:00", csat=4, nps=8),
    # first instant of the 26th local
    ticket("T9", "2026-10-25T23:00", agent_id="U0AGENT02", first_response=1),
]


@pytest.fixture
def db(database_url):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    with transaction(engine) as session:
        team = teams.create_team(
            session, workspace_id="T0TEST01", name="Tier1", leaders=["U0LEAD01"],
            members=["U0AGENT01", "U0AGENT02"], escalation_channel="C0ESCAL01",
            digest_channel="C0DIGEST1", timezone=MADRID, language="en", now=z("2026-10-01T00:00"),
        )
        store.upsert_tickets(session=session, workspace_id="T0TEST01", rows=TICKETS, now=z("2026-11-01T00:00"))
        team_id = team.id
    yield engine, team_id
    engine.dispose()


def day_report(db, day: str, now: datetime = z("2026-11-01T00:00"), agent: str | None = None) -> kpis.Report:  # type: ignore[no-untyped-def]
    engine, team_id = db
    with transaction(engine) as session:
        from supportbot.storage.teams import get_team

        team = get_team(session=session, team_id=team_id)
        period = kpis.parse_period(day, now=now, tz=MADRID)
        return kpis.compute(session, team=team, start=period.start, end=period.end, now=now, agent_id=agent)


def test_dst_day_figures_match_hand_calculation(db) -> None:  # type: ignore[no-untyped-def]
    r = day_report(db, "2026-10-25")
    assert r.end - r.start == timedelta(hours=25)
    assert r.volume == 5  # T2 T3 T4 T5 T8
    # FRT over T2 10, T8 20, T4 30, T3 90 minutes
    assert r.frt_n == 4
    assert r.frt_median == pytest.approx(25.0)
    assert r.frt_p90 == pytest.approx(30 + 0.7 * 60)  # 72 minutes, linear between ranks
    # SLA: met T2, T8; late T3, T4; T5 unanswered past its 60 minutes
    assert (r.sla_met, r.sla_n) == (2, 5)
    assert r.sla == pytest.approx(40.0)
    # solved on the 25th: T1 (created the day before), T4, T8
    assert r.solved == 3
    assert r.aht == pytest.approx((300 + 1200) / 2 / 60)
    assert (r.fcr_yes, r.fcr_n) == (1, 2)
    assert (r.csat_good, r.csat_n) == (2, 3)
    assert r.csat == pytest.approx(200 / 3)
    assert r.nps == 0  # one promoter, one detractor, one passive
    assert r.backlog == 3  # T2, T3, T5 open at the end of the day
    assert dict(r.by_channel) == {None: 5}


def test_unanswered_ticket_left_out_until_its_target_passes(db) -> None:  # type: ignore[no-untyped-def]
    r = day_report(db, "2026-10-25", now=z("2026-10-25T11:30"))
    assert (r.sla_met, r.sla_n) == (2, 4)  # T5 still within its hour
    r = day_report(db, "2026-10-25", now=z("2026-10-25T12:00"))
    assert (r.sla_met, r.sla_n) == (2, 5)


def test_next_day_and_empty_day(db) -> None:  # type: ignore[no-untyped-def]
    r = day_report(db, "2026-10-26")
    assert r.volume == 1 and r.frt_median == pytest.approx(1.0)
    assert r.solved == 1 and r.csat == 100.0 and r.csat_n == 1 and r.low_sample("csat")
    empty = day_report(db, "2026-10-20")
    assert empty.volume == 0 and empty.solved == 0
    for metric in ("csat", "nps", "frt", "sla", "fcr", "aht"):
        assert empty.value(metric) is None, metric
    assert empty.value("volume") == 0.0 and empty.backlog == 0


def test_agent_figures(db) -> None:  # type: ignore[no-untyped-def]
    r = day_report(db, "2026-10-25", agent="U0AGENT02")
    assert r.volume == 2 and r.frt_median == pytest.approx(60.0)  # T3 90, T4 30
    assert r.solved == 1 and r.csat == 0.0


def test_metric_value_interface(db) -> None:  # type: ignore[no-untyped-def]
    engine, team_id = db
    with transaction(engine) as session:
        from supportbot.storage.teams import get_team

        team = get_team(session=session, team_id=team_id)
        start, end = z("2026-10-24T22:00"), z("2026-10-25T23:00")
        assert kpis.metric_value(session, team=team, metric="csat", start=start, end=end) == pytest.approx(200 / 3)
        assert kpis.metric_value(session, team=team, metric="volume", start=start, end=end) == 5
        assert kpis.metric_value(session, team=team, metric="nps", start=z("2026-01-01T00:00"), end=z("2026-01-02T00:00")) is None
        assert kpis.metric_value(session, team=team, metric="aht", start=start, end=end, agent_id="U0AGENT01") == pytest.approx(5.0)
        with pytest.raises(InvalidInput):
            kpis.metric_value(session, team=team, metric="happiness", start=start, end=end)


def test_team_sla_default_applies(db) -> None:  # type: ignore[no-untyped-def]
    engine, team_id = db
    with transaction(engine) as session:
        from supportbot.storage.teams import get_team

        team = get_team(session=session, team_id=team_id)
        teams.update_team(session, team, now=z("2026-11-01T00:00"), settings={"sla_minutes": 120})
    r = day_report(db, "2026-10-25")
    assert (r.sla_met, r.sla_n) == (3, 5)  # T3's 90 minutes are now within 120


def test_targets_set_by_leaders_only(db) -> None:  # type: ignore[no-untyped-def]
    engine, team_id = db
    with transaction(engine) as session:
        from supportbot.storage.teams import get_team

        team = get_team(session=session, team_id=team_id)
        assert kpis.targets(team)["csat"] == 90
        with pytest.raises(NotAllowed):
            kpis.set_target(session, team=team, user_id="U0AGENT01", metric="csat", value="92", now=z("2026-11-01T00:00"))
        kpis.set_target(session, team=team, user_id="U0LEAD01", metric="csat", value="92%", now=z("2026-11-01T00:00"))
        kpis.set_target(session, team=team, user_id="U0LEAD01", metric="frt", value="30m", now=z("2026-11-01T00:00"))
        for metric, value in (("csat", "120"), ("nps", "-101"), ("speed", "3"), ("sla", "abc")):
            with pytest.raises(InvalidInput):
                kpis.set_target(session, team=team, user_id="U0LEAD01", metric=metric, value=value, now=z("2026-11-01T00:00"))
    with transaction(engine) as session:
        team = get_team(session=session, team_id=team_id)
        assert kpis.targets(team)["csat"] == 92 and kpis.targets(team)["frt"] == 30
        assert kpis.target_met("frt", 25, 30) is True and kpis.target_met("csat", 91, 92) is False
        assert kpis.target_met("csat", None, 92) is None


# ----- periods ---------------------------------------------------------------------------
NOW = z("2026-11-23T10:00")  # Monday, 11:00 in Madrid


def test_today_compares_with_same_hours_a_week_earlier() -> None:
    p = kpis.parse_period("today", now=NOW, tz=MADRID)
    assert (p.start, p.end) == (z("2026-11-22T23:00"), NOW)
    assert (p.prev_start, p.prev_end) == (z("2026-11-15T23:00"), z("2026-11-16T10:00"))


def test_yesterday_and_dst_days() -> None:
    p = kpis.parse_period("yesterday", now=NOW, tz=MADRID)
    assert (p.start, p.end, p.prev_start) == (z("2026-11-21T23:00"), z("2026-11-22T23:00"), z("2026-11-20T23:00"))
    p = kpis.parse_period("2026-10-25", now=NOW, tz=MADRID)
    assert (p.start, p.end) == (z("2026-10-24T22:00"), z("2026-10-25T23:00"))
    assert (p.prev_start, p.prev_end) == (z("2026-10-23T22:00"), z("2026-10-24T22:00"))
    p = kpis.parse_period("2026-11-01", now=NOW, tz="America/New_York")
    assert (p.start, p.end) == (z("2026-11-01T04:00"), z("2026-11-02T05:00"))


def test_weeks_months_and_ranges() -> None:
    p = kpis.parse_period("week", now=NOW, tz=MADRID)
    assert (p.start, p.end, p.prev_start, p.prev_end) == (z("2026-11-22T23:00"), NOW, z("2026-11-15T23:00"), z("2026-11-16T10:00"))
    p = kpis.parse_period("last-week", now=NOW, tz=MADRID)
    assert (p.start, p.end, p.prev_start) == (z("2026-11-15T23:00"), z("2026-11-22T23:00"), z("2026-11-08T23:00"))
    p = kpis.parse_period("month", now=NOW, tz=MADRID)
    assert (p.start, p.prev_start, p.prev_end) == (z("2026-10-31T23:00"), z("2026-09-30T22:00"), z("2026-10-23T09:00"))
    p = kpis.parse_period("last-month", now=NOW, tz=MADRID)
    assert (p.start, p.end, p.prev_start) == (z("2026-09-30T22:00"), z("2026-10-31T23:00"), z("2026-08-31T22:00"))
    assert p.label == "October 2026"
    p = kpis.parse_period("2026-11-01..2026-11-15", now=NOW, tz=MADRID)
    assert (p.start, p.end) == (z("2026-10-31T23:00"), z("2026-11-15T23:00"))
    assert (p.prev_start, p.prev_end) == (z("2026-10-16T22:00"), z("2026-10-31T23:00"))
    for bad in ("2026-13-01", "2026-11-15..2026-11-01", "fortnight", "2020-01-01..2026-01-01"):
        with pytest.raises(InvalidInput):
            kpis.parse_period(bad, now=NOW, tz=MADRID)


def test_period_labels_are_words_in_the_readers_language() -> None:
    """Labels are written by Babel (bot/formats.py), never ISO dates."""
    labels = {
        lang: [kpis.parse_period(w, now=NOW, tz=MADRID, lang=lang).label
               for w in ("today", "yesterday", "last-week", "month", "last-month", "2026-11-01..2026-11-15")]
        for lang in ("en", "es")
    }
    assert labels["en"] == ["Mon, Nov 23", "Sun, Nov 22", "Mon, Nov 16 – Sun, Nov 22", "November 2026",
                            "October 2026", "Sun, Nov 1 – Sun, Nov 15"]
    assert labels["es"] == ["lun 23 nov", "dom 22 nov", "lun 16 nov – dom 22 nov", "noviembre de 2026",
                            "octubre de 2026", "dom 1 nov – dom 15 nov"]
    assert kpis.parse_period("semana", now=NOW + timedelta(days=2), tz=MADRID, lang="es").label == "lun 23 nov – mié 25 nov"


def test_month_comparison_caps_at_the_shorter_previous_month() -> None:
    now = z("2026-03-31T10:00")
    p = kpis.parse_period("month", now=now, tz="UTC")
    assert (p.prev_start, p.prev_end) == (z("2026-02-01T00:00"), z("2026-03-01T00:00"))


def test_sparkline() -> None:
    assert kpis.sparkline([1, 2, None, 8]) == "▁▂·█"
    assert kpis.sparkline([None, None]) == "··"
    assert kpis.sparkline([5, 5]) == "▄▄"
