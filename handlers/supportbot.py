"""`/supportbot help | team | status`, and leaders adding or removing members."""

from __future__ import annotations

from datetime import datetime

from slack_bolt import App

from supportbot.bot import formats, keywords, teams
from supportbot.bot.errors import InvalidInput
from supportbot.bot.i18n import catalogues
from supportbot.bot.runtime import Runtime
from supportbot.handlers import blocks as bk
from supportbot.handlers import helpdesk
from supportbot.handlers.common import Reply, Req, command, parse_user
from supportbot.storage import outbox as outbox_store
from supportbot.storage import teams as team_store

# The order commands appear in `/supportbot help`; each feature owns its `help` text.
HELP_KEYS = (
    "escalations.help",
    "kpis.help",
    "coaching.help",
    "kudos.help",
    "standups.help",
    "oneonones.help",
    "pulse.help",
    "away.help",
    "supportbot.help",
)


def help_blocks(req: Req) -> list[bk.Block]:
    _ = req._
    known = catalogues()["en"]
    out = [bk.header(_("supportbot.help_title")), bk.context(_("supportbot.help_intro"))]
    for key in HELP_KEYS:
        if key in known:
            out.append(bk.section(_(key)))
    return out


def team_blocks(req: Req) -> list[bk.Block]:
    _ = req._
    with req.rt.transaction(readonly=True) as session:
        mine = team_store.teams_of_user(
            session=session, workspace_id=req.workspace_id, user_id=req.user_id
        )
        views = [teams.describe(session, t) for t in mine]
    if not views:
        return [bk.section(_("supportbot.team_none"))]
    out: list[bk.Block] = []
    for view in views:
        team = view.team
        nobody = _("supportbot.team_nobody")
        out.append(bk.section(_("supportbot.team_header", name=bk.escape(team.name))))
        out.append(
            bk.section(
                _(
                    "supportbot.team_line",
                    leaders=", ".join(bk.mention(u) for u in view.leaders) or nobody,
                    members=", ".join(bk.mention(u) for u in view.members) or nobody,
                    escalation_channel=bk.channel_link(team.escalation_channel),
                    digest_channel=bk.channel_link(team.digest_channel)
                    if team.digest_channel
                    else _("supportbot.team_no_channel"),
                    timezone=team.timezone,
                    language=team.language,
                )
            )
        )
        out.append(bk.divider())
    return out[:-1]


def change_member(req: Req, reply: Reply, verb: str, args: list[str]) -> None:
    _ = req._
    text, team_name = keywords.take_option("supportbot", "team_option", " ".join(args))
    user_id = parse_user(text.strip())
    if user_id is None:
        raise InvalidInput("supportbot.member_usage")
    with req.rt.transaction() as session:
        team = teams.team_for_request(
            session,
            workspace_id=req.workspace_id,
            user_id=req.user_id,
            channel_id=req.channel_id,
            team_name=team_name,
            leader_only=True,
        )
        now = req.rt.clock.now()
        if verb == "add-member":
            changed = teams.add_member_by_leader(
                session, team=team, leader_id=req.user_id, user_id=user_id, now=now
            )
            key = "supportbot.member_added" if changed else "supportbot.member_already"
        else:
            changed = teams.remove_member_by_leader(
                session, team=team, leader_id=req.user_id, user_id=user_id, now=now
            )
            key = "supportbot.member_removed" if changed else "supportbot.member_not_in"
        name = team.name
    if changed:
        req.rt.languages.clear()
    reply.ephemeral(_(key, user=bk.mention(user_id), team=bk.escape(name)))


def slack_date(lang: str, moment: datetime) -> str:
    """Slack shows the moment in each reader's own zone; clients that cannot show it get the
    fallback, written in the team's language (bot/formats.py): `Thu, Dec 24, 13:05 UTC`.
    https://api.slack.com/reference/surfaces/formatting#date-formatting"""
    return f"<!date^{int(moment.timestamp())}^{{date_short}} {{time}}|{formats.when(lang, moment, 'UTC')} UTC>"


def status_blocks(req: Req) -> list[bk.Block]:
    _ = req._
    with req.rt.transaction(readonly=True) as session:
        teams.team_for_request(
            session,
            workspace_id=req.workspace_id,
            user_id=req.user_id,
            channel_id=req.channel_id,
            leader_only=True,
        )
        counts = outbox_store.counts_by_status(session=session, workspace_id=req.workspace_id)
        oldest = outbox_store.oldest_pending(session=session, workspace_id=req.workspace_id)
        failures = outbox_store.recent_failures(session=session, workspace_id=req.workspace_id)
    out = [
        bk.header(_("supportbot.status_title")),
        bk.section(_("supportbot.status_db_ok", dialect=req.rt.engine.dialect.name)),
        bk.section(
            _(
                "supportbot.status_outbox",
                sent=formats.number(_.lang, counts.get(outbox_store.SENT, 0)),
                pending=formats.number(_.lang, counts.get(outbox_store.PENDING, 0)),
                failed=formats.number(_.lang, counts.get(outbox_store.FAILED, 0)),
            )
        ),
    ]
    if oldest is not None:
        out.append(
            bk.context(
                _(
                    "supportbot.status_oldest",
                    when=slack_date(_.lang, oldest.created_at),
                    attempts=formats.number(_.lang, oldest.attempts),
                    error=bk.escape(oldest.last_error or "-"),
                )
            )
        )
    out.extend(helpdesk.status_blocks(req))
    if failures:
        lines = [_("supportbot.status_failures_title")]
        for row in failures:
            lines.append(
                _(
                    "supportbot.status_failure",
                    kind=row.kind,
                    id=row.id,
                    when=formats.when(_.lang, row.created_at, "UTC") + " UTC",
                    error=bk.escape(row.last_error or "-"),
                )
            )
        out.append(bk.section("\n".join(lines)))
    elif oldest is None:
        out.append(bk.context(_("supportbot.status_all_good")))
    return out


def handle_supportbot_command(req: Req, reply: Reply) -> None:
    _ = req._
    words = req.text.split()
    verb = keywords.canonical("supportbot", words[0]) if words else "help"
    sub = keywords.canonical("supportbot", words[1]) if len(words) > 1 else None
    if verb == "help":
        reply.ephemeral(_("supportbot.help_title"), help_blocks(req))
    elif verb == "team" and len(words) == 1:
        reply.ephemeral(_("supportbot.help_title"), team_blocks(req))
    elif verb == "team" and sub in ("add-member", "remove-member"):
        change_member(req, reply, sub, words[2:])
    elif verb == "status":
        reply.ephemeral(_("supportbot.status_title"), status_blocks(req))
    else:
        raise InvalidInput("supportbot.usage", text=bk.escape(req.text[:200]))


def register(app: App, rt: Runtime) -> None:
    app.command("/supportbot")(command(rt, handle_supportbot_command))
