"""Units of work (`storage.db.transaction`) on both backends."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from supportbot.bot.standin.slack import SlackStandIn
from supportbot.storage.db import PING_AFTER_IDLE_SECONDS, make_engine, transaction, upgrade
from tests.pgserver import PostgresServer
from tests.rig import BotRig

CLAIM = "INSERT INTO job_claim (key, claimed_at, owner) VALUES (:k, CURRENT_TIMESTAMP, 'test')"


def test_read_only_units_skip_begin_on_postgresql_and_write_units_stay_all_or_nothing(database_url: str) -> None:
    """On PostgreSQL (READ COMMITTED: a snapshot per statement either way) a read-only
    unit runs in autocommit, without the BEGIN and COMMIT round trips; the pooled
    connection it used is transactional again for the next write unit."""
    upgrade(database_url)
    engine = make_engine(database_url, pool_size=1, max_overflow=0)  # one connection for all
    postgres = engine.dialect.name == "postgresql"
    try:
        with transaction(engine) as session:
            session.execute(text(CLAIM), {"k": "k1"})
        for _ in range(2):
            with transaction(engine, readonly=True) as session:
                keys = session.execute(text("SELECT key FROM job_claim")).scalars().all()
                dbapi = session.connection().connection.dbapi_connection
                if postgres:
                    assert dbapi.autocommit is True  # type: ignore[union-attr]
            assert keys == ["k1"]
            with pytest.raises(RuntimeError), transaction(engine) as session:
                session.execute(text(CLAIM), {"k": "k2"})
                if postgres:
                    assert session.connection().connection.dbapi_connection.autocommit is False  # type: ignore[union-attr]
                raise RuntimeError("fails half-way: k2 is rolled back")
        with transaction(engine, readonly=True) as session:
            assert session.execute(text("SELECT key FROM job_claim")).scalars().all() == ["k1"]
    finally:
        engine.dispose()


def test_connections_idle_past_a_database_restart_are_replaced_before_use(
    pg_server: PostgresServer | None, database_url: str, rig: BotRig, standin: SlackStandIn
) -> None:
    """PostgreSQL restarts (an upgrade, a failover): pooled connections idle longer than
    PING_AFTER_IDLE_SECONDS are pinged at checkout and replaced, so the first commands after
    the restart are answered and stored, not refused."""
    if pg_server is None:
        pytest.skip("PostgreSQL only: SUPPORTBOT_TEST_POSTGRES=1")
    rig.make_team()
    kudos = [f"<@U0AGENT02|bo> thanks #{n}" for n in range(3)]
    assert "Nothing was saved" not in rig.command("/kudos", kudos[0], user="U0AGENT01").text
    with rig.rt.engine.connect() as c1, rig.rt.engine.connect() as c2:  # several pooled ones
        c1.execute(text("SELECT 1"))
        c2.execute(text("SELECT 1"))
    pg_server.restart()
    time.sleep(PING_AFTER_IDLE_SECONDS + 0.2)
    for typed in kudos[1:]:
        response = rig.command("/kudos", typed, user="U0AGENT01")
        assert response.status_code == 200 and "Nothing was saved" not in response.text
    rig.deliver()
    with rig.rt.transaction(readonly=True) as session:
        stored = session.execute(text("SELECT message FROM kudos ORDER BY id")).scalars().all()
    assert stored == ["thanks", "thanks", "thanks"]
    assert len(standin.posts("C0DIGEST1")) == 3
