"""Writing tickets (upsert and delete, with the per-day rollups and the data version kept
in step) and reading them back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlmodel import Session, col
from sqlmodel import select as sm_select

from supportbot.storage.kpis.rollups import add_deltas, apply_rollups
from supportbot.storage.kpis.tables import TICKET_FIELDS, KpiDataVersion, Ticket
from supportbot.storage.kpis.ticket_copy import ConcurrentImport as ConcurrentImport  # noqa: F401 - the CLI catches it from here
from supportbot.storage.kpis.ticket_copy import copy_line, upsert_copy_text


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
    with): COPY into a staging table, then one statement for the upsert and the rollups
    (storage/kpis/ticket_copy.py). Elsewhere: one SELECT of the existing rows, one bulk INSERT and an
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


def _upsert_copy(
    session: Session, workspace_id: str, source: str, now: datetime, by_id: dict[str, dict[str, Any]]
) -> UpsertResult:
    """COPY the batch into a staging table, then one statement upserts it and moves the
    rollups (storage/kpis/ticket_copy.py)."""
    data = "".join(map(copy_line, by_id.values())).encode()
    inserted, updated, unchanged = upsert_copy_text(
        session=session, workspace_id=workspace_id, source=source, now=now, lines=(data,)
    )
    return UpsertResult(inserted=inserted, updated=updated, unchanged=unchanged)


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
