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

from sqlmodel import Session

from supportbot.storage.kpis.tables import (
    FRT_EDGES,
    SOLVED_SUMS,
    TICKET_FIELDS,
    KpiDataVersion,
    KpiDayCount,
    KpiDayFrt,
    KpiDaySolved,
    KpiMonthCount,
    KpiMonthFrt,
    KpiMonthSolved,
    Ticket,
)

STAGE_COLUMNS = ("ticket_id", *TICKET_FIELDS)
_NULL = "\\N"
# COPY text's special characters inside a value: backslash, and the tab, newline and
# carriage return that would end the value or the row
_SPECIAL = re.compile(r"[\\\t\n\r]")
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class ConcurrentImport(RuntimeError):
    """Another writer changed or inserted some of the batch's tickets while it was written."""


def copy_line(row: dict[str, Any]) -> str:
    """A ticket row (as `bot.ingest.normalize` makes it: aware datetimes, ints, bools,
    str or None) as one line of COPY text in STAGE_COLUMNS order, newline included."""
    values = []
    texts = []
    for name in STAGE_COLUMNS:
        value = row.get(name)
        kind = type(value)
        if value is None:
            values.append(_NULL)
        elif kind is str:
            values.append(value)
            texts.append(value)
        elif kind is datetime:
            values.append(value.isoformat())  # with its offset: the session's zone plays no part
        elif kind is bool:
            values.append("t" if value else "f")
        else:
            values.append(str(int(value)))
    if texts and _SPECIAL.search("".join(texts)):
        values = [v if v is _NULL else v.translate(_ESCAPES) for v in values]
    return "\t".join(values) + "\n"


def upsert_copy_text(
    *, session: Session, workspace_id: str, source: str, now: datetime, lines: Iterable[bytes | str]
) -> tuple[int, int, int]:
    """Store tickets given as COPY text (`copy_line`), each ticket id at most once:
    (inserted, updated, unchanged). Identical rows are left alone. Raises ConcurrentImport
    (the caller rolls back) if another writer changed some of them meanwhile."""
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
        cursor.execute(upsert, {"workspace_id": workspace_id, "source": source, "now": now}, prepare=False)
        inserted, updated, removed, strays, rows = cursor.fetchone()  # type: ignore[misc]
    if updated != removed or strays:
        raise ConcurrentImport(
            "some of these tickets were written by someone else at the same time; nothing of this batch was saved, run it again"
        )
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
    upsert = f"""
WITH old AS (
    -- the stored versions this batch changes, locked: their share of the rollups goes.
    -- One index lookup per staged ticket (a subquery that locks is never flattened into a
    -- join, so no plan can scan the workspace's tickets, whatever the statistics say).
    SELECT t.* FROM {stage} s CROSS JOIN LATERAL (
        SELECT t.ticket_id, {', '.join(f't.{name}' for name in TICKET_FIELDS)}
        FROM kpi_ticket t
        WHERE t.workspace_id = %(workspace_id)s AND t.source = %(source)s AND t.ticket_id = s.ticket_id
          AND {changed('t', 's')}
        FOR UPDATE OF t
    ) t
), up AS (
    INSERT INTO kpi_ticket (workspace_id, source, ticket_id, updated_at, {fields})
    SELECT %(workspace_id)s, %(source)s, s.ticket_id, %(now)s, {', '.join(f's.{name}' for name in TICKET_FIELDS)}
    FROM {stage} s
    -- after `old` is complete: its FOR UPDATE skips a row this statement already changed
    WHERE (SELECT count(*) FROM old) >= 0
    ON CONFLICT (workspace_id, source, ticket_id) DO UPDATE SET
        {', '.join(f'{name} = EXCLUDED.{name}' for name in (*TICKET_FIELDS, 'updated_at'))}
    WHERE {changed('kpi_ticket', 'EXCLUDED')}
    -- xmax is 0 on a row this statement inserted, set on one it updated
    RETURNING kpi_ticket.ticket_id, kpi_ticket.xmax = 0 AS fresh, {', '.join(f'kpi_ticket.{c.strip()}' for c in used.split(','))}
), delta AS MATERIALIZED (
    SELECT -1 AS sign, {used} FROM old
    UNION ALL
    SELECT 1, {used} FROM up
), batch AS MATERIALIZED (
    SELECT sign,
        (created_at AT TIME ZONE 'UTC')::date AS created_day,
        (solved_at AT TIME ZONE 'UTC')::date AS solved_day,
        coalesce(team_key, '') AS team_key, coalesce(agent_id, '') AS agent_id,
        coalesce(channel, '') AS channel, coalesce(category, '') AS category,
        frt_seconds, sla_target_minutes, handle_time_seconds, agent_replies, csat_good, nps
    FROM delta
){_rollup_ctes()}, bump AS (
    INSERT INTO {KpiDataVersion.__tablename__} (workspace_id, version)
    SELECT %(workspace_id)s, 1 WHERE EXISTS (SELECT 1 FROM up)
    ON CONFLICT (workspace_id) DO UPDATE SET version = {KpiDataVersion.__tablename__}.version + 1
)
SELECT
    (SELECT count(*) FROM up WHERE fresh),
    (SELECT count(*) FROM up WHERE NOT fresh),
    (SELECT count(*) FROM old),
    (SELECT count(*) FROM up WHERE NOT fresh AND ticket_id NOT IN (SELECT ticket_id FROM old)),
    (SELECT count(*) FROM {stage})
"""  # noqa: S608 - constant identifiers
    return create, copy, upsert


