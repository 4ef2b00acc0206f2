"""The App Home tab: where a leader starts the day and an agent sees their own work.

Published when the user opens the tab, after the actions shown on it (its own buttons
directly; the escalation Acknowledge button, served by the escalation handler, through a
middleware that queues a refresh), and kept inside Slack's 100-block limit with long
lists cut to "and N more". Built to https://docs.slack.dev/surfaces/app-home and
https://docs.slack.dev/reference/views/home-tab-views (views.publish; at most 100 blocks).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from sqlmodel import Session

from supportbot.bot import formats, kpis, oneonones, pulse, standups
from supportbot.bot import home as core
from supportbot.bot.errors import NotAllowed, NotFound
from supportbot.bot.i18n import Translator
from supportbot.bot.outbox import SlackCall, enqueue
from supportbot.bot.runtime import Runtime
from supportbot.bot.timeutil import format_duration
from supportbot.handlers import blocks as bk
from supportbot.handlers import coaching as coaching_ui
from supportbot.handlers import kpis as kpis_ui
from supportbot.handlers import oneonones as oneonones_ui
from supportbot.handlers import pulse as pulse_ui
from supportbot.handlers import standups as standups_ui
from supportbot.handlers.common import Reply, Req, action, action_value, as_id, view
from supportbot.storage import oneonones as oneonone_store
from supportbot.storage import teams as team_store
from supportbot.storage.escalations import OPEN
from supportbot.storage.models import OutboxMessage
from supportbot.storage.oneonones import OneOnOneMeeting
from supportbot.storage.standups import AWAY

log = logging.getLogger(__name__)

REFRESH_KIND = "home.publish"
# The escalation handler acknowledges after its ack; the refresh it triggers is rendered
# a moment later so it shows the acknowledged state.
REFRESH_DELAY = timedelta(seconds=2)
ESCALATIONS_SHOWN = 5
PEOPLE_SHOWN = 20
ITEMS_SHOWN = 8
ESCALATION_ACK = "escalation.ack"  # the escalation feature's button: its handler serves it


class Id:
    AGENDA = "home.agenda"
    STANDUP_ANSWER = "home.standup_answer"
    STANDUP_MODAL = "home.standup_answer_modal"


# ----- pure renderers -----------------------------------------------------------------
def more(_: Translator, total: int, shown: int) -> str:
    return _("home.and_more", count=total - shown) if total > shown else ""


def people(_: Translator, ids: list[str], limit: int = PEOPLE_SHOWN) -> str:
    text = ", ".join(bk.mention(u) for u in ids[:limit])
    extra = more(_, len(ids), limit)
    return f"{text} {extra}".strip()


def local_text(when: datetime, tz: str, lang: str = "en") -> str:
    """`Thu 14:05` / `jue 14:05` in the team's zone (bot/formats.py, Babel)."""
    return formats.weekday_time(lang, when, tz)


def escalation_blocks(_: Translator, t: core.LeaderTeam, now: datetime) -> list[bk.Block]:
    out = [bk.section(f"*{_('home.escalations_title', count=t.escalations_total)}*")]
    if not t.escalations:
        out[0] = bk.section(f"*{_('home.escalations_title', count=0)}*\n{_('home.none')}")
        return out
    for esc in t.escalations[:ESCALATIONS_SHOWN]:
        owner = bk.mention(esc.owner_id) if esc.owner_id else _("home.no_owner")
        line = _("home.escalation_line", ref=esc.ref, severity=_(f"escalations.sev_{esc.severity}"),
                 summary=bk.escape(bk.truncate(esc.summary, 120)), age=format_duration(now - esc.created_at, _.lang),
                 owner=owner, status=_(f"home.status_{esc.status}"))
        accessory = bk.button(_("home.ack"), ESCALATION_ACK, {"id": esc.id}, style="primary") if esc.status == OPEN else None
        out.append(bk.section(line, accessory=accessory))
    extra = more(_, t.escalations_total, min(len(t.escalations), ESCALATIONS_SHOWN))
    if extra:
        out.append(bk.context(extra + " · `/escalate list`"))
    return out


