"""Block Kit for escalations, pure functions of stored rows: the channel message, the
history, the team's list, the DMs and thread notes, the confirmation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from supportbot.bot import escalations as esc_policy
from supportbot.bot.i18n import Translator
from supportbot.bot.timeutil import format_duration
from supportbot.handlers import blocks as bk
from supportbot.handlers.escalations.ids import Id
from supportbot.storage.escalations import OPEN, RESOLVED, WITHDRAWN, Escalation, EscalationEvent
from supportbot.storage.models import Team

SEVERITY_EMOJI = {
    "urgent": ":rotating_light:",
    "high": ":red_circle:",
    "normal": ":large_yellow_circle:",
    "low": ":white_circle:",
}


SUMMARY_IN_MESSAGE = 2800


SUMMARY_IN_DM = 600


SUMMARY_IN_LIST = 150


def when(moment: datetime | None) -> str:
    """A date Slack shows in the reader's own time zone."""
    if moment is None:
        return "-"
    fallback = f"{moment:%Y-%m-%d %H:%M} UTC"
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def severity_label(_: Translator, severity: str) -> str:
    return f"{SEVERITY_EMOJI.get(severity, '')} {_(f'escalations.sev_{severity}')}".strip()


def chunks(text: str, size: int = 2900) -> list[str]:
    """Split escaped text into pieces that fit a section, never inside an `&...;` escape."""
    out: list[str] = []
    while len(text) > size:
        cut = size
        amp = text.rfind("&", cut - 8, cut)
        if amp != -1 and ";" not in text[amp:cut]:
            cut = amp
        out.append(text[:cut])
        text = text[cut:]
    if text:
        out.append(text)
    return out


def none(_: Translator, value: str | None) -> str:
    return bk.escape(value) if value else _("escalations.none")


def ticket_text(_: Translator, ticket: str | None) -> str:
    return none(_, ticket)


def status_text(_: Translator, esc: Escalation, now: datetime | None = None) -> str:
    if esc.status == RESOLVED:
        return _(
            "escalations.status_resolved",
            user=bk.mention(esc.resolved_by or ""),
            when=when(esc.resolved_at),
            outcome=_(f"escalations.out_{esc.outcome or 'no_action'}"),
        )
    if esc.status == WITHDRAWN:
        return _("escalations.status_withdrawn", user=bk.mention(esc.reporter_id))
    if esc.status == OPEN:
        text = _("escalations.status_open", when=when(esc.ack_deadline_at))
        if esc.ack_deadline_at is None:
            text = _("escalations.status_open_no_deadline")
        if esc.overdue:
            text = _("escalations.status_overdue") + " " + text
        return text
    waited = format_duration((esc.acknowledged_at or esc.created_at) - esc.created_at, _.lang)
    return _(
        "escalations.status_acked",
        user=bk.mention(esc.acknowledged_by or ""),
        when=when(esc.acknowledged_at),
        waited=waited,
    )


def buttons(_: Translator, esc: Escalation) -> list[bk.Block]:
    value = {"id": esc.id}
    out: list[bk.Block] = []
    if esc.status in (RESOLVED, WITHDRAWN):
        return out
    if esc.status == OPEN:
        out.append(bk.button(_("escalations.btn_ack"), Id.ACK, value, style="primary"))
    out.append(bk.button(_("escalations.btn_resolve"), Id.RESOLVE, value))
    out.append(bk.button(_("escalations.btn_reassign"), Id.REASSIGN, value))
    return out


def title_line(_: Translator, esc: Escalation) -> str:
    return _(
        "escalations.title_line",
        ref=esc.ref,
        severity=severity_label(_, esc.severity),
        category=_(f"escalations.cat_{esc.category}"),
    )


def fallback_text(_: Translator, esc: Escalation) -> str:
    return _(
        "escalations.post_text",
        ref=esc.ref,
        severity=_(f"escalations.sev_{esc.severity}"),
        summary=bk.truncate(bk.escape(esc.summary), 200),
    )


