"""Real bot processes for crash and replica tests: `supportbot run` with the stand-in."""

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

from supportbot.bot.standin.slack import BOT_TOKEN, WORKSPACE, SlackStandIn
from tests.rig import SIGNING_SECRET, sign


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BotProcess:
    def __init__(self, cwd: Path, standin: SlackStandIn, database_url: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.standin = standin
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": standin.url,
            "DATABASE_URL": database_url,
            "PORT": str(self.port),
            "LOG_LEVEL": "INFO",
        }
        self.log = cwd / f"bot-{self.port}.log"
        self._log_file = self.log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "supportbot.bot.cli", "run"], cwd=cwd, env=env,
            stdout=self._log_file, stderr=subprocess.STDOUT, text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(self.output())
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.2)
        self.kill()
        raise AssertionError("bot did not become healthy:\n" + self.output())

    def output(self) -> str:
        self._log_file.flush()
        return self.log.read_text()

    def command(self, command: str, text: str, *, user: str, channel: str) -> requests.Response:
        body = urlencode({
            "team_id": WORKSPACE, "user_id": user, "channel_id": channel, "command": command,
            "text": text, "response_url": f"{self.standin.response_url_base}p{self.port}",
            "trigger_id": f"t{time.time()}", "api_app_id": "A0APP0001",
        }).encode()
        ts = int(time.time())
        return requests.post(
            f"{self.url}/slack/events", data=body, timeout=10,
            headers={"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sign(body, ts)},
        )

    def kill(self) -> None:
        """SIGKILL: no chance to finish anything."""
        self.proc.kill()
        self.proc.wait(timeout=30)
        self._log_file.close()

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=60)
        self._log_file.close()
        return code
