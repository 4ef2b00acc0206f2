"""Fan-outs under Slack's rate limits, in real time: the real bot (production pacing, the
outbox on its own thread) against the Slack stand-in with its rate limits on (Slack's
published floors; 429 + Retry-After past them).

1. A 300-member team: `/standup schedule mon-fri 09:30`, then `/standup now` (signed HTTP
   requests). Measured: each ack's time, when the last of the 300 prompts arrived.
2. The morning digest of 50 teams, each to its own channel: every team's 09:00 job at
   once, on a pool of 10 threads as APScheduler's default executor runs them (each job
   builds and queues its digest's figures, one job at a time); then the post, then its
   chart (drawn when its upload is due; upload URL, bytes, complete) in the thread. Also, same run, without Slack: the seconds of CPU
   work per digest before this change (built twice, drawn with pyplot and tight_layout)
   and now (built once, drawn on a reused figure), both on this process's thread.

For each: the lower bound the stand-in's limits allow (per method: the burst at once, the
rest at the limit's rate; the slowest method decides), the time taken and its ratio to
the bound (target: within 1.5x), calls inside an announced Retry-After (target: none),
429s answered, duplicates (target: none).

    python -m benchmarks.bench_fanout [--members 300] [--teams 50] [--database-url URL]
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from benchmarks.harness import command_body, write_results
from supportbot.bot import kpis, teams
from supportbot.bot.app import HttpServer, build_app, build_web
from supportbot.bot.clock import SystemClock
from supportbot.bot.config import Settings
from supportbot.bot.i18n import Translator
from supportbot.bot.kpis import chart
from supportbot.bot.kpis.digest import queue_team_digest
from supportbot.bot.runtime import Runtime, build_runtime
from supportbot.bot.standin.slack import BOT_TOKEN, WORKSPACE, SlackStandIn
from supportbot.bot.standin.slack_rates import (
    STANDIN_METHOD_TIERS,
    STANDIN_POST_WORKSPACE,
    STANDIN_TIERS,
)
from supportbot.handlers.kpis import chart_data
from supportbot.storage.db import upgrade
from tests.rig import SIGNING_SECRET, sign

TARGET_RATIO = 1.5
LEADER = "U0LEAD001"
JOB_THREADS = 10  # APScheduler's BackgroundScheduler default: a pool of 10 threads


def chart_png_before(_: Any, d: kpis.Digest) -> bytes:
    """The chart as it was drawn before (handlers/kpis.py until 30 November 2026): a new
    pyplot figure per chart, tight_layout, then savefig. Kept here as the baseline."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import FuncFormatter

    data = chart_data(_, d)
    labels = data["labels"]
    fig, axes = plt.subplots(3, 1, figsize=(8, 8), sharex=True)
    try:
        for ax, panel in zip(axes, data["panels"], strict=True):
            for line in panel["lines"]:
                ax.plot(labels, [float("nan") if v is None else v for v in line["values"]], marker="o", label=line["label"])
                if line["target"] is not None:
                    ax.axhline(line["target"], linestyle=":", linewidth=1)
            ax.yaxis.set_major_formatter(FuncFormatter(chart.axis_formatter(data["lang"], panel["percent"])))
            ax.legend(loc="upper left", fontsize=8)
            ax.grid(alpha=0.3)
        axes[-1].tick_params(axis="x", rotation=45)
        fig.suptitle(data["title"])
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=90)
        return buffer.getvalue()
    finally:
        plt.close(fig)


def render_cost(rt: Runtime, team_rows: list[Any], day: Any, *, before: bool) -> dict[str, float]:
    """Seconds (wall and CPU of this process) per digest of building and drawing it,
    without Slack: before = built twice (post, then chart) and drawn as it was; after =
    built once and drawn on the reused figure."""
    _ = Translator("en")
    wall, cpu = time.perf_counter(), time.process_time()
    with rt.transaction(readonly=True) as session:
        for team in team_rows:
            for _n in range(2 if before else 1):
                digest = kpis.build_digest(session, team=team, day=day, now=rt.clock.now())
            (chart_png_before(_, digest) if before else chart.draw(chart_data(_, digest)))
    n = len(team_rows)
    return {"wall": round((time.perf_counter() - wall) / n, 3), "cpu": round((time.process_time() - cpu) / n, 3)}


