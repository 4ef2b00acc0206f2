"""Alerts in Slack: the grouped SLA-risk message in the escalation channel (with an
**Escalate** button per ticket that opens /escalate's form with the ticket filled in),
its in-place updates, and the spike DMs to the leaders. The scan is bot.alerts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from slack_bolt import App
from sqlmodel import Session

from supportbot.bot import alerts as policy
from supportbot.bot import formats, teams
from supportbot.bot.errors import NotFound
from supportbot.bot.i18n import Translator
from supportbot.bot.outbox import SlackCall
from supportbot.bot.runtime import Runtime
from supportbot.bot.timeutil import format_duration
from supportbot.handlers import blocks as bk
from supportbot.handlers.common import Reply, Req, action, action_value, as_id, posted, store_posted
from supportbot.handlers.escalations.modals import create_modal
from supportbot.storage import alerts as store
from supportbot.storage import teams as team_store
from supportbot.storage.models import OutboxMessage, Team


class Id:
    """Every Slack id this feature uses."""

    ESCALATE = "alerts.escalate"


def minutes(value: int, lang: str = "en") -> str:
    return format_duration(timedelta(minutes=value), lang)


def seconds(value: int, lang: str = "en") -> str:
    return format_duration(timedelta(seconds=value), lang)


# ----- Block Kit (pure) ---------------------------------------------------------------
def assignee(_: Translator, flagged: store.SlaAlertTicket) -> str:
    if flagged.agent_id and teams.USER_ID.match(flagged.agent_id):
        return bk.mention(flagged.agent_id)
    if flagged.agent_email:
        return bk.escape(flagged.agent_email)
    if flagged.agent_id:
        return bk.escape(flagged.agent_id)
    return _("alerts.sla_unassigned")


def ticket_line(_: Translator, flagged: store.SlaAlertTicket) -> str:
    return _(
        "alerts.sla_line",
        ticket=bk.escape(flagged.ticket_ref),
        age=seconds(int((flagged.flagged_at - flagged.ticket_created_at).total_seconds()), _.lang),
        target=minutes(flagged.target_minutes, _.lang),
        assignee=assignee(_, flagged),
    )


def outcome_line(_: Translator, flagged: store.SlaAlertTicket) -> str | None:
    target = minutes(flagged.target_minutes, _.lang)
    if flagged.outcome == store.ANSWERED:
        return _("alerts.sla_answered", reply=seconds(flagged.reply_seconds or 0, _.lang))
    if flagged.outcome == store.BREACHED and flagged.reply_seconds is not None:
        return _("alerts.sla_breached_late", reply=seconds(flagged.reply_seconds, _.lang), target=target)
    if flagged.outcome == store.BREACHED:
        return _("alerts.sla_breached", target=target)
    if flagged.outcome == store.SOLVED:
        return _("alerts.sla_solved")
    if flagged.outcome == store.REMOVED:
        return _("alerts.sla_removed")
    return None


def sla_blocks(
    _: Translator, team: Team, tickets: list[store.SlaAlertTicket], share: int
) -> list[bk.Block]:
    name = bk.escape(team.name)
    title = (
        _("alerts.sla_title_one", team=name)
        if len(tickets) == 1
        else _("alerts.sla_title", count=len(tickets), team=name)
    )
    out: list[bk.Block] = [bk.section(title), bk.context(_("alerts.sla_how", share=share))]
    for flagged in tickets[: policy.PER_POST]:
        line = ticket_line(_, flagged)
        done = outcome_line(_, flagged)
        if done is not None:
            out.append(bk.section(f"{line}\n{done}"))
        else:
            button = bk.button(_("alerts.escalate"), Id.ESCALATE, {"a": flagged.id}, style="danger")
            out.append(bk.section(line, accessory=button))
    return bk.message_blocks(out)


def sla_fallback(_: Translator, team: Team, count: int) -> str:
    if count == 1:
        return _("alerts.sla_fallback_one", team=bk.escape(team.name))
    return _("alerts.sla_fallback", count=count, team=bk.escape(team.name))


def spike_blocks(_: Translator, team: Team, spike: store.SpikeAlert) -> tuple[str, list[bk.Block]]:
    name = bk.escape(team.name)
    title = _(f"alerts.spike_{spike.metric}_title", value=spike.value, team=name)
    lang = _.lang
    line = formats.number(lang, spike.line, 1)
    how = _(
        "alerts.spike_how",
        baseline=", ".join(formats.number(lang, n) for n in spike.baseline),
        mean=formats.number(lang, spike.mean, 1),
        stdev=formats.number(lang, spike.stdev, 1),
        line=line,
        min_extra=spike.min_extra,
    )
    blocks = [bk.section(title), bk.section(how), bk.context(_("alerts.spike_once", line=line))]
    text = _("alerts.spike_fallback", team=name, value=formats.number(lang, spike.value), mean=formats.number(lang, spike.mean, 1))
    return text, blocks


# ----- the Escalate button ------------------------------------------------------------
def handle_escalate_button(req: Req, reply: Reply) -> None:
    """Open /escalate's form with the flagged ticket filled in; its submission is the one
    creation path every escalation takes (handlers.escalations)."""
    _ = req._
    flagged_id = as_id(action_value(req.body).get("a"))
    with req.rt.transaction(readonly=True) as session:
        flagged = store.get_flagged(session=session, flagged_id=flagged_id)
        if flagged is None or flagged.workspace_id != req.workspace_id:
            raise NotFound("alerts.flagged_gone")
        team = team_store.get_team(session=session, team_id=flagged.team_id)
        if team is None:
            raise NotFound("alerts.flagged_gone")
        if not teams.is_in_team(session, team, req.user_id):
            raise NotFound("teams.not_yours", name=bk.escape(team.name))
    waited = req.rt.clock.now() - flagged.ticket_created_at
    summary = _(
        "alerts.escalate_summary",
        ticket=flagged.ticket_ref,
        age=format_duration(waited, _.lang),
        target=minutes(flagged.target_minutes, _.lang),
    )
    assert team.id is not None
    ref = flagged.ticket_ref
    ticket = ref if not any(c.isspace() for c in ref) else None  # the form takes one word
    reply.open_modal(
        create_modal(_, team_id=team.id, severity="high", ticket=ticket, summary=summary)
    )


# ----- outbox renderers ---------------------------------------------------------------
def _load(
    session: Session, message: OutboxMessage
) -> tuple[store.SlaAlertPost, Team, list[store.SlaAlertTicket]] | None:
    post = store.get_post(session=session, post_id=int(message.data["post_id"]))
    if post is None:
        return None
    team = team_store.get_team(session=session, team_id=post.team_id)
    if team is None:
        return None
    assert post.id is not None
    tickets = store.post_tickets(session=session, post_id=post.id)
    return (post, team, tickets) if tickets else None


def _message(team: Team, tickets: list[store.SlaAlertTicket]) -> dict[str, Any]:
    _ = Translator(team.language)
    return {
        "text": sla_fallback(_, team, len(tickets)),
        "blocks": sla_blocks(_, team, tickets, policy.share(team)),
    }


def render_sla_post(session: Session, message: OutboxMessage) -> SlackCall | None:
    loaded = _load(session, message)
    if loaded is None:
        return None
    post, team, tickets = loaded
    if post.message_ts:
        return None
    args = {"channel": post.channel_id, **_message(team, tickets)}
    return SlackCall("chat.postMessage", {**args, "unfurl_links": False, "unfurl_media": False})


after_sla_post = store_posted(
    "post_id",
    lambda session, post_id, channel, ts: store.set_post_message(
        session=session, post_id=post_id, channel_id=channel, ts=ts
    ),
)


def render_sla_update(session: Session, message: OutboxMessage) -> SlackCall | None:
    loaded = _load(session, message)
    if loaded is None:
        return None
    post, team, tickets = loaded
    assert post.id is not None
    if not posted(session, ts=post.message_ts, post_key=policy.sla_post_key(post.id)):
        return None  # the post never went out: nothing to update
    return SlackCall("chat.update", {"channel": post.channel_id, "ts": post.message_ts, **_message(team, tickets)})


def render_spike_dm(session: Session, message: OutboxMessage) -> SlackCall | None:
    spike = store.get_spike(session=session, spike_id=int(message.data["spike_id"]))
    if spike is None:
        return None
    team = team_store.get_team(session=session, team_id=spike.team_id)
    if team is None:
        return None
    text, blocks = spike_blocks(Translator(team.language), team, spike)
    return SlackCall(
        "chat.postMessage",
        {"channel": str(message.data["user"]), "text": text, "blocks": blocks, "unfurl_links": False},
    )


def register(app: App, rt: Runtime) -> None:
    app.action(Id.ESCALATE)(action(rt, handle_escalate_button))
    rt.outbox.kinds.register(policy.KIND_SLA_POST, render_sla_post, after_sla_post)
    rt.outbox.kinds.register(policy.KIND_SLA_UPDATE, render_sla_update)
    rt.outbox.kinds.register(policy.KIND_SPIKE_DM, render_spike_dm)
