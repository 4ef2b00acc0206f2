"""Engines, sessions and Alembic migrations."""

from __future__ import annotations

import os
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

try:
    import fcntl
except ImportError:  # not on Windows: in-process queueing only
    fcntl = None  # type: ignore[assignment]


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

        if "writer" not in os.environ.get("SUPPORTBOT_BENCH_OFF", "").split(","):
            _WRITERS[engine] = WriterLock(engine.url.database)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    engine = create_engine(url, **kwargs)
    _ping_when_idle(engine)
    return engine


# A pooled connection that was in use this recently is taken as alive; one idle longer is
# pinged before use. `pool_pre_ping` pinged every checkout: one more round trip per
# transaction, measured at 12% of request time on PostgreSQL under load.
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


class WriterLock:
    """SQLite allows one writer at a time. Writers queue on this lock (woken the moment it
    is free) instead of SQLite's busy handler, which sleeps and polls up to 100 ms a turn.
    Threads of this process queue on an RLock; processes sharing the file (replicas,
    `supportbot run --workers`, a CLI import) on an flock of `<database>-writer.lock`."""

    def __init__(self, database: str | None) -> None:
        self._threads = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        self._locked = False
        self._path = (
            f"{database}-writer.lock"
            if database and database != ":memory:" and fcntl is not None
            else None
        )

    def _file(self) -> int | None:
        """Opened on first use; a directory that cannot hold it (the database is then
        unreachable too) leaves SQLite to report the problem."""
        if self._fd is None and self._path is not None:
            try:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:
                return None
        return self._fd

    def acquire(self, waiting: Callable[[], AbstractContextManager[Any]] | None = None) -> None:
        """Take the lock; when it is busy, the wait happens inside `waiting()`."""
        if not self._threads.acquire(blocking=False):
            with waiting() if waiting else nullcontext():
                self._threads.acquire()
        self._depth += 1
        if self._depth == 1:
            fd = self._file()
            if fd is None:
                return
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    with waiting() if waiting else nullcontext():
                        fcntl.flock(fd, fcntl.LOCK_EX)
                self._locked = True
            except BaseException:
                self._depth -= 1
                self._threads.release()
                raise

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._locked:
            self._locked = False
            fcntl.flock(self._fd, fcntl.LOCK_UN)  # type: ignore[arg-type]
        self._threads.release()

    def __del__(self) -> None:
        if self._fd is not None:
            os.close(self._fd)


_WRITERS: weakref.WeakKeyDictionary[Engine, WriterLock] = weakref.WeakKeyDictionary()


def _readonly_bind(engine: Engine) -> Engine:
    if engine.dialect.name == "postgresql":
        return engine.execution_options(readonly=True, isolation_level="AUTOCOMMIT")
    return engine.execution_options(readonly=True)


@contextmanager
def transaction(
    engine: Engine,
    *,
    readonly: bool = False,
    waiting: Callable[[], AbstractContextManager[Any]] | None = None,
) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error. `waiting()` wraps the
    time spent queueing for SQLite's writer lock, if any.

    Read-only units on PostgreSQL run without BEGIN/COMMIT: at its READ COMMITTED level
    every statement takes its own snapshot inside a transaction too, so the two extra
    round trips bought nothing."""
    bind = _readonly_bind(engine) if readonly else engine
    writer = None if readonly else _WRITERS.get(engine)
    if writer is not None:
        writer.acquire(waiting)
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
