"""SQLite takes one writer at a time: the engine's writers queue on its writer lock (woken
the moment it is free) instead of polling in SQLite's busy handler; readers never wait."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from supportbot.storage.db import make_engine, transaction


def test_writers_queue_on_the_engine_readers_do_not(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL has row locks, no writer lock")
    engine = make_engine(database_url)
    order: list[str] = []
    holding, release = threading.Event(), threading.Event()

    def first_writer() -> None:
        with transaction(engine) as session:
            session.execute(text("CREATE TABLE IF NOT EXISTS probe (n INTEGER)"))
            with transaction(engine):  # nested in the same thread: no deadlock
                pass
            holding.set()
            release.wait(10)
            order.append("first commits")

    def second_writer() -> None:
        with transaction(engine) as session:
            order.append("second writes")
            session.execute(text("INSERT INTO probe VALUES (1)"))

    try:
        threads = [threading.Thread(target=first_writer)]
        threads[0].start()
        assert holding.wait(10)
        threads.append(threading.Thread(target=second_writer))
        threads[1].start()
        time.sleep(0.3)
        with transaction(engine, readonly=True) as session:  # a reader goes straight through
            assert session.execute(text("SELECT 1")).scalar_one() == 1
        assert order == []  # the second writer is still queued behind the first
        release.set()
        for t in threads:
            t.join(10)
        assert order == ["first commits", "second writes"]
        with pytest.raises(RuntimeError), transaction(engine):
            raise RuntimeError("rolled back")
        with transaction(engine) as session:  # released on errors too
            assert session.execute(text("SELECT count(*) FROM probe")).scalar_one() == 1
    finally:
        release.set()
        engine.dispose()