def kpi_text(_: Translator, t: core.LeaderTeam) -> str:
    targets = {line.metric: line.target for line in t.kpis if line.target is not None}
    lines = [f"*{_('home.kpis_title')}*"]
    for line in t.kpis:
        parts = [f"{kpis_ui.metric_name(_, line.metric)} *{kpis_ui.fmt_value(_, line.metric, line.value)}*"]
        target = kpis_ui.fmt_target(_, line.metric, line.value, targets)
        if target:
            parts.append(target)
        parts.append(f"`{kpis.sparkline(line.trend)}`")
        lines.append(" · ".join(parts))
    return "\n".join(lines)


def standup_text(_: Translator, t: core.LeaderTeam) -> str:
    title = f"*{_('home.standup_title')}*"
    s = t.standup
    if s is None:
        return f"{title}\n{_('home.standup_none')}"
    lines = [title, _("home.standup_counts", answered=len(s.answered), missing=len(s.missing))]
    if s.missing:
        lines.append(_("home.standup_missing", people=people(_, s.missing)))
    if s.blockers:
        lines.append(_("home.standup_blocked", people=people(_, [p.user_id for p in s.blockers])))
    return "\n".join(lines)


def meeting_blocks(_: Translator, t: core.LeaderTeam) -> list[bk.Block]:
    title = f"*{_('home.oneonones_title')}*"
    if not t.meetings:
        return [bk.section(f"{title}\n{_('home.none')}")]
    shown = t.meetings[:ITEMS_SHOWN]
    lines = [title]
    for m in shown:
        lines.append(_("home.oneonone_line", agent=bk.mention(m.row.agent_id), when=local_text(m.at, t.team.timezone, _.lang),
                       topics=len(m.topics)))
    extra = more(_, len(t.meetings), len(shown))
    if extra:
        lines.append(extra)
    buttons = [
        bk.button(_("home.agenda", n=i + 1), Id.AGENDA, {"o": m.row.id, "at": int(m.at.timestamp())})
        for i, m in enumerate(shown[:5])
    ]
    return [bk.section("\n".join(lines)), bk.actions(*buttons)]


def follow_up_text(_: Translator, t: core.LeaderTeam) -> str:
    title = f"*{_('home.follow_ups_title')}*"
    if not t.follow_ups:
        return f"{title}\n{_('home.none')}"
    lines = [title] + [
        _("home.follow_up_line", agent=bk.mention(n.agent_id), day=formats.day(_.lang, n.follow_up_on) if n.follow_up_on else "-",
          text=bk.escape(bk.truncate(n.text, 120)))
        for n in t.follow_ups[:ITEMS_SHOWN]
    ]
    extra = more(_, len(t.follow_ups), ITEMS_SHOWN)
    return "\n".join([*lines, extra] if extra else lines)


def pulse_text(_: Translator, t: core.LeaderTeam) -> str:
    lines = [f"*{_('home.pulse_title')}*"]
    if t.pulse_open is not None:
        lines.append(_("home.pulse_open", answered=t.pulse_open.answered, asked=t.pulse_open.asked,
                       closes=local_text(t.pulse_open.pulse.closes_at, t.team.timezone, _.lang)))
    if t.pulse_last is not None:
        lines.append(_("home.pulse_last", day=formats.day(_.lang, t.pulse_last.pulse.week)) + " "
                     + pulse_ui.figures_line(_, t.pulse_last, t.pulse_change))
    if len(lines) == 1:
        lines.append(_("home.pulse_none"))
    if t.this_week is not None:
        standup = pulse_ui.standup_line(_, t.this_week, pulse.min_answers(t.team))
        if standup:
            lines.append(standup)
    return "\n".join(lines)


def away_text(_: Translator, t: core.LeaderTeam) -> str:
    title = f"*{_('home.away_title')}*"
    if not t.away:
        return f"{title}\n{_('home.nobody')}"
    lines = [title] + [
        _("home.away_line", user=bk.mention(p.user_id), first=formats.day(_.lang, p.start_on), last=formats.day(_.lang, p.end_on))
        for p in t.away[:ITEMS_SHOWN]
    ]
    extra = more(_, len(t.away), ITEMS_SHOWN)
    return "\n".join([*lines, extra] if extra else lines)


