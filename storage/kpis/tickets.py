"""Writing tickets (upsert and delete, with the per-day rollups and the data version kept
in step) and reading them back."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlmodel import Session, col
from sqlmodel import select as sm_select

from supportbot.storage.kpis.rollups import add_deltas, apply_rollups
from supportbot.storage.kpis.tables import TICKET_FIELDS, KpiDataVersion, Ticket


@dataclass
class UpsertResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


def upsert_tickets(
    *,
    session: Session,
    workspace_id: str,
    rows: Sequence[dict[str, Any]],
    now: datetime,
    source: str = "import",
    bulk: bool = True,
) -> UpsertResult:
    """Insert or update by (workspace, source, ticket_id); identical rows are left alone,
    so importing the same file twice writes nothing. The last occurrence of a ticket id in
    `rows` wins.

    On PostgreSQL (unless `bulk=False`, the previous path, kept for benchmarks to compare
    with): COPY into a staging table, one join for the old versions of changed tickets, one
    set-based upsert. Elsewhere: one SELECT of the existing rows, one bulk INSERT and an
    UPDATE per changed row.
    """
    if not rows:
        return UpsertResult()
    by_id: dict[str, dict[str, Any]] = {}
    for row in rows:
        by_id[row["ticket_id"]] = row
    dialect = session.connection().dialect
    if bulk and dialect.name == "postgresql" and dialect.driver == "psycopg":
        return _upsert_copy(session, workspace_id, source, now, by_id)
    return _upsert_rows(session, workspace_id, source, now, by_id, copy=bulk)


def _upsert_rows(
    session: Session, workspace_id: str, source: str, now: datetime, by_id: dict[str, dict[str, Any]], *, copy: bool = True
) -> UpsertResult:
    result = UpsertResult()
    table = Ticket.__table__  # type: ignore[attr-defined]
    cols = [table.c.id, table.c.ticket_id] + [table.c[name] for name in TICKET_FIELDS]
    existing: dict[str, Any] = {}
    ids = list(by_id)
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        for rec in session.execute(
            select(*cols).where(
                table.c.workspace_id == workspace_id,
                table.c.source == source,
                table.c.ticket_id.in_(chunk),
            )
        ):
            existing[rec.ticket_id] = rec
    inserts: list[dict[str, Any]] = []
    added: list[dict[str, Any]] = []
    removed: list[dict[str, Any]] = []
    for ticket_id, row in by_id.items():
        values = {"ticket_id": ticket_id, **{name: row.get(name) for name in TICKET_FIELDS}}
        old = existing.get(ticket_id)
        if old is None:
            inserts.append(values)
            added.append(values)
            continue
        if all(_same(getattr(old, name), values[name]) for name in TICKET_FIELDS):
            result.unchanged += 1
            continue
        session.execute(
            update(table)
            .where(table.c.id == old.id)
            .values(**{name: values[name] for name in TICKET_FIELDS}, updated_at=now)
        )
        removed.append({name: getattr(old, name) for name in TICKET_FIELDS})
        added.append(values)
        result.updated += 1
    if inserts:
        _bulk_insert(session, workspace_id, source, now, inserts)
        result.inserted = len(inserts)
    apply_rollups(session=session, workspace_id=workspace_id, added=added, removed=removed, copy=copy)
    if added:
        add_deltas(session, KpiDataVersion, workspace_id, (), ("version",), {(): [1]})
    return result


# ----- PostgreSQL: COPY into a staging table, then set-based SQL ---------------------------
# A temporary table (per connection, emptied at every commit) holding one batch as COPY
# writes it; its columns have kpi_ticket's types, so COPY checks each value once. Its name
# carries a digest of its columns: a connection that outlives a migration makes a new one.
_STAGE_COLUMNS = ("ticket_id", *TICKET_FIELDS)
_CHANGED = "({old}) IS DISTINCT FROM ({new})"


def _stage_sql(dialect: Any) -> tuple[str, ...]:
    table = Ticket.__table__  # type: ignore[attr-defined]
    columns = ", ".join(f"{name} {table.c[name].type.compile(dialect=dialect)}" for name in _STAGE_COLUMNS)
    stage = "kpi_ticket_stage_" + hashlib.sha256(columns.encode()).hexdigest()[:10]
    fields = ", ".join(TICKET_FIELDS)

    def changed(old: str, new: str) -> str:
        return _CHANGED.format(
            old=", ".join(f"{old}.{name}" for name in TICKET_FIELDS),
            new=", ".join(f"{new}.{name}" for name in TICKET_FIELDS),
        )

    create = (
        "SET LOCAL client_min_messages = warning; "  # no "already exists" notice per batch
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ({columns}) ON COMMIT DELETE ROWS"
    )
    copy = f"COPY {stage} ({', '.join(_STAGE_COLUMNS)}) FROM STDIN"
    # the stored versions the batch changes: their rollup contributions are taken back;
    # locked, so nothing else changes them before the upsert below
    old = (
        f"SELECT t.ticket_id, {', '.join(f't.{name}' for name in TICKET_FIELDS)} "  # noqa: S608 - constant identifiers
        f"FROM {stage} s JOIN kpi_ticket t "
        "ON t.workspace_id = %(workspace_id)s AND t.source = %(source)s AND t.ticket_id = s.ticket_id "
        f"WHERE {changed('t', 's')} FOR UPDATE OF t"
    )
    upsert = (
        f"INSERT INTO kpi_ticket (workspace_id, source, ticket_id, updated_at, {fields}) "  # noqa: S608 - constant identifiers
        f"SELECT %(workspace_id)s, %(source)s, s.ticket_id, %(now)s, {', '.join(f's.{name}' for name in TICKET_FIELDS)} "
        f"FROM {stage} s "
        "ON CONFLICT (workspace_id, source, ticket_id) DO UPDATE SET "
        + ", ".join(f"{name} = EXCLUDED.{name}" for name in (*TICKET_FIELDS, "updated_at"))
        + f" WHERE {changed('kpi_ticket', 'EXCLUDED')} "
        # xmax is 0 on a row this statement inserted, set on one it updated
        "RETURNING kpi_ticket.ticket_id, kpi_ticket.xmax = 0"
    )
    return create, copy, old, upsert


_STAGE_SQL: dict[str, tuple[str, ...]] = {}


class ConcurrentImport(RuntimeError):
    """Another writer changed or inserted some of the batch's tickets while it was written."""


