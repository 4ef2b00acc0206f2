"""Slack-facing listeners, one module per feature, each exposing `register(app, rt)`;
a module may also expose `register_web(flask_app, rt)` for plain HTTP endpoints."""

from __future__ import annotations

from types import ModuleType

from supportbot.handlers import (
    alerts,
    away,
    coaching,
    escalations,
    home,
    ingest,
    kpis,
    kudos,
    oneonones,
    pulse,
    standups,
    supportbot,
)

FEATURE_MODULES: tuple[ModuleType, ...] = (
    supportbot,
    escalations,
    kpis,
    ingest,
    coaching,
    kudos,
    away,
    standups,
    oneonones,
    alerts,
    pulse,
    home,
)