def escalation_blocks(
    _: Translator, esc: Escalation, *, full: bool = False, with_buttons: bool = True
) -> list[bk.Block]:
    """The channel message (and `/escalate ESC-n`): severity, summary, customer, ticket,
    reporter, owner, when raised, state; `full` shows long texts whole, in pieces."""
    summary = bk.escape(esc.summary)
    out: list[bk.Block] = [bk.section(title_line(_, esc))]
    if full:
        out += [bk.section(piece) for piece in chunks(summary)]
    else:
        out.append(bk.section(bk.truncate(summary, SUMMARY_IN_MESSAGE)))
    out.append(
        bk.fields(
            [
                _("escalations.l_customer", value=none(_, esc.customer)),
                _("escalations.l_ticket", value=ticket_text(_, esc.ticket_ref)),
                _("escalations.l_reporter", value=bk.mention(esc.reporter_id)),
                _(
                    "escalations.l_owner",
                    value=bk.mention(esc.owner_id) if esc.owner_id else _("escalations.none"),
                ),
                _("escalations.l_raised", value=when(esc.created_at)),
                _("escalations.l_status", value=_(f"escalations.st_{esc.status}")),
            ]
        )
    )
    if esc.tried:
        tried = bk.escape(esc.tried)
        if full:
            label = _("escalations.l_tried", value="")
            out += [bk.section(label)] + [bk.section(piece) for piece in chunks(tried)]
        else:
            out.append(bk.section(_("escalations.l_tried", value=bk.truncate(tried, 1500))))
    out.append(bk.context(status_text(_, esc)))
    if esc.status == RESOLVED and esc.resolution_note:
        note = bk.escape(esc.resolution_note)
        if full:
            out += [bk.section(_("escalations.l_note", value=""))]
            out += [bk.section(piece) for piece in chunks(note)]
        else:
            out.append(bk.section(_("escalations.l_note", value=bk.truncate(note, 1500))))
    if with_buttons:
        elements = buttons(_, esc)
        if elements:
            out.append(bk.actions(*elements, block_id=Id.ACTIONS))
    return out


def event_line(_: Translator, event: EscalationEvent) -> str:
    detail = dict(
        part.split("=", 1) for part in (event.detail or "").split() if "=" in part
    )
    who = bk.mention(event.actor_id) if event.actor_id else _("escalations.the_bot")
    params: dict[str, Any] = {"user": who}
    if event.action == esc_policy.RESOLVED_ACTION:
        params["outcome"] = _(f"escalations.out_{detail.get('outcome', 'no_action')}")
    elif event.action == esc_policy.REASSIGNED:
        params["to"] = bk.mention(detail.get("to", ""))
    elif event.action == esc_policy.REESCALATED:
        params["to"] = bk.mention(detail.get("to", ""))
    elif event.action == esc_policy.REMINDED:
        params["round"] = bk.escape(detail.get("round", "?"))
    key = "escalations.ev_" + event.action
    return _("escalations.ev_line", when=when(event.at), text=_(key, **params))


def history_blocks(_: Translator, events: list[EscalationEvent]) -> list[bk.Block]:
    if not events:
        return []
    lines = [event_line(_, e) for e in events]
    out: list[bk.Block] = [bk.section(_("escalations.history_title"))]
    piece: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in piece) + len(line) > 2900:
            out.append(bk.section("\n".join(piece)))
            piece = []
        piece.append(line)
    if piece:
        out.append(bk.section("\n".join(piece)))
    return out


def list_blocks(
    _: Translator, team: Team, rows: list[Escalation], total: int, now: datetime,
    *, withdrawn: bool = False,
) -> list[bk.Block]:
    suffix = "_withdrawn" if withdrawn else ""
    if not rows:
        return [bk.section(_(f"escalations.list_empty{suffix}", team=bk.escape(team.name)))]
    out: list[bk.Block] = [
        bk.section(_(f"escalations.list_title{suffix}", team=bk.escape(team.name), count=total))
    ]
    for esc in rows:
        out.append(
            bk.section(
                _(
                    "escalations.list_line",
                    ref=esc.ref,
                    severity=severity_label(_, esc.severity),
                    age=format_duration(now - esc.created_at, _.lang),
                    owner=bk.mention(esc.owner_id) if esc.owner_id else _("escalations.nobody"),
                    status=_(f"escalations.st_{esc.status}")
                    + (" " + _("escalations.status_overdue") if esc.overdue else ""),
                    summary=bk.truncate(bk.escape(esc.summary), SUMMARY_IN_LIST),
                )
            )
        )
    if total > len(rows):
        out.append(bk.context(_("escalations.list_more", count=total - len(rows))))
    return out


