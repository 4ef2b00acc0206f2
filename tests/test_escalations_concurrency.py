"""Many `/escalate` at once: distinct numbers, group commit, handler slots while writers
queue, and two replicas creating at the same moment."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlmodel import select as sql_select

from supportbot.bot import escalations as policy
from supportbot.bot.runtime import Runtime, Slots, build_runtime
from supportbot.bot.standin.slack import SlackStandIn
from supportbot.storage.escalations import Escalation
from tests.rig import BotRig
from tests.test_escalations import esc


def test_a_burst_of_commands_gets_distinct_ids_and_all_are_delivered(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    answers: list[str] = []
    lock = threading.Lock()

    def escalate(n: int) -> None:
        text = rig.command("/escalate", f"high Burst problem {n}", user="U0AGENT01", settle=False).json()["text"]
        with lock:
            answers.append(text)

    threads = [threading.Thread(target=escalate, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rig.settle()
    rig.deliver()
    ids = sorted(int(a.split("ESC-")[1].split("*")[0]) for a in answers)
    assert ids == list(range(1, 13))
    summaries = {esc(rig, n).summary for n in range(1, 13)}
    assert summaries == {f"Burst problem {n}" for n in range(12)}
    assert len([p for p in standin.posts("C0ESCAL01") if not p.args.get("thread_ts")]) == 12
    assert len(standin.dms("U0LEAD01")) == 12


def test_group_commit_retries_a_failed_batch_one_by_one(rig: BotRig) -> None:
    """Escalations raised at the same moment share a transaction; when one of them cannot
    be stored, the others still are and only that one fails."""
    team = rig.make_team()
    rt = rig.rt
    with rt.transaction(readonly=True) as session:
        good, bad, also_good = (
            policy.prepare(session, team=team, reporter_id="U0AGENT01", draft=policy.parse_quick(summary), clock=rig.clock)
            for summary in ("Fine one", "Broken one", "Fine two")
        )
    bad.row.team_id = 999999  # no such team: the foreign key refuses it
    results: dict[str, Any] = {}
    hold, held = threading.Event(), threading.Event()

    def blocker(_rt: Runtime, session: Any, items: list[Any]) -> list[Any]:  # holds the first batch open
        held.set()
        hold.wait(10)
        return items

    def raise_one(name: str, new: policy.NewEscalation) -> None:
        try:
            results[name] = policy.submit(rt, new).summary
        except Exception as exc:
            results[name] = type(exc).__name__

    first = threading.Thread(target=lambda: rt.group_commit.write(rt, "first", blocker))
    first.start()
    assert held.wait(5)
    threads = [threading.Thread(target=raise_one, args=(n, e)) for n, e in (("good", good), ("bad", bad), ("also", also_good))]
    for t in threads:
        t.start()
    assert rig.standin.wait_for(lambda: len(rt.group_commit._queue) == 3)  # one batch of three
    hold.set()
    for t in (first, *threads):
        t.join(10)
    assert results["good"] == "Fine one" and results["also"] == "Fine two"
    assert results["bad"] == "IntegrityError"
    with rt.transaction(readonly=True) as session:
        assert sorted(e.summary for e in session.exec(sql_select(Escalation)).all()) == ["Fine one", "Fine two"]


def test_a_writer_holding_the_database_does_not_queue_for_a_handler_slot(rig: BotRig) -> None:
    """Listeners compute in a few slots and give theirs back while they queue for SQLite's
    writer lock or a group commit. The one that then writes must not queue for a slot
    while everyone else waits on it: here every free slot is taken by a long listener, and
    both escalations are still written the moment the database is free."""
    if not rig.settings.database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL writers wait in the database, holding their slot")
    team = rig.make_team()
    rt = rig.rt
    rt.handler_slots = Slots(2)
    with rt.transaction(readonly=True) as session:
        first, second = (
            policy.prepare(session, team=team, reporter_id="U0AGENT01", draft=policy.parse_quick(summary), clock=rig.clock)
            for summary in ("Writes first", "Queues behind")
        )
    db_busy, free_db, first_exit, second_saved = (threading.Event() for _ in range(4))

    def another_writer() -> None:  # holds the database's writer lock
        with rt.transaction():
            db_busy.set()
            free_db.wait(10)

    def listener(new: policy.NewEscalation, then: threading.Event, *, stay: bool) -> None:
        with rt.handler_slot():
            policy.submit(rt, new)
            then.set()
            if stay:  # still computing its answer: keeps its slot
                first_exit.wait(10)

    threads = [threading.Thread(target=another_writer)]
    threads[0].start()
    assert db_busy.wait(5)
    first_saved = threading.Event()
    threads.append(threading.Thread(target=listener, args=(first, first_saved), kwargs={"stay": True}))
    threads[1].start()
    assert rig.standin.wait_for(lambda: rt.group_commit._writing)  # its batch waits on the database
    threads.append(threading.Thread(target=listener, args=(second, second_saved), kwargs={"stay": False}))
    threads[2].start()
    assert rig.standin.wait_for(lambda: rt.group_commit._queue)  # queued for the next batch
    taken = 0
    deadline = time.monotonic() + 5
    while taken < 2 and time.monotonic() < deadline:  # both queue for the database and lend
        if rt.handler_slots.acquire(timeout=0.1):  # long listeners take every free slot
            taken += 1
    assert taken == 2
    try:
        free_db.set()
        stored: list[str] = []

        def both_stored() -> bool:
            with rt.transaction(readonly=True) as session:
                stored[:] = [e.summary for e in session.exec(sql_select(Escalation)).all()]
            return len(stored) == 2

        assert rig.standin.wait_for(both_stored)
        assert sorted(stored) == ["Queues behind", "Writes first"]
    finally:
        for _ in range(taken):
            rt.handler_slots.release()
        first_exit.set()
        for t in threads:
            t.join(10)
    assert first_saved.is_set() and second_saved.is_set()


def test_replicas_creating_at_the_same_moment_get_unique_consecutive_numbers(rig: BotRig) -> None:
    """Two runtimes on one database (two replicas: separate engines and group commits)
    create escalations from many threads at once: numbers are 1..N, none twice, none
    skipped (SQLite: one writer at a time; PostgreSQL: the per-workspace advisory lock)."""
    team = rig.make_team()
    replica = build_runtime(rig.settings, clock=rig.clock, pace_seconds=0)

    def create(rt: Runtime, n: int) -> int:
        with rt.transaction(readonly=True) as session:
            new = policy.prepare(
                session, team=team, reporter_id="U0AGENT01",
                draft=policy.Draft(severity="low", summary=f"at once {n}"), clock=rt.clock,
            )
        return policy.submit(rt, new).number

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            numbers = list(pool.map(lambda n: create((rig.rt, replica)[n % 2], n), range(24)))
    finally:
        replica.engine.dispose()
    assert sorted(numbers) == list(range(1, 25))
    with rig.rt.transaction(readonly=True) as session:
        stored = session.exec(sql_select(Escalation.number).order_by(Escalation.number)).all()
    assert list(stored) == list(range(1, 25))
