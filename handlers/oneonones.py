"""`/oneonone`: schedule, list, cancel, talking points; the reminder DM with the agenda,
its "Done" modal (notes stored as a coaching note, topics discussed, action items) and
"Move to tomorrow" button, and the outbox renderers."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from slack_bolt import App
from sqlmodel import Session

from supportbot.bot import formats, keywords, oneonones
from supportbot.bot.errors import InvalidInput
from supportbot.bot.i18n import Translator
from supportbot.bot.outbox import SlackCall
from supportbot.bot.runtime import Runtime
from supportbot.handlers import blocks as bk
from supportbot.handlers import coaching as coaching_ui
from supportbot.handlers.common import (
    Reply,
    Req,
    action,
    action_value,
    as_id,
    command,
    form_values,
    metadata,
    parse_user,
    slack_to_plain,
    split_leading_mentions,
    view,
)
from supportbot.storage import oneonones as store
from supportbot.storage import teams as team_store
from supportbot.storage.models import OutboxMessage


class Id:
    """Every Slack id this feature uses."""

    COMMAND = "/oneonone"
    DONE = "oneonones.done"
    MOVE = "oneonones.move"
    DONE_MODAL = "oneonones.done_modal"
    NOTES = "oneonones.notes"
    DISCUSSED = "oneonones.discussed"
    ACTIONS_DONE = "oneonones.actions_done"
    ACTION_TEXT = "oneonones.action_text"
    ACTION_OWNER = "oneonones.action_owner"
    ACTION_DUE = "oneonones.action_due"


HHMM = re.compile(r"^\d{1,2}:\d{2}$")



# ----- pure renderers -----------------------------------------------------------------
def when_text(at: datetime, tz: str, lang: str = "en") -> str:
    """`Thu, Dec 24, 14:05` / `jue 24 dic, 14:05` in the team's zone (bot/formats.py)."""
    return formats.when(lang, at, tz)


def cadence_text(_: Translator, cadence: str) -> str:
    return _("oneonones.cadence_biweekly") if cadence == "biweekly" else _("oneonones.cadence_weekly")


def _num(value: float | None, show: Any) -> str:
    return "–" if value is None else str(show(value))


def kpi_lines(_: Translator, agent: Any, team: Any) -> str:
    rows = [
        ("solved", lambda r: _num(float(r.solved), lambda v: formats.number(_.lang, v))),
        ("csat", lambda r: _num(r.csat, lambda v: formats.percent(_.lang, v, 0))),
        ("frt", lambda r: _num(r.frt, lambda v: formats.number(_.lang, v) + " min")),
        ("aht", lambda r: _num(r.aht, lambda v: formats.number(_.lang, v) + " min")),
        ("sla", lambda r: _num(r.sla, lambda v: formats.percent(_.lang, v, 0))),
    ]
    return "\n".join(_("oneonones.kpi_line", metric=name.upper(), agent=f(agent), team=f(team)) for name, f in rows)


def goal_text(_: Translator, progress: Any) -> str:
    """`• CSAT ≥ 92,0 % · 88,5 % :small_red_triangle_down: (→ jue 24 dic)`."""
    goal, lang = progress.goal, _.lang
    due = formats.day(lang, goal.due_on)
    if goal.kind == "kpi" and goal.metric and goal.target is not None:
        target = coaching_ui.fmt_metric(goal.metric, goal.target, lang)
        what = f"{goal.metric.upper()} {'≥' if goal.op == '>=' else '≤'} {target}"
        now = "" if progress.value is None else f" · {coaching_ui.fmt_metric(goal.metric, progress.value, lang)}"
        mark = {True: " :white_check_mark:", False: " :small_red_triangle_down:"}.get(progress.met, "")
        return f"• {what}{now}{mark} (→ {due})"
    return f"• {bk.escape(bk.truncate(goal.text or '', 200))} (→ {due})"


