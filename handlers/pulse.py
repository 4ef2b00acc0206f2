"""`/pulse`: schedule, questions, now, pause/resume, threshold, status and results (leaders);
the member's Answer button and modal; the outbox renderers for the invitation and reminder
DMs (where each member's answer key is drawn: see `supportbot.bot.pulse`), the closed-DM
update, the weekly result post and the leader's alert."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

from slack_bolt import App
from sqlmodel import Session

from supportbot.bot import formats, keywords, pulse, teams
from supportbot.bot.errors import InvalidInput, NotFound
from supportbot.bot.i18n import Translator
from supportbot.bot.outbox import SlackCall
from supportbot.bot.runtime import Runtime
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
    notice_modal,
    view,
)
from supportbot.storage import pulse as store
from supportbot.storage import teams as team_store
from supportbot.storage.models import OutboxMessage, Team
from supportbot.storage.pulse import Pulse

log = logging.getLogger(__name__)


class Id:
    """Every Slack id this feature uses."""

    COMMAND = "/pulse"
    ANSWER = "pulse.answer"
    ANSWER_MODAL = "pulse.answer_modal"
    QUESTIONS_MODAL = "pulse.questions_modal"
    MOOD = "pulse.mood"
    WORKLOAD = "pulse.workload"
    ENPS = "pulse.enps"
    COMMENT = "pulse.comment"


MOOD_EMOJI = {1: ":weary:", 2: ":slightly_frowning_face:", 3: ":neutral_face:", 4: ":slightly_smiling_face:", 5: ":star-struck:"}
COMMENTS_SHOWN = 10
COMMENT_SHOWN_MAX = 500


# ----- formatting (pure) --------------------------------------------------------------
# Figures through bot/formats.py (Babel) in the reader's language: `3.6/5` / `3,6/5`.
def fmt_score(_: Translator, value: float | None, scale: int = 5) -> str:
    return formats.score(_.lang, value, scale)


def fmt_enps(_: Translator, value: float | None) -> str:
    return formats.score(_.lang, value, digits=0, sign=True)


def fmt_delta(_: Translator, name: str, delta: float | None) -> str:
    """`▲ +0.3` / `▲ +0,3`; for workload up is not good news, so no colour judgement there."""
    if delta is None:
        return ""
    if abs(delta) < 0.05:
        return _("pulse.same")
    arrow = "▲" if delta > 0 else "▼"
    return f"{arrow} {formats.number(_.lang, delta, 0 if name == 'enps' else 1, sign=True)}"


def days_text(_: Translator, days: str | None) -> str:
    """`fri` / `vie`, `mon,thu` / `lun,jue`: the stored days in the reader's words."""
    return ",".join(keywords.word(pulse.FEATURE, d, _.lang) for d in (days or "").split(",") if d)


def _with_change(text: str, change: str) -> str:
    return f"{text} ({change})" if change else text


def figures_line(_: Translator, r: pulse.Result, change: dict[str, float | None] | None = None) -> str:
    change = change or {}
    if not r.shown:
        return _("pulse.hidden", answered=r.answered, asked=r.asked, min=r.threshold)
    return " · ".join(
        [
            _with_change(_("pulse.fig_mood", value=fmt_score(_, r.mood)), fmt_delta(_, "mood", change.get("mood"))),
            _with_change(_("pulse.fig_workload", value=fmt_score(_, r.workload)), fmt_delta(_, "workload", change.get("workload"))),
            _with_change(_("pulse.fig_enps", value=fmt_enps(_, r.enps)), fmt_delta(_, "enps", change.get("enps"))),
            _("pulse.fig_answered", answered=r.answered, asked=r.asked),
        ]
    )


def distribution_text(_: Translator, r: pulse.Result) -> str:
    lines = []
    for key, scale in pulse.SCALES.items():
        counts = r.distribution.get(key) or []
        cells = "  ".join(f"{scale.start + i}: {n}" for i, n in enumerate(counts))
        lines.append(f"*{_(f'pulse.name_{key}')}*  `{cells}`")
    return "\n".join(lines)


def comments_blocks(_: Translator, r: pulse.Result) -> list[bk.Block]:
    if not r.shown or not r.comments:
        return []
    shown = r.comments[:COMMENTS_SHOWN]
    quoted = "\n".join("> " + bk.escape(bk.truncate(c, COMMENT_SHOWN_MAX)).replace("\n", "\n> ") for c in shown)
    out = [bk.section(f"*{_('pulse.comments_title')}*\n{quoted}")]
    if len(r.comments) > len(shown):
        out.append(bk.context(_("pulse.and_more", count=len(r.comments) - len(shown))))
    return out


