"""The per-day tables plus raw edges give exactly what a brute-force pass over the tickets
gives, for periods in several time zones, after inserts and after updates/re-imports."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from supportbot.bot import kpis, teams
from supportbot.storage import kpis as store
from supportbot.storage.db import make_engine, transaction
from supportbot.storage.kpis import rollups
from supportbot.storage.teams import get_team

START = datetime(2026, 10, 20, tzinfo=UTC)
NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
MEMBERS = ("U0AGENT01", "U0AGENT02", "U0LEAD01")


def random_ticket(rng: random.Random, n: int) -> dict:  # type: ignore[no-untyped-def]
    created = START + timedelta(seconds=rng.randrange(13 * 86400))
    row = {name: None for name in store.TICKET_FIELDS}
    row.update(ticket_id=f"R{n}", created_at=created)
    row["agent_id"] = rng.choice(["U0AGENT01", "U0AGENT02", "U0OTHER01", None])
    if rng.random() < 0.3:
        row["team"] = rng.choice(["Tier1", "tier1", "Other"])
        row["team_key"] = row["team"].lower()
    if rng.random() < 0.85:
        frt = int(rng.choice([rng.uniform(0, 7200), rng.uniform(0, 400), 3600, 60, 0]))
        row["first_response_at"] = created + timedelta(seconds=frt)
        row["frt_seconds"] = frt
    if rng.random() < 0.5:
        row["sla_target_minutes"] = rng.choice([15, 60, 45, 240])
    if rng.random() < 0.7:
        row["solved_at"] = created + timedelta(seconds=rng.randrange(4 * 86400))
        row["handle_time_seconds"] = rng.choice([None, rng.randrange(60, 3000)])
        row["agent_replies"] = rng.choice([None, 0, 1, 2, 5])
        csat = rng.choice([None, 1, 2, 3, 4, 5, "good", "bad"])
        if csat is not None:
            row["csat"], row["csat_good"] = (None, csat == "good") if isinstance(csat, str) else (csat, csat >= 4)
        row["nps"] = rng.choice([None, 0, 3, 6, 7, 8, 9, 10])
    row["channel"] = rng.choice(["email", "chat", None])
    row["category"] = rng.choice(["billing", "login", None])
    return row


def in_scope(row: dict, agent: str | None) -> bool:  # type: ignore[type-arg]
    ok = row["team_key"] == "tier1" or (row["team_key"] is None and row["agent_id"] in MEMBERS)
    return ok and (agent is None or row["agent_id"] == agent)


def brute(rows: list[dict], start: datetime, end: datetime, agent: str | None, default_sla: int) -> dict:  # type: ignore[type-arg]
    mine = [r for r in rows if in_scope(r, agent)]
    created = [r for r in mine if start <= r["created_at"] < end]
    answered = sorted(r["frt_seconds"] for r in created if r["frt_seconds"] is not None)
    met = sum(1 for r in created if r["frt_seconds"] is not None and r["frt_seconds"] <= (r["sla_target_minutes"] or default_sla) * 60)
    breached = sum(1 for r in created if r["frt_seconds"] is None and r["created_at"] + timedelta(minutes=r["sla_target_minutes"] or default_sla) <= NOW)
    solved = [r for r in mine if r["solved_at"] is not None and start <= r["solved_at"] < end]
    rated = [r for r in solved if r["csat_good"] is not None]
    nps = [r["nps"] for r in solved if r["nps"] is not None]
    at = min(end, NOW)

    def q(p: float) -> float | None:
        if not answered:
            return None
        pos = p * (len(answered) - 1)
        lo = int(pos)
        hi = min(lo + 1, len(answered) - 1)
        return (answered[lo] + (answered[hi] - answered[lo]) * (pos - lo)) / 60

    return {
        "volume": len(created),
        "frt_n": len(answered),
        "frt_median": q(0.5),
        "frt_p90": q(0.9),
        "sla": (met, len(answered) + breached),
        "solved": len(solved),
        "csat": (sum(1 for r in rated if r["csat_good"]), len(rated)),
        "nps": (sum(1 for v in nps if v >= 9), sum(1 for v in nps if v <= 6), len(nps)),
        "fcr": (sum(1 for r in solved if r["agent_replies"] is not None and r["agent_replies"] <= 1), sum(1 for r in solved if r["agent_replies"] is not None)),
        "aht": (sum(r["handle_time_seconds"] for r in solved if r["handle_time_seconds"] is not None), sum(1 for r in solved if r["handle_time_seconds"] is not None)),
        "backlog": sum(1 for r in mine if r["created_at"] < at and (r["solved_at"] is None or r["solved_at"] >= at)),
        "channels": sorted(((r["channel"]) or "", 1) for r in created),
    }


def check(session, team, rows, tz: str, period_text: str, agent: str | None = None) -> None:  # type: ignore[no-untyped-def]
    team.timezone = tz
    period = kpis.parse_period(period_text, now=NOW, tz=tz)
    got = kpis.compute(session, team=team, start=period.start, end=period.end, now=NOW, agent_id=agent)
    want = brute(rows, period.start, period.end, agent, kpis.sla_minutes(team))
    label = f"{period_text} in {tz} agent={agent}"
    assert got.volume == want["volume"], label
    assert got.frt_n == want["frt_n"], label
    assert got.frt_median == pytest.approx(want["frt_median"]) if want["frt_median"] is not None else got.frt_median is None, label
    assert got.frt_p90 == pytest.approx(want["frt_p90"]) if want["frt_p90"] is not None else got.frt_p90 is None, label
    assert (got.sla_met, got.sla_n) == want["sla"], label
    assert got.solved == want["solved"], label
    assert (got.csat_good, got.csat_n) == want["csat"], label
    assert (got.nps_promoters, got.nps_detractors, got.nps_n) == want["nps"], label
    assert (got.fcr_yes, got.fcr_n) == want["fcr"], label
    assert (round((got.aht or 0) * 60 * got.aht_n), got.aht_n) == want["aht"], label
    assert got.backlog == want["backlog"], label
    if agent is None:
        counted: dict[str, int] = {}
        for name, _ in want["channels"]:
            counted[name] = counted.get(name, 0) + 1
        assert {k or "": v for k, v in got.by_channel} == counted, label


@pytest.mark.parametrize(("seed", "copy_rows"), [(1, 10**9), (2, 1)])
def test_rollups_match_brute_force(database_url, monkeypatch, seed: int, copy_rows: int) -> None:  # type: ignore[no-untyped-def]
    # PostgreSQL: seed 2 sends every rollup delta through COPY (several batches in one
    # transaction share the temporary table), seed 1 through the executemany upsert
    monkeypatch.setattr(rollups, "COPY_ROWS", copy_rows)
    rng = random.Random(seed)
    rows = [random_ticket(rng, n) for n in range(400)]
    engine = make_engine(database_url)
    with transaction(engine) as session:
        team = teams.create_team(
            session, workspace_id="T0TEST01", name="Tier1", leaders=["U0LEAD01"],
            members=["U0AGENT01", "U0AGENT02"], escalation_channel="C0ESCAL01",
            digest_channel=None, timezone="UTC", language="en", now=START,
        )
        team.settings = {"sla_minutes": 45}
        team_id = team.id
        for i in range(0, len(rows), 150):
            store.upsert_tickets(session=session, workspace_id="T0TEST01", rows=rows[i : i + 150], now=NOW)
    # change a third of them (answered, solved, moved to another team, re-rated) and re-import
    for row in rows[::3]:
        new = random_ticket(rng, 0)
        new["ticket_id"] = row["ticket_id"]
        row.clear()
        row.update(new)
    with transaction(engine) as session:
        result = store.upsert_tickets(session=session, workspace_id="T0TEST01", rows=rows, now=NOW)
        assert result.updated > 100 and result.inserted == 0
    with transaction(engine) as session:
        team = get_team(session=session, team_id=team_id)
        for tz in ("UTC", "Europe/Madrid", "America/New_York", "Asia/Kolkata"):
            for text in ("2026-10-25", "2026-10-21..2026-10-29", "2026-10-20..2026-11-02", "week", "today", "last-week"):
                check(session, team, rows, tz, text)
            check(session, team, rows, tz, "2026-10-21..2026-10-29", agent="U0AGENT02")
            for text in ("2026-10-25", "2026-10-21..2026-10-29", "week", "today", "last-week"):
                period = kpis.parse_period(text, now=NOW, tz=tz)
                summary = kpis.summary(session, team=team, period=period, now=NOW)
                want = brute(rows, period.prev_start, period.prev_end, None, kpis.sla_minutes(team))
                assert summary.previous.backlog == want["backlog"], (text, tz)
                assert summary.previous.volume == want["volume"], (text, tz)
        session.rollback()
    engine.dispose()
