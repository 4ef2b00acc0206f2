"""`supportbot run` as a real process: migrates, serves signed requests, stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests

from supportbot.bot import teams
from supportbot.bot.clock import SystemClock
from supportbot.bot.standin.slack import BOT_TOKEN, WORKSPACE
from supportbot.storage.db import make_engine, transaction
from tests.rig import SIGNING_SECRET, sign


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_bot(tmp_path: Path, standin, database_url: str, *args: str) -> tuple[subprocess.Popen[str], str]:  # type: ignore[no-untyped-def]
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": standin.url,
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "LOG_LEVEL": "DEBUG",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "supportbot.bot.cli", "run", *args], cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stdout.read() if proc.stdout else "bot exited")
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("bot did not become healthy")


def test_run_serves_and_stops_cleanly(tmp_path: Path, standin) -> None:  # type: ignore[no-untyped-def]
    database_url = f"sqlite:///{tmp_path / 'fresh.db'}"  # not migrated: run must do it
    proc, url = start_bot(tmp_path, standin, database_url)
    try:
        body = urlencode({
            "team_id": "T0TEST01", "user_id": "U0AGENT01", "channel_id": "C0GENERAL",
            "command": "/supportbot", "text": "help", "response_url": f"{standin.response_url_base}x",
            "trigger_id": "t1",
        }).encode()
        ts = int(time.time())
        response = requests.post(
            f"{url}/slack/events", data=body, timeout=10,
            headers={"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sign(body, ts)},
        )
        assert response.status_code == 200
        assert "/supportbot team" in response.text
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output
    assert "supportbot stopped" in output
    assert BOT_TOKEN not in output and SIGNING_SECRET not in output


def signed_command(url: str, command: str, text: str, *, user: str, channel: str, n: int, standin) -> requests.Response:  # type: ignore[no-untyped-def]
    body = urlencode({
        "team_id": WORKSPACE, "user_id": user, "channel_id": channel, "command": command, "text": text,
        "response_url": f"{standin.response_url_base}w{n}", "trigger_id": f"w{n}",
    }).encode()
    ts = int(time.time())
    return requests.post(  # a new connection each time: the kernel spreads them over workers
        f"{url}/slack/events", data=body, timeout=10,
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sign(body, ts), "Connection": "close"},
    )


def test_run_with_workers_serves_from_several_processes_and_sends_once(tmp_path: Path, standin, database_url: str) -> None:  # type: ignore[no-untyped-def]
    if database_url.startswith("sqlite"):
        pytest.skip("--workers needs PostgreSQL (SUPPORTBOT_TEST_POSTGRES=1)")
    engine = make_engine(database_url)
    with transaction(engine) as session:
        teams.create_team(
            session, workspace_id=WORKSPACE, name="Tier1", leaders=["U0LEAD01"], members=["U0AGENT01"],
            escalation_channel="C0ESCAL01", digest_channel=None, timezone="UTC", language="en",
            now=SystemClock().now(),
        )
    engine.dispose()
    proc, url = start_bot(tmp_path, standin, database_url, "--workers", "2")
    try:
        workers = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        assert len(workers) == 2
        answers = [signed_command(url, "/escalate", f"high Customer {n} locked out", user="U0AGENT01", channel="C0GENERAL", n=n, standin=standin) for n in range(12)]
        assert all(a.status_code == 200 for a in answers)
        refs = sorted(int(a.json()["text"].split("*ESC-")[1].split("*")[0]) for a in answers)
        assert refs == list(range(1, 13))
        assert standin.wait_for(lambda: len(standin.posts("C0ESCAL01")) >= 12, timeout=30)
        time.sleep(2)  # a second delivery by the other worker would show up by now
        posts = [c for c in standin.posts("C0ESCAL01") if not c.args.get("thread_ts")]
        assert sorted(c.text_everywhere().split("ESC-")[1].split("*")[0].split(" ")[0] for c in posts) == sorted(str(n) for n in range(1, 13))
        assert len({p.text_everywhere() for p in posts}) == 12
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=90)
    assert proc.returncode == 0, output
    assert output.count("worker stopped") == 2, output
    assert BOT_TOKEN not in output and SIGNING_SECRET not in output


def test_run_refuses_a_bad_worker_count(tmp_path: Path, standin) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": standin.url, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    done = subprocess.run([sys.executable, "-m", "supportbot.bot.cli", "run", "--workers", "0"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--workers must be between 1 and 64" in done.stderr


def test_run_with_workers_on_sqlite_says_to_use_postgresql(tmp_path: Path, standin) -> None:  # type: ignore[no-untyped-def]
    """SQLite takes one writer at a time and runs in one process: `--workers` on it says so
    in one line and starts nothing."""
    database = tmp_path / "one.db"
    env = {**os.environ, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": standin.url, "DATABASE_URL": f"sqlite:///{database}", "PORT": str(free_port())}
    done = subprocess.run([sys.executable, "-m", "supportbot.bot.cli", "run", "--workers", "2"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "SQLite runs in one process" in lines[0] and "PostgreSQL" in lines[0] and "--workers" in lines[0]
    assert not database.exists()  # refused before migrating or serving anything
