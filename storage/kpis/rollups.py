"""The per-day and per-month rollup tables (and the per-month fine first-response
buckets): ticket rows added or removed become deltas, applied in one INSERT ... ON
CONFLICT DO UPDATE batch per table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date
from typing import Any

from sqlmodel import Session

from supportbot.storage.kpis.tables import (
    SOLVED_SUMS,
    KpiDayCount,
    KpiDayFrt,
    KpiDaySolved,
    KpiMonthCount,
    KpiMonthFrt,
    KpiMonthFrtFine,
    KpiMonthSolved,
    fine_bucket,
    frt_bucket,
)

Deltas = dict[tuple[Any, ...], list[int]]


def _contribute(row: dict[str, Any], sign: int, counts: Deltas, frts: Deltas, fines: Deltas, solved: Deltas) -> None:
    team = row.get("team_key") or ""
    agent = row.get("agent_id") or ""
    created_day = row["created_at"].astimezone(UTC).date()
    for dim in ("channel", "category"):
        key = (created_day, dim, team, agent, row.get(dim) or "")
        counts.setdefault(key, [0])[0] += sign
    frt = row.get("frt_seconds")
    if frt is not None:
        target = row.get("sla_target_minutes")
        bucket = frt_bucket(frt)
        fines.setdefault((created_day.replace(day=1), team, agent, bucket, fine_bucket(frt)), [0])[0] += sign
        acc = frts.setdefault((created_day, team, agent, bucket), [0, 0, 0])
        acc[0] += sign
        if target is not None:
            acc[1] += sign
            if frt <= target * 60:
                acc[2] += sign
    if row.get("solved_at") is not None:
        acc = solved.setdefault((row["solved_at"].astimezone(UTC).date(), team, agent), [0] * 10)
        handle, replies, good, nps = (
            row.get("handle_time_seconds"), row.get("agent_replies"), row.get("csat_good"), row.get("nps")
        )
        acc[0] += sign
        if handle is not None:
            acc[1] += sign
            acc[2] += sign * handle
        if replies is not None:
            acc[3] += sign
            acc[4] += sign * (replies <= 1)
        if good is not None:
            acc[5] += sign
            acc[6] += sign * bool(good)
        if nps is not None:
            acc[7] += sign
            acc[8] += sign * (nps >= 9)
            acc[9] += sign * (nps <= 6)


def apply_rollups(
    *,
    session: Session,
    workspace_id: str,
    added: Sequence[dict[str, Any]],
    removed: Sequence[dict[str, Any]],
    copy: bool = True,
) -> None:
    """Keep the per-day and per-month tables in step with ticket rows (added minus
    removed); `copy=False` keeps big batches off COPY (the previous path, for benchmarks
    to compare with)."""
    counts: Deltas = {}
    frts: Deltas = {}
    fines: Deltas = {}  # per month already
    solved: Deltas = {}
    for row in removed:
        _contribute(row, -1, counts, frts, fines, solved)
    for row in added:
        _contribute(row, 1, counts, frts, fines, solved)
    count_keys = ("dim", "team_key", "agent_id", "value")
    frt_keys = ("team_key", "agent_id", "bucket")
    solved_keys = ("team_key", "agent_id")
    frt_values = ("n", "n_target", "met_target")
    add_deltas(session, KpiDayCount, workspace_id, ("day", *count_keys), ("n",), counts, copy=copy)
    add_deltas(session, KpiDayFrt, workspace_id, ("day", *frt_keys), frt_values, frts, copy=copy)
    add_deltas(session, KpiDaySolved, workspace_id, ("day", *solved_keys), SOLVED_SUMS, solved, copy=copy)
    add_deltas(session, KpiMonthCount, workspace_id, ("month", *count_keys), ("n",), by_month(counts), copy=copy)
    add_deltas(session, KpiMonthFrt, workspace_id, ("month", *frt_keys), frt_values, by_month(frts), copy=copy)
    add_deltas(session, KpiMonthSolved, workspace_id, ("month", *solved_keys), SOLVED_SUMS, by_month(solved), copy=copy)
    add_deltas(session, KpiMonthFrtFine, workspace_id, ("month", *frt_keys, "fine"), ("n",), fines, copy=copy)


def by_month(deltas: Deltas) -> Deltas:
    """Per-day deltas (the day first in each key) summed per month (its first day)."""
    out: Deltas = {}
    for (day, *rest), delta in deltas.items():
        acc = out.setdefault((day.replace(day=1), *rest), [0] * len(delta))
        for i, v in enumerate(delta):
            acc[i] += v
    return out


def add_deltas(
    session: Session,
    model: Any,
    workspace_id: str,
    keys: tuple[str, ...],
    values: tuple[str, ...],
    deltas: Deltas,
    *,
    copy: bool = True,
) -> None:
    """Add the deltas to the per-day rows: one INSERT ... ON CONFLICT DO UPDATE batch
    (SQLite 3.24+ and PostgreSQL), keyed by the table's unique constraint."""
    rows = [(key, delta) for key, delta in deltas.items() if any(delta)]
    if not rows:
        return
    table = model.__table__
    connection = session.connection()
    conflict = ("workspace_id", *keys)
    if connection.dialect.name == "sqlite":  # straight through the driver: big imports
        columns = (*conflict, *values)
        sets = ", ".join(f"{v} = {v} + excluded.{v}" for v in values)
        connection.exec_driver_sql(
            f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "  # noqa: S608 - constant identifiers
            f"ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {sets}",
            [
                (workspace_id, *(k.isoformat() if isinstance(k, date) else k for k in key), *delta)
                for key, delta in rows
            ],
        )
        return
    if copy and len(rows) >= COPY_ROWS:
        _add_copied(connection, table, conflict, values, [(workspace_id, *key, *delta) for key, delta in rows])
        return
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    statement = pg_insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=list(conflict),
        set_={v: table.c[v] + statement.excluded[v] for v in values},
    )
    connection.execute(
        statement,
        [
            {"workspace_id": workspace_id, **dict(zip(keys, key, strict=True)), **dict(zip(values, delta, strict=True))}
            for key, delta in rows
        ],
    )


# From this many rows on (a big import's batch), PostgreSQL gets the deltas by COPY into a
# temporary table and adds them with one INSERT ... SELECT ... ON CONFLICT: an executemany
# of upserts costs a round of statement work per row. Fewer rows (an API ticket, a sync
# page) go as above: three statements would cost more than they save.
COPY_ROWS = 200


def _add_copied(connection: Any, table: Any, conflict: tuple[str, ...], values: tuple[str, ...], records: list[tuple[Any, ...]]) -> None:
    """COPY: https://www.psycopg.org/psycopg3/docs/basic/copy.html"""
    columns = (*conflict, *values)
    names = ", ".join(columns)
    stage = f"{table.name}_delta"
    definitions = ", ".join(f"{c} {table.c[c].type.compile(dialect=connection.dialect)}" for c in columns)
    sets = ", ".join(f"{v} = {table.name}.{v} + EXCLUDED.{v}" for v in values)
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor:
        cursor.execute(
            "SET LOCAL client_min_messages = warning; "  # no "already exists" notice per batch
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ({definitions}) ON COMMIT DELETE ROWS; "
            f"TRUNCATE {stage}",  # a second batch in the same transaction starts empty
            prepare=False,
        )
        with cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
            for record in records:
                copy.write_row(record)
        cursor.execute(
            f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {stage} "  # noqa: S608 - constant identifiers
            f"ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {sets}",
            prepare=False,
        )