def leader_blocks(_: Translator, t: core.LeaderTeam, now: datetime) -> list[bk.Block]:
    return [
        bk.header(_("home.team_header", team=t.team.name)),
        *escalation_blocks(_, t, now),
        bk.section(kpi_text(_, t)),
        bk.section(standup_text(_, t)),
        *meeting_blocks(_, t),
        bk.section(follow_up_text(_, t)),
        bk.section(pulse_text(_, t)),
        bk.section(away_text(_, t)),
        bk.divider(),
    ]


def agent_blocks(_: Translator, a: core.AgentHome) -> list[bk.Block]:
    out: list[bk.Block] = [bk.header(_("home.agent_header"))]
    lines = [f"*{_('home.my_escalations_title', count=len(a.escalations))}*"]
    lines += [
        _("home.my_escalation_line", ref=e.ref, summary=bk.escape(bk.truncate(e.summary, 120)),
          status=_(f"home.status_{e.status}"))
        for e in a.escalations[:ITEMS_SHOWN]
    ] or [_("home.none")]
    if more(_, len(a.escalations), ITEMS_SHOWN):
        lines.append(more(_, len(a.escalations), ITEMS_SHOWN))
    out.append(bk.section("\n".join(lines)))
    for t in a.teams:
        goals = [coaching_ui.goal_line(_, g) for g in t.goals[:ITEMS_SHOWN]] or [_("home.none")]
        if more(_, len(t.goals), ITEMS_SHOWN):
            goals.append(more(_, len(t.goals), ITEMS_SHOWN))
        out.append(bk.section(f"*{_('home.goals_title', team=bk.escape(t.team.name))}*\n" + "\n".join(goals)))
        out.append(standup_prompt_block(_, t))
    kudos_lines = [f"*{_('home.kudos_title', count=len(a.kudos))}*"]
    kudos_lines += [
        f"• {bk.mention(k.giver_id)}: {bk.escape(bk.truncate(k.message, 150))}" for k in a.kudos[:5]
    ] or [_("home.none")]
    if more(_, len(a.kudos), 5):
        kudos_lines.append(more(_, len(a.kudos), 5))
    out.append(bk.section("\n".join(kudos_lines)))
    out.append(bk.section(next_meeting_text(_, a)))
    return out


def standup_prompt_block(_: Translator, t: core.AgentTeam) -> bk.Block:
    title = f"*{_('home.my_standup_title', team=bk.escape(t.team.name))}*"
    p, run = t.standup_prompt, t.standup_run
    if run is None or p is None:
        return bk.section(f"{title}\n{_('home.standup_none')}")
    if p.status == AWAY:
        return bk.section(f"{title}\n{_('home.standup_away')}")
    open_now = not run.closed
    if p.answered_at is not None:
        text = f"{title}\n{_('home.standup_answered')}"
        label = "home.standup_edit"
    else:
        text = f"{title}\n{_('home.standup_waiting')}"
        label = "home.standup_answer"
    if not open_now:
        return bk.section(f"{title}\n{_('home.standup_closed')}")
    return bk.section(text, accessory=bk.button(_(label), Id.STANDUP_ANSWER, {"prompt_id": p.id}, style="primary"))


def next_meeting_text(_: Translator, a: core.AgentHome) -> str:
    title = f"*{_('home.next_oneonone_title')}*"
    m = a.next_meeting
    if m is None:
        return f"{title}\n{_('home.none')}"
    tz = next((t.team.timezone for t in a.teams if t.team.id == m.row.team_id), "UTC")
    lines = [title, _("home.next_oneonone", leader=bk.mention(m.row.leader_id), when=local_text(m.at, tz, _.lang), tz=tz)]
    lines += [f"• {bk.escape(bk.truncate(topic.text, 150))}" for topic in m.topics[:ITEMS_SHOWN]]
    if not m.topics:
        lines.append(_("home.no_topics"))
    elif more(_, len(m.topics), ITEMS_SHOWN):
        lines.append(more(_, len(m.topics), ITEMS_SHOWN))
    return "\n".join(lines)


