"""Ack latency of `/escalate`: the real bot (`supportbot run`, its own process, outbox with
production pacing) next to a bare Bolt app that only acks (gunicorn, gthread worker,
8 threads), in the same run, with the Slack stand-in in a third process.

Each measured request is a signed `/escalate urgent ...` that creates, stores and confirms
an escalation (the channel post and the leader's DM go out after the ack). Concurrency 1
and 20; rounds alternate between the two apps so drift hits both alike.

    python -m benchmarks.bench_escalate [--seconds 20] [--rounds 2] [--postgres] [--workers N]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    Result,
    command_body,
    database,
    run_load,
    settings_for,
    spawn_bare,
    spawn_bot,
    spawn_standin,
    write_results,
)
from supportbot.bot import teams
from supportbot.bot.runtime import build_runtime
from supportbot.bot.standin.slack import WORKSPACE, SlackStandIn
from supportbot.storage.db import upgrade

AGENTS = tuple(f"U0BENCH{n:03d}" for n in range(1, 21))
LEADERS = ("U0LEAD001", "U0LEAD002")
TARGET_RATIO = 2.0


def make_team(database_url: str, standin_url: str) -> None:
    rt = build_runtime(settings_for(standin_url, database_url), pace_seconds=0)
    with rt.transaction() as session:
        teams.create_team(
            session, workspace_id=WORKSPACE, name="Bench", leaders=list(LEADERS), members=list(AGENTS),
            escalation_channel="C0BENCH01", digest_channel=None, timezone="UTC", language="en",
            now=rt.clock.now(),
        )
    rt.engine.dispose()


def measure(url: str, standin: SlackStandIn, *, clients: int, seconds: float, real: bool) -> Result:
    """`clients` agents send `/escalate urgent ...` for `seconds`; a bot answer without an
    `ESC-n` id counts as an error."""
    counter = itertools.count()

    def make(c: int, _n: int) -> tuple[bytes, str]:
        n = next(counter)
        return command_body(
            "/escalate", f"urgent Customer {n} charged twice, see #{10000 + n}",
            user=AGENTS[c % len(AGENTS)], channel="C0GENERAL", n=n, standin=standin,
        )

    def check(response: Any) -> str | None:
        if not real:
            return None
        text = response.json().get("text", "") if response.content else ""
        return None if "ESC-" in text else f"unexpected answer: {text[:80]!r}"

    return run_load(url, make, clients=clients, seconds=seconds, check=check)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20, help="per app, concurrency and round")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per concurrency")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--workers", type=int, default=1, help="supportbot run --workers N")
    args = parser.parse_args(argv)

    standin_proc, standin = spawn_standin()
    with tempfile.TemporaryDirectory() as tmp, database(Path(tmp), postgres=args.postgres) as database_url:
        upgrade(database_url)
        make_team(database_url, standin.url)
        bot = spawn_bot(standin.url, database_url, workers=args.workers)
        bare = spawn_bare(standin.url)
        try:
            for target, real in ((bot, True), (bare, False)):  # warm up both
                measure(target.url, standin, clients=4, seconds=2, real=real)
            report: dict[str, Any] = {"args": vars(args), "runs": {}}
            print(f"{'app':<16}{'concurrency':>12}{'requests':>10}{'errors':>8}{'p50 ms':>9}{'p99 ms':>9}")
            for clients in (1, 20):
                pooled = {"bot": Result(), "bare": Result()}
                for _round in range(args.rounds):
                    for name, target, real in (("bare", bare, False), ("bot", bot, True)):
                        result = measure(target.url, standin, clients=clients, seconds=args.seconds, real=real)
                        pooled[name].latencies += result.latencies
                        pooled[name].errors += result.errors
                for name in ("bare", "bot"):
                    s = pooled[name].summary()
                    label = "supportbot" if name == "bot" else "bare Bolt app"
                    print(f"{label:<16}{clients:>12}{s['requests']:>10}{s['errors']:>8}{s['p50_ms']:>9}{s['p99_ms']:>9}")
                    report["runs"][f"{name}@{clients}"] = s
                ratio = pooled["bot"].pct(99) / pooled["bare"].pct(99)
                report["runs"][f"p99_ratio@{clients}"] = round(ratio, 2)
                print(f"{'':<16}{clients:>12}   p99 ratio supportbot/bare = {ratio:.2f}x")
            print(f"results: {write_results('escalate', report)}")
            ratio20 = report["runs"]["p99_ratio@20"]
            verdict = "meets" if ratio20 <= TARGET_RATIO else "MISSES"
            print(f"bound p99@20 within {TARGET_RATIO}x of bare: {verdict} ({ratio20}x)")
            errors = sum(v["errors"] for v in report["runs"].values() if isinstance(v, dict))
            return 1 if errors or ratio20 > TARGET_RATIO else 0
        finally:
            bot.stop()
            bare.stop()
            standin_proc.stop()


if __name__ == "__main__":
    sys.exit(main())
