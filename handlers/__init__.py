"""Slack-facing listeners, one module per feature, each exposing `register(app, rt)`;
a module may also expose `register_web(flask_app, rt)` for plain HTTP endpoints."""

from __future__ import annotations

import importlib
from types import ModuleType

FEATURES = (
    "supportbot",
    "escalations",
    "kpis",
    "ingest",
    "coaching",
    "kudos",
    "away",
    "standups",
    "oneonones",
    "home",
)


def feature_modules() -> list[ModuleType]:
    modules = []
    for name in FEATURES:
        try:
            modules.append(importlib.import_module(f"handlers.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"handlers.{name}":
                raise
    return modules
