"""Alert scan cost: one minute's scan (SLA risk, outcomes, spikes) of every team, with
`--tickets` tickets over 90 days spread over `--teams` teams, 3% of them never answered.

    python -m benchmarks.bench_alerts [--tickets 200000] [--teams 10] [--runs 20] [--db URL]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from supportbot.bot import alerts, teams
from supportbot.bot.clock import FixedClock
from supportbot.bot.config import Settings
from supportbot.bot.runtime import build_runtime
from supportbot.storage import kpis as store
from supportbot.storage.db import transaction, upgrade

WORKSPACE = "T0BENCH01"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def seed(rt, n_tickets: int, n_teams: int) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    with transaction(rt.engine) as session:
        for i in range(n_teams):
            teams.create_team(
                session, workspace_id=WORKSPACE, name=f"Team{i}", leaders=["U0LEAD01"],
                members=[f"U0AG{i:02d}{j}" for j in range(5)], escalation_channel="C0ESCAL01",
                digest_channel=None, timezone="UTC", language="en", now=NOW,
            )
    span = 90 * 24 * 3600
    batch = []
    for k in range(n_tickets):
        created = NOW - timedelta(seconds=rng.randrange(span))
        team = rng.randrange(n_teams)
        row = {name: None for name in store.TICKET_FIELDS}
        row.update(ticket_id=f"B{k}", created_at=created, team=f"Team{team}", team_key=f"team{team}",
                   agent_id=f"U0AG{team:02d}{rng.randrange(5)}", status="open")
        if rng.random() > 0.03:
            frt = rng.randrange(60, 5400)
            row.update(first_response_at=created + timedelta(seconds=frt), frt_seconds=frt,
                       solved_at=created + timedelta(seconds=frt + 3600), status="solved")
        batch.append(row)
        if len(batch) == 5000:
            with transaction(rt.engine) as session:
                store.upsert_tickets(session=session, workspace_id=WORKSPACE, rows=batch, now=NOW)
            batch = []
    if batch:
        with transaction(rt.engine) as session:
            store.upsert_tickets(session=session, workspace_id=WORKSPACE, rows=batch, now=NOW)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--teams", type=int, default=10)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--db")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'alerts.db'}"
        upgrade(url)
        clock = FixedClock(NOW)
        settings = Settings(slack_bot_token="xoxb-bench", slack_signing_secret="x" * 12, database_url=url)
        rt = build_runtime(settings, clock=clock, pace_seconds=0)
        started = time.perf_counter()
        seed(rt, args.tickets, args.teams)
        print(f"seeded {args.tickets} tickets, {args.teams} teams in {time.perf_counter() - started:.1f} s")
        times = []
        for run in range(args.runs):
            clock.set(NOW + timedelta(minutes=run))
            t0 = time.perf_counter()
            alerts.scan_now(rt)
            times.append((time.perf_counter() - t0) * 1000)
        print(f"scan of {args.teams} teams: median {statistics.median(times):.1f} ms, "
              f"max {max(times):.1f} ms over {args.runs} runs (first {times[0]:.1f} ms)")
        rt.engine.dispose()


if __name__ == "__main__":
    main()
