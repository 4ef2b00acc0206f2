"""`/escalate`: raise one from a line of text, open the modal, list the team's, show one."""

from __future__ import annotations

import re

from sqlmodel import Session

from supportbot.bot import escalations as esc_policy
from supportbot.bot import keywords, teams
from supportbot.bot.errors import NotFound
from supportbot.handlers import blocks as bk
from supportbot.handlers.common import Reply, Req, slack_to_plain
from supportbot.handlers.escalations.modals import create_modal
from supportbot.handlers.escalations.render import (
    created_blocks,
    created_text,
    escalation_blocks,
    fallback_text,
    history_blocks,
    list_blocks,
)
from supportbot.storage.models import Team

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
    """Raise from a line of text, or list / help / show one / open the form. Only a line
    that reads as an escalation is raised at once: a single word, or text starting with
    what looks like a mistyped command word (`lsit`, `urgnet`, `ayda`), opens the form
    with the text filled in instead, so nothing is raised by accident."""
    _ = req._
    text, team_name = keywords.take_option(esc_policy.FEATURE, "team_option", slack_to_plain(req.text).strip())
    words = text.split()
    first = keywords.canonical(esc_policy.FEATURE, words[0]) if words else None
    second = keywords.canonical(esc_policy.FEATURE, words[1]) if len(words) > 1 else None
    if first == "help" and len(words) == 1:
        reply.ephemeral(_("escalations.help_title"), [bk.section(_("escalations.help"))])
    elif first == "list" and len(words) == 1:
        show_list(req, reply, team_name)
    elif first == "list" and len(words) == 2 and second == "withdrawn":
        show_withdrawn(req, reply, team_name)
    elif len(words) == 1 and REF_WORD.match(words[0]):
        show_one(req, reply, words[0])
    elif not words or (len(words) == 1 and esc_policy.severity_word(words[0])):
        open_form(req, reply, team_name, severity=esc_policy.severity_word(words[0]) if words else None)
    elif len(words) == 1:
        guess = esc_policy.looks_like(words[0])
        open_form(req, reply, team_name, summary=text, severity=guess if guess in esc_policy.SEVERITIES else None,
                  notice=_("escalations.not_raised_looks_like", word=bk.escape(words[0][:40]), command=_command_word(req, guess))
                  if guess else _("escalations.not_raised_one_word"))
    elif not esc_policy.severity_word(words[0]) and (guess := esc_policy.looks_like(words[0])):
        open_form(req, reply, team_name, summary=text, severity=guess if guess in esc_policy.SEVERITIES else None,
                  notice=_("escalations.not_raised_looks_like", word=bk.escape(words[0][:40]), command=_command_word(req, guess)))
    else:
        draft = esc_policy.parse_quick(text)
        with req.rt.transaction(readonly=True) as session:
            team, new = esc_policy.prepare_mine(
                session, workspace_id=req.workspace_id, reporter_id=req.user_id, draft=draft,
                clock=req.rt.clock, channel_id=req.channel_id, team_name=team_name,
            )
        esc = esc_policy.submit(req.rt, new)
        confirmation = created_text(_, esc, team, new.first)
        reply.ephemeral(confirmation, created_blocks(_, esc, confirmation))


def _command_word(req: Req, key: str | None) -> str:
    """`list`, or `lista` for a Spanish team; a severity reads `urgent Customer...`."""
    word = keywords.word(esc_policy.FEATURE, key or "help", req.lang)
    return f"{word} …" if key in esc_policy.SEVERITIES else word


def open_form(
    req: Req, reply: Reply, team_name: str | None, *, severity: str | None = None,
    summary: str | None = None, notice: str | None = None,
) -> None:
    with req.rt.transaction(readonly=True) as session:
        team = _team(req, session, team_name)
    assert team.id is not None
    reply.open_modal(
        create_modal(req._, team_id=team.id, severity=severity or "normal", summary=summary, notice=notice)
    )


def show_list(req: Req, reply: Reply, team_name: str | None) -> None:
    _ = req._
    with req.rt.transaction(readonly=True) as session:
        team = _team(req, session, team_name)
        rows, total = esc_policy.open_for_team(session, team, limit=LIST_MAX)
    blocks = list_blocks(_, team, rows, total, req.rt.clock.now())
    reply.ephemeral(_("escalations.list_title", team=bk.escape(team.name), count=total), blocks)


def show_withdrawn(req: Req, reply: Reply, team_name: str | None) -> None:
    _ = req._
    with req.rt.transaction(readonly=True) as session:
        team = _team(req, session, team_name)
        rows, total = esc_policy.withdrawn_for_team(session, team, limit=LIST_MAX)
    blocks = list_blocks(_, team, rows, total, req.rt.clock.now(), withdrawn=True)
    reply.ephemeral(_("escalations.list_title_withdrawn", team=bk.escape(team.name), count=total), blocks)


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
