"""`/away`: mark, list and cancel time away."""

from __future__ import annotations

from slack_bolt import App

from supportbot.bot import away, dates, keywords
from supportbot.bot.errors import InvalidInput
from supportbot.bot.runtime import Runtime
from supportbot.handlers import blocks as bk
from supportbot.handlers.common import Reply, Req, command, slack_to_plain, split_leading_mentions


def handle_away_command(req: Req, reply: Reply) -> None:
    _ = req._
    words = req.text.split(maxsplit=1)
    verb = keywords.canonical("away", words[0]) if words else "help"
    now = req.rt.clock.now()
    if verb == "help":
        reply.ephemeral(_("away.help"))
        return
    if verb == "list":
        with req.rt.transaction(readonly=True) as session:
            periods = away.roster(
                session, workspace_id=req.workspace_id, user_id=req.user_id, now=now
            )
        if not periods:
            reply.ephemeral(_("away.list_none"))
            return
        lines = [_("away.list_title")]
        for p in periods[:40]:
            note = f" ({bk.escape(p.note)})" if p.note else ""
            lines.append(
                _(
                    "away.list_line",
                    user=bk.mention(p.user_id),
                    days=dates.span_in_words(dates.Span(p.start_on, p.end_on), req.lang, today=now.date()),
                    note=note,
                )
            )
        reply.ephemeral(lines[0], [bk.section("\n".join(lines))])
        return
    rest = req.text
    if verb == "cancel":
        rest = words[1] if len(words) > 1 else ""
    mentions, rest = split_leading_mentions(rest)
    if len(mentions) > 1:
        raise InvalidInput("away.usage")
    user_id = mentions[0] if mentions else req.user_id
    if verb == "cancel":
        if rest:
            raise InvalidInput("away.usage")
        with req.rt.transaction() as session:
            count = away.cancel(
                session,
                workspace_id=req.workspace_id,
                actor_id=req.user_id,
                user_id=user_id,
                now=now,
            )
        key = "away.cancelled" if count else "away.nothing_to_cancel"
        reply.ephemeral(_(key, count=count, user=bk.mention(user_id)))
        return
    with req.rt.transaction() as session:
        today = away.local_day(session, workspace_id=req.workspace_id, user_id=user_id, at=now)
        span, note = away.parse_range(rest, lang=req.lang, today=today)
        start, end = span.start, span.end
        marked = away.mark(
            session,
            workspace_id=req.workspace_id,
            actor_id=req.user_id,
            user_id=user_id,
            start=start,
            end=end,
            note=slack_to_plain(note),
            now=now,
            lang=req.lang,
        )
    key = "away.marked_other" if marked.for_someone_else else "away.marked_self"
    days = dates.span_in_words(span, req.lang, today=today)
    reply.ephemeral(_(key, user=bk.mention(user_id), days=days))


def register(app: App, rt: Runtime) -> None:
    app.command("/away")(command(rt, handle_away_command))
