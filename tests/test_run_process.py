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

import requests

from tests.rig import SIGNING_SECRET, sign
from tests.slack_standin import BOT_TOKEN


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_bot(tmp_path: Path, standin, database_url: str) -> tuple[subprocess.Popen[str], str]:  # type: ignore[no-untyped-def]
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
        [sys.executable, "-m", "bot.cli", "run"], cwd=tmp_path, env=env,
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