def fit(_: Translator, sections: list[list[bk.Block]], tail: list[bk.Block]) -> list[bk.Block]:
    """Whole sections while they fit in 100 blocks with the tail, then "and N more"."""
    out: list[bk.Block] = []
    budget = bk.VIEW_BLOCKS_MAX - len(tail) - 1
    for i, part in enumerate(sections):
        if len(out) + len(part) > budget:
            out.append(bk.context(_("home.more_teams", count=len(sections) - i)))
            break
        out.extend(part)
    return out + tail


def home_blocks(_: Translator, h: core.Home) -> list[bk.Block]:
    sections: list[list[bk.Block]] = []
    if h.agent is not None:
        sections.append(agent_blocks(_, h.agent))
    sections += [leader_blocks(_, t, h.now) for t in h.led]
    if not h.led and h.agent is None:
        sections.append([bk.section(_("home.intro") + "\n" + _("home.no_team"))])
    tail = [bk.section(f"*{_('home.commands_title')}*\n{_('home.quick')}\n{_('home.quick_pulse')}")]
    head = [bk.header(_("home.title")), bk.context(_("home.updated", when=formats.when(_.lang, h.now, "UTC") + " UTC"))]
    return head + fit(_, sections, tail)


# ----- building and publishing ----------------------------------------------------------
def build_view(rt: Runtime, session: Session, workspace_id: str, user_id: str, lang: str) -> bk.Block:
    _ = Translator(lang)
    h = core.gather(session, workspace_id=workspace_id, user_id=user_id, now=rt.clock.now(), answers=rt.kpi_answers)
    return {"type": "home", "blocks": home_blocks(_, h)[: bk.VIEW_BLOCKS_MAX]}


def home_view(req: Req) -> bk.Block:
    with req.rt.transaction(readonly=True) as session:
        return build_view(req.rt, session, req.workspace_id, req.user_id, req.lang)


def queue_refresh(rt: Runtime, session: Session, workspace_id: str, user_id: str, *, key: str, delay: timedelta | None = None) -> None:
    enqueue(session, workspace_id=workspace_id, kind=REFRESH_KIND, data={"user_id": user_id}, clock=rt.clock,
            dedupe_key=f"home:{workspace_id}:{user_id}:{key}", delay=delay)


def make_refresh_renderer(rt: Runtime) -> Callable[[Session, OutboxMessage], SlackCall | None]:
    def render(session: Session, msg: OutboxMessage) -> SlackCall | None:
        user = str(msg.data.get("user_id") or "")
        if not user:
            return None
        lang = rt.languages.language_for(session, msg.workspace_id, user, rt.settings.default_language)
        return SlackCall("views.publish", {"user_id": user, "view": build_view(rt, session, msg.workspace_id, user, lang)})

    return render


def refresh_after_home_actions(rt: Runtime) -> Callable[..., Any]:
    """Global middleware: a button clicked on the Home tab that another feature serves
    (Acknowledge) queues a refresh of that user's tab, rendered once the click is handled."""

    def middleware(body: dict[str, Any], next: Callable[[], Any]) -> Any:  # noqa: A002
        response = next()
        if body.get("type") != "block_actions" or (body.get("view") or {}).get("type") != "home":
            return response
        clicked = (body.get("actions") or [{}])[0]
        if str(clicked.get("action_id", "")).startswith("home."):
            return response  # our own buttons refresh when they are done
        user = (body.get("user") or {}).get("id") or ""
        workspace = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id") or ""
        try:
            with rt.transaction() as session:
                queue_refresh(rt, session, workspace, user, key=str(clicked.get("action_ts") or ""), delay=REFRESH_DELAY)
        except Exception:  # the click itself was handled; the tab refreshes when next opened
            log.exception("could not queue a Home refresh")
        return response

    return middleware


