"""Helpdesk tickets and the aggregate queries KPIs are built from.

- `tables`: the ticket table, the per-day and per-month rollup tables, the data version, FRT
  buckets (and the fine ones of the per-month fine table);
- `tickets`: upsert and delete (keep rollups and the data version in step), rows, the version;
- `rollups`: ticket rows added/removed -> per-day and per-month deltas;
- `scope`: which tickets count, and a period as whole UTC months and days plus edge ranges;
- `created`, `percentiles`, `solved`, `backlog`: the figures;
- `escalations`: the escalation counts and spans /kpis shows.

Nothing here loads rows in bulk into Python. Callers use this package's names
(`from supportbot.storage import kpis as store; store.created_stats(...)`).
"""

from supportbot.storage.kpis.backlog import OPEN_CACHE, backlog_at, open_at, open_series
from supportbot.storage.kpis.created import (
    CreatedStats,
    count_created,
    count_unanswered_breached,
    created_stats,
)
from supportbot.storage.kpis.escalations import escalation_counts, escalation_spans
from supportbot.storage.kpis.percentiles import frt_quantiles
from supportbot.storage.kpis.rollups import Deltas, apply_rollups
from supportbot.storage.kpis.scope import Scope, split_days
from supportbot.storage.kpis.solved import SolvedStats, fcr_by_category, solved_stats
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
    bucket_bounds,
    fine_bucket,
    frt_bucket,
)
from supportbot.storage.kpis.tickets import (
    INSERT_COLUMNS,
    UpsertResult,
    data_version,
    delete_tickets,
    get_ticket,
    ticket_rows,
    upsert_tickets,
)

__all__ = [
    "FINE_EDGES",
    "FRT_EDGES",
    "INSERT_COLUMNS",
    "OPEN_CACHE",
    "SOLVED_SUMS",
    "TICKET_FIELDS",
    "CreatedStats",
    "Deltas",
    "KpiDataVersion",
    "KpiDayCount",
    "KpiDayFrt",
    "KpiDaySolved",
    "KpiMonthCount",
    "KpiMonthFrt",
    "KpiMonthFrtFine",
    "KpiMonthSolved",
    "Scope",
    "SolvedStats",
    "Ticket",
    "UpsertResult",
    "apply_rollups",
    "backlog_at",
    "bucket_bounds",
    "count_created",
    "count_unanswered_breached",
    "created_stats",
    "data_version",
    "delete_tickets",
    "escalation_counts",
    "escalation_spans",
    "fcr_by_category",
    "fine_bucket",
    "frt_bucket",
    "frt_quantiles",
    "get_ticket",
    "open_at",
    "open_series",
    "solved_stats",
    "split_days",
    "ticket_rows",
    "upsert_tickets",
]
