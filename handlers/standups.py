"""`/standup`: schedules, questions, pause/resume/skip/now, member time zones; the Answer
button and modal; and the outbox renderers for the day's message, prompts, reminders,
answers in the thread (updated in place when edited), the cutoff summary and blocker DMs."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import App
from sqlmodel import Session

from supportbot.bot import dates, formats, keywords, standups, teams
from supportbot.bot.errors import InvalidInput, NotFound
from supportbot.bot.i18n import Translator
from supportbot.bot.outbox import Deferred, SlackCall, enqueue, enqueue_call
from supportbot.bot.ratelimits import POST_MESSAGE, posting_minutes
from supportbot.bot.runtime import Runtime
from supportbot.bot.timeutil import is_timezone, zone
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
    parse_channel,
    view,
)
from supportbot.storage import standups as store
from supportbot.storage import teams as team_store
from supportbot.storage.models import OutboxMessage, Team
from supportbot.storage.standups import StandupPrompt, StandupRun

log = logging.getLogger(__name__)


class Id:
    """Every Slack id this feature uses."""

    COMMAND = "/standup"
    ANSWER = "standups.answer"
    ANSWER_MODAL = "standups.answer_modal"
    QUESTIONS_MODAL = "standups.questions_modal"
    QUESTIONS = "standups.questions"
    BLOCKER_QUESTION = "standups.blocker_question"
    BLOCKER = "standups.blocker"
    MOOD = "standups.mood"


MOODS = {1: ":weary:", 2: ":slightly_frowning_face:", 3: ":neutral_face:", 4: ":slightly_smiling_face:", 5: ":star-struck:"}
MOOD_VALUES = {str(m) for m in MOODS}



# ----- pure renderers -----------------------------------------------------------------
def local_hhmm(when: Any, tz: str) -> str:
    return when.astimezone(zone(tz)).strftime("%H:%M")


def run_title(_: Translator, team_name: str, run: StandupRun) -> str:
    return _("standups.run_title", team=bk.escape(team_name), day=formats.day(_.lang, run.day))


def run_blocks(_: Translator, team: Team, run: StandupRun) -> tuple[str, list[bk.Block]]:
    title = run_title(_, team.name, run)
    return title, [
        bk.section(title),
        bk.context(_("standups.run_open", closes=local_hhmm(run.closes_at, team.timezone), tz=team.timezone)),
    ]


def summary_blocks(_: Translator, team: Team, s: standups.Summary) -> tuple[str, list[bk.Block]]:
    title = run_title(_, team.name, s.run)
    none = _("standups.nobody")
    lines = [
        _("standups.summary_answered", count=len(s.answered), people=", ".join(bk.mention(p.user_id) for p in s.answered) or none),
        _("standups.summary_missing", count=len(s.missing), people=", ".join(bk.mention(u) for u in s.missing) or none),
    ]
    if s.away:
        lines.append(_("standups.summary_away", people=", ".join(bk.mention(u) for u in s.away)))
    if s.blockers:
        lines.append(_("standups.summary_blockers", people=", ".join(bk.mention(p.user_id) for p in s.blockers)))
    return title, [bk.section(title), bk.section("\n".join(lines)), bk.context(_("standups.closed_note"))]


def answer_blocks(_: Translator, run: StandupRun, prompt: StandupPrompt, *, edited: bool = False) -> tuple[str, list[bk.Block]]:
    head = _("standups.answer_head", user=bk.mention(prompt.user_id))
    out: list[bk.Block] = [bk.section(head)]
    for question, text in zip(run.questions, prompt.answers or [], strict=False):
        if text:
            out.append(bk.section(f"*{bk.escape(question)}*\n{bk.escape(text)}"))
    if run.blocker_question and prompt.blocker:
        if standups.is_blocker(prompt.blocker):
            out.append(bk.section(_("standups.answer_blocker", text=bk.escape(prompt.blocker))))
        else:
            out.append(bk.section(f"*{bk.escape(run.blocker_question)}*\n{bk.escape(prompt.blocker)}"))
    notes = []
    if prompt.mood:
        notes.append(_("standups.answer_mood", mood=MOODS.get(prompt.mood, ""), value=prompt.mood))
    if edited:
        notes.append(_("standups.edited"))
    if notes:
        out.append(bk.context(" · ".join(notes)))
    return head, out


def prompt_blocks(_: Translator, team: Team, run: StandupRun, prompt: StandupPrompt, *, reminder: bool = False) -> tuple[str, list[bk.Block]]:
    key = "standups.reminder_text" if reminder else "standups.prompt_text"
    text = _(key, team=bk.escape(team.name), day=formats.day(_.lang, run.day))
    return text, [
        bk.section(text),
        bk.actions(bk.button(_("standups.answer_button"), Id.ANSWER, {"prompt_id": prompt.id}, style="primary")),
    ]


def answered_dm_blocks(_: Translator, prompt: StandupPrompt, tz: str) -> tuple[str, list[bk.Block]]:
    text = _("standups.answered_dm", until=local_hhmm(prompt.cutoff_at, tz))
    return text, [
        bk.section(text),
        bk.actions(bk.button(_("standups.edit_button"), Id.ANSWER, {"prompt_id": prompt.id})),
    ]


def answer_modal(_: Translator, run: StandupRun, prompt: StandupPrompt) -> bk.Block:
    out: list[bk.Block] = [bk.context(_("standups.modal_intro", day=formats.day(_.lang, run.day)))]
    previous = prompt.answers or []
    for i, question in enumerate(run.questions):
        out.append(
            bk.text_input(f"standups.q{i}", question, multiline=True, optional=True,
                          initial=previous[i] if i < len(previous) else None, max_length=standups.ANSWER_MAX)
        )
    if run.blocker_question:
        out.append(bk.text_input(Id.BLOCKER, run.blocker_question, multiline=True, optional=True,
                                 initial=prompt.blocker, max_length=standups.ANSWER_MAX,
                                 placeholder=_("standups.blocker_placeholder")))
    choices = [(f"{i} {MOODS[i]}", str(i)) for i in range(1, 6)]
    out.append(bk.select_input(Id.MOOD, _("standups.mood_label"), choices, optional=True,
                               initial=str(prompt.mood) if prompt.mood else None))
    return bk.modal(_("standups.modal_title"), out, callback_id=Id.ANSWER_MODAL,
                    submit=_("standups.submit"), close=_("standups.cancel"),
                    private_metadata={"prompt_id": prompt.id})


def questions_modal(_: Translator, team: Team, schedule: Any) -> bk.Block:
    return bk.modal(
        _("standups.questions_title"),
        [
            bk.text_input(Id.QUESTIONS, _("standups.questions_label"), multiline=True, optional=True,
                          initial="\n".join(schedule.questions), max_length=2000),
            bk.text_input(Id.BLOCKER_QUESTION, _("standups.blocker_question_label"), optional=True,
                          initial=schedule.blocker_question, max_length=standups.QUESTION_MAX),
        ],
        callback_id=Id.QUESTIONS_MODAL, submit=_("standups.save"), close=_("standups.cancel"),
        private_metadata={"team_id": team.id},
    )


# ----- listeners ----------------------------------------------------------------------
def _team(req: Req, session: Session, team_name: str | None, *, leader_only: bool) -> Team:
    return teams.team_for_request(
        session, workspace_id=req.workspace_id, user_id=req.user_id, channel_id=req.channel_id,
        team_name=team_name, leader_only=leader_only,
    )


def handle_standup_command(req: Req, reply: Reply) -> None:
    _ = req._
    text, team_name = keywords.take_option("standups", "team_option", req.text)
    words = text.split()
    verb = keywords.canonical("standups", words[0]) if words else "help"
    rest = words[1:]
    now = req.rt.clock.now()
    if verb == "help":
        reply.ephemeral(_("standups.help_title"), [bk.section(_("standups.help"))])
    elif verb == "schedule":
        schedule_command(req, reply, rest, team_name)
    elif verb == "questions" and not rest:
        with req.rt.transaction(readonly=True) as session:
            team = _team(req, session, team_name, leader_only=True)
            schedule = standups.leader_schedule(session, team=team, leader_id=req.user_id)
            modal = questions_modal(_, team, schedule)
        reply.open_modal(modal)
    elif verb in ("pause", "resume") and not rest:
        with req.rt.transaction() as session:
            team = _team(req, session, team_name, leader_only=True)
            row = standups.set_paused(session, team=team, leader_id=req.user_id, paused=verb == "pause", now=now)
            schedule_id, name = row.id, team.name
        key = "standups.paused" if verb == "pause" else "standups.resumed"
        reply.ephemeral(_(key, team=bk.escape(name)))
        standups.reschedule(req.rt, [schedule_id or 0])
    elif verb == "skip" and rest:
        with req.rt.transaction() as session:
            team = _team(req, session, team_name, leader_only=True)
            today = now.astimezone(zone(team.timezone)).date()
            read = dates.read_day(" ".join(rest), lang=req.lang, today=today)
            standups.skip_day(session, team=team, leader_id=req.user_id, day=read.start, now=now, lang=req.lang)
            name = team.name
        day = dates.span_in_words(read, req.lang, today=today)
        reply.ephemeral(_("standups.skipped", team=bk.escape(name), day=day))
    elif verb == "now" and not rest:
        with req.rt.transaction() as session:
            team = _team(req, session, team_name, leader_only=True)
            count = standups.start_now(session, team=team, leader_id=req.user_id, clock=req.rt.clock)
        minutes = posting_minutes(count)
        if minutes is None:
            reply.ephemeral(_("standups.started", count=count))
        else:  # a big team: say when the last prompt arrives
            reply.ephemeral(_("standups.started_paced", count=count, rate=int(POST_MESSAGE.per_minute), minutes=minutes))
    elif verb == "timezone" and len(rest) <= 1:
        timezone_command(req, reply, rest)
    elif verb == "status" and not rest:
        status_command(req, reply, team_name)
    else:
        raise InvalidInput("standups.usage")


def schedule_command(req: Req, reply: Reply, args: list[str], team_name: str | None) -> None:
    _ = req._
    if len(args) not in (2, 3, 4):
        raise InvalidInput("standups.usage")
    if not re.fullmatch(r"[^\W\d_][\w,-]{2,60}", args[0]):
        raise InvalidInput("standups.bad_days")
    if not re.fullmatch(r"\d{1,2}:\d{2}", args[1]):
        raise InvalidInput("common.bad_time", value=bk.escape(args[1][:20]))
    channel_id = None
    cutoff = None
    for extra in args[2:]:
        if keywords.take_option("standups", "cutoff_option", extra)[1] is not None:
            cutoff = extra.split(":", 1)[1]
            if not re.fullmatch(r"\d{1,4}[mh]?", cutoff):
                raise InvalidInput("standups.bad_cutoff")
        elif parse_channel(extra):
            channel_id = parse_channel(extra)
        else:
            raise InvalidInput("standups.usage")
    now = req.rt.clock.now()
    with req.rt.transaction() as session:
        team = _team(req, session, team_name, leader_only=True)
        row = standups.set_schedule(
            session, team=team, leader_id=req.user_id, days=args[0], at=args[1],
            channel_id=channel_id, cutoff=cutoff, now=now,
        )
        schedule_id = row.id or 0
        # Members' zones come from users.list pages sent by the outbox after the answer.
        standups.queue_zone_sync(session, team=team, clock=req.rt.clock)
        text = _("standups.scheduled", team=bk.escape(team.name), days=row.days, time=row.time,
                 channel=bk.channel_link(standups.channel_of(row, team)), cutoff=row.cutoff_minutes)
    reply.ephemeral(text)
    standups.reschedule(req.rt, [schedule_id])


def timezone_command(req: Req, reply: Reply, args: list[str]) -> None:
    _ = req._
    now = req.rt.clock.now()
    if not args:
        with req.rt.transaction(readonly=True) as session:
            row = store.timezone_of(session=session, workspace_id=req.workspace_id, user_id=req.user_id)
        if row is None:
            reply.ephemeral(_("standups.tz_none"))
        else:
            reply.ephemeral(_("standups.tz_current", tz=bk.escape(row.timezone)))
        return
    tz = args[0]
    if not is_timezone(tz):
        raise InvalidInput("common.bad_timezone", value=bk.escape(tz[:64]))
    with req.rt.transaction() as session:
        standups.set_member_timezone(session, workspace_id=req.workspace_id, user_id=req.user_id, tz=tz, source="user", now=now)
        ids = standups.schedules_of_user(session, workspace_id=req.workspace_id, user_id=req.user_id)
    reply.ephemeral(_("standups.tz_set", tz=bk.escape(tz)))
    standups.reschedule(req.rt, ids)


def status_command(req: Req, reply: Reply, team_name: str | None) -> None:
    _ = req._
    with req.rt.transaction(readonly=True) as session:
        team = _team(req, session, team_name, leader_only=False)
        row = store.schedule_of_team(session=session, team_id=team.id or 0)
        if row is None:
            raise NotFound("standups.no_schedule", team=team.name)
        text = _("standups.status", team=bk.escape(team.name), days=row.days, time=row.time,
                 channel=bk.channel_link(standups.channel_of(row, team)), cutoff=row.cutoff_minutes,
                 state=_("standups.state_paused") if row.paused else _("standups.state_active"),
                 skips=", ".join(row.skip_days) or "-")
    reply.ephemeral(text)


def handle_answer_button(req: Req, reply: Reply) -> None:
    prompt_id = as_id(action_value(req.body).get("prompt_id"))
    with req.rt.transaction(readonly=True) as session:
        prompt, run = standups.answerable(session, prompt_id=prompt_id, user_id=req.user_id, now=req.rt.clock.now())
        modal = answer_modal(req._, run, prompt)
    reply.open_modal(modal)


def handle_answer_submit(req: Req, reply: Reply) -> None:
    view_body = req.body.get("view") or {}
    values = form_values(view_body)
    prompt_id = as_id(metadata(view_body).get("prompt_id"))
    answers = [values.get(f"standups.q{i}") or "" for i in range(standups.MAX_QUESTIONS)]
    mood_raw = values.get(Id.MOOD)
    with req.rt.transaction() as session:
        prompt = store.get_prompt(session=session, prompt_id=prompt_id)
        run = store.get_run(session=session, run_id=prompt.run_id) if prompt else None
        count = len(run.questions) if run else 0
        done = standups.answer(
            session, prompt_id=prompt_id, user_id=req.user_id, answers=answers[:count],
            blocker=values.get(Id.BLOCKER), mood=int(mood_raw) if mood_raw in MOOD_VALUES else None,
            clock=req.rt.clock,
        )
        team = team_store.get_team(session=session, team_id=done.run.team_id)
        if done.prompt.dm_ts and done.prompt.dm_channel and team is not None:
            text, out = answered_dm_blocks(Translator(team.language), done.prompt, team.timezone)
            enqueue_call(
                session, workspace_id=done.prompt.workspace_id, method="chat.update",
                args={"channel": done.prompt.dm_channel, "ts": done.prompt.dm_ts, "text": text, "blocks": out},
                clock=req.rt.clock, dedupe_key=f"standup:dm:{prompt_id}:v{done.prompt.version}",
            )


def handle_questions_submit(req: Req, reply: Reply) -> None:
    view_body = req.body.get("view") or {}
    values = form_values(view_body)
    team_id = as_id(metadata(view_body).get("team_id"))
    questions = (values.get(Id.QUESTIONS) or "").splitlines()
    with req.rt.transaction() as session:
        team = team_store.get_team(session=session, team_id=team_id)
        if team is None or team.workspace_id != req.workspace_id:
            raise NotFound("standups.no_schedule", team="?")
        standups.set_questions(
            session, team=team, leader_id=req.user_id, questions=questions,
            blocker_question=values.get(Id.BLOCKER_QUESTION), now=req.rt.clock.now(),
        )


# ----- outbox renderers ---------------------------------------------------------------
def _load_run(session: Session, run_id: int) -> tuple[StandupRun, Team, Translator] | None:
    run = store.get_run(session=session, run_id=run_id)
    team = team_store.get_team(session=session, team_id=run.team_id) if run else None
    if run is None or team is None:
        return None
    return run, team, Translator(team.language)


def _prompt_of(session: Session, msg: OutboxMessage) -> StandupPrompt | None:
    return store.get_prompt(session=session, prompt_id=int(msg.data.get("prompt_id") or 0))


def _load_prompt(session: Session, msg: OutboxMessage) -> tuple[StandupPrompt, StandupRun, Team, Translator] | None:
    prompt = _prompt_of(session, msg)
    loaded = _load_run(session, prompt.run_id) if prompt else None
    if prompt is None or loaded is None:
        return None
    return (prompt, *loaded)


def render_post(session: Session, msg: OutboxMessage) -> SlackCall | None:
    loaded = _load_run(session, int(msg.data.get("run_id") or 0))
    if loaded is None:
        return None
    run, team, _ = loaded
    text, out = run_blocks(_, team, run)
    return SlackCall("chat.postMessage", {"channel": run.channel_id, "text": text, "blocks": out})


def _remember(session: Session, row: StandupRun | StandupPrompt | None, **values: Any) -> None:
    """Keep what Slack answered (a message ts, a DM channel) on the row, if it still exists."""
    if row is not None:
        for name, value in values.items():
            setattr(row, name, value)
        session.add(row)


def after_post(session: Session, msg: OutboxMessage, response: dict[str, Any]) -> None:
    run = store.get_run(session=session, run_id=int(msg.data.get("run_id") or 0))
    _remember(session, run, ts=response.get("ts"))


def render_prompt(session: Session, msg: OutboxMessage) -> SlackCall | None:
    loaded = _load_prompt(session, msg)
    if loaded is None:
        return None
    prompt, run, team, _ = loaded
    reminder = msg.kind == standups.REMINDER_KIND
    if run.closed or prompt.answered_at is not None:
        return None
    text, out = prompt_blocks(_, team, run, prompt, reminder=reminder)
    return SlackCall("chat.postMessage", {"channel": prompt.user_id, "text": text, "blocks": out})


def after_prompt(session: Session, msg: OutboxMessage, response: dict[str, Any]) -> None:
    _remember(session, _prompt_of(session, msg), dm_channel=response.get("channel"), dm_ts=response.get("ts"))


def render_answer(session: Session, msg: OutboxMessage) -> SlackCall | None:
    loaded = _load_prompt(session, msg)
    if loaded is None:
        return None
    prompt, run, _team, _ = loaded
    if run.ts is None:
        raise Deferred()
    text, out = answer_blocks(_, run, prompt, edited=prompt.version > 1)
    return SlackCall("chat.postMessage", {"channel": run.channel_id, "thread_ts": run.ts, "text": text, "blocks": out})


def after_answer(session: Session, msg: OutboxMessage, response: dict[str, Any]) -> None:
    _remember(session, _prompt_of(session, msg), reply_ts=response.get("ts"))


def render_answer_update(session: Session, msg: OutboxMessage) -> SlackCall | None:
    loaded = _load_prompt(session, msg)
    if loaded is None:
        return None
    prompt, run, _team, _ = loaded
    if int(msg.data.get("version") or 0) < prompt.version:
        return None  # a later edit will show the latest text
    if prompt.reply_ts is None:
        raise Deferred()  # the first post is still on its way (it will show this text)
    text, out = answer_blocks(_, run, prompt, edited=True)
    return SlackCall("chat.update", {"channel": run.channel_id, "ts": prompt.reply_ts, "text": text, "blocks": out})


def render_summary(session: Session, msg: OutboxMessage) -> SlackCall | None:
    loaded = _load_run(session, int(msg.data.get("run_id") or 0))
    if loaded is None:
        return None
    run, team, _ = loaded
    if run.ts is None:
        raise Deferred()
    text, out = summary_blocks(_, team, standups.summary(session, run))
    return SlackCall("chat.update", {"channel": run.channel_id, "ts": run.ts, "text": text, "blocks": out})


def render_blocker(session: Session, msg: OutboxMessage) -> SlackCall | None:
    loaded = _load_prompt(session, msg)
    if loaded is None or not standups.is_blocker(loaded[0].blocker):
        return None
    prompt, run, team, _ = loaded
    text = _("standups.blocker_dm", user=bk.mention(prompt.user_id), team=bk.escape(team.name))
    out = [bk.section(text), bk.section(f"> {bk.escape(prompt.blocker)}".replace("\n", "\n> "))]
    if run.ts:
        out.append(bk.context(_("standups.blocker_where", channel=bk.channel_link(run.channel_id))))
    return SlackCall("chat.postMessage", {"channel": str(msg.data.get("leader_id")), "text": text, "blocks": out})


USERS_PAGE = 200  # Slack's advice for users.list pages (docs.slack.dev/apis/web-api/pagination)


def render_zones(session: Session, msg: OutboxMessage) -> SlackCall | None:
    if not msg.data.get("missing"):
        return None
    args: dict[str, Any] = {"limit": USERS_PAGE}
    if msg.data.get("cursor"):
        args["cursor"] = msg.data["cursor"]
    return SlackCall("users.list", args)


def make_after_zones(rt: Runtime) -> Any:
    def after_zones(session: Session, msg: OutboxMessage, response: dict[str, Any]) -> None:
        """Store this page's zones; queue the next page while members are still missing.
        The stand-up jobs pick the new zones up at their next check (bot.standups.check)."""
        missing = standups.apply_zone_page(
            session, workspace_id=msg.workspace_id, missing=list(msg.data.get("missing") or []),
            members=list(response.get("members") or []), now=rt.clock.now(),
        )
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or ""
        if missing and cursor:
            page = int(msg.data.get("page") or 1) + 1
            key = (msg.dedupe_key or f"standup:zones:{msg.id}").rsplit(":", 1)[0]
            enqueue(
                session, workspace_id=msg.workspace_id, kind=standups.ZONES_KIND,
                data={**msg.data, "cursor": cursor, "page": page, "missing": missing},
                clock=rt.clock, dedupe_key=f"{key}:{page}",
            )

    return after_zones


def register(app: App, rt: Runtime) -> None:
    app.command(Id.COMMAND)(command(rt, handle_standup_command))
    app.action(Id.ANSWER)(action(rt, handle_answer_button))
    app.view(Id.ANSWER_MODAL)(view(rt, handle_answer_submit))
    app.view(Id.QUESTIONS_MODAL)(view(rt, handle_questions_submit))
    kinds = rt.outbox.kinds
    kinds.register(standups.POST_KIND, render_post, after_post)
    kinds.register(standups.PROMPT_KIND, render_prompt, after_prompt)
    kinds.register(standups.REMINDER_KIND, render_prompt)
    kinds.register(standups.ANSWER_KIND, render_answer, after_answer)
    kinds.register(standups.ANSWER_UPDATE_KIND, render_answer_update)
    kinds.register(standups.SUMMARY_KIND, render_summary)
    kinds.register(standups.BLOCKER_KIND, render_blocker)
    kinds.register(standups.ZONES_KIND, render_zones, make_after_zones(rt))
