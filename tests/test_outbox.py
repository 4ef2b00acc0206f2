"""The outbox delivers through the real Web API client to the stand-in, retries what Slack
refuses for now (429 with Retry-After, 5xx, no answer), gives up on what it never accepts,
and never delivers one message twice, even with two deliverers sharing the database."""

from __future__ import annotations

import threading
from datetime import timedelta

from slack_sdk import WebClient

from supportbot.bot.outbox import Deferred, Outbox, OutboxKinds, SlackCall, enqueue, enqueue_call
from supportbot.bot.standin.slack import BOT_TOKEN, WORKSPACE
from supportbot.handlers.common import make_sender
from supportbot.storage import outbox as store
from supportbot.storage.db import make_engine, transaction


def make_outbox(standin, database_url, clock) -> Outbox:  # type: ignore[no-untyped-def]
    client = WebClient(token=BOT_TOKEN, base_url=standin.url)
    return Outbox(make_engine(database_url), clock, OutboxKinds(), make_sender(client), pace_seconds=0)


def post(outbox: Outbox, clock, text: str = "hello", key: str | None = None):  # type: ignore[no-untyped-def]
    with transaction(outbox.engine) as session:
        return enqueue_call(session, workspace_id=WORKSPACE, method="chat.postMessage", args={"channel": "C0ESCAL01", "text": text}, clock=clock, dedupe_key=key)


def status(outbox: Outbox, message_id: int):  # type: ignore[no-untyped-def]
    with transaction(outbox.engine) as session:
        return store.get_message(session=session, message_id=message_id)


def test_delivers_once_and_keeps_the_ts(standin, database_url, clock) -> None:  # type: ignore[no-untyped-def]
    outbox = make_outbox(standin, database_url, clock)
    row = post(outbox, clock)
    assert outbox.drain().sent == 1
    assert outbox.drain().sent == 0
    assert len(standin.posts("C0ESCAL01")) == 1
    saved = status(outbox, row.id)
    assert saved.status == "sent" and saved.result["ts"]


def test_dedupe_key_makes_enqueue_idempotent(standin, database_url, clock) -> None:  # type: ignore[no-untyped-def]
    outbox = make_outbox(standin, database_url, clock)
    assert post(outbox, clock, key="k1") is not None
    assert post(outbox, clock, key="k1") is None
    outbox.drain()
    assert len(standin.posts()) == 1


def test_rate_limited_waits_for_retry_after(standin, database_url, clock) -> None:  # type: ignore[no-untyped-def]
    outbox = make_outbox(standin, database_url, clock)
    row = post(outbox, clock)
    standin.fail("chat.postMessage", "ratelimited", status=429, retry_after=30, times=1)
    stats = outbox.drain()
    assert stats.retried == 1 and standin.posts() == []
    assert status(outbox, row.id).next_attempt_at == clock.now() + timedelta(seconds=30)
    clock.advance(seconds=29)
    assert outbox.drain().sent == 0
    clock.advance(seconds=1)
    assert outbox.drain().sent == 1
    assert len(standin.posts()) == 1


def test_server_errors_back_off_then_deliver(standin, database_url, clock) -> None:  # type: ignore[no-untyped-def]
    outbox = make_outbox(standin, database_url, clock)
    row = post(outbox, clock)
    standin.fail("chat.postMessage", "internal_error", status=500, times=2)
    assert outbox.drain().retried == 1
    saved = status(outbox, row.id)
    assert saved.attempts == 1 and saved.last_error
    clock.advance(minutes=1)
    assert outbox.drain().retried == 1
    clock.advance(minutes=1)
    assert outbox.drain().sent == 1


def test_permanent_error_is_failed_not_retried(standin, database_url, clock) -> None:  # type: ignore[no-untyped-def]
    outbox = make_outbox(standin, database_url, clock)
    with transaction(outbox.engine) as session:
        row = enqueue_call(session, workspace_id=WORKSPACE, method="chat.postMessage", args={"channel": "C0ESCAL01", "blocks": [{"type": "nonsense"}], "text": "x"}, clock=clock)
    assert outbox.drain().failed == 1
    clock.advance(hours=1)
    assert outbox.drain().sent == 0
    assert status(outbox, row.id).status == "failed"
    assert status(outbox, row.id).last_error == "invalid_blocks"


def test_unreachable_slack_is_retried(database_url, clock) -> None:  # type: ignore[no-untyped-def]
    client = WebClient(token=BOT_TOKEN, base_url="http://127.0.0.1:9/api/", timeout=2)
    outbox = Outbox(make_engine(database_url), clock, OutboxKinds(), make_sender(client), pace_seconds=0)
    row = post(outbox, clock)
    assert outbox.drain().retried == 1
    assert status(outbox, row.id).last_error.startswith("connection")


def test_renderer_kinds_deferred_and_after_send(standin, database_url, clock) -> None:  # type: ignore[no-untyped-def]
    outbox = make_outbox(standin, database_url, clock)
    seen: list[str] = []
    ready = {"parent": None}

    def render(session, message):  # type: ignore[no-untyped-def]
        if message.data.get("needs_parent") and ready["parent"] is None:
            raise Deferred
        return SlackCall("chat.postMessage", {"channel": "C0ESCAL01", "text": message.data["text"]})

    outbox.kinds.register("test.kind", render, lambda s, m, r: seen.append(r["ts"]))
    with transaction(outbox.engine) as session:
        enqueue(session, workspace_id=WORKSPACE, kind="test.kind", data={"text": "child", "needs_parent": True}, clock=clock)
    assert outbox.drain().deferred == 1
    ready["parent"] = "1.1"
    clock.advance(seconds=5)
    assert outbox.drain().sent == 1
    assert len(seen) == 1


def test_two_deliverers_share_the_work_without_duplicates(standin, database_url, clock) -> None:  # type: ignore[no-untyped-def]
    first = make_outbox(standin, database_url, clock)
    second = make_outbox(standin, database_url, clock)
    for i in range(30):
        post(first, clock, text=f"m{i}")
    threads = [threading.Thread(target=o.drain) for o in (first, second)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    texts = sorted(c.args["text"] for c in standin.posts())
    assert texts == sorted(f"m{i}" for i in range(30))


def test_lease_of_a_dead_process_is_taken_back_at_start(standin, database_url, clock) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    outbox = make_outbox(standin, database_url, clock)
    row = post(outbox, clock)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    host = outbox.owner.split(":")[0]
    with transaction(outbox.engine) as session:
        assert store.claim(session=session, message_id=row.id, now=clock.now(), lease=timedelta(seconds=60), owner=f"{host}:{dead.stdout.strip()}")
    live_other = make_outbox(standin, database_url, clock)
    assert outbox.drain().sent == 0  # leased by someone else
    assert live_other.release_dead_leases() == 1
    assert outbox.drain().sent == 1