def _upsert_copy(
    session: Session, workspace_id: str, source: str, now: datetime, by_id: dict[str, dict[str, Any]]
) -> UpsertResult:
    """COPY the batch into the staging table, read the old versions of the tickets it
    changes (one join), then one INSERT ... SELECT ... ON CONFLICT DO UPDATE WHERE changed.

    COPY: https://www.psycopg.org/psycopg3/docs/basic/copy.html (write_row quotes tabs,
    newlines and backslashes). Rows carry timezone-aware datetimes, as `normalize` makes them.
    """
    connection = session.connection()
    sql = _STAGE_SQL.get("postgresql")
    if sql is None:
        sql = _STAGE_SQL["postgresql"] = _stage_sql(connection.dialect)
    create, copy_sql, old_sql, upsert_sql = sql
    raw = connection.connection.driver_connection
    # planned afresh every time (never a prepared statement's plan, made when the tables
    # were small): the join must stay index lookups as kpi_ticket grows
    params = {"workspace_id": workspace_id, "source": source, "now": now}
    with raw.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(create, prepare=False)
        with cursor.copy(copy_sql) as copy:
            write = copy.write_row
            for ticket_id, row in by_id.items():
                write((ticket_id, *[row.get(name) for name in TICKET_FIELDS]))
        cursor.execute(old_sql, params, prepare=False)
        removed: dict[str, dict[str, Any]] = {
            rec[0]: dict(zip(TICKET_FIELDS, rec[1:], strict=True)) for rec in cursor.fetchall()
        }
        cursor.execute(upsert_sql, params, prepare=False)
        written = cursor.fetchall()
    added = [by_id[ticket_id] for ticket_id, _ in written]
    inserted = sum(1 for _, new in written if new)
    if len(written) - inserted != len(removed) or any(not new and t not in removed for t, new in written):
        raise ConcurrentImport(
            "some of these tickets were written by someone else at the same time; nothing of this batch was saved, run it again"
        )
    apply_rollups(session=session, workspace_id=workspace_id, added=added, removed=list(removed.values()))
    if added:
        add_deltas(session, KpiDataVersion, workspace_id, (), ("version",), {(): [1]})
    return UpsertResult(inserted=inserted, updated=len(removed), unchanged=len(by_id) - len(written))