def agenda_blocks(_: Translator, a: oneonones.Agenda) -> tuple[str, list[bk.Block]]:
    tz = a.team.timezone
    other = a.row.agent_id if a.for_leader else a.row.leader_id
    title = _("oneonones.reminder_title", other=bk.mention(other), when=when_text(a.meeting.at, tz, _.lang), tz=tz)
    out: list[bk.Block] = [bk.section(title)]
    since = when_text(a.since, tz, _.lang)
    if a.topics:
        lines = [
            "• " + bk.escape(bk.truncate(t.text, 300)) + (" " + _("oneonones.carried") if carried else "")
            for t, carried in a.topics[:15]
        ]
        out.append(bk.section(_("oneonones.topics_title") + "\n" + "\n".join(lines)))
    else:
        out.append(bk.section(_("oneonones.topics_title") + "\n" + _("oneonones.topics_none")))
    if a.actions:
        lines = [
            _("oneonones.action_line", text=bk.escape(bk.truncate(i.text, 300)), owner=bk.mention(i.owner_id), due=formats.day(_.lang, i.due_on))
            for i in a.actions[:15]
        ]
        out.append(bk.section(_("oneonones.actions_title") + "\n" + "\n".join(lines)))
    if a.for_leader and a.follow_ups:
        lines = [
            f"• {bk.escape(bk.truncate(n.text, 200))} ({formats.day(_.lang, n.follow_up_on) if n.follow_up_on else '-'})"
            for n in a.follow_ups[:10]
        ]
        out.append(bk.section(_("oneonones.follow_ups_title") + "\n" + "\n".join(lines)))
    if a.for_leader and a.goals:
        out.append(bk.section(_("oneonones.goals_title") + "\n" + "\n".join(goal_text(_, g) for g in a.goals[:10])))
    if a.kpis is not None:
        out.append(bk.section(_("oneonones.kpis_title", since=since) + "\n" + kpi_lines(_, *a.kpis)))
    if a.kudos:
        lines = [f"• {bk.mention(k.giver_id)}: {bk.escape(bk.truncate(k.message, 200))}" for k in a.kudos[:5]]
        out.append(bk.section(_("oneonones.kudos_title", count=len(a.kudos)) + "\n" + "\n".join(lines)))
    if a.escalations:
        lines = [
            f"• ESC-{e.number} · {_(f'escalations.sev_{e.severity}')} · {bk.escape(bk.truncate(e.summary, 150))}"
            for e in a.escalations[:8]
        ]
        out.append(bk.section(_("oneonones.escalations_title", count=len(a.escalations)) + "\n" + "\n".join(lines)))
    buttons = []
    if a.for_leader:
        buttons.append(bk.button(_("oneonones.done_button"), Id.DONE, {"meeting_id": a.meeting.id}, style="primary"))
    buttons.append(bk.button(_("oneonones.move_button"), Id.MOVE, {"meeting_id": a.meeting.id, "at": a.meeting.at.isoformat()}))
    out.append(bk.actions(*buttons))
    return title, out


def _checkboxes(block_id: str, label: str, options: list[tuple[str, str]]) -> bk.Block:
    opts = [{"text": bk.mrkdwn(bk.truncate(text, 75)), "value": value} for text, value in options[:10]]
    return {
        "type": "input", "block_id": block_id, "optional": True, "label": bk.plain(label, 2000),
        "element": {"type": "checkboxes", "action_id": "value", "options": opts},
    }


def done_modal(_: Translator, meeting_id: int, topics: list[Any], actions: list[Any], agent_id: str, leader_id: str) -> bk.Block:
    out: list[bk.Block] = [
        bk.text_input(Id.NOTES, _("oneonones.notes_label"), multiline=True, optional=True, max_length=3000,
                      placeholder=_("oneonones.notes_placeholder")),
    ]
    if topics:
        out.append(_checkboxes(Id.DISCUSSED, _("oneonones.discussed_label"), [(bk.escape(t.text), str(t.id)) for t in topics]))
    if actions:
        out.append(_checkboxes(Id.ACTIONS_DONE, _("oneonones.actions_done_label"), [(bk.escape(i.text), str(i.id)) for i in actions]))
    out += [
        bk.text_input(Id.ACTION_TEXT, _("oneonones.action_text_label"), optional=True, max_length=oneonones.ACTION_MAX),
        {"type": "input", "block_id": Id.ACTION_OWNER, "optional": True, "label": bk.plain(_("oneonones.action_owner_label")),
         "element": {"type": "static_select", "action_id": "value", "options": [
             bk.option(_("oneonones.owner_agent"), agent_id), bk.option(_("oneonones.owner_leader"), leader_id)]}},
        {"type": "input", "block_id": Id.ACTION_DUE, "optional": True, "label": bk.plain(_("oneonones.action_due_label")),
         "element": {"type": "datepicker", "action_id": "value"}},
    ]
    return bk.modal(_("oneonones.done_title"), out, callback_id=Id.DONE_MODAL, submit=_("oneonones.save"),
                    close=_("oneonones.cancel"), private_metadata={"meeting_id": meeting_id})