def week_label(_: Translator, week: Any) -> str:
    return _("pulse.week_of", day=formats.day(_.lang, week))


def standup_line(_: Translator, w: pulse.Week, threshold: int) -> str | None:
    if not w.standup_people:
        return None
    if w.standup_mood is None:
        return _("pulse.standup_hidden", people=w.standup_people, min=threshold)
    return _with_change(
        _("pulse.standup_mood", value=fmt_score(_, w.standup_mood), people=w.standup_people),
        fmt_delta(_, "mood", w.change.get("standup_mood")),
    )


def trend_blocks(_: Translator, team: Team, weeks: list[pulse.Week], count: int) -> list[bk.Block]:
    threshold = pulse.min_answers(team)
    out: list[bk.Block] = [bk.header(_("pulse.results_title", team=team.name, weeks=count))]
    if not weeks:
        out.append(bk.section(_("pulse.no_results")))
        return out
    for w in weeks:
        lines = [f"*{week_label(_, w.week)}*"]
        if w.pulse is not None:
            lines.append(figures_line(_, w.pulse, w.change))
        line = standup_line(_, w, threshold)
        if line:
            lines.append(line)
        out.append(bk.section("\n".join(lines)))
    last = next((w.pulse for w in reversed(weeks) if w.pulse is not None and w.pulse.shown), None)
    if last is not None:
        out.append(bk.divider())
        out.append(bk.section(_("pulse.latest_detail", day=formats.day(_.lang, last.pulse.week)) + "\n" + distribution_text(_, last)))
        out.extend(comments_blocks(_, last))
    out.append(bk.context(_("pulse.anonymity_note", min=threshold)))
    return out


def result_post_blocks(_: Translator, team: Team, r: pulse.Result, previous: pulse.Result | None, week: pulse.Week | None = None) -> tuple[str, list[bk.Block]]:
    title = _("pulse.post_title", team=bk.escape(team.name), day=formats.day(_.lang, r.pulse.week))
    change: dict[str, float | None] = {}
    if r.shown and previous is not None:
        change = {k: (getattr(r, k) - getattr(previous, k)) if getattr(r, k) is not None and getattr(previous, k) is not None else None for k in ("mood", "workload", "enps")}
    out: list[bk.Block] = [bk.section(f"*{title}*\n{figures_line(_, r, change)}")]
    standup = standup_line(_, week, r.threshold) if week is not None else None
    if standup:
        out.append(bk.section(standup))
    if r.shown:
        out.append(bk.section(distribution_text(_, r)))
        out.extend(comments_blocks(_, r))
    out.append(bk.context(_("pulse.anonymity_note", min=r.threshold)))
    return title, out


def closes_text(_: Translator, when: datetime, tz: str) -> str:
    """`Sun 15:00` / `dom 15:00` in the team's zone (bot/formats.py)."""
    return formats.weekday_time(_.lang, when, tz)


def invite_blocks(_: Translator, team: Team, p: Pulse, key: str, *, reminder: bool) -> tuple[str, list[bk.Block]]:
    text = _("pulse.reminder_text" if reminder else "pulse.invite_text", team=bk.escape(team.name),
             closes=closes_text(_, p.closes_at, team.timezone), tz=team.timezone)
    return text, [
        bk.section(text),
        bk.actions(bk.button(_("pulse.answer_button"), Id.ANSWER, {"p": p.id, "k": key}, style="primary")),
        bk.context(_("pulse.invite_note")),
    ]


