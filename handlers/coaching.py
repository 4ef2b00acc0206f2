"""`/coach`: private coaching notes and goals, the "older notes" button, the "Log coaching
note" message shortcut with its modal, and the follow-up reminder DM renderer."""

from __future__ import annotations

from datetime import UTC, date

from slack_bolt import App
from sqlmodel import Session

from supportbot.bot import coaching, dates, formats, keywords, teams
from supportbot.bot.errors import InvalidInput, NotAllowed, NotFound
from supportbot.bot.i18n import Translator
from supportbot.bot.outbox import SlackCall
from supportbot.bot.runtime import Runtime
from supportbot.bot.timeutil import zone
from supportbot.handlers import blocks as bk
from supportbot.handlers.common import (
    Reply,
    Req,
    action,
    action_value,
    as_id,
    command,
    form_values,
    notice_modal,
    shortcut,
    slack_to_plain,
    split_leading_mentions,
    view,
)
from supportbot.storage import coaching as store
from supportbot.storage import teams as team_store
from supportbot.storage.coaching import GOAL_OPEN, CoachingNote, Goal
from supportbot.storage.models import OutboxMessage, Team


class Id:
    """Every Slack id this feature uses."""

    COMMAND = "/coach"
    OLDER = "coaching.older"
    SHORTCUT = "coaching.log_note"
    NOTE_MODAL = "coaching.note_modal"
    # Modal blocks
    AGENT = "coaching.agent"
    NOTE = "coaching.note"
    TAGS = "coaching.tags"
    FOLLOW_UP = "coaching.follow_up"
    LINK = "coaching.link"


PERCENT = ("csat", "sla", "fcr")
MINUTES = ("frt", "aht")
EXCERPT = 280


# ----- pure renderers -----------------------------------------------------------------
def fmt_metric(metric: str, value: float, lang: str = "en") -> str:
    """`92.0%` / `92,0 %`: figures in the reader's language (bot/formats.py, Babel)."""
    if metric in PERCENT:
        return formats.percent(lang, value)
    if metric in MINUTES:
        return f"{formats.number(lang, value)} min"
    return formats.number(lang, value, 0 if float(value).is_integer() else 1)


def day(d: date | None, lang: str = "en") -> str:
    """A day in words (`jue 24 dic`), so a misread date is seen at once."""
    return dates.in_words(d, lang) if d else ""


def tags_text(_: Translator, tags: list[str]) -> str:
    """`#praise` for an English team, `#elogio` for a Spanish one."""
    return " ".join(f"`{keywords.word('coaching', f'tag_{t}', _.lang)}`" for t in tags)


def noted_on(_: Translator, note: CoachingNote, tz: str | None) -> str:
    """The day a note was written, in the team's zone and the reader's words."""
    when = note.created_at if note.created_at.tzinfo else note.created_at.replace(tzinfo=UTC)
    return formats.day(_.lang, when.astimezone(zone(tz or "UTC")).date(), year=True)


def note_blocks(_: Translator, note: CoachingNote, tz: str | None = None) -> list[bk.Block]:
    bits = [
        f"*{noted_on(_, note, tz)}*",
        _("coaching.note_by", author=bk.mention(note.author_id)),
    ]
    if note.tags:
        bits.append(tags_text(_, note.tags))
    if note.follow_up_on:
        key = "coaching.note_follow_up_sent" if note.follow_up_sent else "coaching.note_follow_up"
        bits.append(_(key, day=day(note.follow_up_on, _.lang)))
    if note.source_link:
        bits.append(f"<{note.source_link}|{_('coaching.note_source')}>")
    return [bk.context(" · ".join(bits)), bk.section(bk.escape(note.text))]


def notes_blocks(
    _: Translator, *, team: Team, agent_id: str, page: coaching.NotePage, older: bool
) -> list[bk.Block]:
    title = "coaching.notes_older_title" if older else "coaching.notes_title"
    out = [bk.section(_(title, agent=bk.mention(agent_id)))]
    if not page.notes:
        out.append(bk.context(_("coaching.notes_none" if not older else "coaching.notes_no_more")))
    for note in page.notes:
        out += note_blocks(_, note, team.timezone)
    if page.more and page.notes:
        out.append(
            bk.actions(
                bk.button(
                    _("coaching.older_button"),
                    Id.OLDER,
                    {"t": team.id, "a": agent_id, "b": page.notes[-1].id},
                )
            )
        )
    return out


