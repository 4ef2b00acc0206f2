"""Load: 20 concurrent clients for 60 s mixing `/escalate`, `/kpis`, `/kudos` and
Acknowledge clicks against the real bot (SQLite, or PostgreSQL with --postgres), and the
same mix against a bare Bolt app that only acks, behind the same server, in the same run.

    python -m benchmarks.bench_load [--seconds 60] [--clients 20] [--postgres] [--workers N]
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.gen_tickets import generate
from benchmarks.harness import (
    Result,
    action_body,
    command_body,
    database,
    run_load,
    settings_for,
    spawn_bare,
    spawn_bot,
    spawn_standin,
    write_results,
)
from supportbot.bot import escalations, teams
from supportbot.bot.ingest import import_csv
from supportbot.bot.runtime import Runtime, build_runtime
from supportbot.bot.standin.slack import WORKSPACE, SlackStandIn
from supportbot.storage.db import upgrade

AGENTS = tuple(f"U0BENCH{n:03d}" for n in range(1, 21))
LEADERS = ("U0LEAD001", "U0LEAD002")
CHANNEL = "C0BENCH01"


def seed(rt: Runtime, tmp: Path, tickets: int) -> list[int]:
    with rt.transaction() as session:
        team = teams.create_team(
            session, workspace_id=WORKSPACE, name="Bench", leaders=list(LEADERS), members=list(AGENTS),
            escalation_channel=CHANNEL, digest_channel="C0BENCHDG", timezone="UTC", language="en", now=rt.clock.now(),
        )
        team.settings = {"kudos_cap": 1_000_000}
        session.add(team)
    csv_path = tmp / "tickets.csv"
    generate(csv_path, tickets, len(AGENTS))
    with csv_path.open(encoding="utf-8") as stream:
        import_csv(rt.transaction, workspace_id=WORKSPACE, stream=stream, fmt="generic", now=rt.clock.now())
    ids = []
    with rt.transaction() as session:
        team = teams.find_team(session, WORKSPACE, "Bench")
        for n in range(200):
            new = escalations.prepare(session, team=team, reporter_id=AGENTS[n % 20], draft=escalations.Draft(severity="low", summary=f"Seeded case {n}"), clock=rt.clock)
            esc = escalations.save(session, [new], clock=rt.clock)[0]
            ids.append(esc.id)
    return ids  # their channel posts are delivered by the bot when it starts


def mixer(standin: SlackStandIn, escalation_ids: list[int]) -> Any:
    counter = itertools.count()
    rng = random.Random(11)

    def make(c: int, _n: int) -> tuple[bytes, str]:
        n = next(counter)
        agent = AGENTS[c % len(AGENTS)]
        kind = n % 4
        if kind == 0:
            return command_body("/escalate", f"normal Customer {n} cannot reset password #{20000 + n}", user=agent, channel="C0GENERAL", n=n, standin=standin)
        if kind == 1:
            return command_body("/kpis", rng.choice(["today", "yesterday", "week"]), user=LEADERS[0], channel=CHANNEL, n=n, standin=standin)
        if kind == 2:
            other = AGENTS[(c + 1) % len(AGENTS)]
            return command_body("/kudos", f"<@{other}|x> thanks for covering the queue #teamwork", user=agent, channel=CHANNEL, n=n, standin=standin)
        return action_body("escalation.ack", f'{{"id": {rng.choice(escalation_ids)}}}', user=LEADERS[n % 2], channel=CHANNEL, n=n, standin=standin)

    return make


def kind_of(body: bytes) -> str:
    if body.startswith(b"payload="):
        return "ack click"
    return "/" + body.split(b"command=%2F", 1)[1].split(b"&", 1)[0].decode()


def check(response: Any) -> str | None:
    if "error id" in response.text or "Nothing was saved" in response.text:
        return "bot error: " + response.text[:200]
    return None


def prepare(database_url: str, standin_url: str, tmp: Path, tickets: int) -> list[int]:
    """Migrate and seed an empty database; returns the seeded escalations' ids."""
    upgrade(database_url)
    rt = build_runtime(settings_for(standin_url, database_url), pace_seconds=0)
    try:
        return seed(rt, tmp, tickets)
    finally:
        rt.engine.dispose()


def measure(url: str, standin: SlackStandIn, ids: list[int], *, clients: int, seconds: float, real: bool) -> Result:
    return run_load(url, mixer(standin, ids), clients=clients, seconds=seconds, check=check if real else None, label=kind_of)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--tickets", type=int, default=50_000)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--workers", type=int, default=1, help="supportbot run --workers N")
    args = parser.parse_args()

    standin_proc, standin = spawn_standin()
    with tempfile.TemporaryDirectory() as tmp_name, database(Path(tmp_name), postgres=args.postgres) as database_url:
        ids = prepare(database_url, standin.url, Path(tmp_name), args.tickets)
        bot = spawn_bot(standin.url, database_url, workers=args.workers)
        bare = spawn_bare(standin.url)
        try:
            time.sleep(3)  # let the bot deliver the seeded escalations' posts first
            results: dict[str, Result] = {}
            for target in (bot, bare):
                results[target.name] = measure(target.url, standin, ids, clients=args.clients, seconds=args.seconds, real=target is bot)
        finally:
            bot.stop()  # SIGTERM: finishes in-flight requests and deliveries
            bare.stop()
            standin_proc.stop()
    summary = {name: r.summary() for name, r in results.items()}
    for s in summary.values():
        s["throughput_rps"] = round(s["requests"] / args.seconds, 1)
    ratio = summary["supportbot"]["p99_ms"] / summary["bare Bolt app"]["p99_ms"]
    backend = "postgresql" if args.postgres else "sqlite"
    print(f"backend: {backend}, workers: {args.workers}, {args.clients} clients x {args.seconds:.0f} s, mix /escalate /kpis /kudos ack-click")
    for name, s in summary.items():
        print(f"  {name:14s} requests {s['requests']:6d}  errors {s['errors']}  p50 {s['p50_ms']:7.1f} ms  p99 {s['p99_ms']:7.1f} ms  {s['throughput_rps']} req/s")
        s["by_kind"] = results[name].kinds()
        for kind, k in s["by_kind"].items():
            print(f"    {kind:12s} requests {k['requests']:6d}  p50 {k['p50_ms']:7.1f} ms  p99 {k['p99_ms']:7.1f} ms")
    print(f"  p99 ratio supportbot / bare: {ratio:.2f}x (target: p99 < 300 ms, zero errors)")
    if results["supportbot"].errors:
        print("  first errors:", results["supportbot"].errors[:3])
    path = write_results(f"load-{backend}-w{args.workers}", {"summary": summary, "ratio_p99": ratio, "args": vars(args)})
    print(f"  written to {path}")
    ok = not results["supportbot"].errors and summary["supportbot"]["p99_ms"] < 300
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
