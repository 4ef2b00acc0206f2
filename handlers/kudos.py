"""`/kudos`: shout-outs posted to the team's channel, the leaderboard, the daily cap, and
the outbox renderers for a shout-out and for the month's summary."""

from __future__ import annotations

from datetime import date

from slack_bolt import App
from sqlmodel import Session

from supportbot.bot import formats, keywords, kudos, teams
from supportbot.bot.errors import InvalidInput
from supportbot.bot.i18n import Translator
from supportbot.bot.outbox import SlackCall
from supportbot.bot.runtime import Runtime
from supportbot.handlers import blocks as bk
from supportbot.handlers.common import Reply, Req, command, slack_to_plain, split_leading_mentions
from supportbot.storage import kudos as store
from supportbot.storage import teams as team_store
from supportbot.storage.models import OutboxMessage, Team


class Id:
    """Every Slack id this feature uses."""

    COMMAND = "/kudos"


MEDALS = (":first_place_medal:", ":second_place_medal:", ":third_place_medal:")


# ----- pure renderers -----------------------------------------------------------------
def names(user_ids: list[str]) -> str:
    return ", ".join(bk.mention(u) for u in user_ids)


def shoutout(
    _: Translator, *, giver_id: str, recipients: list[str], message: str, value: str | None
) -> tuple[str, list[bk.Block]]:
    headline = _("kudos.post_headline", recipients=names(recipients), giver=bk.mention(giver_id))
    out = [bk.section(headline), bk.section(f"> {bk.escape(message)}".replace("\n", "\n> "))]
    if value:
        out.append(bk.context(_("kudos.post_value", value=bk.escape(value))))
    return bk.truncate(headline, 3000), out


def ranking(rows: list[tuple[str, int]]) -> str:
    lines = []
    for i, (uid, count) in enumerate(rows):
        badge = MEDALS[i] if i < len(MEDALS) else f"{i + 1}."
        lines.append(f"{badge} {bk.mention(uid)} · {count}")
    return "\n".join(lines)


def board_blocks(_: Translator, board: kudos.Board, *, team_name: str) -> list[bk.Block]:
    title = _(
        "kudos.top_title_month" if board.period == "month" else "kudos.top_title_week",
        team=bk.escape(team_name),
    )
    out = [
        bk.section(title),
        bk.context(_(
            "kudos.top_total", total=formats.number(_.lang, board.total), since=formats.day(_.lang, board.start.date()),
        )),
    ]
    if not board.total:
        out.append(bk.section(_("kudos.top_empty")))
        return out
    out.append(
        bk.fields(
            [
                _("kudos.top_received") + "\n" + ranking(board.received),
                _("kudos.top_given") + "\n" + ranking(board.given),
            ]
        )
    )
    return out


def month_words(lang: str, period: str) -> str:
    """`2026-11` -> `November 2026` / `noviembre de 2026` (bot/formats.py)."""
    try:
        return formats.month(lang, date.fromisoformat(f"{period}-01"))
    except ValueError:
        return period


def month_blocks(
    _: Translator, board: kudos.Board, *, team_name: str
) -> tuple[str, list[bk.Block]]:
    title = _("kudos.month_title", month=month_words(_.lang, board.period), team=bk.escape(team_name))
    out = [
        bk.section(title),
        bk.section(_("kudos.month_total", total=board.total)),
        bk.section(_("kudos.month_top") + "\n" + ranking(board.received[: kudos.MONTH_TOP])),
    ]
    if board.values:
        out.append(
            bk.context(
                _(
                    "kudos.month_values",
                    values=", ".join(f"#{bk.escape(v)} ({n})" for v, n in board.values),
                )
            )
        )
    out.append(bk.context(_("kudos.month_thanks")))
    return title, out


# ----- listeners ----------------------------------------------------------------------
def take_team_option(text: str) -> tuple[str, str | None]:
    """`... team:Tier1 ...` -> (the text without it, "Tier1")."""
    return keywords.take_option("kudos", "team_option", text)


def _team(session: Session, req: Req, team_name: str | None, *, leader_only: bool = False) -> Team:
    return teams.team_for_request(
        session,
        workspace_id=req.workspace_id,
        user_id=req.user_id,
        channel_id=req.channel_id,
        team_name=team_name,
        leader_only=leader_only,
    )