def goal_line(_: Translator, progress: coaching.GoalProgress) -> str:
    goal = progress.goal
    if goal.kind == "kpi" and goal.metric and goal.target is not None:
        what = _(
            "coaching.goal_kpi",
            metric=goal.metric.upper(),
            op="≥" if goal.op == ">=" else "≤",
            target=fmt_metric(goal.metric, goal.target, _.lang),
        )
    else:
        what = bk.escape(goal.text or "")
    line = _("coaching.goal_line", id=goal.id, what=what, due=day(goal.due_on, _.lang))
    if goal.status != GOAL_OPEN:
        return (
            line
            + "\n"
            + _("coaching.goal_done", day=formats.day(_.lang, progress.done_on) if progress.done_on else "")
        )
    if goal.kind == "kpi":
        if not progress.available:
            status = _("coaching.progress_unavailable")
        elif progress.value is None:
            status = _("coaching.progress_no_data", days=coaching.PROGRESS_DAYS)
        else:
            status = _(
                "coaching.progress_met" if progress.met else "coaching.progress_not_met",
                days=coaching.PROGRESS_DAYS,
                value=fmt_metric(goal.metric or "", progress.value, _.lang),
            )
        line += "\n" + status
    if progress.overdue:
        line += "\n" + _("coaching.goal_overdue")
    return line


def goals_blocks(
    _: Translator, *, agent_id: str, goals: list[coaching.GoalProgress]
) -> list[bk.Block]:
    out = [bk.section(_("coaching.goals_title", agent=bk.mention(agent_id)))]
    if not goals:
        out.append(bk.context(_("coaching.goals_none")))
    for progress in goals[:40]:
        out.append(bk.section(goal_line(_, progress)))
    return out


def help_blocks(_: Translator) -> list[bk.Block]:
    return [bk.section(_("coaching.help"))]


def permalink(domain: str | None, channel: str | None, ts: str | None) -> str | None:
    if not channel or not ts:
        return None
    host = f"{domain}.slack.com" if domain and domain.replace("-", "").isalnum() else "slack.com"
    return f"https://{host}/archives/{channel}/p{ts.replace('.', '')}"


def note_modal(
    _: Translator, *, agent_id: str | None, link: str | None, excerpt: str, channel: str | None
) -> bk.Block:
    blocks: list[bk.Block] = []
    if excerpt:
        where = bk.channel_link(channel) if channel else ""
        blocks.append(
            bk.context(_("coaching.modal_from", channel=where, text=bk.escape(excerpt[:EXCERPT])))
        )
    blocks += [
        bk.user_input(Id.AGENT, _("coaching.modal_agent"), initial=agent_id),
        bk.text_input(
            Id.NOTE, _("coaching.modal_note"), multiline=True, max_length=coaching.NOTE_MAX
        ),
        {
            "type": "input",
            "block_id": Id.TAGS,
            "optional": True,
            "label": bk.plain(_("coaching.modal_tags")),
            "element": {
                "type": "checkboxes",
                "action_id": "value",
                "options": [bk.option(f"#{tag}", tag) for tag in coaching.TAGS],
            },
        },
        {
            "type": "input",
            "block_id": Id.FOLLOW_UP,
            "optional": True,
            "label": bk.plain(_("coaching.modal_follow_up")),
            "element": {"type": "datepicker", "action_id": "value"},
        },
        bk.text_input(
            Id.LINK, _("coaching.modal_link"), optional=True, initial=link, max_length=1000
        ),
    ]
    return bk.modal(
        _("coaching.modal_title"),
        blocks,
        callback_id=Id.NOTE_MODAL,
        submit=_("common.save"),
        close=_("common.cancel"),
    )


# ----- listeners ----------------------------------------------------------------------
def _agent_team(session: Session, req: Req, agent_id: str) -> Team:
    return coaching.coaching_team(
        session, workspace_id=req.workspace_id, leader_id=req.user_id, agent_id=agent_id
    )


def one_agent(text: str) -> tuple[str, str]:
    mentions, rest = split_leading_mentions(text)
    if not mentions:
        raise InvalidInput("coaching.usage")
    if len(mentions) > 1:
        raise InvalidInput("coaching.one_agent")
    return mentions[0], slack_to_plain(rest)


