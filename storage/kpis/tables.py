"""The KPI tables: helpdesk tickets, the per-day and per-month rollups kept in step with
them, the data version, and the first-response buckets the rollups count in.

One row per (workspace, source, ticket id); source is "import" or the synced helpdesk. Durations are stored at import
(`frt_seconds`), so every figure is a single indexed range scan with SQL aggregates;
medians come from a per-minute histogram plus one exact lookup inside the right bucket.
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import date, datetime
from math import ceil

from sqlalchemy import Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from supportbot.storage.types import UTCDateTime


class Ticket(SQLModel, table=True):
    __tablename__ = "kpi_ticket"
    __table_args__ = (
        # the helpdesk (or "import") is part of the key: Zendesk 123 is not Freshdesk 123
        UniqueConstraint("workspace_id", "source", "ticket_id", name="uq_kpi_ticket_source"),
        # Whole days come from the per-day tables; these serve the partial edge days,
        # the backlog of the current day and exact percentile lookups inside one bucket
        # (covering, and in insertion order, so a big import stays fast).
        Index(
            "ix_kpi_ticket_created",
            "workspace_id",
            "created_at",
            "frt_seconds",
            "team_key",
            "agent_id",
        ),
        # exact percentiles: the period's tickets at one first-response second are one
        # short range here, so a bucket's per-second counts cost its tickets, not the period's
        # (answered tickets only: unanswered ones are the partial index below)
        Index(
            "ix_kpi_ticket_frt",
            "workspace_id",
            "frt_seconds",
            "created_at",
            "team_key",
            "agent_id",
            sqlite_where=text("frt_seconds IS NOT NULL"),
            postgresql_where=text("frt_seconds IS NOT NULL"),
        ),
        # tickets whose helpdesk says they were solved before they were created: normally
        # none; open-ticket counts from the rollups add them back (see backlog.open_at)
        Index(
            "ix_kpi_ticket_inverted",
            "workspace_id",
            "solved_at",
            "created_at",
            "team_key",
            "agent_id",
            sqlite_where=text("solved_at < created_at"),
            postgresql_where=text("solved_at < created_at"),
        ),
        Index("ix_kpi_ticket_solved", "workspace_id", "solved_at", "created_at", "team_key", "agent_id"),
        # unanswered tickets only (a few percent): SLA breaches without scanning the period
        Index(
            "ix_kpi_ticket_unanswered",
            "workspace_id",
            "created_at",
            "team_key",
            "agent_id",
            "sla_target_minutes",
            sqlite_where=text("frt_seconds IS NULL"),
            postgresql_where=text("frt_seconds IS NULL"),
        ),
        # the largest SLA target among unanswered tickets (one lookup): tickets created
        # longer ago than that are breached without looking at them
        Index(
            "ix_kpi_ticket_unanswered_target",
            "workspace_id",
            "sla_target_minutes",
            sqlite_where=text("frt_seconds IS NULL"),
            postgresql_where=text("frt_seconds IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    source: str = Field(default="import", max_length=16, sa_column_kwargs={"server_default": "import"})
    ticket_id: str = Field(max_length=128)
    created_at: datetime = Field(sa_type=UTCDateTime)
    first_response_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    solved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    frt_seconds: int | None = Field(default=None)
    status: str | None = Field(default=None, max_length=32)
    agent_id: str | None = Field(default=None, max_length=32)
    agent_email: str | None = Field(default=None, max_length=254)
    team: str | None = Field(default=None, max_length=80)
    team_key: str | None = Field(default=None, max_length=80)
    channel: str | None = Field(default=None, max_length=64)
    category: str | None = Field(default=None, max_length=80)
    priority: str | None = Field(default=None, max_length=32)
    csat: int | None = Field(default=None)
    csat_good: bool | None = Field(default=None)
    nps: int | None = Field(default=None)
    handle_time_seconds: int | None = Field(default=None)
    agent_replies: int | None = Field(default=None)
    sla_target_minutes: int | None = Field(default=None)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    # helpdesk tags, space-separated as Zendesk writes them (None for imports)
    tags: str | None = Field(default=None, sa_type=Text)


class KpiDayCount(SQLModel, table=True):
    """Per UTC day, team column and agent: tickets created, by channel or by category."""

    __tablename__ = "kpi_day_count"
    __table_args__ = (
        UniqueConstraint(
            "workspace_id", "day", "dim", "team_key", "agent_id", "value", name="uq_kpi_day_count"
        ),
        Index("ix_kpi_day_count_cover", "workspace_id", "dim", "day", "team_key", "agent_id", "value", "n"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    day: date
    dim: str = Field(max_length=16)  # "channel" | "category"
    team_key: str = Field(default="", max_length=80)  # "" = none
    agent_id: str = Field(default="", max_length=32)
    value: str = Field(default="", max_length=80)
    n: int = Field(default=0)


class _FrtCounts(SQLModel):
    """A first-response bucket's counts, per day and per month."""

    bucket: int
    n: int = Field(default=0)
    n_target: int = Field(default=0)
    met_target: int = Field(default=0)


