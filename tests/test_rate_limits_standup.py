"""A 300-member stand-up through the rate-limited Slack stand-in, under the rig's FixedClock
(the stand-in reads it too): `/standup schedule` and `/standup now` answer within Slack's
3 seconds without calling Slack themselves, members' zones come from two users.list pages,
and every member is prompted exactly once, at Slack's pace, without a call inside a
Retry-After, even when the bot dies mid-fan-out and two replicas take over."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from supportbot.bot.app import build_app
from supportbot.bot.ratelimits import BULK_KINDS, URGENT_KINDS, RateLimiter
from supportbot.bot.runtime import Runtime, build_runtime
from supportbot.bot.standin.slack import WORKSPACE
from supportbot.bot.standin.slack_rates import STANDIN_POST_WORKSPACE
from supportbot.storage import outbox as outbox_store
from supportbot.storage import standups as store
from tests.rig import BotRig
from tests.test_rate_limits import clock_seconds, lower_bound, run_until_idle

MEMBERS = [f"U0M{n:05d}" for n in range(300)]
ACK_SECONDS = 3.0


def big_team(rig: BotRig, standin) -> None:  # type: ignore[no-untyped-def]
    for uid in ("U0LEAD01", "U0LEAD02", *MEMBERS):
        standin.add_user(uid, tz="Europe/Madrid")
    rig.make_team(members=tuple(MEMBERS))
    rig.rt.outbox.limiter = RateLimiter(rig.rt.engine, rig.clock)


@contextmanager
def outbox_held(rt: Runtime) -> Iterator[None]:
    """Only the listener talks to Slack meanwhile: what it calls is what we count."""
    send, rt.outbox.send = rt.outbox.send, None
    try:
        yield
    finally:
        rt.outbox.send = send


def timed_command(rig: BotRig, text: str) -> tuple[float, str]:
    started = time.monotonic()
    response = rig.command("/standup", text, user="U0LEAD01", channel="C0ESCAL01", settle=False)
    took = time.monotonic() - started
    rig.settle()
    assert response.status_code == 200
    return took, response.json()["text"]


def prompts_per_member(standin) -> dict[str, int]:  # type: ignore[no-untyped-def]
    counts = dict.fromkeys(MEMBERS, 0)
    for call in standin.ok_calls("chat.postMessage"):
        if call.args["channel"] in counts:
            counts[call.args["channel"]] += 1
    return counts


def test_300_member_standup_at_slacks_pace(rig: BotRig, standin) -> None:  # type: ignore[no-untyped-def]
    big_team(rig, standin)
    limits = standin.limit_rates(clock_seconds(rig.clock))
    before = len(standin.calls)  # the app's auth.test at start
    with outbox_held(rig.rt):
        took_schedule, text = timed_command(rig, "schedule mon-fri 09:30")
        assert "09:30" in text
        took_now, text = timed_command(rig, "now")
        assert "300 members prompted" in text and "about 1 min" in text  # when the last one has it
        assert standin.calls[before:] == []  # neither listener called Slack (the answer is the ack)
    assert took_schedule < ACK_SECONDS and took_now < ACK_SECONDS, (took_schedule, took_now)

    start = rig.clock.now().timestamp()
    run_until_idle([rig.rt.outbox], rig.clock)

    assert set(prompts_per_member(standin).values()) == {1}
    assert len([c for c in standin.posts("C0DIGEST1") if not c.args.get("thread_ts")]) == 1
    assert limits.in_window == [] and limits.limited == []
    assert standin.ok_calls("users.info") == []
    assert len(standin.ok_calls("users.list")) == 2  # 302 people, 200 a page
    # The second page, queued behind 300 prompts, did not wait for them (its own budget).
    assert max(limits.admitted["users.list"]) - start < 5
    with rig.rt.transaction(readonly=True) as session:
        zones = store.timezones_of(session=session, workspace_id=WORKSPACE, user_ids=MEMBERS)
    assert {row.timezone for row in zones.values()} == {"Europe/Madrid"} and len(zones) == 300
    # Delivered within 1.5x of what Slack's posting limit allows for 301 posts (the day's
    # message and 300 DMs); the two users.list pages (Tier 2) went out meanwhile.
    took = max(limits.admitted["chat.postMessage"]) - start
    bound = lower_bound(301, STANDIN_POST_WORKSPACE)
    assert bound <= took <= 1.5 * bound, (took, bound)


def test_every_kind_marked_urgent_or_bulk_exists(rig: BotRig) -> None:
    assert (URGENT_KINDS | BULK_KINDS) <= set(rig.rt.outbox.kinds.renderers)


def second_runtime(rig: BotRig) -> Runtime:
    rt = build_runtime(rig.settings, clock=rig.clock, pace_seconds=1.0)
    build_app(rt, token_verification=False)  # renderers and the Slack sender, as `run` does
    return rt


def test_dying_mid_fan_out_then_two_replicas_prompt_each_member_once(rig: BotRig, standin) -> None:  # type: ignore[no-untyped-def]
    big_team(rig, standin)
    limits = standin.limit_rates(clock_seconds(rig.clock))
    with outbox_held(rig.rt):
        timed_command(rig, "schedule mon-fri 09:30")
        assert "300" in timed_command(rig, "now")[1]
    for _ in range(40):  # the first replica gets through part of the fan-out ...
        stats = rig.rt.outbox.drain()
        assert stats.next_at is not None
        rig.clock.set(max(rig.clock.now(), stats.next_at))
    sent_before = sum(prompts_per_member(standin).values())
    assert 10 < sent_before < 100
    # ... and dies holding the lease of the prompt it was about to send.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    host = rig.rt.outbox.owner.split(":")[0]
    with rig.rt.transaction() as session:
        due = outbox_store.due(session=session, now=rig.clock.now(), limit=1)
        assert outbox_store.claim(session=session, message_id=due[0][0], now=rig.clock.now(), lease=timedelta(seconds=60), owner=f"{host}:{dead.stdout.strip()}")

    replicas = [second_runtime(rig), second_runtime(rig)]
    try:
        assert replicas[0].outbox.release_dead_leases() == 1
        run_until_idle([r.outbox for r in replicas], rig.clock, concurrently=True)
    finally:
        for rt in replicas:
            rt.engine.dispose()
    assert set(prompts_per_member(standin).values()) == {1}
    assert limits.in_window == [] and limits.limited == []
    assert standin.rejected() == []
