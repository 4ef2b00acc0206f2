"""Tickets into PostgreSQL in bulk: rows as COPY text (made anywhere, e.g. in a file
import's parser process), COPY into a staging table, then ONE statement that upserts them,
takes back the old versions' share of the rollups, adds the new versions' share and bumps
the data version, all in SQL: the writer does no work per ticket in Python.

The rollup arithmetic is `storage.kpis.rollups._contribute`'s, written as GROUP BYs over
the batch (tests/test_ingest_copy.py compares every rollup table with that path's).
COPY text format: https://www.postgresql.org/docs/15/sql-copy.html (File Formats, Text
Format); psycopg's `Copy.write`: https://www.psycopg.org/psycopg3/docs/basic/copy.html
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import Boolean, DateTime, Integer, String
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session

from supportbot.storage.kpis.tables import (
    FINE_EDGES,
    FRT_EDGES,
    SOLVED_SUMS,
    TICKET_FIELDS,
    KpiDataVersion,
    KpiDayCount,
    KpiDayFrt,
    KpiDaySolved,
    KpiMonthCount,
    KpiMonthFrt,
    KpiMonthFrtFine,
    KpiMonthSolved,
    Ticket,
)

_NULL = "\\N"
# COPY text's special characters inside a value: backslash, and the tab, newline and
# carriage return that would end the value or the row
_SPECIAL = re.compile(r"[\\\t\n\r]")
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class ConcurrentImport(RuntimeError):
    """Another writer inserted one of the batch's new tickets while it was written (one it
    changed meanwhile is waited for and taken as it is then: the lookup locks it)."""


def _columns_of(kind: type) -> tuple[str, ...]:
    table = Ticket.__table__  # type: ignore[attr-defined]
    types = {name: table.c[name].type for name in ("ticket_id", *TICKET_FIELDS)}
    return tuple(name for name, t in types.items() if isinstance(t.impl if isinstance(t, TypeDecorator) else t, kind))


# The staging table's columns, grouped by type (COPY names them, so any order does).
_TEXTS, _TIMES, _INTS, _BOOLS = (_columns_of(kind) for kind in (String, DateTime, Integer, Boolean))
STAGE_COLUMNS = (*_TEXTS, *_TIMES, *_INTS, *_BOOLS)
assert sorted(STAGE_COLUMNS) == sorted(("ticket_id", *TICKET_FIELDS)), "a ticket column of another type"


def _time(value: datetime | None) -> str:
    if value is None:
        return _NULL
    if value.tzinfo is None:  # as the UTCDateTime column refuses one
        raise ValueError("naive datetime given to a UTC column")
    return value.isoformat()  # with its offset: the session's time zone plays no part


def copy_line(row: dict[str, Any]) -> str:
    """A ticket row (as `bot.ingest.normalize` makes it: timezone-aware datetimes, ints,
    bools, str or None) as one line of COPY text in STAGE_COLUMNS order, newline included."""
    get = row.get
    texts = [get(name) for name in _TEXTS]
    if _SPECIAL.search("".join(filter(None, texts))):  # rare: one search for all of them
        texts = [None if t is None else t.translate(_ESCAPES) for t in texts]
    values = [_NULL if t is None else t for t in texts]
    values += [_time(get(name)) for name in _TIMES]
    values += [_NULL if (number := get(name)) is None else str(int(number)) for name in _INTS]
    values += [_NULL if (flag := get(name)) is None else ("t" if flag else "f") for name in _BOOLS]
    return "\t".join(values) + "\n"


def upsert_copy_text(
    *, session: Session, workspace_id: str, source: str, now: datetime, lines: Iterable[bytes | str]
) -> tuple[int, int, int]:
    """Store tickets given as COPY text (`copy_line`), each ticket id at most once:
    (inserted, updated, unchanged). Identical rows are left alone. Raises ConcurrentImport
    (the caller rolls back) if another writer inserted one of the new ones meanwhile."""
    connection = session.connection()
    create, copy_sql, upsert = _statements(connection.dialect)
    raw = connection.connection.driver_connection
    # planned afresh every time (never a prepared statement's plan, made when the tables
    # were small): the joins must stay index lookups as kpi_ticket grows
    with raw.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(create, prepare=False)
        with cursor.copy(copy_sql) as copy:
            for chunk in lines:
                copy.write(chunk)
        try:
            cursor.execute(upsert, {"workspace_id": workspace_id, "source": source, "now": now}, prepare=False)
        except psycopg.errors.UniqueViolation:
            raise ConcurrentImport(
                "some of these tickets were written by someone else at the same time; nothing of this batch was saved, run it again"
            ) from None
        inserted, updated, rows = cursor.fetchone()  # type: ignore[misc]
    return inserted, updated, rows - inserted - updated


_SQL: dict[str, tuple[str, str, str]] = {}


def _statements(dialect: Any) -> tuple[str, str, str]:
    if dialect.name not in _SQL:
        _SQL[dialect.name] = _build(dialect)
    return _SQL[dialect.name]


def _build(dialect: Any) -> tuple[str, str, str]:
    table = Ticket.__table__  # type: ignore[attr-defined]
    columns = ", ".join(f"{name} {table.c[name].type.compile(dialect=dialect)}" for name in STAGE_COLUMNS)
    # the name carries a digest of the columns: a connection that outlives a migration
    # makes a new one; per connection, emptied at every commit
    stage = "kpi_ticket_stage_" + hashlib.sha256(columns.encode()).hexdigest()[:10]
    create = (
        "SET LOCAL client_min_messages = warning; "  # no "already exists" notice per batch
        # no JIT compilation: it costs seconds per statement and saves nothing here
        "SET LOCAL jit = off; "
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ({columns}) ON COMMIT DELETE ROWS; "
        f"TRUNCATE {stage}"  # a second batch in the same transaction starts empty
    )
    copy = f"COPY {stage} ({', '.join(STAGE_COLUMNS)}) FROM STDIN"
    fields = ", ".join(TICKET_FIELDS)

    def changed(old: str, new: str) -> str:
        return "({}) IS DISTINCT FROM ({})".format(
            ", ".join(f"{old}.{name}" for name in TICKET_FIELDS), ", ".join(f"{new}.{name}" for name in TICKET_FIELDS)
        )

    # What the rollups read of a ticket; `sign` -1 takes an old version's share back.
    used = "created_at, solved_at, frt_seconds, team_key, agent_id, channel, category, sla_target_minutes, handle_time_seconds, agent_replies, csat_good, nps"
    returned = ", ".join(f"kpi_ticket.{c.strip()}" for c in used.split(","))
    upsert = f"""