def handle_agenda_button(req: Req, reply: Reply) -> None:
    """The agenda of a 1:1 listed on the Home tab, in a modal (the meeting row is the one the
    reminder uses, created now if the reminder has not run yet)."""
    value = action_value(req.body)
    oneonone_id = as_id(value.get("o"))
    at_raw = value.get("at")
    now = req.rt.clock.now()
    with req.rt.transaction() as session:
        row = oneonone_store.get(session=session, oneonone_id=oneonone_id)
        if row is None or not row.active or type(at_raw) is not int:
            raise NotFound("home.agenda_gone")
        if req.user_id not in (row.leader_id, row.agent_id):
            raise NotAllowed("home.agenda_not_yours")
        at = datetime.fromtimestamp(at_raw, tz=UTC)
        team_row = team_store.get_team(session=session, team_id=row.team_id)
        if team_row is None or oneonones.next_meeting(row, team_row, at - timedelta(minutes=row.lead_minutes + 1)) != at:
            raise NotFound("home.agenda_gone")
        meeting, _created = oneonone_store.meeting_for(
            session=session,
            meeting=OneOnOneMeeting(workspace_id=row.workspace_id, oneonone_id=row.id or 0, scheduled_at=at, at=at, created_at=now),
        )
        agenda = oneonones.agenda(session, meeting_id=meeting.id or 0, user_id=req.user_id, now=now)
        if agenda is None:
            raise NotFound("home.agenda_gone")
        _ = Translator(team_row.language)
        _title, blocks = oneonones_ui.agenda_blocks(_, agenda)
    shown = [b for b in blocks if b.get("type") != "actions"]
    reply.open_modal(bk.modal(_("home.agenda_title"), shown, callback_id="home.agenda_modal", close=_("home.close")))


def handle_standup_answer_button(req: Req, reply: Reply) -> None:
    """The stand-up's own modal, under our callback id so the tab refreshes once it is saved."""
    prompt_id = as_id(action_value(req.body).get("prompt_id"))
    with req.rt.transaction(readonly=True) as session:
        prompt, run = standups.answerable(session, prompt_id=prompt_id, user_id=req.user_id, now=req.rt.clock.now())
        modal = standups_ui.answer_modal(req._, run, prompt)
    modal["callback_id"] = Id.STANDUP_MODAL
    reply.open_modal(modal)


def handle_standup_answer_submit(req: Req, reply: Reply) -> None:
    standups_ui.handle_answer_submit(req, reply)
    with req.rt.transaction() as session:
        queue_refresh(req.rt, session, req.workspace_id, req.user_id, key=f"standup:{req.body.get('view', {}).get('id', '')}:{req.rt.clock.now().isoformat()}")


def handle_app_home_opened_event(rt: Runtime) -> Any:
    def listener(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if event.get("tab") not in (None, "home"):
            return
        user = event.get("user") or ""
        workspace = body.get("team_id") or ""
        with rt.transaction(readonly=True) as session:
            lang = rt.languages.language_for(session, workspace, user, rt.settings.default_language)
        req = Req(rt, workspace, user, None, lang, body, Translator(lang))
        client.views_publish(user_id=user, view=home_view(req))

    def logged(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        try:
            listener(event, body, client)
        except Exception:
            log.exception("could not publish the Home tab")

    def acked_at_once(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        # Bolt acks the event when this returns; the tab is built and published after.
        if rt.handler_pool is None:
            logged(event, body, client)
        else:
            rt.handler_pool.submit(logged, event, body, client)

    return acked_at_once


def register(app: App, rt: Runtime) -> None:
    app.use(refresh_after_home_actions(rt))
    app.event("app_home_opened")(handle_app_home_opened_event(rt))
    app.action(Id.AGENDA)(action(rt, handle_agenda_button))
    app.action(Id.STANDUP_ANSWER)(action(rt, handle_standup_answer_button))
    app.view(Id.STANDUP_MODAL)(view(rt, handle_standup_answer_submit))
    rt.outbox.kinds.register(REFRESH_KIND, make_refresh_renderer(rt))
