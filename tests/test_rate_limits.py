"""Slack's rate limits: the stand-in enforces the published floors (429 + Retry-After) and
notices calls made inside a Retry-After it announced; the outbox paces every send to the
same limits from budgets in the database, so replicas share them; a 429 pauses the method
for every replica; urgent messages overtake a fan-out. All under a FixedClock that the
stand-in reads too, so a minute of pacing takes no minute of test."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from supportbot.bot.clock import FixedClock
from supportbot.bot.outbox import Outbox, OutboxKinds, SlackCall, enqueue, enqueue_call
from supportbot.bot.ratelimits import POST_MESSAGE, RateLimiter, budgets
from supportbot.bot.standin.slack import BOT_TOKEN, WORKSPACE, SlackStandIn
from supportbot.bot.standin.slack_rates import STANDIN_POST_WORKSPACE, STANDIN_TIERS
from supportbot.handlers.common import make_sender
from supportbot.storage import outbox as store
from supportbot.storage.db import make_engine, transaction


def clock_seconds(clock: FixedClock) -> Any:
    return lambda: clock.now().timestamp()


def make_outbox(standin: SlackStandIn, database_url: str, clock: FixedClock) -> Outbox:
    client = WebClient(token=BOT_TOKEN, base_url=standin.url)
    return Outbox(make_engine(database_url), clock, OutboxKinds(), make_sender(client), pace_seconds=1.0)


def dm(outbox: Outbox, clock: FixedClock, user: str, *, kind: str | None = None) -> None:
    with transaction(outbox.engine) as session:
        if kind is None:
            enqueue_call(session, workspace_id=WORKSPACE, method="chat.postMessage", args={"channel": user, "text": f"hi {user}"}, clock=clock, dedupe_key=f"dm:{user}")
        else:
            enqueue(session, workspace_id=WORKSPACE, kind=kind, data={"user": user}, clock=clock, dedupe_key=f"{kind}:{user}")


def _drain_into(outbox: Outbox, results: list[Any], i: int) -> None:
    results[i] = outbox.drain()


def run_until_idle(outboxes: list[Outbox], clock: FixedClock, *, concurrently: bool = False, rounds: int = 5000) -> None:
    """Drain, then step the clock to when the outboxes said something can go next."""
    for _ in range(rounds):
        if concurrently:
            results: list[Any] = [None] * len(outboxes)
            threads = [threading.Thread(target=_drain_into, args=(o, results, i)) for i, o in enumerate(outboxes)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
        else:
            results = [o.drain() for o in outboxes]
        wakes = [s.next_at for s in results if s.next_at is not None]
        if not wakes:
            return
        clock.set(max(clock.now(), min(wakes)))
    raise AssertionError("the outbox never went idle")


def lower_bound(calls: int, limit: tuple[float, int]) -> float:
    """Seconds Slack's limit needs for `calls` calls: the burst at once, the rest paced."""
    per_minute, burst = limit
    return max(0.0, (calls - burst) * 60.0 / per_minute)


def posted_to(standin: SlackStandIn) -> dict[str, int]:
    counts: dict[str, int] = {}
    for call in standin.ok_calls("chat.postMessage"):
        counts[call.args["channel"]] = counts.get(call.args["channel"], 0) + 1
    return counts