class KpiDayFrt(_FrtCounts, table=True):
    """Per UTC day of creation, team column, agent and first-response bucket: how many,
    how many with their own SLA target, and how many of those met it."""

    __tablename__ = "kpi_day_frt"
    __table_args__ = (
        UniqueConstraint("workspace_id", "day", "team_key", "agent_id", "bucket", name="uq_kpi_day_frt"),
        Index("ix_kpi_day_frt_cover", "workspace_id", "day", "team_key", "agent_id", "bucket", "n", "n_target", "met_target"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    day: date
    team_key: str = Field(default="", max_length=80)
    agent_id: str = Field(default="", max_length=32)


class KpiMonthCount(SQLModel, table=True):
    """KpiDayCount summed per UTC month (`month` is its first day): a year reads twelve
    months of rows instead of 365 days of them."""

    __tablename__ = "kpi_month_count"
    __table_args__ = (
        UniqueConstraint(
            "workspace_id", "month", "dim", "team_key", "agent_id", "value", name="uq_kpi_month_count"
        ),
        Index("ix_kpi_month_count_cover", "workspace_id", "dim", "month", "team_key", "agent_id", "value", "n"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    month: date
    dim: str = Field(max_length=16)
    team_key: str = Field(default="", max_length=80)
    agent_id: str = Field(default="", max_length=32)
    value: str = Field(default="", max_length=80)
    n: int = Field(default=0)


class KpiMonthFrt(_FrtCounts, table=True):
    """KpiDayFrt summed per UTC month of creation."""

    __tablename__ = "kpi_month_frt"
    __table_args__ = (
        UniqueConstraint("workspace_id", "month", "team_key", "agent_id", "bucket", name="uq_kpi_month_frt"),
        Index("ix_kpi_month_frt_cover", "workspace_id", "month", "team_key", "agent_id", "bucket", "n", "n_target", "met_target"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    month: date
    team_key: str = Field(default="", max_length=80)
    agent_id: str = Field(default="", max_length=32)


class KpiMonthFrtFine(SQLModel, table=True):
    """Per UTC month of creation, team column, agent and fine first-response bucket
    (FINE_EDGES, about 3% wide, inside one bucket of FRT_EDGES): how many. An exact
    percentile of a long period reads the fine rows of the one bucket holding its rank,
    then per-second counts of the period's tickets in one fine bucket (a few thousand a
    year, where a bucket of FRT_EDGES can hold most of a year's tickets)."""

    __tablename__ = "kpi_month_frt_fine"
    __table_args__ = (
        UniqueConstraint("workspace_id", "month", "team_key", "agent_id", "bucket", "fine", name="uq_kpi_month_frt_fine"),
        # one bucket's fine rows over a range of months: one index range, covering
        Index("ix_kpi_month_frt_fine_cover", "workspace_id", "bucket", "month", "team_key", "agent_id", "fine", "n"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    month: date
    team_key: str = Field(default="", max_length=80)
    agent_id: str = Field(default="", max_length=32)
    bucket: int  # the FRT_EDGES bucket holding the fine one
    fine: int
    n: int = Field(default=0)


SOLVED_SUMS = (
    "solved",
    "handle_n",
    "handle_sum",
    "fcr_n",
    "fcr_yes",
    "csat_n",
    "csat_good",
    "nps_n",
    "promoters",
    "detractors",
)


class _SolvedSums(SQLModel):
    """The sums solved-ticket figures need (SOLVED_SUMS), per day and per month."""

    solved: int = Field(default=0)
    handle_n: int = Field(default=0)
    handle_sum: int = Field(default=0)
    fcr_n: int = Field(default=0)
    fcr_yes: int = Field(default=0)
    csat_n: int = Field(default=0)
    csat_good: int = Field(default=0)
    nps_n: int = Field(default=0)
    promoters: int = Field(default=0)
    detractors: int = Field(default=0)


class KpiDaySolved(_SolvedSums, table=True):
    """Per UTC day of solving, team column and agent: the sums solved-ticket figures need."""

    __tablename__ = "kpi_day_solved"
    __table_args__ = (
        UniqueConstraint("workspace_id", "day", "team_key", "agent_id", name="uq_kpi_day_solved"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    day: date
    team_key: str = Field(default="", max_length=80)
    agent_id: str = Field(default="", max_length=32)


class KpiMonthSolved(_SolvedSums, table=True):
    """KpiDaySolved summed per UTC month of solving."""

    __tablename__ = "kpi_month_solved"
    __table_args__ = (
        UniqueConstraint("workspace_id", "month", "team_key", "agent_id", name="uq_kpi_month_solved"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    month: date
    team_key: str = Field(default="", max_length=80)
    agent_id: str = Field(default="", max_length=32)


# (per-day table, per-month table) of each rollup, and the column naming the day/month
ROLLUPS = {"count": (KpiDayCount, KpiMonthCount), "frt": (KpiDayFrt, KpiMonthFrt), "solved": (KpiDaySolved, KpiMonthSolved)}


class KpiDataVersion(SQLModel, table=True):
    """Counts the imports that changed a workspace's tickets: figures computed from an
    older version are stale (see bot.kpis's answer cache)."""

    __tablename__ = "kpi_data_version"

    workspace_id: str = Field(primary_key=True, max_length=32)
    version: int = Field(default=0)


# First-response buckets: bucket i holds FRT_EDGES[i-1] < seconds <= FRT_EDGES[i];
# the last bucket (len(FRT_EDGES)) holds everything longer.
FRT_EDGES = tuple(
    m * 60
    for m in (1, 2, 3, 5, 7, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 360, 480, 720, 1080,
              1440, 2880, 4320, 10080, 43200)
)


def frt_bucket(seconds: int) -> int:
    return bisect_left(FRT_EDGES, seconds)


def _bounds(edges: tuple[int, ...], bucket: int) -> tuple[int, int | None]:
    """(exclusive low, inclusive high or None) in seconds of a bucket of `edges`."""
    low = edges[bucket - 1] if bucket > 0 else -1
    high = edges[bucket] if bucket < len(edges) else None
    return low, high


def bucket_bounds(bucket: int) -> tuple[int, int | None]:
    """(exclusive low, inclusive high or None) in seconds."""
    return _bounds(FRT_EDGES, bucket)


def _fine_edges(step: float) -> tuple[int, ...]:
    """Every second up to where `step` of it is a second, then edges `step` apart
    (relative), plus every edge of FRT_EDGES, so each fine bucket lies inside one bucket."""
    edges = set(FRT_EDGES)
    edge = 1
    while edge < FRT_EDGES[-1]:
        edges.add(edge)
        edge = edge + 1 if edge * step < 1 else ceil(edge * (1 + step))
    return tuple(sorted(edges))


# Fine first-response buckets (kpi_month_frt_fine): fine bucket i holds
# FINE_EDGES[i-1] < seconds <= FINE_EDGES[i]; the last (len(FINE_EDGES)) everything longer.
# Changing them needs a migration that refills kpi_month_frt_fine.
FINE_EDGES = _fine_edges(0.03)


def fine_bucket(seconds: int) -> int:
    return bisect_left(FINE_EDGES, seconds)


def fine_bounds(fine: int) -> tuple[int, int | None]:
    """(exclusive low, inclusive high or None) in seconds."""
    return _bounds(FINE_EDGES, fine)


def fines_of(bucket: int) -> range:
    """The fine buckets inside a bucket of FRT_EDGES."""
    low, high = bucket_bounds(bucket)
    first = 0 if low < 0 else fine_bucket(low) + 1
    return range(first, len(FINE_EDGES) + 1 if high is None else fine_bucket(high) + 1)


TICKET_FIELDS = (
    "created_at",
    "first_response_at",
    "solved_at",
    "frt_seconds",
    "status",
    "agent_id",
    "agent_email",
    "team",
    "team_key",
    "channel",
    "category",
    "priority",
    "csat",
    "csat_good",
    "nps",
    "handle_time_seconds",
    "agent_replies",
    "sla_target_minutes",
    "tags",
)