def add_note(req: Req, reply: Reply, agent_id: str, text: str) -> None:
    _ = req._
    now = req.rt.clock.now()
    with req.rt.transaction() as session:
        team = _agent_team(session, req, agent_id)
        parsed = coaching.parse_note(text, today=coaching.local_today(team, now), lang=req.lang)
        note = coaching.add_note(
            session,
            team=team,
            author_id=req.user_id,
            agent_id=agent_id,
            text=parsed.text,
            tags=parsed.tags,
            now=now,
            follow_up_on=parsed.follow_up_on,
        )
        extra = []
        if note.tags:
            extra.append(tags_text(_, note.tags))
        if note.follow_up_on:
            extra.append(_("coaching.saved_follow_up", day=day(note.follow_up_on, _.lang)))
    text_out = _("coaching.saved", agent=bk.mention(agent_id))
    if extra:
        text_out += " " + " · ".join(extra)
    reply.ephemeral(text_out)


def show_notes(req: Req, reply: Reply, agent_id: str) -> None:
    _ = req._
    with req.rt.transaction(readonly=True) as session:
        team = _agent_team(session, req, agent_id)
        page = coaching.list_notes(session, team=team, leader_id=req.user_id, agent_id=agent_id)
        out = notes_blocks(_, team=team, agent_id=agent_id, page=page, older=False)
    reply.ephemeral(_("coaching.notes_fallback"), out)


def add_goal(req: Req, reply: Reply, text: str) -> None:
    _ = req._
    agent_id, rest = one_agent(text)
    now = req.rt.clock.now()
    with req.rt.transaction() as session:
        team = _agent_team(session, req, agent_id)
        spec = coaching.parse_goal(rest, today=coaching.local_today(team, now), lang=req.lang)
        goal = coaching.add_goal(
            session, team=team, author_id=req.user_id, agent_id=agent_id, spec=spec, now=now
        )
        line = goal_line(_, coaching.measure(session, team, goal, now))
    reply.ephemeral(_("coaching.goal_saved", agent=bk.mention(agent_id)) + "\n" + line)


def show_goals(req: Req, reply: Reply, text: str) -> None:
    _ = req._
    agent_id, _rest = one_agent(text)
    now = req.rt.clock.now()
    with req.rt.transaction(readonly=True) as session:
        team = _agent_team(session, req, agent_id)
        goals = coaching.list_goals(
            session, team=team, leader_id=req.user_id, agent_id=agent_id, now=now
        )
        out = goals_blocks(_, agent_id=agent_id, goals=goals)
    reply.ephemeral(_("coaching.goals_fallback"), out)


def close_goal(req: Req, reply: Reply, text: str) -> None:
    _ = req._
    goal_id = coaching.parse_goal_id(text)
    with req.rt.transaction() as session:
        goal: Goal = coaching.close_goal(
            session,
            workspace_id=req.workspace_id,
            leader_id=req.user_id,
            goal_id=goal_id,
            now=req.rt.clock.now(),
        )
        agent_id = goal.agent_id
    reply.ephemeral(_("coaching.goal_closed", id=goal_id, agent=bk.mention(agent_id)))


def handle_coach_command(req: Req, reply: Reply) -> None:
    _ = req._
    parts = req.text.split(None, 1)
    verb = keywords.canonical("coaching", parts[0]) if parts else "help"
    rest = parts[1] if len(parts) > 1 else ""
    if verb == "help":
        reply.ephemeral(_("coaching.help_title"), help_blocks(_))
    elif verb == "goal":
        add_goal(req, reply, rest)
    elif verb == "goals":
        show_goals(req, reply, rest)
    elif verb == "done":
        close_goal(req, reply, rest)
    else:
        agent_id, note = one_agent(req.text)
        if note:
            add_note(req, reply, agent_id, note)
        else:
            show_notes(req, reply, agent_id)


