"""`/escalate`: raise one from a line of text, open the modal, list the team's, show one."""

from __future__ import annotations

import re

from sqlmodel import Session

from supportbot.bot import escalations as esc_policy
from supportbot.bot import teams
from supportbot.bot.errors import NotFound
from supportbot.handlers import blocks as bk
from supportbot.handlers.common import Reply, Req, slack_to_plain
from supportbot.handlers.escalations.modals import create_modal
from supportbot.handlers.escalations.render import (
    created_text,
    escalation_blocks,
    fallback_text,
    history_blocks,
    list_blocks,
)
from supportbot.storage.models import Team

TEAM_OPTION = re.compile(r"(?:^|\s)team:(\S+)", re.IGNORECASE)


REF_WORD = re.compile(r"^ESC-?\d{1,9}$", re.IGNORECASE)


LIST_MAX = 40


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
        esc = esc_policy.submit(req.rt, new)
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