WITH found AS (
    -- the stored versions of the batch's tickets, locked. One index lookup per staged
    -- ticket: a subquery that locks is never flattened into a join, so no plan can scan
    -- the workspace's tickets, whatever the statistics say.
    SELECT t.*, {', '.join(f's.{name} AS new_{name}' for name in TICKET_FIELDS)} FROM {stage} s CROSS JOIN LATERAL (
        SELECT t.ticket_id, {changed('t', 's')} AS changed, {', '.join(f't.{name}' for name in TICKET_FIELDS)}
        FROM kpi_ticket t
        WHERE t.workspace_id = %(workspace_id)s AND t.source = %(source)s AND t.ticket_id = s.ticket_id
        FOR UPDATE OF t
    ) t
), old AS (
    SELECT * FROM found WHERE changed
), ins AS (
    -- a plain INSERT for the new ones: a ticket someone else inserts meanwhile is a
    -- unique violation (ConcurrentImport), not a silent conflict
    INSERT INTO kpi_ticket (workspace_id, source, ticket_id, updated_at, {fields})
    SELECT %(workspace_id)s, %(source)s, s.ticket_id, %(now)s, {', '.join(f's.{name}' for name in TICKET_FIELDS)}
    FROM {stage} s WHERE s.ticket_id NOT IN (SELECT ticket_id FROM found)
    RETURNING {returned}
), upd AS (
    -- the changed ones (with their new values from `found`: no second join), found again
    -- through the unique index (rows `found` locked)
    INSERT INTO kpi_ticket (workspace_id, source, ticket_id, updated_at, {fields})
    SELECT %(workspace_id)s, %(source)s, ticket_id, %(now)s, {', '.join(f'new_{name}' for name in TICKET_FIELDS)}
    FROM old
    ON CONFLICT (workspace_id, source, ticket_id) DO UPDATE SET
        {', '.join(f'{name} = EXCLUDED.{name}' for name in (*TICKET_FIELDS, 'updated_at'))}
    RETURNING {returned}
), delta AS MATERIALIZED (
    -- each version's share of the rollups: +1 for the new ones, -1 for the old ones
    SELECT sign,
        (created_at AT TIME ZONE 'UTC')::date AS created_day,
        (solved_at AT TIME ZONE 'UTC')::date AS solved_day,
        coalesce(team_key, '') AS team_key, coalesce(agent_id, '') AS agent_id,
        coalesce(channel, '') AS channel, coalesce(category, '') AS category,
        frt_seconds, sla_target_minutes, handle_time_seconds, agent_replies, csat_good, nps
    FROM (
        SELECT -1 AS sign, {used} FROM old
        UNION ALL
        SELECT 1, {used} FROM ins
        UNION ALL
        SELECT 1, {used} FROM upd
    ) versions
){_rollup_ctes()}, bump AS (
    INSERT INTO {KpiDataVersion.__tablename__} (workspace_id, version)
    SELECT %(workspace_id)s, 1 WHERE EXISTS (SELECT 1 FROM delta)
    ON CONFLICT (workspace_id) DO UPDATE SET version = {KpiDataVersion.__tablename__}.version + 1
)
SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM upd), (SELECT count(*) FROM {stage})
"""  # noqa: S608 - constant identifiers
    return create, copy, upsert


def _bucket_sql(seconds: str, edges: tuple[int, ...]) -> str:
    """tables.frt_bucket (or fine_bucket) in SQL: how many edges lie below `seconds` (whole
    seconds, >= 0); width_bucket counts the thresholds <= its operand."""
    return f"width_bucket({seconds} - 1, ARRAY[{', '.join(str(e) for e in edges)}]::integer[])"


# The sums of `_contribute`, per rollup, over the `delta` CTE.
_FRT_SUMS = {
    "n": "sum(sign)",
    "n_target": "sum(sign) FILTER (WHERE sla_target_minutes IS NOT NULL)",
    "met_target": "sum(sign) FILTER (WHERE frt_seconds <= sla_target_minutes * 60)",
}
_SOLVED_SUMS = {
    "solved": "sum(sign)",
    "handle_n": "sum(sign) FILTER (WHERE handle_time_seconds IS NOT NULL)",
    "handle_sum": "sum(sign * handle_time_seconds)",
    "fcr_n": "sum(sign) FILTER (WHERE agent_replies IS NOT NULL)",
    "fcr_yes": "sum(sign) FILTER (WHERE agent_replies <= 1)",
    "csat_n": "sum(sign) FILTER (WHERE csat_good IS NOT NULL)",
    "csat_good": "sum(sign) FILTER (WHERE csat_good)",
    "nps_n": "sum(sign) FILTER (WHERE nps IS NOT NULL)",
    "promoters": "sum(sign) FILTER (WHERE nps >= 9)",
    "detractors": "sum(sign) FILTER (WHERE nps <= 6)",
}


def _rollup_ctes() -> str:
    """Per rollup: the batch's deltas per day (one grouping, kept), added to the per-day
    table and, summed per month, to the per-month one; rows whose deltas are all 0 are
    left out; ON CONFLICT DO UPDATE adds to the stored counts. The month first-response
    rows are grouped from the tickets themselves (their buckets could differ)."""
    counts = (
        "(SELECT sign, created_day, team_key, agent_id, 'channel' AS dim, channel AS value FROM delta "
        "UNION ALL SELECT sign, created_day, team_key, agent_id, 'category', category FROM delta)"
    )
    buckets = f"{_bucket_sql('frt_seconds', FRT_EDGES)} AS bucket, {_bucket_sql('frt_seconds', FINE_EDGES)} AS fine"
    answered = f"(SELECT *, {buckets} FROM delta WHERE frt_seconds IS NOT NULL)"  # noqa: S608 - constant identifiers
    solved = "(SELECT * FROM delta WHERE solved_day IS NOT NULL)"
    solved_sums = {k: _SOLVED_SUMS[k] for k in SOLVED_SUMS}
    specs = [  # (per day, per month, rows, their day, key, sums, month from the day rows)
        (KpiDayCount, KpiMonthCount, counts, "created_day", ("dim", "team_key", "agent_id", "value"), {"n": "sum(sign)"}, True),
        (KpiDayFrt, KpiMonthFrt, answered, "created_day", ("team_key", "agent_id", "bucket"), _FRT_SUMS, False),
        (KpiDaySolved, KpiMonthSolved, solved, "solved_day", ("team_key", "agent_id"), solved_sums, True),
    ]
    out = []
    for day_model, month_model, rows, day, keys, sums, from_days in specs:
        grouped = f"{day_model.__tablename__}_delta"
        key = ", ".join(keys)
        per_day = ", ".join(f"coalesce({expr}, 0) AS {column}" for column, expr in sums.items())
        month = f"date_trunc('month', {day}::timestamp)::date"
        if from_days:
            summed = ", ".join(f"sum({c}) AS {c}" for c in sums)
            per_month = f"SELECT {month.replace(day, 'day')} AS month, {key}, {summed} FROM {grouped} GROUP BY 1, {key}"  # noqa: S608 - constant identifiers
        else:
            per_month = f"SELECT {month} AS month, {key}, {per_day} FROM {rows} AS d GROUP BY 1, {key}"  # noqa: S608 - constant identifiers
        out.append(f""", {grouped} AS MATERIALIZED (
    SELECT {day} AS day, {key}, {per_day} FROM {rows} AS d GROUP BY 1, {key}
)""")  # noqa: S608 - constant identifiers
        for model, period, source in ((day_model, "day", f"SELECT * FROM {grouped}"), (month_model, "month", per_month)):  # noqa: S608 - constant identifiers
            name = model.__tablename__
            out.append(
                f""", {name} AS (
    INSERT INTO {name} AS r (workspace_id, {period}, {key}, {', '.join(sums)})
    SELECT %(workspace_id)s, * FROM ({source}) g WHERE {' OR '.join(f'{column} <> 0' for column in sums)}
    ON CONFLICT (workspace_id, {period}, {key}) DO UPDATE SET
        {', '.join(f'{column} = r.{column} + EXCLUDED.{column}' for column in sums)}
)"""  # noqa: S608 - constant identifiers
            )
    # the per-month fine first-response buckets (no per-day table)
    fine = KpiMonthFrtFine.__tablename__
    out.append(f""", {fine} AS (
    INSERT INTO {fine} AS r (workspace_id, month, team_key, agent_id, bucket, fine, n)
    SELECT %(workspace_id)s, * FROM (
        SELECT date_trunc('month', created_day::timestamp)::date AS month, team_key, agent_id, bucket, fine, sum(sign) AS n
        FROM {answered} AS d GROUP BY 1, team_key, agent_id, bucket, fine
    ) g WHERE n <> 0
    ON CONFLICT (workspace_id, month, team_key, agent_id, bucket, fine) DO UPDATE SET n = r.n + EXCLUDED.n
)""")  # noqa: S608 - constant identifiers
    return "".join(out)
