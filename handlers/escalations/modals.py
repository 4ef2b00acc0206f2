"""The escalation modals: raising one (from `/escalate` with no text), resolving and
reassigning (from the buttons), and what their submissions do."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import Session

from supportbot.bot import escalations as esc_policy
from supportbot.bot.errors import InvalidInput, NotFound
from supportbot.bot.i18n import Translator
from supportbot.handlers import blocks as bk
from supportbot.handlers.common import Reply, Req, as_id, form_values, metadata
from supportbot.handlers.escalations.ids import Id
from supportbot.handlers.escalations.render import (
    created_blocks,
    created_text,
    severity_label,
    title_line,
)
from supportbot.storage import teams as team_store
from supportbot.storage.escalations import Escalation


@contextmanager
def modal_fields() -> Iterator[None]:
    """Point the core's field names at this feature's modal block ids."""
    try:
        yield
    except InvalidInput as exc:
        if exc.field and not exc.field.startswith("escalation."):
            exc.field = f"escalation.{exc.field}"
        raise


def create_modal(
    _: Translator,
    *,
    team_id: int,
    severity: str = "normal",
    ticket: str | None = None,
    summary: str | None = None,
    notice: str | None = None,
) -> bk.Block:
    """The /escalate form. `summary` and `ticket` fill it in (what was typed, or an SLA
    alert's ticket); `notice` says, above it, why the form opened instead of raising (a
    single word, what looks like a typo)."""
    top: list[bk.Block] = [bk.context(notice)] if notice else []
    return bk.modal(
        _("escalations.modal_title"),
        [
            *top,
            bk.text_input(
                Id.SUMMARY,
                _("escalations.f_summary"),
                multiline=True,
                initial=summary,
                max_length=esc_policy.SUMMARY_MAX,
                placeholder=_("escalations.f_summary_hint"),
            ),
            bk.text_input(
                Id.CUSTOMER, _("escalations.f_customer"), optional=True,
                max_length=esc_policy.CUSTOMER_MAX,
            ),
            bk.text_input(
                Id.TICKET, _("escalations.f_ticket"), optional=True,
                max_length=esc_policy.TICKET_MAX, placeholder=_("escalations.f_ticket_hint"),
                initial=ticket,
            ),
            bk.select_input(
                Id.SEVERITY,
                _("escalations.f_severity"),
                [(severity_label(_, s), s) for s in esc_policy.SEVERITIES],
                initial=severity,
            ),
            bk.select_input(
                Id.CATEGORY,
                _("escalations.f_category"),
                [(_(f"escalations.cat_{c}"), c) for c in esc_policy.CATEGORIES],
                initial="other",
            ),
            bk.text_input(
                Id.TRIED, _("escalations.f_tried"), multiline=True, optional=True,
                max_length=esc_policy.TRIED_MAX,
            ),
        ],
        callback_id=Id.CREATE_MODAL,
        submit=_("escalations.modal_submit"),
        close=_("common.cancel"),
        private_metadata={"team": team_id},
    )


def resolve_modal(_: Translator, esc: Escalation) -> bk.Block:
    return bk.modal(
        _("escalations.resolve_title", ref=esc.ref),
        [
            bk.section(
                title_line(_, esc) + "\n" + bk.truncate(bk.escape(esc.summary), 2500)
            ),
            bk.select_input(
                Id.OUTCOME,
                _("escalations.f_outcome"),
                [(_(f"escalations.out_{o}"), o) for o in esc_policy.OUTCOMES],
            ),
            bk.text_input(
                Id.NOTE, _("escalations.f_note"), multiline=True,
                max_length=esc_policy.NOTE_MAX,
            ),
        ],
        callback_id=Id.RESOLVE_MODAL,
        submit=_("escalations.resolve_submit"),
        close=_("common.cancel"),
        private_metadata={"id": esc.id},
    )


def reassign_modal(_: Translator, esc: Escalation) -> bk.Block:
    return bk.modal(
        _("escalations.reassign_title", ref=esc.ref),
        [
            bk.section(
                title_line(_, esc) + "\n" + bk.truncate(bk.escape(esc.summary), 2500)
            ),
            bk.user_input(Id.USER, _("escalations.f_user")),
        ],
        callback_id=Id.REASSIGN_MODAL,
        submit=_("escalations.reassign_submit"),
        close=_("common.cancel"),
        private_metadata={"id": esc.id},
    )


def handle_create_submit(req: Req, reply: Reply) -> None:
    _ = req._
    view_body = req.body.get("view") or {}
    values = form_values(view_body)
    team_id = metadata(view_body).get("team")
    draft = esc_policy.Draft(
        severity=values.get(Id.SEVERITY) or "normal",
        summary=values.get(Id.SUMMARY) or "",
        ticket_ref=values.get(Id.TICKET),
        customer=values.get(Id.CUSTOMER),
        category=values.get(Id.CATEGORY) or "other",
        tried=values.get(Id.TRIED),
    )
    with modal_fields(), req.rt.transaction(readonly=True) as session:
        prepared = esc_policy.prepare_in(
            session, workspace_id=req.workspace_id, reporter_id=req.user_id, team_id=as_id(team_id),
            draft=draft, clock=req.rt.clock,
        )
        if prepared is None:
            team = team_store.get_team(session=session, team_id=as_id(team_id))
            if team is None or team.workspace_id != req.workspace_id:
                raise NotFound("teams.in_none")
            raise NotFound("teams.not_yours", name=bk.escape(team.name))
        team, new = prepared
    esc = esc_policy.submit(req.rt, new)
    reply.view_update(
        bk.modal(
            _("escalations.modal_title"),
            created_blocks(_, esc, created_text(_, esc, team, new.first)),
            callback_id=Id.CREATED_NOTICE,
            close=_("common.close"),
        )
    )


def _from_modal(req: Req, session: Session) -> Escalation:
    escalation_id = as_id(metadata(req.body.get("view") or {}).get("id"))
    if not escalation_id:
        raise NotFound("escalations.not_found", ref="?")
    return esc_policy.get(session, workspace_id=req.workspace_id, escalation_id=escalation_id)


def handle_resolve_submit(req: Req, reply: Reply) -> None:
    values = form_values(req.body.get("view") or {})
    with modal_fields(), req.rt.transaction() as session:
        esc_policy.resolve(
            session,
            _from_modal(req, session),
            actor_id=req.user_id,
            outcome=values.get(Id.OUTCOME),
            note=values.get(Id.NOTE),
            clock=req.rt.clock,
        )


def handle_reassign_submit(req: Req, reply: Reply) -> None:
    values = form_values(req.body.get("view") or {})
    with modal_fields(), req.rt.transaction() as session:
        esc_policy.reassign(
            session,
            _from_modal(req, session),
            actor_id=req.user_id,
            new_owner=values.get(Id.USER),
            clock=req.rt.clock,
        )
