"""Shared benchmark plumbing: the real bot (`supportbot run`), a bare Bolt app (gunicorn,
gthread, 8 threads) and the Slack stand-in, each in its own process; signed Slack requests;
latency statistics. Everything runs on loopback."""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests

from supportbot.bot.config import Settings
from supportbot.bot.standin.slack import BOT_TOKEN, WORKSPACE, SlackStandIn
from tests.rig import SIGNING_SECRET, sign

Request = tuple[bytes, str]  # body, content type


def command_body(command: str, text: str, *, user: str, channel: str, n: int, standin: SlackStandIn) -> Request:
    form = {
        "team_id": WORKSPACE, "channel_id": channel, "user_id": user, "command": command,
        "text": text, "response_url": f"{standin.response_url_base}b{n}", "trigger_id": f"bt{n}",
        "api_app_id": "A0APP0001",
    }
    return urlencode(form).encode(), "application/x-www-form-urlencoded"


def action_body(action_id: str, value: str, *, user: str, channel: str, n: int, standin: SlackStandIn) -> Request:
    payload = {
        "type": "block_actions", "team": {"id": WORKSPACE}, "user": {"id": user, "team_id": WORKSPACE},
        "api_app_id": "A0APP0001", "trigger_id": f"ba{n}", "channel": {"id": channel},
        "response_url": f"{standin.response_url_base}ba{n}",
        "container": {"type": "message", "channel_id": channel, "message_ts": "1.1"},
        "message": {"ts": "1.1", "text": ""},
        "actions": [{"type": "button", "action_id": action_id, "value": value, "block_id": "b", "action_ts": "1"}],
    }
    return urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"


@dataclass
class Target:
    name: str
    url: str
    stop: Callable[[], None]
    pid: int | None = None

    def cpu_seconds(self) -> float:
        """CPU time (user + system, all threads) the process has used so far: steadier than
        latency on a shared machine, where other work stretches the wall clock."""
        if self.pid is None:
            return 0.0
        with open(f"/proc/{self.pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # Latencies per kind of request, when run_load was given a `label`.
    by_kind: dict[str, list[float]] = field(default_factory=dict)

    def pct(self, p: float, latencies: list[float] | None = None) -> float:
        latencies = self.latencies if latencies is None else latencies
        if not latencies:
            return float("nan")
        ordered = sorted(latencies)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000

    def kinds(self) -> dict[str, dict[str, float]]:
        return {
            kind: {"requests": len(lat), "p50_ms": round(self.pct(50, lat), 1), "p99_ms": round(self.pct(99, lat), 1)}
            for kind, lat in sorted(self.by_kind.items())
        }

    def summary(self) -> dict[str, Any]:
        return {
            "requests": len(self.latencies) + len(self.errors),
            "errors": len(self.errors),
            "p50_ms": round(self.pct(50), 1),
            "p99_ms": round(self.pct(99), 1),
            "mean_ms": round(statistics.fmean(self.latencies) * 1000, 1) if self.latencies else None,
        }


def run_load(url: str, make: Callable[[int, int], Request], *, clients: int, seconds: float | None = None, per_client: int | None = None, check: Callable[[requests.Response], str | None] | None = None, label: Callable[[bytes], str] | None = None) -> Result:
    """`clients` threads send signed requests made by make(client, n) until time or count runs out."""
    result = Result()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds if seconds else None

    def client(c: int) -> None:
        session = requests.Session()
        n = 0
        while (per_client is None or n < per_client) and (deadline is None or time.monotonic() < deadline):
            body, ctype = make(c, n)
            ts = int(time.time())
            headers = {"Content-Type": ctype, "X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sign(body, ts)}
            start = time.perf_counter()
            try:
                response = session.post(f"{url}/slack/events", data=body, headers=headers, timeout=30)
                elapsed = time.perf_counter() - start
                problem = f"HTTP {response.status_code}" if response.status_code != 200 else (check(response) if check else None)
            except requests.RequestException as exc:
                elapsed, problem = time.perf_counter() - start, type(exc).__name__
            with lock:
                (result.errors.append(problem) if problem else result.latencies.append(elapsed))
                if label is not None and not problem:
                    result.by_kind.setdefault(label(body), []).append(elapsed)
            n += 1

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return result


def write_results(name: str, data: dict[str, Any]) -> Path:
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    path = out / f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(data, indent=2))
    return path


# ----- separate processes: the bot's CPU is not shared with the load or with Slack -----


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(url: str, proc: Any) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited early")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def spawn(name: str, argv: list[str], *, env: dict[str, str] | None = None, health: str = "/healthz") -> Target:
    import os
    import subprocess

    port = _free_port()
    full_env = {**os.environ, **(env or {}), "PORT": str(port)}
    argv = [a.replace("{port}", str(port)) for a in argv]
    proc = subprocess.Popen(argv, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    _wait_up(url + health, proc)

    def stop() -> None:
        proc.terminate()
        proc.wait(timeout=60)

    return Target(name, url, stop, proc.pid)


def spawn_standin() -> tuple[Target, SlackStandIn]:
    """The stand-in in its own process; the returned object only builds URLs for it."""
    import sys

    target = spawn("slack stand-in", [sys.executable, "-m", "supportbot.bot.standin.slack", "{port}"], health="/api/api.test")
    view = SlackStandIn()
    view.url = target.url + "/api/"
    return target, view


def spawn_bot(standin_url: str, database_url: str, workers: int = 1, extra_env: dict[str, str] | None = None) -> Target:
    import sys

    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": standin_url, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    return spawn("supportbot", [sys.executable, "-m", "supportbot.bot.cli", "run", "--workers", str(workers)], env=env)


BARE_THREADS = 8


def spawn_bare(standin_url: str) -> Target:
    """The bare Bolt app behind gunicorn, gthread worker, one process of 8 threads."""
    import sys

    env = {"SLACK_API_URL": standin_url}
    argv = [
        sys.executable, "-m", "gunicorn", "-k", "gthread", "--threads", str(BARE_THREADS), "-w", "1",
        "-b", "127.0.0.1:{port}", "--log-level", "warning", "benchmarks.bare_app:create()",
    ]
    return spawn("bare Bolt app", argv, env=env, health="/slack/events")


@contextmanager
def database(tmp: Path, *, postgres: bool) -> Iterator[str]:
    """A fresh SQLite file in `tmp`, or an empty database on a throwaway PostgreSQL server
    (tests/pgserver.py) that is stopped afterwards."""
    if not postgres:
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    from sqlalchemy import create_engine, text

    from tests.pgserver import PostgresServer

    server = PostgresServer()
    try:
        admin_url = server.start()
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text('CREATE DATABASE "bench"'))
        admin.dispose()
        yield admin_url.rsplit("/", 1)[0] + "/bench"
    finally:
        server.stop()


def settings_for(standin_url: str, database_url: str) -> Settings:
    return Settings(slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET, database_url=database_url, slack_api_url=standin_url)
