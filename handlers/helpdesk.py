"""The helpdesk sync's lines in `/supportbot status`: last sync, tickets seen, lag, error."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from supportbot.bot import formats
from supportbot.bot.helpdesk import sync
from supportbot.handlers import blocks as bk
from supportbot.handlers.common import Req
from supportbot.storage import helpdesk as state_store


def _lag(_: Any, synced_through: datetime | None, now: datetime) -> str:
    if synced_through is None:
        return str(_("helpdesk.lag_unknown"))
    return formats.elapsed(_.lang, (now - synced_through).total_seconds(), length="short")


def status_lines(_: Any, states: list[Any], configured: list[str], now: datetime, interval: int) -> list[str]:
    """Pure: one line per configured (or previously synced) helpdesk, plus its error."""
    by_source = {s.source: s for s in states}
    lines: list[str] = []
    for source in sync.SOURCES:
        state = by_source.get(source)
        if source not in configured and state is None:
            continue
        label = sync.LABEL[source]
        if state is None or state.last_sync_at is None:
            lines.append(_("helpdesk.status_never", helpdesk=label, minutes=interval, source=source))
            continue
        last = state.last_success_at or state.last_sync_at
        lines.append(
            _(
                "helpdesk.status_line",
                helpdesk=label,
                last=f"<!date^{int(last.timestamp())}^{{date_short}} {{time}}|{formats.when(_.lang, last, 'UTC')} UTC>",
                seen=formats.number(_.lang, state.tickets_seen),
                lag=_lag(_, state.synced_through, now),
            )
        )
        if state.last_error:
            error = bk.escape(state.last_error[:300])
            if state.auth_failed:
                lines.append(_("helpdesk.status_stopped", error=error, source=source))
            else:
                lines.append(_("helpdesk.status_error", error=error))
    return lines


def status_blocks(req: Req) -> list[bk.Block]:
    settings = req.rt.settings
    with req.rt.transaction(readonly=True) as session:
        states = state_store.list_states(session=session, workspace_id=req.workspace_id)
    lines = status_lines(req._, states, sync.configured_sources(settings), req.rt.clock.now(), settings.sync_interval_minutes)
    if not lines:
        return []
    return [bk.section("\n".join([req._("helpdesk.status_title"), *lines]))]