def answer_modal(_: Translator, found: pulse.Answerable, key: str) -> bk.Block:
    p, previous, lang = found.pulse, found.previous, _.lang
    mood = [(f"{i} {MOOD_EMOJI[i]} {_(f'pulse.mood_{i}')}", str(i)) for i in range(1, 6)]
    workload = [(f"{i} · {_(f'pulse.workload_{i}')}", str(i)) for i in range(1, 6)]
    enps = [(f"{i}" + (f" · {_('pulse.enps_0')}" if i == 0 else f" · {_('pulse.enps_10')}" if i == 10 else ""), str(i)) for i in range(11)]
    out: list[bk.Block] = [
        bk.context(_("pulse.modal_intro")),
        bk.select_input(Id.MOOD, pulse.question(p.questions, "mood", lang), mood,
                        initial=str(previous.mood) if previous else None),
        bk.select_input(Id.WORKLOAD, pulse.question(p.questions, "workload", lang), workload,
                        initial=str(previous.workload) if previous else None),
        bk.select_input(Id.ENPS, pulse.question(p.questions, "enps", lang), enps,
                        initial=str(previous.enps) if previous else None),
        bk.text_input(Id.COMMENT, pulse.question(p.questions, "comment", lang), multiline=True,
                      optional=True, initial=previous.comment if previous else None,
                      max_length=pulse.COMMENT_MAX),
    ]
    return bk.modal(_("pulse.modal_title"), out, callback_id=Id.ANSWER_MODAL, submit=_("pulse.submit"),
                    close=_("pulse.cancel"), private_metadata={"p": p.id, "k": key})


def questions_modal(_: Translator, team: Team, row: store.PulseSchedule) -> bk.Block:
    blocks: list[bk.Block] = [bk.context(_("pulse.questions_intro"))]
    for key in pulse.QUESTION_KEYS:
        blocks.append(
            bk.text_input(f"pulse.q_{key}", _(f"pulse.label_{key}"), optional=True,
                          initial=row.questions.get(key), max_length=pulse.QUESTION_MAX,
                          placeholder=pulse.question({}, key, team.language))
        )
    return bk.modal(_("pulse.questions_title"), blocks, callback_id=Id.QUESTIONS_MODAL,
                    submit=_("pulse.save"), close=_("pulse.cancel"), private_metadata={"team_id": team.id})


# ----- listeners ----------------------------------------------------------------------
def _team(req: Req, session: Session, team_name: str | None, *, leader_only: bool = True) -> Team:
    return teams.team_for_request(
        session, workspace_id=req.workspace_id, user_id=req.user_id, channel_id=req.channel_id,
        team_name=team_name, leader_only=leader_only,
    )


def handle_pulse_command(req: Req, reply: Reply) -> None:
    _ = req._
    text, team_name = keywords.take_option(pulse.FEATURE, "team_option", req.text)
    words = text.split()
    verb = pulse.verb_of(words[0]) if words else "help"
    rest = words[1:]
    now = req.rt.clock.now()
    if verb == "help" and not rest:
        reply.ephemeral(_("pulse.help_title"), [bk.section(_("pulse.help"))])
    elif verb == "schedule" and len(rest) == 2:
        if not re.fullmatch(r"\d{1,2}:\d{2}", rest[1]):
            raise InvalidInput("common.bad_time", value=bk.escape(rest[1][:20]))
        with req.rt.transaction() as session:
            team = _team(req, session, team_name)
            row = pulse.set_schedule(session, team=team, leader_id=req.user_id, days=rest[0], at=rest[1], now=now)
            said = _("pulse.scheduled", team=bk.escape(team.name), days=days_text(_, row.days), time=row.time,
                     tz=team.timezone, hours=row.open_hours)
        reply.ephemeral(said)
    elif verb == "questions" and not rest:
        with req.rt.transaction() as session:
            team = _team(req, session, team_name)
            row = pulse.leader_settings(session, team=team, leader_id=req.user_id, now=now)
            modal = questions_modal(_, team, row)
        reply.open_modal(modal)
    elif verb == "now" and not rest:
        with req.rt.transaction() as session:
            team = _team(req, session, team_name)
            p, asked = pulse.start_now(session, team=team, leader_id=req.user_id, clock=req.rt.clock)
            said = _("pulse.started", team=bk.escape(team.name), count=asked,
                     closes=closes_text(_, p.closes_at, team.timezone), tz=team.timezone)
        reply.ephemeral(said)
    elif verb in ("pause", "resume") and not rest:
        with req.rt.transaction() as session:
            team = _team(req, session, team_name)
            pulse.set_paused(session, team=team, leader_id=req.user_id, paused=verb == "pause", now=now)
            name = team.name
        reply.ephemeral(_("pulse.paused" if verb == "pause" else "pulse.resumed", team=bk.escape(name)))
    elif verb == "threshold" and len(rest) == 1:
        with req.rt.transaction() as session:
            team = _team(req, session, team_name)
            value = pulse.set_threshold(session, team=team, leader_id=req.user_id, text=rest[0])
            name = team.name
        reply.ephemeral(_("pulse.threshold_set", team=bk.escape(name), min=value))
    elif verb == "results" and len(rest) <= 1:
        weeks = pulse.parse_weeks(rest[0] if rest else None)
        with req.rt.transaction(readonly=True) as session:
            team = _team(req, session, team_name)
            rows = pulse.leader_trend(session, team=team, leader_id=req.user_id, weeks=weeks, now=now)
            out = trend_blocks(_, team, rows, weeks)
        reply.ephemeral(_("pulse.results_text", team=bk.escape(team.name)), out)
    elif verb == "status" and not rest:
        with req.rt.transaction(readonly=True) as session:
            team = _team(req, session, team_name)
            reply_text = status_text(req, session, team)
        reply.ephemeral(reply_text)
    else:
        raise InvalidInput("pulse.usage")