# ----- the stand-in ------------------------------------------------------------------------
def test_standin_answers_429_past_the_tier_and_notices_calls_inside_retry_after(standin, clock) -> None:  # type: ignore[no-untyped-def]
    limits = standin.limit_rates(clock_seconds(clock))
    client = WebClient(token=BOT_TOKEN, base_url=standin.url)
    standin.add_user("U0AGENT01")
    per_minute, burst = STANDIN_TIERS[4]
    for _ in range(burst):
        client.users_info(user="U0AGENT01")
    try:
        client.users_info(user="U0AGENT01")
        raise AssertionError("the call past the burst was let through")
    except SlackApiError as exc:
        assert exc.response.status_code == 429
        retry_after = int(exc.response.headers["Retry-After"])
    assert retry_after == 1  # one token comes back every 0.6 s at 100/min
    assert limits.in_window == []
    clock.advance(seconds=0.5)
    try:
        client.users_info(user="U0AGENT01")  # still inside the Retry-After: noticed
    except SlackApiError:
        pass
    assert [c.method for c in limits.in_window] == ["users.info"]
    clock.advance(seconds=0.5)
    assert client.users_info(user="U0AGENT01")["ok"]
    # Other methods have budgets of their own; a channel has its own posting budget.
    assert client.chat_postMessage(channel="C0ESCAL01", text="x")["ok"]


def test_standin_pages_users_list(standin) -> None:  # type: ignore[no-untyped-def]
    for n in range(450):
        standin.add_user(f"U0M{n:05d}", tz="Europe/Madrid")
    client = WebClient(token=BOT_TOKEN, base_url=standin.url)
    seen, cursor, pages = [], "", 0
    while True:
        page = client.users_list(limit=200, cursor=cursor or None)
        seen += [m["id"] for m in page["members"]]
        pages += 1
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert pages == 3 and len(seen) == len(set(seen)) == 450


# ----- pacing ------------------------------------------------------------------------------
def test_budgets_are_per_method_and_per_channel_for_posts() -> None:
    post = budgets(WORKSPACE, "chat.postMessage", {"channel": "C0ESCAL01"})
    assert [b.key for b in post] == [f"{WORKSPACE}:chat.postMessage", f"{WORKSPACE}:post:C0ESCAL01"]
    assert [b.key for b in budgets(WORKSPACE, "chat.update", {"channel": "C0ESCAL01"})] == [f"{WORKSPACE}:chat.update"]
    assert budgets(WORKSPACE, "users.list", {})[0].interval == 3.0  # Tier 2: 20 a minute
    assert budgets(WORKSPACE, "views.open", {})[0].interval == 0.6  # Tier 4: 100 a minute


def test_300_dms_go_out_once_at_slacks_pace_without_a_429(standin, database_url, clock) -> None:  # type: ignore[no-untyped-def]
    limits = standin.limit_rates(clock_seconds(clock))
    outbox = make_outbox(standin, database_url, clock)
    users = [f"U0M{n:05d}" for n in range(300)]
    for user in users:
        dm(outbox, clock, user)
    start = clock.now().timestamp()
    run_until_idle([outbox], clock)
    assert posted_to(standin) == dict.fromkeys(users, 1)
    assert limits.limited == [] and limits.in_window == []
    took = max(limits.admitted["chat.postMessage"]) - start
    bound = lower_bound(300, STANDIN_POST_WORKSPACE)
    assert bound <= took <= 1.5 * bound, (took, bound)


def test_posts_to_one_channel_are_a_second_apart(standin, database_url, clock) -> None:  # type: ignore[no-untyped-def]
    limits = standin.limit_rates(clock_seconds(clock))
    outbox = make_outbox(standin, database_url, clock)
    with transaction(outbox.engine) as session:
        for i in range(5):
            enqueue_call(session, workspace_id=WORKSPACE, method="chat.postMessage", args={"channel": "C0DIGEST1", "text": f"m{i}"}, clock=clock)
    run_until_idle([outbox], clock)
    times = limits.admitted["chat.postMessage"]
    assert len(times) == 5 and limits.limited == []
    assert all(b - a >= 1.0 - 1e-6 for a, b in zip(times, times[1:], strict=False))
    assert [c.args["text"] for c in standin.posts("C0DIGEST1")] == [f"m{i}" for i in range(5)]  # in order