def lower_bound(calls: Counter[str]) -> float:
    """Seconds the stand-in's limits need for these calls (per method per workspace)."""
    worst = 0.0
    for method, n in calls.items():
        limit = STANDIN_POST_WORKSPACE if method == "chat.postMessage" else STANDIN_TIERS.get(STANDIN_METHOD_TIERS.get(method, 0))
        if limit is None:
            continue
        per_minute, burst = limit
        worst = max(worst, max(0, n - burst) * 60.0 / per_minute)
    return worst


class Bot:
    def __init__(self, standin: SlackStandIn, database_url: str) -> None:
        upgrade(database_url)
        settings = Settings(slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET, database_url=database_url, slack_api_url=standin.url)
        self.rt: Runtime = build_runtime(settings, clock=SystemClock())  # production pacing
        self.server = HttpServer(build_web(self.rt, build_app(self.rt)), host="127.0.0.1", port=0).start()
        self.url = f"http://127.0.0.1:{self.server.port}"
        self.rt.outbox.start_background()
        self.standin = standin
        self.n = 0

    def command(self, text: str, *, command: str = "/standup") -> tuple[float, requests.Response]:
        self.n += 1
        body, ctype = command_body(command, text, user=LEADER, channel="C0ESCAL01", n=self.n, standin=self.standin)
        ts = int(time.time())
        started = time.monotonic()
        response = requests.post(f"{self.url}/slack/events", data=body, timeout=30, headers={
            "Content-Type": ctype, "X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sign(body, ts),
        })
        return time.monotonic() - started, response

    def stop(self) -> None:
        self.rt.outbox.stop()
        self.server.stop()
        self.rt.engine.dispose()


