"""KPI math: periods in the team's time zone, every figure, targets, comparisons, the digest.

- `report`: the metrics, their definitions and the `Report` an answer is made of;
- `periods`: `today`, `week`, a day or a range -> [start, end) and the period before;
- `figures`: `compute` every figure of a team or agent from the KPI store;
- `cache`: the per-runtime answer cache (`rt.kpi_answers`) and the per-answer memo;
- `compare`: targets per metric and comparisons against them;
- `overview`: what `/kpis` shows (`summary`);
- `digest`: the daily digest and its scheduled job.

Callers use this package's names (`from supportbot.bot import kpis; kpis.summary(...)`).
"""

from supportbot.bot.kpis.cache import (
    ANSWER_TTL,
    SCOPE_CACHE,
    AnswerCache,
    new_answer_cache,
    one_answer,
)
from supportbot.bot.kpis.compare import change, parse_target, set_target, target_met, targets
from supportbot.bot.kpis.digest import (
    CHART_DAYS,
    DEFAULT_DIGEST_TIME,
    DIGEST_KIND,
    SPARKS,
    TREND_DAYS,
    Digest,
    build_digest,
    digest_claim_key,
    digest_day,
    digest_time,
    digest_trigger,
    install_jobs,
    queue_digest,
    run_digest,
    sparkline,
    sync_jobs,
)
from supportbot.bot.kpis.figures import (
    compute,
    escalation_figures,
    kudos_count,
    metric_value,
    scope_for,
    sla_minutes,
    team_key,
)
from supportbot.bot.kpis.overview import Summary, summary
from supportbot.bot.kpis.periods import PERIOD_WORDS, Period, day_bounds, is_period, parse_period
from supportbot.bot.kpis.report import (
    DEFAULT_SLA_MINUTES,
    DEFAULT_TARGETS,
    LOW_SAMPLE,
    LOWER_IS_BETTER,
    METRICS,
    TARGET_RANGES,
    EscalationFigures,
    Report,
)

__all__ = [
    "ANSWER_TTL",
    "CHART_DAYS",
    "DEFAULT_DIGEST_TIME",
    "DEFAULT_SLA_MINUTES",
    "DEFAULT_TARGETS",
    "DIGEST_KIND",
    "LOWER_IS_BETTER",
    "LOW_SAMPLE",
    "METRICS",
    "PERIOD_WORDS",
    "SCOPE_CACHE",
    "SPARKS",
    "TARGET_RANGES",
    "TREND_DAYS",
    "AnswerCache",
    "Digest",
    "EscalationFigures",
    "Period",
    "Report",
    "Summary",
    "build_digest",
    "change",
    "compute",
    "day_bounds",
    "digest_claim_key",
    "digest_day",
    "digest_time",
    "digest_trigger",
    "escalation_figures",
    "install_jobs",
    "is_period",
    "kudos_count",
    "metric_value",
    "new_answer_cache",
    "one_answer",
    "parse_period",
    "parse_target",
    "queue_digest",
    "run_digest",
    "scope_for",
    "set_target",
    "sla_minutes",
    "sparkline",
    "summary",
    "sync_jobs",
    "target_met",
    "targets",
    "team_key",
]