def handle_older_button(req: Req, reply: Reply) -> None:
    _ = req._
    value = action_value(req.body)
    try:
        team_id, agent_id, before = as_id(value["t"]), str(value["a"]), as_id(value["b"])
    except (KeyError, TypeError, ValueError):
        raise InvalidInput("coaching.usage") from None
    if not team_id or not before:
        raise InvalidInput("coaching.usage")
    with req.rt.transaction(readonly=True) as session:
        team = team_store.get_team(session=session, team_id=team_id)
        if team is None or team.workspace_id != req.workspace_id:
            raise NotFound("coaching.not_your_agent")
        page = coaching.list_notes(
            session, team=team, leader_id=req.user_id, agent_id=agent_id, before_id=before
        )
        out = notes_blocks(_, team=team, agent_id=agent_id, page=page, older=True)
    reply.ephemeral(_("coaching.notes_fallback"), out)


def handle_log_note_shortcut(req: Req, reply: Reply) -> None:
    _ = req._
    body = req.body
    with req.rt.transaction(readonly=True) as session:
        leads = team_store.teams_led_by(
            session=session, workspace_id=req.workspace_id, user_id=req.user_id
        )
    if not leads:
        raise NotAllowed("coaching.leaders_only")
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id")
    link = permalink((body.get("team") or {}).get("domain"), channel, message.get("ts"))
    author = message.get("user")
    agent = author if isinstance(author, str) and author != req.user_id else None
    reply.open_modal(
        note_modal(
            _, agent_id=agent, link=link, excerpt=str(message.get("text") or ""), channel=channel
        )
    )


def handle_note_submit(req: Req, reply: Reply) -> None:
    _ = req._
    values = form_values(req.body.get("view") or {})
    agent_id = values.get(Id.AGENT)
    if not agent_id:
        raise InvalidInput("coaching.modal_need_agent", field=Id.AGENT)
    now = req.rt.clock.now()
    with req.rt.transaction() as session:
        try:
            team = _agent_team(session, req, str(agent_id))
        except (NotAllowed, InvalidInput) as exc:
            raise InvalidInput(exc.key, field=Id.AGENT, **exc.params) from None
        today = coaching.local_today(team, now)
        try:
            parsed = coaching.parse_note(values.get(Id.NOTE) or "", today=today, lang=req.lang)
        except InvalidInput as exc:
            raise InvalidInput(exc.key, field=Id.NOTE, **exc.params) from None
        follow_up = parsed.follow_up_on
        if values.get(Id.FOLLOW_UP):
            try:
                follow_up = coaching.check_follow_up(
                    coaching.parse_day(str(values[Id.FOLLOW_UP]), lang=req.lang, today=today), today, req.lang
                )
            except InvalidInput as exc:
                raise InvalidInput(exc.key, field=Id.FOLLOW_UP, **exc.params) from None
        coaching.add_note(
            session,
            team=team,
            author_id=req.user_id,
            agent_id=str(agent_id),
            text=parsed.text,
            tags=[*parsed.tags, *(values.get(Id.TAGS) or [])],
            now=now,
            follow_up_on=follow_up,
            source_link=values.get(Id.LINK),
        )
    reply.view_update(
        notice_modal(
            _("coaching.modal_title"), _("coaching.saved", agent=bk.mention(str(agent_id)))
        )
    )


# ----- outbox renderer ----------------------------------------------------------------
def render_follow_up(session: Session, msg: OutboxMessage) -> SlackCall | None:
    note = store.get_note(session=session, note_id=int(msg.data.get("note_id") or 0))
    if note is None:
        return None
    team = team_store.get_team(session=session, team_id=note.team_id)
    if team is None or not teams.is_leader(session, team, note.author_id):
        return None  # the author no longer leads the team: the note is not theirs to see
    _ = Translator(team.language)
    text = _(
        "coaching.reminder",
        agent=bk.mention(note.agent_id),
        day=noted_on(_, note, team.timezone),
    )
    blocks = [bk.section(text), *note_blocks(_, note, team.timezone)]
    return SlackCall(
        "chat.postMessage",
        {"channel": note.author_id, "text": bk.truncate(text, 3000), "blocks": blocks},
    )


def register(app: App, rt: Runtime) -> None:
    app.command(Id.COMMAND)(command(rt, handle_coach_command))
    app.action(Id.OLDER)(action(rt, handle_older_button))
    app.shortcut(Id.SHORTCUT)(shortcut(rt, handle_log_note_shortcut))
    app.view(Id.NOTE_MODAL)(view(rt, handle_note_submit))
    rt.outbox.kinds.register(coaching.FOLLOW_UP_KIND, render_follow_up)