# ----- listeners ----------------------------------------------------------------------
def handle_oneonone_command(req: Req, reply: Reply) -> None:
    _ = req._
    words = req.text.split()
    verb = keywords.canonical("oneonones", words[0]) if words else "help"
    now = req.rt.clock.now()
    if verb == "help":
        reply.ephemeral(_("oneonones.help_title"), [bk.section(_("oneonones.help"))])
    elif verb == "list" and len(words) == 1:
        list_command(req, reply)
    elif verb == "cancel" and len(words) == 2 and parse_user(words[1]):
        agent = parse_user(words[1]) or ""
        with req.rt.transaction() as session:
            row = oneonones.cancel(session, workspace_id=req.workspace_id, leader_id=req.user_id, agent_id=agent)
            row_id = row.id or 0
        reply.ephemeral(_("oneonones.cancelled", agent=bk.mention(agent)))
        oneonones.reschedule(req.rt, row_id)
    elif verb == "topic":
        rest = req.text.split(maxsplit=1)[1] if len(words) > 1 else ""
        mentions, text = split_leading_mentions(rest)
        if len(mentions) > 1:
            raise InvalidInput("oneonones.usage")
        with req.rt.transaction() as session:
            oneonones.add_topic(
                session, workspace_id=req.workspace_id, user_id=req.user_id, text=slack_to_plain(text),
                with_user=mentions[0] if mentions else None, now=now,
            )
        reply.ephemeral(_("oneonones.topic_added"))
    elif parse_user(words[0]) and len(words) in (4, 5):
        schedule_command(req, reply, words)
    else:
        raise InvalidInput("oneonones.usage")


def schedule_command(req: Req, reply: Reply, words: list[str]) -> None:
    _ = req._
    agent = parse_user(words[0]) or ""
    cadence = keywords.canonical("oneonones", words[1]) or words[1].lower()
    day, at = words[2], words[3]
    lead = None
    if len(words) == 5:
        rest, lead = keywords.take_option("oneonones", "lead_option", words[4])
        if rest or not lead or not re.fullmatch(r"\d{1,4}[mh]?", lead):
            raise InvalidInput("oneonones.bad_lead")
    if cadence not in oneonones.CADENCES:
        raise InvalidInput("oneonones.usage")
    if not HHMM.match(at):
        raise InvalidInput("common.bad_time", value=bk.escape(at[:20]))
    weekday = oneonones.parse_weekday(day)
    with req.rt.transaction() as session:
        row = oneonones.schedule(
            session, workspace_id=req.workspace_id, leader_id=req.user_id, agent_id=agent,
            cadence=cadence, weekday=weekday, at=at, lead=lead, now=req.rt.clock.now(),
        )
        team = team_store.get_team(session=session, team_id=row.team_id)
        assert team is not None
        first = oneonones.meeting_at(team, row.anchor_on, row.time)
        text = _("oneonones.scheduled", agent=bk.mention(agent), cadence=cadence_text(_, row.cadence),
                 day=keywords.word("oneonones", oneonones.DAYS[row.weekday], req.lang), time=row.time, tz=team.timezone,
                 first=when_text(first, team.timezone, req.lang), lead=row.lead_minutes)
        row_id = row.id or 0
    reply.ephemeral(text)
    oneonones.reschedule(req.rt, row_id)


def list_command(req: Req, reply: Reply) -> None:
    _ = req._
    now = req.rt.clock.now()
    lines = []
    with req.rt.transaction(readonly=True) as session:
        for row in store.of_user(session=session, workspace_id=req.workspace_id, user_id=req.user_id):
            team = team_store.get_team(session=session, team_id=row.team_id)
            if team is None:
                continue
            upcoming = oneonones.next_meeting(row, team, now)
            other = row.agent_id if row.leader_id == req.user_id else row.leader_id
            topics = len(store.open_topics(session=session, oneonone_id=row.id or 0))
            lines.append(_("oneonones.list_line", other=bk.mention(other), cadence=cadence_text(_, row.cadence),
                           day=keywords.word("oneonones", oneonones.DAYS[row.weekday], req.lang), time=row.time, tz=team.timezone,
                           next=when_text(upcoming, team.timezone, req.lang) if upcoming else "-", topics=topics))
    if not lines:
        reply.ephemeral(_("oneonones.list_none"))
        return
    reply.ephemeral(_("oneonones.list_title"), [bk.section(_("oneonones.list_title") + "\n" + "\n".join(lines[:40]))])


