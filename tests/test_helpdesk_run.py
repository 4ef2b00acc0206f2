"""`supportbot run` as a real process against the Zendesk and Freshdesk stand-ins: no
manual step, tickets changed in the helpdesk show up in `/kpis today` (asked over signed
HTTP) within one sync interval.

SYNC_INTERVAL_MINUTES takes a fraction for tests (0.2 = 12 s, 0.1 = 6 s; bot/config.py)
so an interval passes in seconds. Zendesk's export leaves out what changed in the last
minute (documented, and enforced by the stand-in), so the Zendesk changes are stamped a
minute back: "changed in the helpdesk" means "exportable", as it would with Zendesk.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests

from supportbot.bot import teams
from supportbot.bot.clock import SystemClock
from supportbot.bot.standin.freshdesk import API_KEY, FreshdeskStandIn
from supportbot.bot.standin.slack import BOT_TOKEN, WORKSPACE, SlackStandIn
from supportbot.bot.standin.zendesk import EMAIL, TOKEN, ZendeskStandIn
from supportbot.storage.db import make_engine, transaction
from tests.procs import free_port
from tests.rig import SIGNING_SECRET, sign

SLACK_MARGIN = 6.0  # seconds a sync and the answer may take on top of the interval (shared, loaded CI machine)


class RunningBot:
    """`supportbot run` with the helpdesk settings in its environment."""

    def __init__(self, cwd: Path, standin: SlackStandIn, database_url: str, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.standin = standin
        base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ZENDESK_", "FRESHDESK_", "SYNC_"))}
        full = {
            **base, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": standin.url,
            "DATABASE_URL": database_url, "PORT": str(self.port), "LOG_LEVEL": "INFO", **env,
        }
        self.log = cwd / f"bot-{self.port}.log"
        self._log_file = self.log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "supportbot.bot.cli", "run"], cwd=cwd, env=full,
            stdout=self._log_file, stderr=subprocess.STDOUT, text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.output()
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError("bot did not become healthy:\n" + self.output())

    def output(self) -> str:
        if not self._log_file.closed:
            self._log_file.flush()
        return self.log.read_text()

    def kpis(self, text: str = "today") -> str:
        body = urlencode({
            "team_id": WORKSPACE, "user_id": "U0LEAD01", "channel_id": "C0GENERAL", "command": "/kpis",
            "text": text, "response_url": f"{self.standin.response_url_base}k{self.port}",
            "trigger_id": f"t{time.time()}", "api_app_id": "A0APP0001",
        }).encode()
        ts = int(time.time())
        response = requests.post(
            f"{self.url}/slack/events", data=body, timeout=10,
            headers={"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sign(body, ts)},
        )
        assert response.status_code == 200, response.text
        answer = response.json()
        return answer.get("text", "") + str(answer.get("blocks") or "")

    def wait_for(self, check: Callable[[str], bool], timeout: float, text: str = "today") -> tuple[str, float]:
        """Ask `/kpis` every half second until `check` holds: (the answer, seconds taken)."""
        began = time.monotonic()
        answer = ""
        while time.monotonic() - began < timeout:
            assert self.proc.poll() is None, self.output()
            answer = self.kpis(text)
            if check(answer):
                return answer, time.monotonic() - began
            time.sleep(0.5)
        raise AssertionError(f"/kpis {text} did not change within {timeout:g} s:\n{answer}\n--- bot log ---\n{self.output()[-4000:]}")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=60)
        finally:
            self._log_file.close()
        return code


def make_team(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with transaction(engine) as session:
            teams.create_team(
                session, workspace_id=WORKSPACE, name="Tier1", leaders=["U0LEAD01"], members=["U0AGENT01"],
                escalation_channel="C0ESCAL01", digest_channel=None, timezone="UTC", language="en",
                now=SystemClock().now(),
            )
    finally:
        engine.dispose()


def today_start() -> float:
    now = time.time()
    midnight = datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    if now - midnight < 15 * 60:
        pytest.skip("within 15 minutes of midnight UTC: the tickets would straddle two days")
    return midnight


@pytest.fixture
def zendesk() -> Iterator[ZendeskStandIn]:
    server = ZendeskStandIn().start()  # the real clock and the documented 10 requests a minute
    yield server
    server.stop()


@pytest.fixture
def freshdesk() -> Iterator[FreshdeskStandIn]:
    server = FreshdeskStandIn().start()
    yield server
    server.stop()


def test_run_keeps_kpis_today_within_one_interval_of_zendesk(tmp_path: Path, standin: SlackStandIn, database_url: str, zendesk: ZendeskStandIn) -> None:
    today_start()
    make_team(database_url)
    standin.add_user("U0AGENT01", email="ana@example.com")
    zendesk.add_group(1, "Tier1")
    zendesk.add_user(11, "ana@example.com")
    now = time.time()
    for i in range(3):  # open, not answered yet, assigned to Ana
        zendesk.put_ticket(100 + i, created_at=now - 900 + i, updated_at=now - 900 + i, group_id=1, assignee_id=11, channel="chat")
    interval = 12.0
    bot = RunningBot(tmp_path, standin, database_url, {
        "ZENDESK_URL": zendesk.url, "ZENDESK_EMAIL": EMAIL, "ZENDESK_API_TOKEN": TOKEN, "SYNC_INTERVAL_MINUTES": "0.2",
    })
    try:
        # the sync at start: no manual step
        answer, _ = bot.wait_for(lambda a: "chat 3" in a, timeout=interval + 30)
        assert "Resolved in the period: 0" in answer
        # Ana (found through Slack by her email) has the three
        assert "chat 3" in bot.kpis("today <@U0AGENT01>")
        # in the helpdesk: the three are answered and solved, two new tickets come in
        changed = time.time() - 61  # what the export hands out now
        for i in range(3):
            zendesk.put_ticket(100 + i, created_at=now - 900 + i, updated_at=changed, status="solved", group_id=1, assignee_id=11,
                               channel="chat", reply_minutes=4, solved_at=changed, replies=1, satisfaction="good")
        for i in range(2):
            zendesk.put_ticket(200 + i, created_at=changed - 10, updated_at=changed, group_id=1, channel="email")
        answer, took = bot.wait_for(lambda a: "Resolved in the period: 3" in a and "email 2" in a, timeout=interval + 30)
        assert took <= interval + SLACK_MARGIN, f"{took:.1f} s"
        assert "chat 3" in answer and "4.0 min" in answer  # the first response, from the metric sets
    finally:
        code = bot.stop()
    assert code == 0, bot.output()
    log = bot.output()
    assert TOKEN not in log and "Traceback" not in log
    assert 429 not in [h.status for h in zendesk.export_hits()] and zendesk.early == []


def test_run_keeps_kpis_today_within_one_interval_of_freshdesk(tmp_path: Path, standin: SlackStandIn, database_url: str, freshdesk: FreshdeskStandIn) -> None:
    today_start()
    make_team(database_url)
    freshdesk.add_group(5, "Tier1")
    freshdesk.add_agent(21, "ana@example.com")
    now = time.time()
    for i in range(3):
        freshdesk.put_ticket(i + 1, created_at=now - 900 + i, updated_at=now - 900 + i, group_id=5, responder_id=21, source="phone")
    interval = 6.0
    bot = RunningBot(tmp_path, standin, database_url, {
        "FRESHDESK_URL": freshdesk.url, "FRESHDESK_API_KEY": API_KEY, "SYNC_INTERVAL_MINUTES": "0.1",
    })
    try:
        answer, _ = bot.wait_for(lambda a: "phone 3" in a, timeout=interval + 30)
        assert "Resolved in the period: 0" in answer
        changed = time.time()
        for i in range(3):
            freshdesk.put_ticket(i + 1, created_at=now - 900 + i, updated_at=changed, status="resolved", group_id=5, responder_id=21,
                                 source="phone", first_responded_at=now - 900 + i + 240, resolved_at=changed)
        freshdesk.put_ticket(9, created_at=changed - 5, updated_at=changed, group_id=5, source="chat")
        freshdesk.delete_ticket(3, at=changed + 1)  # and one of them is deleted
        answer, took = bot.wait_for(lambda a: "Resolved in the period: 2" in a and "chat 1" in a, timeout=interval + 30)
        assert took <= interval + SLACK_MARGIN, f"{took:.1f} s"
        assert "phone 2" in answer and "4.0 min" in answer
    finally:
        code = bot.stop()
    assert code == 0, bot.output()
    assert API_KEY not in bot.output()