def status_text(req: Req, session: Session, team: Team) -> str:
    _ = req._
    teams.require_leader(session, team, req.user_id)
    row = store.schedule_of_team(session=session, team_id=team.id or 0)
    if row is None or row.days is None:
        when = _("pulse.not_scheduled")
    else:
        state = _("pulse.state_paused") if row.paused else _("pulse.state_active")
        when = _("pulse.schedule_line", days=days_text(_, row.days), time=row.time, tz=team.timezone, state=state)
    current, _last = pulse.latest(session, team=team)
    lines = [f"*{bk.escape(team.name)}*", when, _("pulse.threshold_line", min=pulse.min_answers(team))]
    if current is not None:
        lines.append(_("pulse.open_line", answered=current.answered, asked=current.asked,
                       closes=closes_text(_, current.pulse.closes_at, team.timezone), tz=team.timezone))
    return "\n".join(lines)


def handle_answer_button(req: Req, reply: Reply) -> None:
    value = action_value(req.body)
    key = pulse.check_key(value.get("k"))
    with req.rt.transaction(readonly=True) as session:
        found = pulse.answerable(session, pulse_id=as_id(value.get("p")), user_id=req.user_id, key=key,
                                 now=req.rt.clock.now())
        modal = answer_modal(Translator(found.team.language), found, key)
    reply.open_modal(modal)


def handle_answer_submit(req: Req, reply: Reply) -> None:
    view_body = req.body.get("view") or {}
    values = form_values(view_body)
    meta = metadata(view_body)
    answers = {
        "mood": values.get(Id.MOOD), "workload": values.get(Id.WORKLOAD), "enps": values.get(Id.ENPS),
        "comment": values.get(Id.COMMENT),
    }
    with req.rt.transaction() as session:
        first, found = pulse.answer(session, pulse_id=as_id(meta.get("p")), user_id=req.user_id,
                                    key=meta.get("k"), values=answers, clock=req.rt.clock)
        _ = Translator(found.team.language)
        closes = closes_text(_, found.pulse.closes_at, found.team.timezone)
        tz = found.team.timezone
    text = _("pulse.thanks" if first else "pulse.changed", closes=closes, tz=tz)
    reply.view_update(notice_modal(_("pulse.modal_title"), text))


def handle_questions_submit(req: Req, reply: Reply) -> None:
    view_body = req.body.get("view") or {}
    values = form_values(view_body)
    team_id = as_id(metadata(view_body).get("team_id"))
    with req.rt.transaction() as session:
        team = team_store.get_team(session=session, team_id=team_id)
        if team is None or team.workspace_id != req.workspace_id:
            raise NotFound("pulse.no_team")
        pulse.set_questions(
            session, team=team, leader_id=req.user_id,
            questions={k: values.get(f"pulse.q_{k}") for k in pulse.QUESTION_KEYS}, now=req.rt.clock.now(),
        )


# ----- outbox renderers ---------------------------------------------------------------
def _respondent(session: Session, msg: OutboxMessage) -> tuple[store.PulseRespondent, Pulse, Team] | None:
    r = store.get_respondent(session=session, respondent_id=int(msg.data.get("respondent_id") or 0))
    p = store.get_pulse(session=session, pulse_id=r.pulse_id) if r else None
    team = team_store.get_team(session=session, team_id=p.team_id) if p else None
    if r is None or p is None or team is None:
        return None
    return r, p, team


