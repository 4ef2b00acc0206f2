"""`/escalate`: its modal, the Acknowledge / Resolve / Reassign buttons and their modals,
and the outbox renderers that turn stored escalations into Slack messages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from slack_bolt import App
from sqlmodel import Session

from supportbot.bot import escalations as esc_policy
from supportbot.bot import teams
from supportbot.bot.errors import InvalidInput, NotFound
from supportbot.bot.i18n import Translator
from supportbot.bot.outbox import Deferred, SlackCall
from supportbot.bot.runtime import Runtime
from supportbot.bot.timeutil import format_duration
from supportbot.handlers import blocks as bk
from supportbot.handlers.common import (
    Reply,
    Req,
    action,
    action_value,
    as_id,
    command,
    form_values,
    metadata,
    slack_to_plain,
    view,
)
from supportbot.storage import escalations as store
from supportbot.storage import outbox as outbox_store
from supportbot.storage import teams as team_store
from supportbot.storage.escalations import OPEN, RESOLVED, Escalation, EscalationEvent
from supportbot.storage.models import OutboxMessage, Team


class Id:
    """Every Slack id this feature uses."""

    COMMAND = "/escalate"
    CREATE_MODAL = "escalation.create"
    CREATED_NOTICE = "escalation.created"
    RESOLVE_MODAL = "escalation.resolve_modal"
    REASSIGN_MODAL = "escalation.reassign_modal"
    ACK = "escalation.ack"
    RESOLVE = "escalation.resolve"
    REASSIGN = "escalation.reassign"
    ACTIONS = "escalation.actions"
    # Modal blocks: "escalation.<field>", where <field> is what bot.escalations names.
    SUMMARY = "escalation.summary"
    CUSTOMER = "escalation.customer"
    TICKET = "escalation.ticket"
    SEVERITY = "escalation.severity"
    CATEGORY = "escalation.category"
    TRIED = "escalation.tried"
    NOTE = "escalation.note"
    OUTCOME = "escalation.outcome"
    USER = "escalation.user"


TEAM_OPTION = re.compile(r"(?:^|\s)team:(\S+)", re.IGNORECASE)
REF_WORD = re.compile(r"^ESC-?\d{1,9}$", re.IGNORECASE)
SEVERITY_EMOJI = {
    "urgent": ":rotating_light:",
    "high": ":red_circle:",
    "normal": ":large_yellow_circle:",
    "low": ":white_circle:",
}
SUMMARY_IN_MESSAGE = 2800
SUMMARY_IN_DM = 600
SUMMARY_IN_LIST = 150
LIST_MAX = 40


@contextmanager
def modal_fields() -> Iterator[None]:
    """Point the core's field names at this feature's modal block ids."""
    try:
        yield
    except InvalidInput as exc:
        if exc.field and not exc.field.startswith("escalation."):
            exc.field = f"escalation.{exc.field}"
        raise


# ----- small formatting helpers (pure) ------------------------------------------------
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
    if esc.status == OPEN:
        text = _("escalations.status_open", when=when(esc.ack_deadline_at))
        if esc.ack_deadline_at is None:
            text = _("escalations.status_open_no_deadline")
        if esc.overdue:
            text = _("escalations.status_overdue") + " " + text
        return text
    waited = format_duration((esc.acknowledged_at or esc.created_at) - esc.created_at)
    return _(
        "escalations.status_acked",
        user=bk.mention(esc.acknowledged_by or ""),
        when=when(esc.acknowledged_at),
        waited=waited,
    )


def buttons(_: Translator, esc: Escalation) -> list[bk.Block]:
    value = {"id": esc.id}
    out: list[bk.Block] = []
    if esc.status == RESOLVED:
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
    _: Translator, team: Team, rows: list[Escalation], total: int, now: datetime
) -> list[bk.Block]:
    if not rows:
        return [bk.section(_("escalations.list_empty", team=bk.escape(team.name)))]
    out: list[bk.Block] = [
        bk.section(_("escalations.list_title", team=bk.escape(team.name), count=total))
    ]
    for esc in rows:
        out.append(
            bk.section(
                _(
                    "escalations.list_line",
                    ref=esc.ref,
                    severity=severity_label(_, esc.severity),
                    age=format_duration(now - esc.created_at),
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


def create_modal(_: Translator, *, team_id: int, severity: str = "normal") -> bk.Block:
    return bk.modal(
        _("escalations.modal_title"),
        [
            bk.text_input(
                Id.SUMMARY,
                _("escalations.f_summary"),
                multiline=True,
                max_length=esc_policy.SUMMARY_MAX,
                placeholder=_("escalations.f_summary_hint"),
            ),
            bk.text_input(
                Id.CUSTOMER, _("escalations.f_customer"), optional=True,
                max_length=esc_policy.CUSTOMER_MAX,
            ),
            bk.text_input(
                Id.TICKET, _("escalations.f_ticket"), optional=True,
                max_length=esc_policy.TICKET_MAX, placeholder=_("escalations.f_ticket_hint"),
            ),
            bk.select_input(
                Id.SEVERITY,
                _("escalations.f_severity"),
                [(severity_label(_, s), s) for s in esc_policy.SEVERITIES],
                initial=severity,
            ),
            bk.select_input(
                Id.CATEGORY,
                _("escalations.f_category"),
                [(_(f"escalations.cat_{c}"), c) for c in esc_policy.CATEGORIES],
                initial="other",
            ),
            bk.text_input(
                Id.TRIED, _("escalations.f_tried"), multiline=True, optional=True,
                max_length=esc_policy.TRIED_MAX,
            ),
        ],
        callback_id=Id.CREATE_MODAL,
        submit=_("escalations.modal_submit"),
        close=_("common.cancel"),
        private_metadata={"team": team_id},
    )


def resolve_modal(_: Translator, esc: Escalation) -> bk.Block:
    return bk.modal(
        _("escalations.resolve_title", ref=esc.ref),
        [
            bk.section(
                title_line(_, esc) + "\n" + bk.truncate(bk.escape(esc.summary), 2500)
            ),
            bk.select_input(
                Id.OUTCOME,
                _("escalations.f_outcome"),
                [(_(f"escalations.out_{o}"), o) for o in esc_policy.OUTCOMES],
            ),
            bk.text_input(
                Id.NOTE, _("escalations.f_note"), multiline=True,
                max_length=esc_policy.NOTE_MAX,
            ),
        ],
        callback_id=Id.RESOLVE_MODAL,
        submit=_("escalations.resolve_submit"),
        close=_("common.cancel"),
        private_metadata={"id": esc.id},
    )


def reassign_modal(_: Translator, esc: Escalation) -> bk.Block:
    return bk.modal(
        _("escalations.reassign_title", ref=esc.ref),
        [
            bk.section(
                title_line(_, esc) + "\n" + bk.truncate(bk.escape(esc.summary), 2500)
            ),
            bk.user_input(Id.USER, _("escalations.f_user")),
        ],
        callback_id=Id.REASSIGN_MODAL,
        submit=_("escalations.reassign_submit"),
        close=_("common.cancel"),
        private_metadata={"id": esc.id},
    )


def created_text(_: Translator, esc: Escalation, team: Team, told: str) -> str:
    return _(
        "escalations.created",
        ref=esc.ref,
        severity=_(f"escalations.sev_{esc.severity}"),
        channel=bk.channel_link(team.escalation_channel),
        leader=bk.mention(told),
        deadline=format_duration(esc_policy.timeout_for(team, esc.severity)),
    )


# ----- the command --------------------------------------------------------------------
def _team(req: Req, session: Session, team_name: str | None) -> Team:
    return teams.team_for_request(
        session,
        workspace_id=req.workspace_id,
        user_id=req.user_id,
        channel_id=req.channel_id,
        team_name=team_name,
    )


def handle_escalate_command(req: Req, reply: Reply) -> None:
    _ = req._
    text = slack_to_plain(req.text).strip()
    team_name = None
    match = TEAM_OPTION.search(text)
    if match:
        team_name = match.group(1)
        text = (text[: match.start()] + " " + text[match.end() :]).strip()
    words = text.split()
    first = words[0].lower() if words else ""
    if first == "help" and len(words) == 1:
        reply.ephemeral(_("escalations.help_title"), [bk.section(_("escalations.help"))])
    elif first == "list" and len(words) == 1:
        show_list(req, reply, team_name)
    elif len(words) == 1 and REF_WORD.match(words[0]):
        show_one(req, reply, words[0])
    elif not words or (len(words) == 1 and first in esc_policy.SEVERITIES):
        with req.rt.transaction(readonly=True) as session:
            team = _team(req, session, team_name)
        assert team.id is not None
        reply.open_modal(create_modal(_, team_id=team.id, severity=first or "normal"))
    else:
        draft = esc_policy.parse_quick(text)
        with req.rt.transaction(readonly=True) as session:
            team = _team(req, session, team_name)
            new = esc_policy.prepare(
                session, team=team, reporter_id=req.user_id, draft=draft, clock=req.rt.clock
            )
        esc = esc_policy.save(req.rt, new)
        reply.ephemeral(created_text(_, esc, team, new.first))


def show_list(req: Req, reply: Reply, team_name: str | None) -> None:
    _ = req._
    with req.rt.transaction(readonly=True) as session:
        team = _team(req, session, team_name)
        rows, total = esc_policy.open_for_team(session, team, limit=LIST_MAX)
    blocks = list_blocks(_, team, rows, total, req.rt.clock.now())
    reply.ephemeral(_("escalations.list_title", team=bk.escape(team.name), count=total), blocks)


def show_one(req: Req, reply: Reply, ref: str) -> None:
    _ = req._
    with req.rt.transaction(readonly=True) as session:
        esc = esc_policy.get_by_ref(session, workspace_id=req.workspace_id, text=ref)
        team = esc_policy.team_of(session, esc)
        if not teams.is_in_team(session, team, req.user_id) and req.user_id != esc.owner_id:
            raise NotFound("escalations.not_found", ref=bk.escape(ref))
        events = esc_policy.history(session, esc)
    blocks = escalation_blocks(_, esc, full=True) + [bk.divider()] + history_blocks(_, events)
    if len(blocks) > bk.MESSAGE_BLOCKS_MAX:  # Slack's 50-block limit
        blocks = blocks[: bk.MESSAGE_BLOCKS_MAX - 1] + [bk.context(_("escalations.cut_short"))]
    reply.ephemeral(fallback_text(_, esc), blocks)


def handle_create_submit(req: Req, reply: Reply) -> None:
    _ = req._
    view_body = req.body.get("view") or {}
    values = form_values(view_body)
    team_id = metadata(view_body).get("team")
    draft = esc_policy.Draft(
        severity=values.get(Id.SEVERITY) or "normal",
        summary=values.get(Id.SUMMARY) or "",
        ticket_ref=values.get(Id.TICKET),
        customer=values.get(Id.CUSTOMER),
        category=values.get(Id.CATEGORY) or "other",
        tried=values.get(Id.TRIED),
    )
    with modal_fields(), req.rt.transaction(readonly=True) as session:
        team = team_store.get_team(session=session, team_id=as_id(team_id))
        if team is None or team.workspace_id != req.workspace_id:
            raise NotFound("teams.in_none")
        if not teams.is_in_team(session, team, req.user_id):
            raise NotFound("teams.not_yours", name=bk.escape(team.name))
        new = esc_policy.prepare(
            session, team=team, reporter_id=req.user_id, draft=draft, clock=req.rt.clock
        )
    esc = esc_policy.save(req.rt, new)
    told = new.first
    reply.view_update(
        bk.modal(
            _("escalations.modal_title"),
            [bk.section(created_text(_, esc, team, told))],
            callback_id=Id.CREATED_NOTICE,
            close=_("common.close"),
        )
    )


# ----- buttons and their modals ---------------------------------------------------------
def _clicked(req: Req, session: Session) -> Escalation:
    escalation_id = as_id(action_value(req.body).get("id"))
    if not escalation_id:
        raise NotFound("escalations.not_found", ref="?")
    return esc_policy.get(session, workspace_id=req.workspace_id, escalation_id=escalation_id)


def handle_ack_button(req: Req, reply: Reply) -> None:
    with req.rt.transaction(readonly=True) as session:
        esc_policy.check_can_acknowledge(session, _clicked(req, session), req.user_id)
    with req.rt.transaction() as session:  # checked again: someone may have been quicker
        esc_policy.acknowledge(
            session, _clicked(req, session), actor_id=req.user_id, clock=req.rt.clock
        )


def handle_resolve_button(req: Req, reply: Reply) -> None:
    with req.rt.transaction(readonly=True) as session:
        esc = _clicked(req, session)
        esc_policy.check_can_resolve(session, esc, req.user_id)
    reply.open_modal(resolve_modal(req._, esc))


def handle_reassign_button(req: Req, reply: Reply) -> None:
    with req.rt.transaction(readonly=True) as session:
        esc = _clicked(req, session)
        esc_policy.check_can_reassign(session, esc, req.user_id)
    reply.open_modal(reassign_modal(req._, esc))


def _from_modal(req: Req, session: Session) -> Escalation:
    escalation_id = as_id(metadata(req.body.get("view") or {}).get("id"))
    if not escalation_id:
        raise NotFound("escalations.not_found", ref="?")
    return esc_policy.get(session, workspace_id=req.workspace_id, escalation_id=escalation_id)


def handle_resolve_submit(req: Req, reply: Reply) -> None:
    values = form_values(req.body.get("view") or {})
    with modal_fields(), req.rt.transaction() as session:
        esc_policy.resolve(
            session,
            _from_modal(req, session),
            actor_id=req.user_id,
            outcome=values.get(Id.OUTCOME),
            note=values.get(Id.NOTE),
            clock=req.rt.clock,
        )


def handle_reassign_submit(req: Req, reply: Reply) -> None:
    values = form_values(req.body.get("view") or {})
    with modal_fields(), req.rt.transaction() as session:
        esc_policy.reassign(
            session,
            _from_modal(req, session),
            actor_id=req.user_id,
            new_owner=values.get(Id.USER),
            clock=req.rt.clock,
        )


# ----- outbox renderers -----------------------------------------------------------------
def _load(session: Session, message: OutboxMessage) -> tuple[Escalation, Team, Translator] | None:
    esc = store.get_escalation(session=session, escalation_id=int(message.data["id"]))
    if esc is None:
        return None
    team = team_store.get_team(session=session, team_id=esc.team_id)
    if team is None:
        return None
    return esc, team, Translator(team.language)


def _posted(session: Session, esc: Escalation) -> bool:
    """True once the channel message exists; Deferred while its post is still on its way."""
    if esc.message_ts:
        return True
    status = store.outbox_status(session=session, dedupe_key=f"esc:{esc.id}:post")
    if status in (None, outbox_store.FAILED, outbox_store.SENT):
        return False  # never coming: nothing to update or thread under
    raise Deferred()


def render_post(session: Session, message: OutboxMessage) -> SlackCall | None:
    loaded = _load(session, message)
    if loaded is None:
        return None
    esc, team, _ = loaded
    if esc.message_ts:
        return None
    return SlackCall(
        "chat.postMessage",
        {
            "channel": team.escalation_channel,
            "text": fallback_text(_, esc),
            "blocks": bk.message_blocks(escalation_blocks(_, esc)),
            "unfurl_links": False,
            "unfurl_media": False,
        },
    )


def after_post(session: Session, message: OutboxMessage, response: dict[str, Any]) -> None:
    if response.get("ts") and response.get("channel"):
        store.set_message(
            session=session,
            escalation_id=int(message.data["id"]),
            channel_id=str(response["channel"]),
            ts=str(response["ts"]),
        )


def render_update(session: Session, message: OutboxMessage) -> SlackCall | None:
    loaded = _load(session, message)
    if loaded is None:
        return None
    esc, _team, _ = loaded
    if not _posted(session, esc):
        return None
    return SlackCall(
        "chat.update",
        {
            "channel": esc.channel_id,
            "ts": esc.message_ts,
            "text": fallback_text(_, esc),
            "blocks": bk.message_blocks(escalation_blocks(_, esc)),
        },
    )


def format_duration_seconds(seconds: Any) -> str:
    return format_duration(timedelta(seconds=int(seconds or 0)))


def thread_text(_: Translator, note: str, params: dict[str, Any]) -> str:
    args: dict[str, Any] = {}
    if "user" in params:
        args["user"] = bk.mention(str(params["user"]))
    if "by" in params:
        args["by"] = bk.mention(str(params["by"]))
    if "waited" in params:
        args["waited"] = format_duration_seconds(params["waited"])
    for key in ("round", "cap"):
        if key in params:
            args[key] = int(params[key])
    return _(f"escalations.th_{note}", **args)


def render_thread(session: Session, message: OutboxMessage) -> SlackCall | None:
    loaded = _load(session, message)
    if loaded is None:
        return None
    esc, _team, _ = loaded
    if not _posted(session, esc):
        return None
    return SlackCall(
        "chat.postMessage",
        {
            "channel": esc.channel_id,
            "thread_ts": esc.message_ts,
            "text": thread_text(_, str(message.data["note"]), message.data.get("params") or {}),
            "unfurl_links": False,
        },
    )


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


def render_dm(session: Session, message: OutboxMessage) -> SlackCall | None:
    loaded = _load(session, message)
    if loaded is None:
        return None
    esc, team, _ = loaded
    reason = str(message.data.get("reason"))
    if reason in ALERTS and esc.status != OPEN:
        return None  # someone acknowledged it before this alert went out
    text, blocks = dm_blocks(_, esc, team, reason, message.data.get("by"))
    return SlackCall(
        "chat.postMessage",
        {
            "channel": str(message.data["user"]),
            "text": bk.truncate(text, 3000),
            "blocks": bk.message_blocks(blocks),
            "unfurl_links": False,
        },
    )


def register(app: App, rt: Runtime) -> None:
    app.command(Id.COMMAND)(command(rt, handle_escalate_command))
    app.view(Id.CREATE_MODAL)(view(rt, handle_create_submit))
    app.action(Id.ACK)(action(rt, handle_ack_button))
    app.action(Id.RESOLVE)(action(rt, handle_resolve_button))
    app.action(Id.REASSIGN)(action(rt, handle_reassign_button))
    app.view(Id.RESOLVE_MODAL)(view(rt, handle_resolve_submit))
    app.view(Id.REASSIGN_MODAL)(view(rt, handle_reassign_submit))
    rt.outbox.kinds.register(esc_policy.KIND_POST, render_post, after_post)
    rt.outbox.kinds.register(esc_policy.KIND_UPDATE, render_update)
    rt.outbox.kinds.register(esc_policy.KIND_THREAD, render_thread)
    rt.outbox.kinds.register(esc_policy.KIND_DM, render_dm)