def handle_done_button(req: Req, reply: Reply) -> None:
    meeting_id = as_id(action_value(req.body).get("meeting_id"))
    with req.rt.transaction(readonly=True) as session:
        meeting, row, _team = oneonones.leader_meeting(session, meeting_id=meeting_id, leader_id=req.user_id)
        topics = list(store.open_topics(session=session, oneonone_id=row.id or 0))
        actions = list(store.open_actions(session=session, oneonone_id=row.id or 0))
        modal = done_modal(req._, meeting.id or 0, topics, actions, row.agent_id, row.leader_id)
    reply.open_modal(modal)


def handle_move_button(req: Req, reply: Reply) -> None:
    _ = req._
    value = action_value(req.body)
    meeting_id = as_id(value.get("meeting_id"))
    with req.rt.transaction() as session:
        meeting, row = oneonones.move_to_tomorrow(
            session, meeting_id=meeting_id, user_id=req.user_id, clock=req.rt.clock,
            seen_at=_shown_time(value.get("at")),
        )
        team = team_store.get_team(session=session, team_id=row.team_id)
        text = _("oneonones.moved_you", when=when_text(meeting.at, team.timezone if team else "UTC", _.lang))
    reply.ephemeral(text)


def _shown_time(value: object) -> datetime | None:
    """The meeting time the clicked reminder showed (None for reminders without it)."""
    try:
        when = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return when if when is not None and when.tzinfo is not None else None


def _ids(values: Any) -> list[int]:
    return [int(v) for v in values or [] if str(v).isdecimal() and len(str(v)) < 10]


def handle_done_submit(req: Req, reply: Reply) -> None:
    view_body = req.body.get("view") or {}
    values = form_values(view_body)
    meeting_id = as_id(metadata(view_body).get("meeting_id"))
    new_action = None
    text = (values.get(Id.ACTION_TEXT) or "").strip()
    if text:
        owner = values.get(Id.ACTION_OWNER)
        due = values.get(Id.ACTION_DUE)
        if not owner:
            raise InvalidInput("oneonones.action_owner", field=Id.ACTION_OWNER)
        if not due:
            raise InvalidInput("oneonones.action_due_missing", field=Id.ACTION_DUE)
        try:
            due_on = date.fromisoformat(str(due))
        except ValueError:
            raise InvalidInput("oneonones.action_due_missing", field=Id.ACTION_DUE) from None
        new_action = oneonones.NewAction(text=text, owner_id=str(owner), due_on=due_on)
    with req.rt.transaction() as session:
        oneonones.done(
            session, meeting_id=meeting_id, leader_id=req.user_id, notes=values.get(Id.NOTES),
            discussed=_ids(values.get(Id.DISCUSSED)), actions_done=_ids(values.get(Id.ACTIONS_DONE)),
            new_action=new_action, now=req.rt.clock.now(),
        )


# ----- outbox renderers ---------------------------------------------------------------
def render_reminder(session: Session, msg: OutboxMessage) -> SlackCall | None:
    user_id = str(msg.data.get("user_id") or "")
    meeting = store.get_meeting(session=session, meeting_id=int(msg.data.get("meeting_id") or 0))
    if meeting is None or meeting.done_at is not None:
        return None
    a = oneonones.agenda(session, meeting_id=meeting.id or 0, user_id=user_id, now=msg.created_at)
    if a is None:
        return None
    text, out = agenda_blocks(Translator(a.team.language), a)
    return SlackCall("chat.postMessage", {"channel": user_id, "text": text, "blocks": out})


def render_moved(session: Session, msg: OutboxMessage) -> SlackCall | None:
    meeting = store.get_meeting(session=session, meeting_id=int(msg.data.get("meeting_id") or 0))
    row = store.get(session=session, oneonone_id=meeting.oneonone_id) if meeting else None
    team = team_store.get_team(session=session, team_id=row.team_id) if row else None
    if meeting is None or team is None or meeting.done_at is not None:
        return None
    _ = Translator(team.language)
    text = _("oneonones.moved_other", by=bk.mention(str(msg.data.get("by") or "")), when=when_text(meeting.at, team.timezone, _.lang))
    return SlackCall("chat.postMessage", {"channel": str(msg.data.get("user_id")), "text": text, "blocks": [bk.section(text)]})


def register(app: App, rt: Runtime) -> None:
    app.command(Id.COMMAND)(command(rt, handle_oneonone_command))
    app.action(Id.DONE)(action(rt, handle_done_button))
    app.action(Id.MOVE)(action(rt, handle_move_button))
    app.view(Id.DONE_MODAL)(view(rt, handle_done_submit))
    rt.outbox.kinds.register(oneonones.REMINDER_KIND, render_reminder)
    rt.outbox.kinds.register(oneonones.MOVED_KIND, render_moved)
