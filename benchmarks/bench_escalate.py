"""Ack latency of `/escalate`: the real bot (SQLite, outbox, Slack stand-in) next to a bare
Bolt app that only acks, behind the same production server (waitress), in the same run.

Each measured request is a signed `/escalate urgent ...` that creates, stores and confirms
an escalation (the channel post and the leader's DM go out after the ack, paced as in
production). The Slack stand-in runs in its own process, as Slack is not in ours.
Concurrency 1 and 20; rounds alternate between the two apps so drift hits both alike.

    python -m benchmarks.bench_escalate [--requests 400] [--rounds 3] [--database-url URL]
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import tempfile
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlmodel import func, select

from benchmarks.harness import Result, command_body, run_load, start_bare, start_bot, write_results
from supportbot.bot import teams
from supportbot.bot.standin.slack import WORKSPACE
from supportbot.storage.escalations import Escalation

ROOT = Path(__file__).resolve().parents[1]
STANDIN = """
import logging, sys
logging.disable(logging.INFO)
from supportbot.bot.standin.slack import SlackStandIn
print(SlackStandIn().start().url, flush=True)
sys.stdin.read()
"""

AGENTS = tuple(f"U0BENCH{n:02d}" for n in range(20))
LEADERS = ("U0LEAD001", "U0LEAD002")
TARGET_RATIO = 1.5


def make_team(target: Any) -> None:
    with target.rt.transaction() as session:
        teams.create_team(
            session,
            workspace_id=WORKSPACE,
            name="Bench",
            leaders=list(LEADERS),
            members=list(AGENTS),
            escalation_channel="C0BENCH01",
            digest_channel=None,
            timezone="UTC",
            language="en",
            now=target.rt.clock.now(),
        )


@contextmanager
def standin_process() -> Iterator[Any]:
    """The Slack stand-in in a child process; stops when stdin closes."""
    child = subprocess.Popen(
        [sys.executable, "-c", STANDIN], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout is not None and child.stdin is not None
    url = child.stdout.readline().strip()
    try:
        yield types.SimpleNamespace(url=url, response_url_base=url.replace("/api/", "/response/"))
    finally:
        child.stdin.close()
        child.wait(timeout=10)


def measure(url: str, standin: Any, *, clients: int, total: int, real: bool) -> Result:
    counter = itertools.count()

    def make(c: int, _n: int) -> tuple[bytes, str]:
        n = next(counter)
        return command_body(
            "/escalate",
            f"urgent Customer {n} charged twice, see #{10000 + n}",
            user=AGENTS[c % len(AGENTS)],
            channel="C0GENERAL",
            n=n,
            standin=standin,
        )

    def check(response: Any) -> str | None:
        if not real:
            return None
        text = response.json().get("text", "") if response.content else ""
        return None if "ESC-" in text else f"unexpected answer: {text[:80]!r}"

    return run_load(url, make, clients=clients, per_client=max(1, total // clients), check=check)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="requests per app, concurrency and round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per concurrency")
    parser.add_argument("--database-url", help="an empty database (default: a fresh SQLite file)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp, standin_process() as standin:
        bot = start_bot(standin, args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}")
        bot.rt.outbox.pace_seconds = 1.0  # production pacing (1 message/s per channel)
        bare = start_bare(standin)
        try:
            make_team(bot)
            for target, real in ((bot, True), (bare, False)):  # warm up both
                measure(target.url, standin, clients=4, total=40, real=real)
            report: dict[str, Any] = {
                "requests": args.requests,
                "rounds": args.rounds,
                "database": bot.rt.engine.dialect.name,
                "cpus": os.cpu_count(),
                "runs": {},
            }
            print(f"{'app':<16}{'concurrency':>12}{'requests':>10}{'errors':>8}{'p50 ms':>9}{'p99 ms':>9}")
            for clients in (1, 20):
                pooled = {"bot": Result(), "bare": Result()}
                for _round in range(args.rounds):
                    for name, target, real in (("bare", bare, False), ("bot", bot, True)):
                        result = measure(target.url, standin, clients=clients, total=args.requests, real=real)
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
            with bot.rt.transaction(readonly=True) as session:
                stored = session.exec(select(func.count()).select_from(Escalation)).one()
            report["escalations_stored"] = stored
            print(f"escalations stored: {stored}; pending Slack sends drain after the ack")
            path = write_results("escalate", report)
            print(f"results: {path}")
            ratio20 = report["runs"]["p99_ratio@20"]
            verdict = "meets" if ratio20 <= TARGET_RATIO else "MISSES"
            print(f"target p99@20 within {TARGET_RATIO}x of bare: {verdict} ({ratio20}x)")
            errors = sum(v["errors"] for k, v in report["runs"].items() if isinstance(v, dict))
            return 1 if errors else 0
        finally:
            bot.stop()
            bare.stop()


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    # Paced deliveries may still be draining in the bot's listener threads: don't wait.
    os._exit(code)