def render_invite(session: Session, msg: OutboxMessage) -> SlackCall | None:
    """The key is drawn here, at delivery: it goes to Slack in the button and nowhere else
    (the outbox row keeps only the respondent id)."""
    loaded = _respondent(session, msg)
    if loaded is None:
        return None
    r, p, team = loaded
    if p.closed or r.answered:
        return None
    text, out = invite_blocks(Translator(team.language), team, p, pulse.new_key(), reminder=msg.kind == pulse.REMINDER_KIND)
    return SlackCall("chat.postMessage", {"channel": r.user_id, "text": text, "blocks": out})


def after_invite(session: Session, msg: OutboxMessage, response: dict[str, Any]) -> None:
    r = store.get_respondent(session=session, respondent_id=int(msg.data.get("respondent_id") or 0))
    if r is None:
        return
    r.dm_channel = response.get("channel") or r.dm_channel
    if msg.kind == pulse.INVITE_KIND:
        r.dm_ts = response.get("ts")
    else:
        r.reminder_ts = response.get("ts")
    session.add(r)


def render_closed_dm(session: Session, msg: OutboxMessage) -> SlackCall | None:
    loaded = _respondent(session, msg)
    if loaded is None:
        return None
    r, _p, team = loaded
    ts = r.reminder_ts if msg.data.get("which") == "reminder" else r.dm_ts
    if not ts or not r.dm_channel:
        return None
    _ = Translator(team.language)
    text = _("pulse.closed_dm", team=bk.escape(team.name))
    return SlackCall("chat.update", {"channel": r.dm_channel, "ts": ts, "text": text, "blocks": [bk.section(text)]})


def render_results(session: Session, msg: OutboxMessage) -> SlackCall | None:
    p = store.get_pulse(session=session, pulse_id=int(msg.data.get("pulse_id") or 0))
    team = team_store.get_team(session=session, team_id=p.team_id) if p else None
    if p is None or team is None:
        return None
    r = pulse.result(session, p)
    previous = pulse.previous_shown(session, team=team, before=p)
    weeks = pulse.trend(session, team=team, weeks=2, now=max(p.closes_at, p.opened_at))
    week = next((w for w in weeks if w.week == p.week), None)
    text, out = result_post_blocks(Translator(team.language), team, r, previous, week)
    channel = team.digest_channel or team.escalation_channel
    return SlackCall("chat.postMessage", {"channel": channel, "text": text, "blocks": out})


def render_alert(session: Session, msg: OutboxMessage) -> SlackCall | None:
    p = store.get_pulse(session=session, pulse_id=int(msg.data.get("pulse_id") or 0))
    team = team_store.get_team(session=session, team_id=p.team_id) if p else None
    if p is None or team is None:
        return None
    _ = Translator(team.language)
    shown = pulse.shown_history(session, team=team)
    lines = [_("pulse.alert_title", team=bk.escape(team.name))]
    reasons = msg.data.get("reasons") or []
    if "workload" in reasons and len(shown) >= 3:
        lines.append(_("pulse.alert_workload", values=" → ".join(fmt_score(_, r.workload) for r in shown[-3:])))
    if "enps" in reasons and len(shown) >= 2:
        lines.append(_("pulse.alert_enps", before=fmt_enps(_, shown[-2].enps), after=fmt_enps(_, shown[-1].enps)))
    if len(lines) == 1:
        return None
    lines.append(_("pulse.alert_hint"))
    text = "\n".join(lines)
    return SlackCall("chat.postMessage", {"channel": str(msg.data.get("leader_id")), "text": text, "blocks": [bk.section(text)]})


def register(app: App, rt: Runtime) -> None:
    app.command(Id.COMMAND)(command(rt, handle_pulse_command))
    app.action(Id.ANSWER)(action(rt, handle_answer_button))
    app.view(Id.ANSWER_MODAL)(view(rt, handle_answer_submit))
    app.view(Id.QUESTIONS_MODAL)(view(rt, handle_questions_submit))
    kinds = rt.outbox.kinds
    kinds.register(pulse.INVITE_KIND, render_invite, after_invite)
    kinds.register(pulse.REMINDER_KIND, render_invite, after_invite)
    kinds.register(pulse.CLOSED_DM_KIND, render_closed_dm)
    kinds.register(pulse.RESULTS_KIND, render_results)
    kinds.register(pulse.ALERT_KIND, render_alert)
