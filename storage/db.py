"""Engines, sessions and Alembic migrations."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlmodel import Session, create_engine


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine tuned for many short transactions from a thread pool."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            **kwargs,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # SQLAlchemy's "begin" event issues BEGIN
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Writers take the lock up front so they queue on busy_timeout instead of
            # failing when a read transaction tries to upgrade; read-only units don't.
            if conn.get_execution_options().get("readonly"):
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        # SQLite takes one writer at a time. The engine's writers queue on this lock, each
        # woken the moment it is free and in arrival order, rather than in SQLite's busy
        # handler, which sleeps and retries (up to 100 ms a turn) so a waiting writer can
        # sleep past the moment the lock frees and a newcomer can overtake it. SQLite runs
        # in one process (`supportbot run --workers` refuses it); another process writing
        # the same file, such as a CLI import, is left to busy_timeout. Reentrant: a unit
        # of work may open another in the same thread.
        return engine.execution_options(writer_lock=threading.RLock())
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    engine = create_engine(url, **kwargs)
    _ping_when_idle(engine)
    return engine


# A pooled connection that was in use this recently is taken as alive; one idle longer is
# pinged before use, so a busy bot does not pay a round trip per transaction for it.
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """Pessimistic disconnect handling, paid only by connections that sat idle: a dead one
    (the server restarted, a proxy dropped it) is replaced before a request sees it. A
    connection that dies mid-use is reported as a disconnect and SQLAlchemy discards the
    whole pool's older connections, so only the transactions in flight at that moment fail
    (they get "nothing was saved, retry")."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return  # new (just connected) or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            if engine.dialect.is_disconnect(exc, dbapi_conn, None):
                raise DisconnectionError() from exc  # the pool connects afresh and retries
            raise


# One read-only view per engine, made once: building it costs about as much as a short
# statement, and every read-only unit of work needs it.
_READONLY: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def _readonly_bind(engine: Engine) -> Engine:
    bind = _READONLY.get(engine)
    if bind is None:
        if engine.dialect.name == "postgresql":
            bind = engine.execution_options(readonly=True, isolation_level="AUTOCOMMIT")
        else:
            bind = engine.execution_options(readonly=True)
        _READONLY[engine] = bind
    return bind


@contextmanager
def transaction(
    engine: Engine,
    *,
    readonly: bool = False,
    waiting: Callable[[], AbstractContextManager[Any]] | None = None,
) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error. Writers on SQLite hold the
    engine's writer lock throughout; `waiting()` wraps the time spent queueing for it.

    Read-only units on PostgreSQL run without BEGIN/COMMIT: at its READ COMMITTED level
    every statement takes its own snapshot inside a transaction too, so the two extra
    round trips bought nothing."""
    bind = _readonly_bind(engine) if readonly else engine
    writer = None if readonly else engine.get_execution_options().get("writer_lock")
    if writer is not None and not writer.acquire(blocking=False):
        with waiting() if waiting else nullcontext():
            writer.acquire()
    try:
        with Session(bind, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
    finally:
        if writer is not None:
            writer.release()


def ping(engine: Engine) -> bool:
    try:  # read-only: a health check never queues behind SQLite writers
        with engine.execution_options(readonly=True).connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # any driver error means "not reachable"
        return False


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("supportbot.storage") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    """Apply pending migrations (idempotent)."""
    command.upgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
