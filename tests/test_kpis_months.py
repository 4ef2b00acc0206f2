"""Periods across month boundaries: whole UTC months from the per-month rollups, partial
months from day rows (added, or taken from the month's row), edge hours from the tickets.
Every figure equals a brute-force pass over the tickets, in several time zones, after
updates and deletes, with both percentile methods; a wrong month row shows up."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import func, select, text

from supportbot.bot import kpis, teams
from supportbot.storage import kpis as store
from supportbot.storage.db import alembic_config, make_engine, transaction
from supportbot.storage.kpis import percentiles
from supportbot.storage.kpis.scope import split_period
from supportbot.storage.teams import get_team
from tests.test_kpis_rollups import NOW, brute, check

WS = "T0TEST01"
FIRST = datetime(2026, 7, 25, tzinfo=UTC)  # data from late July to NOW (2026-11-02 12:00 UTC)
ZONES = ("UTC", "Europe/Madrid", "America/New_York", "Asia/Kolkata", "Pacific/Auckland")
PERIODS = (
    "2026-08-25..2026-10-28",  # a partial August (days), September (month), most of October (month minus days)
    "2026-09-01..2026-09-30",  # one calendar month, with edge hours outside UTC
    "2026-08-31..2026-10-01",  # a day either side of a whole month
    "2026-07-20..2026-11-02",  # from before the data to the current month (month minus future days)
    "2026-09-29..2026-10-03",  # days across one month boundary
    "month",
    "last-month",
    "today",
)


def random_ticket(rng: random.Random, n: int) -> dict:  # type: ignore[type-arg]
    created = FIRST + timedelta(seconds=rng.randrange(int((NOW - FIRST).total_seconds())))
    row = {name: None for name in store.TICKET_FIELDS}
    row.update(ticket_id=f"M{n}", created_at=created)
    row["agent_id"] = rng.choice(["U0AGENT01", "U0AGENT02", "U0OTHER01", None])
    if rng.random() < 0.3:
        row["team"] = rng.choice(["Tier1", "Other"])
        row["team_key"] = row["team"].lower()
    if rng.random() < 0.85:
        # many ties, and values in the 30-45 and 180-240 minute buckets (probed per second)
        frt = int(rng.choice([rng.uniform(1800, 2700), rng.uniform(10800, 14400), rng.uniform(0, 400), 2000, 2000, 60, 0]))
        if created + timedelta(seconds=frt) <= NOW:
            row["first_response_at"] = created + timedelta(seconds=frt)
            row["frt_seconds"] = frt
    if rng.random() < 0.5:
        row["sla_target_minutes"] = rng.choice([15, 45, 60, 240])
    if rng.random() < 0.7:
        solved = created + timedelta(seconds=rng.randrange(6 * 86400))
        if solved <= NOW:
            row["solved_at"] = solved
            row["handle_time_seconds"] = rng.choice([None, rng.randrange(60, 3000)])
            row["agent_replies"] = rng.choice([None, 0, 1, 3])
            good = rng.choice([None, True, False])
            row["csat_good"] = good
            row["csat"] = None if good is None else (5 if good else 2)
            row["nps"] = rng.choice([None, 2, 7, 10])
    row["channel"] = rng.choice(["email", "chat", None])
    row["category"] = rng.choice(["billing", "login", None])
    return row


def _import(engine, rows, rng):  # type: ignore[no-untyped-def]
    """Insert, then update a third (moved across months, teams, buckets) and delete some."""
    with transaction(engine) as session:
        team = teams.create_team(
            session, workspace_id=WS, name="Tier1", leaders=["U0LEAD01"],
            members=["U0AGENT01", "U0AGENT02"], escalation_channel="C0ESCAL01",
            digest_channel=None, timezone="UTC", language="en", now=FIRST,
        )
        team.settings = {"sla_minutes": 50}  # not a bucket edge: the exact default-SLA count runs
        team_id = team.id
        for i in range(0, len(rows), 250):
            store.upsert_tickets(session=session, workspace_id=WS, rows=rows[i : i + 250], now=NOW)
    for row in rows[::3]:
        new = random_ticket(rng, 0)
        new["ticket_id"] = row["ticket_id"]
        row.clear()
        row.update(new)
    gone = rows[1::7]
    with transaction(engine) as session:
        assert store.upsert_tickets(session=session, workspace_id=WS, rows=rows, now=NOW).updated >= len(rows) // 3
        assert store.delete_tickets(
            session=session, workspace_id=WS, source="import", ticket_ids=[r["ticket_id"] for r in gone]
        ) == len(gone)
    kept = [r for r in rows if r not in gone]
    return team_id, kept


def _month_sums(session, kind: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """The per-month table, and the per-day table summed per month, as {key: values}."""
    day_table, month_table = (m.__table__ for m in store.tables.ROLLUPS[kind])
    values = {"count": ("n",), "frt": ("n", "n_target", "met_target"), "solved": store.SOLVED_SUMS}[kind]
    keys = [c.name for c in month_table.c if c.name not in ("id", "month", *values)]
    months: dict = {}
    for row in session.connection().execute(select(month_table)):
        months[(row.month, *[getattr(row, k) for k in keys])] = tuple(getattr(row, v) for v in values)
    days: dict = {}
    for row in session.connection().execute(select(day_table)):
        key = (row.day.replace(day=1), *[getattr(row, k) for k in keys])
        days[key] = tuple(a + getattr(row, v) for a, v in zip(days.get(key, (0,) * len(values)), values, strict=True))
    nonzero = lambda d: {k: v for k, v in d.items() if any(v)}  # noqa: E731
    return {"months": nonzero(months), "days": nonzero(days)}


@pytest.fixture
def imported(database_url):  # type: ignore[no-untyped-def]
    rng = random.Random(18)
    rows = [random_ticket(rng, n) for n in range(900)]
    engine = make_engine(database_url)
    team_id, rows = _import(engine, rows, rng)
    yield engine, team_id, rows
    engine.dispose()


@pytest.mark.parametrize("probe_cost", [0, 10**9], ids=["per-second", "ordered"])
def test_periods_across_months_match_brute_force(imported, monkeypatch, probe_cost: int) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(percentiles, "PROBE_COST", probe_cost)
    engine, team_id, rows = imported
    with transaction(engine) as session:
        team = get_team(session=session, team_id=team_id)
        for tz in ZONES:
            for text_ in PERIODS:
                check(session, team, rows, tz, text_)
            check(session, team, rows, tz, "2026-08-25..2026-10-28", agent="U0AGENT02")
            for text_ in ("month", "2026-09-01..2026-09-30"):
                period = kpis.parse_period(text_, now=NOW, tz=tz)
                summary = kpis.summary(session, team=team, period=period, now=NOW)
                want = brute(rows, period.prev_start, period.prev_end, None, kpis.sla_minutes(team))
                assert (summary.previous.volume, summary.previous.backlog) == (want["volume"], want["backlog"])
        session.rollback()


def test_month_rows_are_the_sum_of_their_days(imported) -> None:  # type: ignore[no-untyped-def]
    engine, _team_id, _rows = imported
    with transaction(engine, readonly=True) as session:
        for kind in ("count", "frt", "solved"):
            sums = _month_sums(session, kind)
            assert sums["months"] == sums["days"], kind
            assert len(sums["months"]) > 20, kind


def test_backlog_counts_tickets_solved_before_they_were_created(database_url) -> None:  # type: ignore[no-untyped-def]
    """Open tickets come from the rollups (created minus solved); a helpdesk's ticket whose
    solved time precedes its created time must still count exactly as the definition says."""
    rng = random.Random(7)
    rows = [random_ticket(rng, n) for n in range(300)]
    for row in rows[:40]:
        row["solved_at"] = row["created_at"] - timedelta(hours=rng.choice([1, 30, 24 * 40]))
    engine = make_engine(database_url)
    team_id, rows = _import(engine, rows, rng)
    with transaction(engine) as session:
        team = get_team(session=session, team_id=team_id)
        assert sum(1 for r in rows if r["solved_at"] is not None and r["solved_at"] < r["created_at"]) >= 15
        for tz in ("UTC", "Asia/Kolkata"):
            for text_ in ("2026-08-25..2026-10-28", "2026-09-01..2026-09-30", "month", "today"):
                check(session, team, rows, tz, text_)
        session.rollback()
    engine.dispose()


@pytest.mark.parametrize("table", ["kpi_month_count", "kpi_month_frt", "kpi_month_solved"])
def test_a_wrong_month_row_changes_the_figures(imported, table: str) -> None:  # type: ignore[no-untyped-def]
    """The brute-force comparison reads month rows: one off-by-one month row fails it."""
    engine, team_id, rows = imported
    column = {"kpi_month_count": "n", "kpi_month_frt": "n", "kpi_month_solved": "solved"}[table]
    with transaction(engine) as session:
        session.connection().execute(text(
            f"UPDATE {table} SET {column} = {column} + 1 WHERE id = (SELECT min(id) FROM {table}"  # noqa: S608
            " WHERE month = :m AND team_key = 'tier1')"
        ), {"m": date(2026, 9, 1)})
    with transaction(engine) as session:
        team = get_team(session=session, team_id=team_id)
        with pytest.raises(AssertionError):
            check(session, team, rows, "UTC", "2026-08-25..2026-10-28")
        session.rollback()


def _coverage(pieces, edges, at: datetime) -> int:  # type: ignore[no-untyped-def]
    """How many times the split counts an instant: rollup pieces by its UTC day/month,
    ticket ranges by the instant itself."""
    day = at.astimezone(UTC).date()
    total = 0
    for piece in pieces:
        key = day.replace(day=1) if piece.grain == "month" else day
        total += piece.sign * (piece.first <= key < piece.end)
    for lo, hi, sign in edges:
        total += sign * (lo <= at < hi)
    return total


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (datetime(2026, 1, 15, 7, tzinfo=UTC), datetime(2026, 12, 3, 5, tzinfo=UTC)),
        (datetime(2025, 11, 22, 23, tzinfo=UTC), datetime(2026, 11, 22, 17, tzinfo=UTC)),
        (datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)),
        (datetime(2026, 2, 27, 12, tzinfo=UTC), datetime(2026, 3, 2, 12, tzinfo=UTC)),
        (datetime(2026, 3, 30, tzinfo=UTC), datetime(2026, 5, 2, tzinfo=UTC)),
        (datetime(2026, 5, 5, 1, tzinfo=UTC), datetime(2026, 5, 5, 2, tzinfo=UTC)),
        (datetime(2026, 5, 4, 22, tzinfo=UTC), datetime(2026, 5, 5, 23, tzinfo=UTC)),
        (datetime(2026, 9, 30, 22, tzinfo=UTC), datetime(2026, 10, 31, 23, tzinfo=UTC)),
    ],
)
def test_split_period_counts_each_instant_once(start: datetime, end: datetime) -> None:
    pieces, edges = split_period(start, end)
    at = start - timedelta(days=2, minutes=3)
    while at < end + timedelta(days=2):
        assert _coverage(pieces, edges, at) == (start <= at < end), at
        at += timedelta(minutes=7)
    for at in (start, end, start - timedelta(microseconds=1), end - timedelta(microseconds=1)):
        assert _coverage(pieces, edges, at) == (start <= at < end), at


def test_split_period_reads_few_ranges() -> None:
    # the benchmark's year (Madrid): Nov 23-30 2025 as days, Dec..Nov 2026 as months
    # minus Nov 22-30 2026 (Nov 22 itself: its day row minus the tickets after 23:00)
    year, edges = split_period(datetime(2025, 11, 22, 23, tzinfo=UTC), datetime(2026, 11, 22, 23, tzinfo=UTC))
    assert [(p.grain, p.first.isoformat(), p.end.isoformat(), p.sign) for p in year] == [
        ("month", "2025-12-01", "2026-12-01", 1),
        ("day", "2025-11-23", "2025-12-01", 1),
        ("day", "2026-11-23", "2026-12-01", -1),
    ]
    assert [(lo.hour, hi.hour, sign) for lo, hi, sign in edges] == [(23, 0, 1), (23, 0, -1)]


def test_migration_fills_months_from_days(imported, database_url) -> None:  # type: ignore[no-untyped-def]
    engine, _team_id, _rows = imported
    with transaction(engine, readonly=True) as session:
        before = {kind: _month_sums(session, kind)["months"] for kind in ("count", "frt", "solved")}
    engine.dispose()
    config = alembic_config(database_url)
    command.downgrade(config, "0015")
    command.upgrade(config, "heads")
    with transaction(engine, readonly=True) as session:
        for kind in ("count", "frt", "solved"):
            assert _month_sums(session, kind)["months"] == before[kind], kind
        assert session.connection().execute(select(func.count()).select_from(store.KpiMonthFrt.__table__)).scalar_one() > 0  # type: ignore[attr-defined]
