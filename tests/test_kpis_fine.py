"""Fine first-response buckets per month (kpi_month_frt_fine) and the SLA breach count from
the rollups: the fine rows equal a count over the tickets (also as migration 0016 fills
them), percentiles of long periods read through them and still equal a brute-force pass
(ranges read per second or in one pass, partial months from their days or from the month
minus the days left out), a wrong fine row is noticed, and the breach count that reads
only recent tickets equals the one that reads them all."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import select, text

from supportbot.bot import kpis
from supportbot.storage import kpis as store
from supportbot.storage.db import alembic_config, make_engine, transaction
from supportbot.storage.kpis import fine, percentiles
from supportbot.storage.kpis.tables import FINE_EDGES, FRT_EDGES, fine_bucket, fines_of, frt_bucket
from supportbot.storage.teams import get_team
from tests.test_kpis_months import PERIODS, ZONES, _import, random_ticket
from tests.test_kpis_rollups import NOW, check

WS = "T0TEST01"


def test_fine_buckets_nest_inside_the_buckets() -> None:
    assert list(FINE_EDGES) == sorted(set(FINE_EDGES)) and set(FRT_EDGES) <= set(FINE_EDGES)
    for bucket in range(len(FRT_EDGES) + 1):
        inside = fines_of(bucket)
        assert all(frt_bucket(FINE_EDGES[f]) == bucket for f in inside if f < len(FINE_EDGES)), bucket
    for seconds in [*range(0, 4000), 2_591_999, 2_592_000, 2_592_001, 10**8]:
        assert fine_bucket(seconds) in fines_of(frt_bucket(seconds)), seconds
    # about 3% wide above a minute: a year's median bucket holds a few percent of its tickets
    widths = [(FINE_EDGES[i] - FINE_EDGES[i - 1]) / FINE_EDGES[i] for i in range(1, len(FINE_EDGES))]
    assert max(w for w, e in zip(widths, FINE_EDGES[1:], strict=True) if e > 60) < 0.06


def _fine_rows(session) -> dict:  # type: ignore[no-untyped-def,type-arg]
    table = store.KpiMonthFrtFine.__table__  # type: ignore[attr-defined]
    out = {}
    for row in session.connection().execute(select(table)):
        if row.n:
            out[(row.month, row.team_key, row.agent_id, row.bucket, row.fine)] = row.n
    return out


def _expected(rows) -> dict:  # type: ignore[no-untyped-def,type-arg]
    out: dict = {}
    for r in rows:
        if r["frt_seconds"] is None:
            continue
        key = (
            r["created_at"].astimezone(UTC).date().replace(day=1), r["team_key"] or "", r["agent_id"] or "",
            frt_bucket(r["frt_seconds"]), fine_bucket(r["frt_seconds"]),
        )
        out[key] = out.get(key, 0) + 1
    return out


@pytest.fixture
def imported(database_url):  # type: ignore[no-untyped-def]
    rng = random.Random(16)
    rows = [random_ticket(rng, n) for n in range(900)]
    engine = make_engine(database_url)
    team_id, rows = _import(engine, rows, rng)
    yield engine, team_id, rows
    engine.dispose()


def test_fine_rows_count_the_tickets_after_updates_and_deletes(imported) -> None:  # type: ignore[no-untyped-def]
    engine, _team_id, rows = imported
    with transaction(engine, readonly=True) as session:
        assert _fine_rows(session) == _expected(rows)
        assert len(_expected(rows)) > 200


def test_migration_fills_fine_rows_from_the_tickets(imported, database_url) -> None:  # type: ignore[no-untyped-def]
    engine, _team_id, rows = imported
    engine.dispose()
    config = alembic_config(database_url)
    command.downgrade(config, "0014")
    command.upgrade(config, "heads")
    with transaction(engine, readonly=True) as session:
        assert _fine_rows(session) == _expected(rows)


@pytest.mark.parametrize("range_probe_cost", [0, 10**9], ids=["ranges-per-second", "ranges-in-one-pass"])
def test_long_periods_read_fine_rows_and_match_brute_force(imported, monkeypatch, range_probe_cost: int) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(percentiles, "PROBE_COST", 0)  # every bucket by counting seconds
    monkeypatch.setattr(percentiles, "FINE_FROM", 0)  # through the fine rows when the period has months
    monkeypatch.setattr(fine, "PROBE_COST", range_probe_cost)
    used = []
    real = fine.fine_counts

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        got = real(*args, **kwargs)
        used.append(got is not None)
        return got

    monkeypatch.setattr(percentiles, "fine_counts", spy)
    engine, team_id, rows = imported
    with transaction(engine) as session:
        team = get_team(session=session, team_id=team_id)
        for tz in ZONES:
            for text_ in (*PERIODS, "2026-08-03..2026-10-30", "2026-08-20..2026-10-09"):
                check(session, team, rows, tz, text_)
            check(session, team, rows, tz, "2026-08-25..2026-10-28", agent="U0AGENT02")
        session.rollback()
    assert sum(used) > 40  # the fine rows were read, not only the per-second counts


def test_partial_months_are_read_from_their_cheaper_side(imported, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """August 3rd to October 30th: August's tickets in a bucket are its month row minus
    August 1st-2nd (fewer) and October's its month row minus the 31st; the ticket ranges
    read say which."""
    monkeypatch.setattr(percentiles, "PROBE_COST", 0)
    monkeypatch.setattr(percentiles, "FINE_FROM", 0)
    read = []
    real = fine._read_range

    def spy(scope, lo, hi, low, high):  # type: ignore[no-untyped-def]
        read.append((lo, hi))
        return real(scope, lo, hi, low, high)

    monkeypatch.setattr(fine, "_read_range", spy)
    engine, team_id, rows = imported
    with transaction(engine) as session:
        team = get_team(session=session, team_id=team_id)
        check(session, team, rows, "UTC", "2026-08-03..2026-10-30")
        session.rollback()
    days = {(lo.date(), hi.date()) for lo, hi in read}
    assert days, "no range of tickets was read"
    assert all(hi - lo <= timedelta(days=2) for lo, hi in days), days
    assert days & {(date(2026, 8, 1), date(2026, 8, 3)), (date(2026, 10, 31), date(2026, 11, 1))}


def test_a_wrong_fine_row_is_noticed(imported, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Fine rows that do not add up to the bucket's count are not trusted: the bucket's
    tickets are read in order instead, and the figures stay exact."""
    monkeypatch.setattr(percentiles, "PROBE_COST", 0)
    monkeypatch.setattr(percentiles, "FINE_FROM", 0)
    engine, team_id, rows = imported
    with transaction(engine) as session:
        session.connection().execute(text(
            "UPDATE kpi_month_frt_fine SET n = n + 5 WHERE month = :m AND team_key = 'tier1'"
        ), {"m": date(2026, 9, 1)})
    with transaction(engine) as session:
        team = get_team(session=session, team_id=team_id)
        check(session, team, rows, "UTC", "2026-08-25..2026-10-28")
        session.rollback()


