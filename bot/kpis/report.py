"""What a KPI answer holds, and the names and limits of the figures.

Definitions (exact; the README says the same in words):
- volume: tickets created in the period (also by channel and by category);
- frt: median / p90 of first_response_at - created_at over tickets created in the period
  that have a first response (minutes);
- sla: of tickets created in the period, the share answered within their target
  (`sla_target_minutes`, else the team's `sla_minutes`, default 60); an unanswered ticket
  counts as breached once its target has passed and is left out before that;
- over tickets solved in the period: resolutions, aht (mean handle_time_seconds of those
  with it, minutes), fcr (share with agent_replies <= 1 of those with it), csat (share of
  ratings 4-5 or `good`), nps (% of 9-10 minus % of 0-6, rounded to an integer);
- backlog: tickets created before the end of the period and not solved by then.
A figure with no data is None ("no data"), never 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

METRICS = ("csat", "nps", "frt", "sla", "fcr", "aht", "volume", "backlog")
DEFAULT_TARGETS: dict[str, float] = {
    "csat": 90,
    "frt": 60,
    "sla": 95,
    "fcr": 70,
    "nps": 30,
    "aht": 10,
}
LOWER_IS_BETTER = frozenset({"frt", "aht", "backlog"})
TARGET_RANGES: dict[str, tuple[float, float]] = {
    "csat": (0, 100),
    "sla": (0, 100),
    "fcr": (0, 100),
    "nps": (-100, 100),
    "frt": (0, 100000),
    "aht": (0, 100000),
    "backlog": (0, 10_000_000),
    "volume": (0, 10_000_000),
}
LOW_SAMPLE = 10
DEFAULT_SLA_MINUTES = 60


@dataclass
class EscalationFigures:
    opened: int
    acknowledged: int
    resolved: int
    median_ack_minutes: float | None
    median_resolve_minutes: float | None
    overdue_open: int


@dataclass
class Report:
    start: datetime
    end: datetime
    volume: int
    by_channel: list[tuple[str | None, int]]
    by_category: list[tuple[str | None, int]]
    frt_n: int
    frt_median: float | None  # minutes
    frt_p90: float | None
    sla_n: int
    sla_met: int
    solved: int
    aht_n: int
    aht: float | None  # minutes
    fcr_n: int
    fcr_yes: int
    csat_n: int
    csat_good: int
    nps_n: int
    nps_promoters: int
    nps_detractors: int
    backlog: int
    escalations: EscalationFigures | None = None

    @property
    def sla(self) -> float | None:
        return 100.0 * self.sla_met / self.sla_n if self.sla_n else None

    @property
    def fcr(self) -> float | None:
        return 100.0 * self.fcr_yes / self.fcr_n if self.fcr_n else None

    @property
    def csat(self) -> float | None:
        return 100.0 * self.csat_good / self.csat_n if self.csat_n else None

    @property
    def nps(self) -> int | None:
        if not self.nps_n:
            return None
        return round(100.0 * (self.nps_promoters - self.nps_detractors) / self.nps_n)

    @property
    def frt(self) -> float | None:
        return self.frt_median

    def value(self, metric: str) -> float | None:
        if metric == "volume":
            return float(self.volume)
        if metric == "backlog":
            return float(self.backlog)
        v = getattr(self, metric)
        return None if v is None else float(v)

    def sample(self, metric: str) -> int | None:
        return {"csat": self.csat_n, "nps": self.nps_n}.get(metric)

    def low_sample(self, metric: str) -> bool:
        n = self.sample(metric)
        return n is not None and 0 < n < LOW_SAMPLE
