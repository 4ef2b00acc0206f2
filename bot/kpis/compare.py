"""Team targets per metric (leaders set them) and comparisons against them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from supportbot.bot import teams
from supportbot.bot.errors import InvalidInput
from supportbot.bot.kpis.report import DEFAULT_TARGETS, LOWER_IS_BETTER, METRICS, TARGET_RANGES
from supportbot.storage.models import Team


def targets(team: Team) -> dict[str, float]:
    saved = teams.setting(team, "kpi_targets", {}) or {}
    return {**DEFAULT_TARGETS, **{k: float(v) for k, v in saved.items() if k in METRICS}}


def parse_target(metric: str, value: str) -> tuple[str, float]:
    metric = (metric or "").strip().lower()
    if metric not in TARGET_RANGES:
        raise InvalidInput("kpis.bad_metric", value=metric, metrics=", ".join(METRICS))
    text = (value or "").strip().rstrip("%")
    for suffix in ("min", "m"):
        if metric in ("frt", "aht") and text.endswith(suffix):
            text = text[: -len(suffix)]
            break
    try:
        number = float(text)
    except ValueError:
        raise InvalidInput("kpis.bad_target", value=value, metric=metric) from None
    low, high = TARGET_RANGES[metric]
    if not low <= number <= high or number != number:
        raise InvalidInput("kpis.bad_target", value=value, metric=metric)
    return metric, number


def set_target(
    session: Session, *, team: Team, user_id: str, metric: str, value: str, now: datetime
) -> tuple[str, float]:
    """Leaders only: store a team target (`kpi_targets` setting)."""
    teams.require_leader(session, team, user_id)
    metric, number = parse_target(metric, value)
    saved = dict(teams.setting(team, "kpi_targets", {}) or {})
    saved[metric] = int(number) if number == int(number) else number
    teams.update_team(session, team, now=now, settings={"kpi_targets": saved})
    return metric, number


def target_met(metric: str, value: float | None, target: float | None) -> bool | None:
    if value is None or target is None:
        return None
    return value <= target if metric in LOWER_IS_BETTER else value >= target


def change(current: float | None, previous: float | None) -> float | None:
    if current is None or previous is None:
        return None
    return current - previous