def ticket_rows(
    *, session: Session, workspace_id: str, source: str, ticket_ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """ticket_id -> its stored fields (TICKET_FIELDS), for the ids that exist."""
    table = Ticket.__table__  # type: ignore[attr-defined]
    cols = [table.c.ticket_id] + [table.c[name] for name in TICKET_FIELDS]
    out: dict[str, dict[str, Any]] = {}
    ids = list(dict.fromkeys(ticket_ids))
    for start in range(0, len(ids), 900):
        for rec in session.execute(
            select(*cols).where(
                table.c.workspace_id == workspace_id,
                table.c.source == source,
                table.c.ticket_id.in_(ids[start : start + 900]),
            )
        ):
            out[rec.ticket_id] = {name: getattr(rec, name) for name in TICKET_FIELDS}
    return out


def delete_tickets(
    *, session: Session, workspace_id: str, source: str, ticket_ids: Sequence[str]
) -> int:
    """Remove tickets deleted in their helpdesk, and their share of the per-day rollups."""
    gone = ticket_rows(session=session, workspace_id=workspace_id, source=source, ticket_ids=ticket_ids)
    if not gone:
        return 0
    table = Ticket.__table__  # type: ignore[attr-defined]
    ids = list(gone)
    for start in range(0, len(ids), 900):
        session.execute(
            delete(table).where(
                table.c.workspace_id == workspace_id,
                table.c.source == source,
                table.c.ticket_id.in_(ids[start : start + 900]),
            )
        )
    apply_rollups(session=session, workspace_id=workspace_id, added=[], removed=list(gone.values()))
    add_deltas(session, KpiDataVersion, workspace_id, (), ("version",), {(): [1]})
    return len(gone)


# The SQLite fast path writes these columns in this order; SQLAlchemy's SQLite DateTime
# stores "YYYY-MM-DD HH:MM:SS.ffffff" (UTC here), booleans as 0/1.
_PLAIN_COLUMNS = ("frt_seconds", "status", "agent_id", "agent_email", "team", "team_key", "channel", "category", "priority", "csat")
_PLAIN_COLUMNS_2 = ("nps", "handle_time_seconds", "agent_replies", "sla_target_minutes", "tags")
INSERT_COLUMNS = (
    "workspace_id", "source", "ticket_id", "updated_at", "created_at", "first_response_at", "solved_at",
    *_PLAIN_COLUMNS, "csat_good", *_PLAIN_COLUMNS_2,
)
assert sorted(INSERT_COLUMNS) == sorted(("workspace_id", "source", "ticket_id", "updated_at", *TICKET_FIELDS))


def _bulk_insert(session: Session, workspace_id: str, source: str, now: datetime, rows: list[dict[str, Any]]) -> None:
    """Bulk INSERT; on SQLite straight through the driver (values pre-converted exactly as
    SQLAlchemy would store them): the ORM's per-row conversion dominates a big import."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        session.execute(
            Ticket.__table__.insert(),  # type: ignore[attr-defined]
            [{"workspace_id": workspace_id, "source": source, "updated_at": now, **row} for row in rows],
        )
        return

    def stamp(value: datetime | None) -> str | None:
        if value is None:
            return None
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        return value.isoformat(" ", "microseconds")[:-6]  # drop "+00:00"

    now_text = stamp(now)

    def convert(row: dict[str, Any]) -> tuple[Any, ...]:
        good = row["csat_good"]
        return (
            workspace_id,
            source,
            row["ticket_id"],
            now_text,
            stamp(row["created_at"]),
            stamp(row["first_response_at"]),
            stamp(row["solved_at"]),
            *[row[name] for name in _PLAIN_COLUMNS],
            None if good is None else int(good),
            *[row[name] for name in _PLAIN_COLUMNS_2],
        )

    sql = f"INSERT INTO kpi_ticket ({', '.join(INSERT_COLUMNS)}) VALUES ({', '.join('?' * len(INSERT_COLUMNS))})"  # noqa: S608 - constant identifiers
    # index pages for a big import: a larger page cache keeps random index inserts in memory
    connection.exec_driver_sql("PRAGMA cache_size = -32768")
    connection.exec_driver_sql(sql, [convert(row) for row in rows])


def _same(old: Any, new: Any) -> bool:
    return bool(old == new) if old is not None and new is not None else old is new


def data_version(*, session: Session, workspace_id: str) -> int:
    found = session.execute(_DATA_VERSION, {"workspace_id": workspace_id}).scalar()
    return int(found or 0)


_DATA_VERSION = (  # built once: every /kpis answer checks it
    select(KpiDataVersion.__table__.c.version)  # type: ignore[attr-defined]
    .where(KpiDataVersion.__table__.c.workspace_id == bindparam("workspace_id"))  # type: ignore[attr-defined]
)


def get_ticket(
    *, session: Session, workspace_id: str, ticket_id: str, source: str = "import"
) -> Ticket | None:
    return session.exec(
        sm_select(Ticket).where(
            col(Ticket.workspace_id) == workspace_id,
            col(Ticket.source) == source,
            col(Ticket.ticket_id) == ticket_id,
        )
    ).first()