def wait_for(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


def outcome(standin: SlackStandIn, started: float, methods: list[str], expected: Counter[str]) -> dict[str, Any]:
    limits = standin.rate_limits
    assert limits is not None
    last = max(max(limits.admitted.get(m) or [started]) for m in methods)
    took = last - started
    bound = lower_bound(expected)
    return {
        "seconds": round(took, 2),
        "lower_bound_seconds": round(bound, 2),
        "ratio": round(took / bound, 3) if bound else None,
        "calls_inside_retry_after": len(limits.in_window),
        "answered_429": len(limits.limited),
        "calls": {m: len(limits.admitted.get(m) or []) for m in sorted({*methods, *limits.admitted})},
        "first_call_seconds": {m: round(min(ts) - started, 2) for m, ts in sorted(limits.admitted.items())},
        "last_call_seconds": {m: round(max(ts) - started, 2) for m, ts in sorted(limits.admitted.items())},
    }


def standup(standin: SlackStandIn, database_url: str, members: int) -> dict[str, Any]:
    people = [f"U0M{n:05d}" for n in range(members)]
    for uid in (LEADER, *people):
        standin.add_user(uid, tz="Europe/Madrid")
    bot = Bot(standin, database_url)
    try:
        with bot.rt.transaction() as session:
            teams.create_team(session, workspace_id=WORKSPACE, name="Contact-centre", leaders=[LEADER], members=people,
                              escalation_channel="C0ESCAL01", digest_channel="C0STANDUP", timezone="Europe/Madrid",
                              language="en", now=bot.rt.clock.now())
        standin.limit_rates()
        load_before = os.getloadavg()[0]
        ack_schedule, response = bot.command("schedule mon-fri 09:30")
        assert response.status_code == 200 and "09:30" in response.text, response.text
        started = time.monotonic()
        ack_now, response = bot.command("now")
        assert response.status_code == 200 and str(members) in response.text, response.text

        def prompted() -> Counter[str]:
            return Counter(c.args["channel"] for c in standin.ok_calls("chat.postMessage") if c.args["channel"] in set(people))

        expected = Counter({"chat.postMessage": members + 1})
        done = wait_for(lambda: len(prompted()) == members, timeout=4 * lower_bound(expected) + 60)
        time.sleep(2)  # a duplicate would show up by now
        counts = prompted()
        result = outcome(standin, started, ["chat.postMessage"], expected)
        result.update({
            "members": members, "ack_schedule_ms": round(ack_schedule * 1000, 1), "ack_now_ms": round(ack_now * 1000, 1),
            "all_prompted": done and len(counts) == members, "duplicates": sum(n - 1 for n in counts.values()),
            "users_list_pages": len(standin.ok_calls("users.list")), "users_info_calls": len(standin.ok_calls("users.info")),
            "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        })
        return result
    finally:
        bot.stop()


def digests(standin: SlackStandIn, database_url: str, count: int) -> dict[str, Any]:
    bot = Bot(standin, database_url)
    channels = [f"C0DIG{n:04d}" for n in range(count)]
    try:
        team_rows = []
        with bot.rt.transaction() as session:
            for n, channel in enumerate(channels):
                team_rows.append(teams.create_team(
                    session, workspace_id=WORKSPACE, name=f"Team{n:03d}", leaders=[LEADER], members=[f"U0A{n:05d}"],
                    escalation_channel="C0ESCAL01", digest_channel=channel, timezone="UTC", language="en",
                    now=bot.rt.clock.now()))
        chart.warm()  # as the digest's job sync does when a digest is due within 15 minutes
        standin.limit_rates()
        load_before = os.getloadavg()[0]
        started = time.monotonic()
        day = (datetime.now(UTC) - timedelta(days=1)).date()
        # every team's 09:00 job at once, as the scheduler's thread pool runs them
        with ThreadPoolExecutor(max_workers=JOB_THREADS) as jobs:
            queued_at: list[float] = []

            def job(team: Any) -> bool:
                done = queue_team_digest(bot.rt, team.id, day)
                queued_at.append(time.monotonic() - started)
                return done

            queued = list(jobs.map(job, team_rows))
        queued_seconds = time.monotonic() - started

        def charts() -> Counter[str]:
            return Counter(c.args["channel_id"] for c in standin.ok_calls("files.completeUploadExternal"))

        expected = Counter({"chat.postMessage": count, "files.getUploadURLExternal": count, "files.completeUploadExternal": count})
        done = wait_for(lambda: len(charts()) == count, timeout=4 * lower_bound(expected) + 60)
        time.sleep(2)
        posts = Counter(c.args["channel"] for c in standin.ok_calls("chat.postMessage") if not c.args.get("thread_ts"))
        result = outcome(standin, started, ["chat.postMessage", "files.getUploadURLExternal", "files.completeUploadExternal"], expected)
        load_after = os.getloadavg()[0]
        # The same work without Slack, one digest after another as one thread does it, the
        # way it was (baseline) and the way it is now; the same teams, the same run.
        charted = charts()
        sample = team_rows[: min(count, 10)]
        render_cost(bot.rt, sample[:1], day, before=True)  # warm: imports, fonts, the reused figure
        render_cost(bot.rt, sample[:1], day, before=False)
        before = render_cost(bot.rt, sample, day, before=True)
        after = render_cost(bot.rt, sample, day, before=False)
        result.update({
            "render_before_seconds_each": before, "render_after_seconds_each": after,
            "render_speedup_wall": round(before["wall"] / after["wall"], 2) if after["wall"] else None,
            "queued_seconds": round(queued_seconds, 2),
            "first_queued_seconds": round(min(queued_at), 2), "load_average_1min": [round(load_before, 2), round(load_after, 2)],
            "teams": count, "all_delivered": done and all(queued) and set(posts) == set(channels) and set(charted) == set(channels),
            "duplicates": sum(n - 1 for n in posts.values()) + sum(n - 1 for n in charted.values()),
        })
        return result
    finally:
        bot.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--teams", type=int, default=50)
    parser.add_argument("--database-url", help="an empty database per scenario is made from a SQLite temp dir unless given (then it must hold nothing)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    standin = SlackStandIn().start()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, run, size in (("standup_now", standup, args.members), ("digests", digests, args.teams)):
            if size <= 0:
                continue
            standin.reset()
            url = args.database_url or f"sqlite:///{Path(tmp) / (name + '.db')}"
            results[name] = run(standin, url, size)
            r = results[name]
            verdict = "met" if r["ratio"] is not None and r["ratio"] <= TARGET_RATIO and not r["calls_inside_retry_after"] and not r["duplicates"] else "MISSED"
            print(f"{name}: {r['seconds']} s for a bound of {r['lower_bound_seconds']} s (ratio {r['ratio']}, target {TARGET_RATIO}: {verdict}); "
                  f"calls inside Retry-After {r['calls_inside_retry_after']}, 429s {r['answered_429']}, duplicates {r['duplicates']}")
            print(f"  {r}")
    standin.stop()
    print(write_results("fanout", results))


if __name__ == "__main__":
    main()