def created_text(_: Translator, esc: Escalation, team: Team, told: str) -> str:
    return _(
        "escalations.created",
        ref=esc.ref,
        severity=_(f"escalations.sev_{esc.severity}"),
        channel=bk.channel_link(team.escalation_channel),
        leader=bk.mention(told),
        deadline=format_duration(esc_policy.timeout_for(team, esc.severity), _.lang, length="long"),
    )


def created_blocks(_: Translator, esc: Escalation, text: str) -> list[bk.Block]:
    """The confirmation of a new escalation (`created_text`), with *Withdraw* for whoever
    raised it (it works until a leader acknowledges; after that the click says who did)."""
    return [
        bk.section(text),
        bk.actions(bk.button(_("escalations.btn_withdraw"), Id.WITHDRAW, {"id": esc.id}), block_id=Id.ACTIONS),
    ]


def withdrawn_dm_blocks(_: Translator, esc: Escalation, by: str | None) -> tuple[str, list[bk.Block]]:
    """A leader's DM about it once withdrawn: what happened, the summary, no buttons."""
    text = _(
        "escalations.dm_withdrawn", by=bk.mention(by or esc.reporter_id), ref=esc.ref,
        severity=severity_label(_, esc.severity),
    )
    return text, [bk.section(text), bk.section(bk.truncate(bk.escape(esc.summary), SUMMARY_IN_DM))]


def format_duration_seconds(seconds: Any, lang: str = "en") -> str:
    return format_duration(timedelta(seconds=int(seconds or 0)), lang)


def thread_text(_: Translator, note: str, params: dict[str, Any]) -> str:
    args: dict[str, Any] = {}
    if "user" in params:
        args["user"] = bk.mention(str(params["user"]))
    if "by" in params:
        args["by"] = bk.mention(str(params["by"]))
    if "waited" in params:
        args["waited"] = format_duration_seconds(params["waited"], _.lang)
    for key in ("round", "cap"):
        if key in params:
            args[key] = int(params[key])
    return _(f"escalations.th_{note}", **args)


ALERTS = ("new", "reescalated", "reminder")


def dm_blocks(_: Translator, esc: Escalation, team: Team, reason: str, by: str | None) -> tuple[str, list[bk.Block]]:
    params = {
        "ref": esc.ref,
        "severity": severity_label(_, esc.severity),
        "reporter": bk.mention(esc.reporter_id),
        "channel": bk.channel_link(esc.channel_id or team.escalation_channel),
        "by": bk.mention(by or ""),
        "team": bk.escape(team.name),
    }
    if reason == "resolved":
        params["outcome"] = _(f"escalations.out_{esc.outcome or 'no_action'}")
    text = _(f"escalations.dm_{reason}", **params)
    out: list[bk.Block] = [bk.section(text)]
    out.append(bk.section(bk.truncate(bk.escape(esc.summary), SUMMARY_IN_DM)))
    if reason == "resolved" and esc.resolution_note:
        out.append(
            bk.section(
                _("escalations.l_note", value=bk.truncate(bk.escape(esc.resolution_note), 1500))
            )
        )
    if reason in ALERTS or reason == "reassigned":
        out.append(
            bk.fields(
                [
                    _("escalations.l_customer", value=none(_, esc.customer)),
                    _("escalations.l_ticket", value=ticket_text(_, esc.ticket_ref)),
                ]
            )
        )
        elements = buttons(_, esc)
        if elements:
            out.append(bk.actions(*elements, block_id=Id.ACTIONS))
    return text, out