def _frt_bucket_sql(seconds: str) -> str:
    """tables.frt_bucket in SQL: how many edges lie below `seconds` (whole seconds, >= 0);
    width_bucket counts the thresholds <= its operand."""
    return f"width_bucket({seconds} - 1, ARRAY[{', '.join(str(e) for e in FRT_EDGES)}]::integer[])"


# The sums of `_contribute`, per rollup, over the `batch` CTE.
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
    """One data-modifying CTE per rollup table: the batch's deltas grouped by the table's
    key, rows whose deltas are all 0 left out, added with ON CONFLICT DO UPDATE."""
    month = "date_trunc('month', {}::timestamp)::date"
    counts = (
        "(SELECT sign, created_day, team_key, agent_id, 'channel' AS dim, channel AS value FROM batch "
        "UNION ALL SELECT sign, created_day, team_key, agent_id, 'category', category FROM batch)"
    )
    answered = "(SELECT *, " + _frt_bucket_sql("frt_seconds") + " AS bucket FROM batch WHERE frt_seconds IS NOT NULL)"  # noqa: S608 - constant identifiers
    solved = "(SELECT * FROM batch WHERE solved_day IS NOT NULL)"
    specs = [
        (KpiDayCount, counts, ("day", "created_day"), ("dim", "team_key", "agent_id", "value"), {"n": "sum(sign)"}),
        (KpiMonthCount, counts, ("month", month.format("created_day")), ("dim", "team_key", "agent_id", "value"), {"n": "sum(sign)"}),
        (KpiDayFrt, answered, ("day", "created_day"), ("team_key", "agent_id", "bucket"), _FRT_SUMS),
        (KpiMonthFrt, answered, ("month", month.format("created_day")), ("team_key", "agent_id", "bucket"), _FRT_SUMS),
        (KpiDaySolved, solved, ("day", "solved_day"), ("team_key", "agent_id"), {k: _SOLVED_SUMS[k] for k in SOLVED_SUMS}),
        (KpiMonthSolved, solved, ("month", month.format("solved_day")), ("team_key", "agent_id"), {k: _SOLVED_SUMS[k] for k in SOLVED_SUMS}),
    ]
    out = []
    for model, source, (period, period_sql), keys, sums in specs:
        name = model.__tablename__
        sums_sql = ", ".join(f"coalesce({expr}, 0) AS {column}" for column, expr in sums.items())
        out.append(
            f""", {name} AS (
    INSERT INTO {name} AS r (workspace_id, {period}, {', '.join(keys)}, {', '.join(sums)})
    SELECT %(workspace_id)s, * FROM (
        SELECT {period_sql} AS {period}, {', '.join(keys)}, {sums_sql}
        FROM {source} AS d GROUP BY 1, {', '.join(keys)}
    ) g WHERE {' OR '.join(f'{column} <> 0' for column in sums)}
    ON CONFLICT (workspace_id, {period}, {', '.join(keys)}) DO UPDATE SET
        {', '.join(f'{column} = r.{column} + EXCLUDED.{column}' for column in sums)}
)"""  # noqa: S608 - constant identifiers
        )
    return "".join(out)
