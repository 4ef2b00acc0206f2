"""`supportbot run --workers N`: N bot processes behind one HTTP port, for machines with
more than one CPU (one Python process uses about one core).

gunicorn (a well-kept pre-fork server) binds the port, starts the processes, restarts one
that dies and, on SIGTERM, lets each finish its in-flight requests. Every worker is a full
replica: its own Bolt app, scheduler and outbox thread, coordinated through the database
exactly like replicas on separate machines (job claims, leased outbox rows, the SQLite
writer lock), so nothing is sent twice.
"""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.app.base import BaseApplication

from supportbot.bot.app import HTTP_THREADS
from supportbot.bot.config import Settings

log = logging.getLogger(__name__)

GRACEFUL_SECONDS = 30

_running: dict[str, Any] = {}  # this worker's runtime and scheduler


def _post_worker_init(_worker: Any) -> None:
    from supportbot.bot.app import settle_memory, start_background

    _running["scheduler"] = start_background(_running["rt"])
    settle_memory()


def _worker_exit(_server: Any, _worker: Any) -> None:
    from supportbot.bot.app import stop_background

    if "scheduler" in _running:
        stop_background(_running["rt"], _running.pop("scheduler"))
        log.info("worker stopped")


class Workers(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, workers: int) -> None:
        self.settings = settings
        self.workers = workers
        super().__init__()

    def load_config(self) -> None:
        options = {
            "bind": f"0.0.0.0:{self.settings.port}",
            "workers": self.workers,
            "worker_class": "gthread",
            "threads": HTTP_THREADS,
            "graceful_timeout": GRACEFUL_SECONDS,
            "keepalive": 5,
            "proc_name": "supportbot",
            "loglevel": self.settings.log_level.lower(),
            "accesslog": None,
            "errorlog": "-",
            "control_socket_disable": True,
            "post_worker_init": _post_worker_init,
            "worker_exit": _worker_exit,
        }
        for key, value in options.items():
            if key in self.cfg.settings:  # control_socket_* exist from gunicorn 24 on
                self.cfg.set(key, value)

    def load(self) -> Any:
        """Runs in each worker after the fork: nothing (engines, threads) crosses it."""
        from supportbot.bot.app import build_app, build_web
        from supportbot.bot.runtime import build_runtime

        rt = build_runtime(self.settings)
        _running["rt"] = rt
        return build_web(rt, build_app(rt))


def serve_workers(settings: Settings, workers: int) -> None:
    log.info("supportbot serving HTTP on port %s with %s worker processes", settings.port, workers)
    Workers(settings, workers).run()
