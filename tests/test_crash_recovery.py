"""Kill -9 the bot after it stored an escalation but before Slack got the post; the next
process delivers it, once."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from supportbot.bot import teams
from supportbot.bot.clock import SystemClock
from supportbot.bot.standin.slack import WORKSPACE
from supportbot.storage.db import make_engine, transaction
from supportbot.storage.escalations import Escalation
from tests.procs import BotProcess


def make_team(database_url: str) -> None:
    engine = make_engine(database_url)
    with transaction(engine) as session:
        teams.create_team(
            session, workspace_id=WORKSPACE, name="Tier1", leaders=["U0LEAD01", "U0LEAD02"],
            members=["U0AGENT01"], escalation_channel="C0ESCAL01", digest_channel=None,
            timezone="UTC", language="en", now=SystemClock().now(),
        )
    engine.dispose()


def test_escalation_stored_before_a_crash_is_posted_once_after_restart(tmp_path: Path, standin, database_url: str) -> None:  # type: ignore[no-untyped-def]
    make_team(database_url)
    standin.fail("chat.postMessage", "internal_error", status=500, times=10_000)  # Slack down
    first = BotProcess(tmp_path, standin, database_url)
    response = first.command("/escalate", "urgent Checkout fails for ACME #4711", user="U0AGENT01", channel="C0ESCAL01")
    assert response.status_code == 200 and "ESC-1" in response.text
    engine = make_engine(database_url)
    with transaction(engine) as session:
        assert session.exec(select(Escalation)).one().summary.startswith("Checkout fails")
    first.kill()
    assert standin.posts() == []

    standin.faults.clear()  # Slack is back
    second = BotProcess(tmp_path, standin, database_url)
    try:
        posted = standin.wait_for(lambda: standin.posts("C0ESCAL01"), timeout=40)
        assert posted, second.output()
        standin.wait_for(lambda: standin.dms("U0LEAD01"), timeout=20)
        time.sleep(2)  # anything duplicated would show up by now
        channel_posts = [c for c in standin.posts("C0ESCAL01") if "ESC-1" in c.text_everywhere() and not c.args.get("thread_ts")]
        assert len(channel_posts) == 1
        assert len([c for c in standin.dms("U0LEAD01") if "ESC-1" in c.text_everywhere()]) == 1
    finally:
        assert second.terminate() == 0
    engine.dispose()


def quiet_digest_time() -> str:
    """The bots here run on the real clock: a time twelve hours away keeps their own
    scheduled digest or stand-up (and its catch-up) out of what the tests count."""
    return f"{(SystemClock().now() + timedelta(hours=12)):%H:%M}"


def test_digest_killed_mid_fan_out_finishes_once_after_restart(tmp_path: Path, standin, database_url: str) -> None:  # type: ignore[no-untyped-def]
    import os
    import subprocess
    import sys

    from supportbot.bot.standin.slack import BOT_TOKEN
    from tests.rig import SIGNING_SECRET

    engine = make_engine(database_url)
    with transaction(engine) as session:
        teams.create_team(
            session, workspace_id=WORKSPACE, name="Tier1", leaders=["U0LEAD01"], members=["U0AGENT01"],
            escalation_channel="C0ESCAL01", digest_channel="C0DIGEST1", timezone="UTC", language="en",
            now=SystemClock().now(),
        ).settings = {"digest_time": quiet_digest_time()}
    engine.dispose()
    standin.fail("files.getUploadURLExternal", "internal_error", status=500, times=10_000, delay=0.5)  # chart upload hangs
    env = {**os.environ, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": standin.url, "DATABASE_URL": database_url}
    cli = subprocess.Popen([sys.executable, "-m", "supportbot.bot.cli", "digest", "--team", "Tier1", "--date", "2026-11-20"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert standin.wait_for(lambda: standin.posts("C0DIGEST1"), timeout=60)
    assert standin.wait_for(lambda: standin.faults["files.getUploadURLExternal"][0].times < 10_000 - 1, timeout=30)
    cli.kill()  # SIGKILL between the digest post and its chart
    cli.wait(timeout=30)
    assert standin.ok_calls("files.completeUploadExternal") == []

    standin.faults.clear()
    bot = BotProcess(tmp_path, standin, database_url)
    try:
        assert standin.wait_for(lambda: standin.ok_calls("files.completeUploadExternal"), timeout=60), bot.output()
        time.sleep(2)
        # The restarted bot may also post today's scheduled digest (of another day): count
        # only the digest the killed command was posting.
        top_level = [
            c for c in standin.posts("C0DIGEST1")
            if not c.args.get("thread_ts") and "Fri, Nov 20" in c.text_everywhere()  # the day as Babel writes it
        ]
        assert len(top_level) == 1
        assert len(standin.ok_calls("files.completeUploadExternal")) == 1
    finally:
        assert bot.terminate() == 0


def test_standup_killed_mid_fan_out_prompts_everyone_once_after_restart(tmp_path: Path, standin, database_url: str) -> None:  # type: ignore[no-untyped-def]
    members = [f"U0AGENT{n:02d}" for n in range(1, 9)]
    engine = make_engine(database_url)
    with transaction(engine) as session:
        teams.create_team(
            session, workspace_id=WORKSPACE, name="Tier1", leaders=["U0LEAD01"], members=members,
            escalation_channel="C0ESCAL01", digest_channel="C0DIGEST1", timezone="UTC", language="en",
            now=SystemClock().now(),
        ).settings = {"digest_time": quiet_digest_time()}
    engine.dispose()
    for uid in ["U0LEAD01", *members]:
        standin.add_user(uid)
    first = BotProcess(tmp_path, standin, database_url)
    assert first.command("/standup", f"schedule mon-fri {quiet_digest_time()}", user="U0LEAD01", channel="C0ESCAL01").status_code == 200
    # The first three sends of the fan-out go through slowly; after that Slack hangs and fails.
    standin.slow("chat.postMessage", 0.4, times=3)
    standin.fail("chat.postMessage", "internal_error", status=500, times=10_000, delay=1.0)
    answer = first.command("/standup", "now", user="U0LEAD01", channel="C0ESCAL01")
    assert answer.status_code == 200 and "8" in answer.text, answer.text
    assert standin.wait_for(lambda: len(standin.ok_calls("chat.postMessage")) >= 3, timeout=30), first.output()
    assert standin.wait_for(lambda: [c for c in standin.calls if c.method == "chat.postMessage" and not c.ok], timeout=30)
    first.kill()  # SIGKILL in the middle of the fan-out
    prompted = {c.args.get("channel") for c in standin.ok_calls("chat.postMessage")} & set(members)
    assert 0 < len(prompted) < len(members)  # really in the middle

    standin.faults.clear()
    second = BotProcess(tmp_path, standin, database_url)
    try:
        def prompts() -> dict[str, int]:
            counts = {uid: 0 for uid in members}
            for call in standin.ok_calls("chat.postMessage"):
                if call.args.get("channel") in counts:
                    counts[call.args["channel"]] += 1
            return counts

        assert standin.wait_for(lambda: all(prompts().values()), timeout=60), (prompts(), second.output())
        time.sleep(2)  # a second prompt to anyone would show up by now
        assert set(prompts().values()) == {1}, prompts()
        channel_posts = [
            c for c in standin.ok_calls("chat.postMessage")
            if c.args.get("channel") == "C0DIGEST1" and not c.args.get("thread_ts")
            and "Daily KPIs" not in c.text_everywhere()  # the bot's own 09:00 digest (real clock)
        ]
        assert len(channel_posts) == 1  # the day's stand-up message, once
    finally:
        assert second.terminate() == 0