def test_breaches_from_recent_tickets_equal_reading_them_all(database_url) -> None:  # type: ignore[no-untyped-def]
    """Unanswered tickets created longer ago than the largest target are breached without
    being read; the count equals reading every unanswered ticket of the period, also when
    one ticket's target reaches before the period (then every ticket is read)."""
    rng = random.Random(3)
    rows = []
    for n in range(300):
        row = random_ticket(rng, n)
        if rng.random() < 0.6:
            row["first_response_at"] = row["frt_seconds"] = None
        rows.append(row)
    engine = make_engine(database_url)
    team_id, rows = _import(engine, rows, rng)
    # near now: inside and outside their own targets, and the team's default (50 minutes)
    recent = []
    for n, (ago, target) in enumerate([(120, 240), (300, 240), (30, None), (70, None), (20, 15), (200, 60)]):
        row = random_ticket(rng, 1000 + n)
        row.update(created_at=NOW - timedelta(minutes=ago), first_response_at=None, frt_seconds=None,
                   sla_target_minutes=target, team="Tier1", team_key="tier1")
        recent.append(row)
    with transaction(engine) as session:
        store.upsert_tickets(session=session, workspace_id=WS, rows=recent, now=NOW)
    rows += recent
    scope = store.Scope(WS, "tier1", ("U0AGENT01", "U0AGENT02"))
    periods = [
        (datetime(2026, 8, 1, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC)),
        (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 2, 9, tzinfo=UTC)),
        (datetime(2026, 11, 2, 6, tzinfo=UTC), datetime(2026, 11, 2, 11, tzinfo=UTC)),
        (datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC)),
    ]
    seen = []
    for huge in (False, True):
        if huge:
            with transaction(engine) as session:
                session.connection().execute(text(
                    "UPDATE kpi_ticket SET sla_target_minutes = 200000 WHERE id = (SELECT min(id) FROM kpi_ticket WHERE frt_seconds IS NULL)"
                ))
        with transaction(engine, readonly=True) as session:
            for start, end in periods:
                created = store.created_stats(session=session, scope=scope, start=start, end=end, default_sla_minutes=50)
                every = store.count_unanswered_breached(
                    session=session, scope=scope, start=start, end=end, now=NOW, default_sla_minutes=50
                )
                recent = store.count_unanswered_breached(
                    session=session, scope=scope, start=start, end=end, now=NOW, default_sla_minutes=50,
                    unanswered=created.volume - created.responded,
                )
                assert recent == every, (start, end, huge)
                seen.append(every)
    assert min(seen) >= 0 and max(seen) > 10
    with transaction(engine) as session:
        team = get_team(session=session, team_id=team_id)
        for text_ in ("month", "today", "2026-09-01..2026-09-30"):
            check(session, team, rows, "UTC", text_)
        period = kpis.parse_period("month", now=NOW, tz="UTC")
        assert kpis.compute(session, team=team, start=period.start, end=period.end, now=NOW).sla_n > 0
        session.rollback()
    engine.dispose()
