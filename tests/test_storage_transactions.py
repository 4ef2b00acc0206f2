"""Units of work (`storage.db.transaction`) on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from storage.db import make_engine, transaction, upgrade

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
