"""`supportbot run --workers N`: N bot processes behind one HTTP port, for machines with
more than one CPU (one Python process uses about one core).

gunicorn (a well-kept pre-fork server) binds the port, starts the processes, restarts one
that dies and, on SIGTERM, lets each finish its in-flight requests. Every worker is a full
replica: its own Bolt app, scheduler and outbox thread, coordinated through the database
exactly like replicas on separate machines (job claims, leased outbox rows), so nothing is
sent twice. PostgreSQL only: SQLite runs in one process (`supportbot run` says so).
"""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.app.base import BaseApplication

from supportbot.bot.app import HTTP_THREADS
from supportbot.bot.config import Settings
from supportbot.bot.runtime import Runtime

log = logging.getLogger(__name__)

GRACEFUL_SECONDS = 30


def _post_worker_init(worker: Any) -> None:
    """In each worker once its app is loaded: its scheduler and outbox thread start."""
    from supportbot.bot.app import settle_process, start_background

    workers: Workers = worker.app
    assert workers.rt is not None
    start_background(workers.rt)  # sets rt.scheduler
    settle_process()


def _worker_exit(_server: Any, worker: Any) -> None:
    from supportbot.bot.app import stop_background

    rt = worker.app.rt
    if rt is not None and rt.scheduler is not None:
        stop_background(rt, rt.scheduler)
        rt.scheduler = None
        log.info("worker stopped")


class Workers(BaseApplication):  # type: ignore[misc]
    """The gunicorn application. After the fork each worker process has its own copy, which
    holds that worker's runtime (and through it the worker's scheduler)."""

    def __init__(self, settings: Settings, workers: int) -> None:
        self.settings = settings
        self.workers = workers
        self.rt: Runtime | None = None
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

        self.rt = build_runtime(self.settings)
        return build_web(self.rt, build_app(self.rt))


def serve_workers(settings: Settings, workers: int) -> None:
    log.info("supportbot serving HTTP on port %s with %s worker processes", settings.port, workers)
    Workers(settings, workers).run()
