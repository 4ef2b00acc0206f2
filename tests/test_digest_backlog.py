"""The digest's 14 days of figures are each day's own figures: the backlog series it builds
from one count of open tickets plus each day's created and solved tickets equals a
brute-force count at the end of every day, in several time zones (a 25-hour day among
them), with tickets solved before they were created, and for a digest of today (a day not
over yet counts its own)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from supportbot.bot import kpis, teams
from supportbot.bot.kpis.periods import day_bounds
from supportbot.storage import kpis as store
from supportbot.storage.db import make_engine, transaction
from supportbot.storage.teams import get_team
from tests.test_kpis_rollups import NOW, brute, random_ticket


def inverted_ticket(rng: random.Random, n: int) -> dict:  # type: ignore[type-arg]
    """A helpdesk's odd row: solved up to three days before it was created."""
    row = random_ticket(rng, n)
    row["ticket_id"] = f"I{n}"
    row["team"], row["team_key"] = "Tier1", "tier1"
    row["solved_at"] = row["created_at"] - timedelta(seconds=rng.randrange(1, 3 * 86400))
    return row


@pytest.fixture
def seeded(database_url):  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    rows = [random_ticket(rng, n) for n in range(400)] + [inverted_ticket(rng, n) for n in range(40)]
    engine = make_engine(database_url)
    with transaction(engine) as session:
        team = teams.create_team(
            session, workspace_id="T0TEST01", name="Tier1", leaders=["U0LEAD01"],
            members=["U0AGENT01", "U0AGENT02"], escalation_channel="C0ESCAL01",
            digest_channel="C0DIGEST1", timezone="UTC", language="en", now=NOW - timedelta(days=30),
        )
        team_id = team.id
        store.upsert_tickets(session=session, workspace_id="T0TEST01", rows=rows, now=NOW)
    yield engine, team_id, rows
    engine.dispose()


@pytest.mark.parametrize("tz", ["UTC", "America/New_York", "Asia/Kolkata", "Europe/Madrid"])
@pytest.mark.parametrize("day", [date(2026, 11, 1), date(2026, 11, 2)])
def test_the_chart_backlog_is_each_days_backlog(seeded, tz: str, day: date) -> None:  # type: ignore[no-untyped-def]
    engine, team_id, rows = seeded
    assert sum(1 for r in rows if r["solved_at"] is not None and r["solved_at"] < r["created_at"]) == 40
    with transaction(engine, readonly=True) as session:
        team = get_team(session=session, team_id=team_id)
        assert team is not None
        team.timezone = tz
        digest = kpis.build_digest(session, team=team, day=day, now=NOW)
        sla = kpis.sla_minutes(team)
        session.rollback()
    for d, backlog, volume in zip(digest.chart_days, digest.chart["backlog"], digest.chart["volume"], strict=True):
        start, end = day_bounds(d, tz)
        want = brute(rows, start, end, None, sla)
        assert (backlog, volume) == (want["backlog"], want["volume"]), (tz, d)
    start, end = day_bounds(day, tz)
    assert digest.report.backlog == brute(rows, start, end, None, sla)["backlog"]
    assert digest.report.escalations is not None and digest.previous.escalations is None


def test_open_series_equals_open_at_at_every_moment(seeded) -> None:  # type: ignore[no-untyped-def]
    engine, team_id, rows = seeded
    moments = [datetime(2026, 10, 18, 7, tzinfo=UTC) + timedelta(hours=17 * i) for i in range(24)]
    with transaction(engine, readonly=True) as session:
        team = get_team(session=session, team_id=team_id)
        assert team is not None
        scope = kpis.scope_for(session, team)
        steps = [
            (b, store.count_created(session=session, scope=scope, start=a, end=b),
             store.solved_stats(session=session, scope=scope, start=a, end=b).solved)
            for a, b in zip(moments, moments[1:], strict=False)
        ]
        got = store.open_series(session=session, scope=scope, first=moments[0], steps=steps)
        want = [store.open_at(session=session, scope=scope, at=at) for at in moments]
        with pytest.raises(ValueError):
            store.open_series(session=session, scope=scope, first=moments[1], steps=steps[:1])
    assert got == want
    assert len(set(got)) > 5  # the backlog moves over these days
