"""Shared fixtures: the Slack stand-in, a fresh database per test, the clock, the rig."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from supportbot.bot.clock import FixedClock
from supportbot.bot.standin.slack import SlackStandIn
from supportbot.storage.db import upgrade
from tests.pgserver import PostgresServer
from tests.rig import BotRig

WANT_POSTGRES = os.environ.get("SUPPORTBOT_TEST_POSTGRES") == "1"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer | None]:
    """With SUPPORTBOT_TEST_POSTGRES=1: a throwaway PostgreSQL server for the session."""
    if not WANT_POSTGRES:
        yield None
        return
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_admin_url(pg_server: PostgresServer | None) -> Iterator[str | None]:
    """The server's admin URL, with a migrated template database for fresh ones."""
    if pg_server is None:
        yield None
        return
    url = pg_server.url
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('CREATE DATABASE "supportbot_template"'))
    upgrade(url.rsplit("/", 1)[0] + "/supportbot_template")
    admin.dispose()
    yield url


@pytest.fixture(scope="session")
def standin_server() -> Iterator[SlackStandIn]:
    server = SlackStandIn().start()
    yield server
    server.stop()


@pytest.fixture
def standin(standin_server: SlackStandIn) -> Iterator[SlackStandIn]:
    standin_server.reset()
    yield standin_server
    standin_server.reset()


@pytest.fixture
def database_url(tmp_path, pg_admin_url) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A migrated, empty database: a SQLite file, or a fresh PostgreSQL database."""
    if pg_admin_url:
        name = f"t_{uuid.uuid4().hex[:12]}"
        # Unpooled: a test may restart the server in between.
        admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "supportbot_template"'))
        url = pg_admin_url.rsplit("/", 1)[0] + f"/{name}"
        yield url
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        url = f"sqlite:///{tmp_path / 'supportbot.db'}"
        upgrade(url)
        yield url


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))  # a Monday


# Slack's deadline is 3 s and the bot answers "working on it" at 2.5 s (tested on its own
# in test_foundation_http). In the in-process rig a pause of the test process itself (a
# full garbage collection of a heap grown over hundreds of tests, a busy CI machine) must
# not turn a direct answer into "working on it": the tests check what is answered.
RIG_ACK_DEADLINE_SECONDS = 10.0


@pytest.fixture
def rig(standin: SlackStandIn, database_url: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[BotRig]:
    from supportbot.handlers import common

    monkeypatch.setattr(common, "ACK_DEADLINE_SECONDS", RIG_ACK_DEADLINE_SECONDS)
    bot = BotRig(standin, database_url, clock)
    yield bot
    bot.close()