def test_a_429_pauses_the_method_for_every_replica(standin, database_url, clock) -> None:  # type: ignore[no-untyped-def]
    limits = standin.limit_rates(clock_seconds(clock))
    first = make_outbox(standin, database_url, clock)
    second = make_outbox(standin, database_url, clock)
    dm(first, clock, "U0AGENT01")
    dm(first, clock, "U0AGENT02")
    standin.fail("chat.postMessage", "ratelimited", status=429, retry_after=30, times=1)
    stats = first.drain(limit=1)  # the first message meets the 429
    assert stats.retried == 1 and standin.posts() == []
    with transaction(first.engine) as session:
        assert set(store.paused(session=session, workspace_id=WORKSPACE, now=clock.now().timestamp())) == {f"{WORKSPACE}:chat.postMessage"}
    # The other replica reads the pause before sending: no call at all for 30 seconds.
    calls_before = len(standin.calls)
    assert second.drain().sent == 0
    clock.advance(seconds=29)
    assert second.drain().sent == 0 and first.drain().sent == 0
    assert len(standin.calls) == calls_before
    clock.advance(seconds=1)
    run_until_idle([first, second], clock)
    assert posted_to(standin) == {"U0AGENT01": 1, "U0AGENT02": 1}
    assert limits.in_window == []


def test_a_pause_does_not_stop_other_methods(standin, database_url, clock) -> None:  # type: ignore[no-untyped-def]
    outbox = make_outbox(standin, database_url, clock)
    assert outbox.limiter is not None
    outbox.limiter.pause(WORKSPACE, "chat.postMessage", 60)
    dm(outbox, clock, "U0AGENT01")
    standin.add_user("U0AGENT01")
    with transaction(outbox.engine) as session:
        enqueue_call(session, workspace_id=WORKSPACE, method="users.info", args={"user": "U0AGENT01"}, clock=clock)
    stats = outbox.drain()
    assert stats.sent == 1 and stats.paced == 1
    assert [c.method for c in standin.calls] == ["users.info"]
    stats = outbox.drain()
    assert stats.sent == 0 and len(standin.calls) == 1
    assert stats.next_at is not None and stats.next_at >= clock.now() + timedelta(seconds=59)


def test_urgent_messages_overtake_a_fan_out(standin, database_url, clock) -> None:  # type: ignore[no-untyped-def]
    standin.limit_rates(clock_seconds(clock))
    outbox = make_outbox(standin, database_url, clock)

    def render(session, message):  # type: ignore[no-untyped-def]
        return SlackCall("chat.postMessage", {"channel": message.data["user"], "text": message.kind})

    outbox.kinds.register("standup.prompt", render)  # bulk
    outbox.kinds.register("escalation.dm", render)  # urgent
    for n in range(40):
        dm(outbox, clock, f"U0M{n:05d}", kind="standup.prompt")
    first_round = outbox.drain()
    assert first_round.sent == POST_MESSAGE.burst  # the burst, then the budget is spent
    dm(outbox, clock, "U0LEAD01", kind="escalation.dm")  # a new escalation arrives
    clock.set(first_round.next_at)
    assert outbox.drain().sent == 1
    assert standin.posts()[-1].args["channel"] == "U0LEAD01"  # before the other 29 prompts


def test_two_replicas_share_the_budget_and_send_each_once(standin, database_url, clock) -> None:  # type: ignore[no-untyped-def]
    limits = standin.limit_rates(clock_seconds(clock))
    first = make_outbox(standin, database_url, clock)
    second = make_outbox(standin, database_url, clock)
    users = [f"U0M{n:05d}" for n in range(120)]
    for user in users:
        dm(first, clock, user)
    run_until_idle([first, second], clock, concurrently=True)
    assert posted_to(standin) == dict.fromkeys(users, 1)
    assert limits.limited == [] and limits.in_window == []


def test_limiter_forgets_idle_channel_budgets(database_url, clock) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    limiter = RateLimiter(engine, clock)
    assert limiter.reserve(WORKSPACE, "chat.postMessage", {"channel": "U0AGENT01"}) == 0.0
    clock.advance(hours=2)
    assert limiter.forget_idle() == 2  # the method's budget and the DM channel's
