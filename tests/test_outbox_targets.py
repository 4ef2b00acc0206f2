"""The outbox's cheap paths under a burst: a row whose rate budget is known to be busy
(its kind's `target` names the channel from the message's data) is left alone, neither
leased nor rendered, and still goes out exactly once when the channel frees; kicks that
arrive while the delivery thread is busy share a round."""

from __future__ import annotations

import time
from typing import Any

from slack_sdk import WebClient
from sqlmodel import Session

from supportbot.bot.clock import FixedClock
from supportbot.bot.outbox import KICK_GAP, Outbox, OutboxKinds, SlackCall, enqueue
from supportbot.bot.standin.slack import BOT_TOKEN, WORKSPACE, SlackStandIn
from supportbot.handlers.common import make_sender
from supportbot.storage import outbox as store
from supportbot.storage.db import make_engine, transaction
from supportbot.storage.models import OutboxMessage
from tests.test_rate_limits import run_until_idle

KIND = "test.dm"


def make(standin: SlackStandIn, database_url: str, clock: FixedClock, *, target: bool) -> tuple[Outbox, list[int]]:
    rendered: list[int] = []

    def render(_session: Session, message: OutboxMessage) -> SlackCall:
        assert message.id is not None
        rendered.append(message.id)
        return SlackCall("chat.postMessage", {"channel": message.data["user"], "text": f"#{message.data['n']}"})

    kinds = OutboxKinds()
    kinds.register(
        KIND, render,
        target=(lambda data: SlackCall("chat.postMessage", {"channel": data["user"]})) if target else None,
    )
    client = WebClient(token=BOT_TOKEN, base_url=standin.url)
    return Outbox(make_engine(database_url), clock, kinds, make_sender(client), pace_seconds=1.0), rendered


def queue(outbox: Outbox, clock: FixedClock, user: str, count: int) -> None:
    with transaction(outbox.engine) as session:
        for n in range(count):
            enqueue(session, workspace_id=WORKSPACE, kind=KIND, data={"user": user, "n": n}, clock=clock, dedupe_key=f"t:{user}:{n}")


def sent_texts(standin: SlackStandIn, user: str) -> list[str]:
    return [c.args["text"] for c in standin.ok_calls("chat.postMessage") if c.args["channel"] == user]


def test_rows_for_a_busy_channel_are_not_leased_or_rendered_and_all_go_out_once(standin: SlackStandIn, database_url: str, clock: FixedClock) -> None:
    outbox, rendered = make(standin, database_url, clock, target=True)
    queue(outbox, clock, "U0TARGET1", 1)
    outbox.drain()  # the first post spends the channel's budget for a second
    assert sent_texts(standin, "U0TARGET1") == ["#0"]

    queue_more = 5
    with transaction(outbox.engine) as session:
        for n in range(1, 1 + queue_more):
            enqueue(session, workspace_id=WORKSPACE, kind=KIND, data={"user": "U0TARGET1", "n": n}, clock=clock, dedupe_key=f"t:U0TARGET1:{n}")
    rendered.clear()
    stats = outbox.drain()
    assert stats.sent == 0 and stats.paced == queue_more
    assert rendered == []  # known busy from the target alone: no render ...
    with transaction(outbox.engine, readonly=True) as session:
        rows = [session.get(OutboxMessage, i) for i, _k in store.due(session=session, now=clock.now(), limit=50)]
    assert rows and all(r is not None and r.locked_by is None and r.attempts == 0 for r in rows)  # ... and no lease

    run_until_idle([outbox], clock)
    assert sent_texts(standin, "U0TARGET1") == [f"#{n}" for n in range(1 + queue_more)]  # each once, in order
    assert sorted(rendered) == sorted(set(rendered))  # rendered once each, when it went out


def test_without_a_target_a_paced_row_is_rendered_to_find_out(standin: SlackStandIn, database_url: str, clock: FixedClock) -> None:
    """The path a target saves: the row is leased and rendered before the budget says no."""
    outbox, rendered = make(standin, database_url, clock, target=False)
    queue(outbox, clock, "U0TARGET2", 1)
    outbox.drain()
    with transaction(outbox.engine) as session:
        enqueue(session, workspace_id=WORKSPACE, kind=KIND, data={"user": "U0TARGET2", "n": 1}, clock=clock, dedupe_key="t:U0TARGET2:1")
    rendered.clear()
    stats = outbox.drain()
    assert stats.paced == 1 and len(rendered) == 1


def test_kicks_during_a_burst_share_rounds_and_a_lone_kick_is_served(standin: SlackStandIn, database_url: str) -> None:
    from supportbot.bot.clock import SystemClock

    clock: Any = SystemClock()
    outbox, _rendered = make(standin, database_url, clock, target=True)
    rounds: list[float] = []
    inner = outbox._drain_locked

    def counting(limit: int = 200) -> Any:
        rounds.append(time.monotonic())
        return inner(limit)

    outbox._drain_locked = counting  # type: ignore[method-assign]
    outbox.start_background()
    try:
        time.sleep(0.3)  # the first round (startup) is done
        rounds.clear()
        queue(outbox, clock, "U0TARGET3", 1)
        kicked = time.monotonic()
        outbox.kick()
        deadline = time.monotonic() + 10
        while not sent_texts(standin, "U0TARGET3") and time.monotonic() < deadline:
            time.sleep(0.005)
        assert sent_texts(standin, "U0TARGET3") == ["#0"]
        assert rounds and rounds[0] >= kicked  # the kick was served by a round of its own

        rounds.clear()
        start = time.monotonic()
        while time.monotonic() - start < 0.5:
            outbox.kick()
            time.sleep(0.001)
        elapsed = time.monotonic() - start
        assert len(rounds) <= elapsed / KICK_GAP + 2  # hundreds of kicks, a round per gap
    finally:
        outbox.stop()