def give(req: Req, reply: Reply, text: str, team_name: str | None) -> None:
    _ = req._
    recipients, rest = split_leading_mentions(text)
    if not recipients or not rest:
        raise InvalidInput("kudos.usage")
    with req.rt.transaction(readonly=True) as session:  # reads outside the write lock
        team = kudos.giving_team(
            session,
            workspace_id=req.workspace_id,
            giver_id=req.user_id,
            channel_id=req.channel_id,
            recipients=recipients,
            team_name=team_name,
        )
    with req.rt.transaction() as session:
        given = kudos.give(
            session,
            team=team,
            giver_id=req.user_id,
            recipients=recipients,
            text=slack_to_plain(rest),
            channel_id=req.channel_id,
            clock=req.rt.clock,
        )
        channel = given.kudos.channel_id
    said = _("kudos.sent", recipients=names(given.recipients), channel=bk.channel_link(channel))
    if given.reached_cap:
        said += "\n" + _("kudos.cap_now_reached", cap=given.cap)
    reply.ephemeral(said)


def show_top(req: Req, reply: Reply, args: list[str], team_name: str | None) -> None:
    _ = req._
    period = keywords.canonical("kudos", args[0]) if args else "week"
    if len(args) > 1 or period not in kudos.PERIODS:
        raise InvalidInput("kudos.top_usage")
    with req.rt.transaction(readonly=True) as session:
        team = _team(session, req, team_name)
        board = kudos.leaderboard(session, team=team, period=period, now=req.rt.clock.now())
        out = board_blocks(_, board, team_name=team.name)
    reply.ephemeral(_("kudos.top_fallback"), out)


def set_cap(req: Req, reply: Reply, args: list[str], team_name: str | None) -> None:
    _ = req._
    if len(args) != 1:
        raise InvalidInput("kudos.bad_cap", max=kudos.MAX_CAP)
    with req.rt.transaction() as session:
        team = _team(session, req, team_name, leader_only=True)
        cap = kudos.set_cap(
            session, team=team, leader_id=req.user_id, cap_text=args[0], now=req.rt.clock.now()
        )
        name = team.name
    reply.ephemeral(_("kudos.cap_set", cap=cap, team=bk.escape(name)))


def handle_kudos_command(req: Req, reply: Reply) -> None:
    _ = req._
    text, team_name = take_team_option(req.text)
    words = text.split()
    verb = keywords.canonical("kudos", words[0]) if words else "help"
    if verb == "help":
        reply.ephemeral(_("kudos.help_title"), [bk.section(_("kudos.help"))])
    elif verb == "top":
        show_top(req, reply, words[1:], team_name)
    elif verb == "cap":
        set_cap(req, reply, words[1:], team_name)
    else:
        give(req, reply, text, team_name)


# ----- outbox renderers ---------------------------------------------------------------
def render_post(session: Session, msg: OutboxMessage) -> SlackCall | None:
    row = store.get_kudos(session=session, kudos_id=int(msg.data.get("kudos_id") or 0))
    if row is None or row.id is None:
        return None
    team = team_store.get_team(session=session, team_id=row.team_id)
    _ = Translator(team.language if team else "en")
    text, out = shoutout(
        _,
        giver_id=row.giver_id,
        recipients=store.recipients_of(session=session, kudos_id=row.id),
        message=row.message,
        value=row.value,
    )
    return SlackCall("chat.postMessage", {"channel": row.channel_id, "text": text, "blocks": out})


def render_month(session: Session, msg: OutboxMessage) -> SlackCall | None:
    team = team_store.get_team(session=session, team_id=int(msg.data.get("team_id") or 0))
    month = str(msg.data.get("month") or "")
    if team is None or not month:
        return None
    board = kudos.month_board(session, team=team, month=month)
    _ = Translator(team.language)
    text, out = month_blocks(_, board, team_name=team.name)
    return SlackCall(
        "chat.postMessage",
        {"channel": kudos.summary_channel(team), "text": bk.truncate(text, 3000), "blocks": out},
    )


def register(app: App, rt: Runtime) -> None:
    app.command(Id.COMMAND)(command(rt, handle_kudos_command))
    rt.outbox.kinds.register(kudos.POST_KIND, render_post)
    rt.outbox.kinds.register(kudos.MONTH_KIND, render_month)
