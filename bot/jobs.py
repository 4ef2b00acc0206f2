"""Which feature modules put jobs on the scheduler: each exposes `install_jobs(scheduler, rt)`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from supportbot.bot import (
    alerts,
    away,
    coaching,
    escalations,
    kpis,
    kudos,
    oneonones,
    pulse,
    standups,
)
from supportbot.bot.helpdesk import sync as helpdesk_sync
from supportbot.bot.runtime import Runtime
from supportbot.bot.scheduler import Scheduler
from supportbot.storage.claims import forget_events_before

FEATURES = (escalations, kpis, coaching, kudos, away, standups, oneonones, alerts, pulse)


def drain_outbox(rt: Runtime) -> None:
    rt.outbox.kick()


def forget_old_events(rt: Runtime) -> None:
    with rt.transaction() as session:
        forget_events_before(session=session, before=rt.clock.now() - timedelta(days=2))


def install_all(
    scheduler: Scheduler, rt: Runtime, *, resolve_email: Callable[[str], str | None] | None = None
) -> None:
    """Every feature's jobs. `resolve_email` (email -> Slack id, from the wiring:
    bot.app.email_resolver) lets the helpdesk sync find agents."""
    rt.scheduler = scheduler
    scheduler.every("outbox.drain", "Deliver pending Slack messages", 10, drain_outbox, rt)
    scheduler.every("events.forget", "Forget old event ids", 3600, forget_old_events, rt)
    for module in FEATURES:
        install = getattr(module, "install_jobs", None)
        if install is not None:
            install(scheduler, rt)
    helpdesk_sync.install_jobs(scheduler, rt, resolve_email=resolve_email)
