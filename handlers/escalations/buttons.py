"""The Acknowledge, Resolve and Reassign buttons (on the channel message and in DMs), and
Withdraw (on the confirmation the person who raised it sees)."""

from __future__ import annotations

from sqlmodel import Session

from supportbot.bot import escalations as esc_policy
from supportbot.bot.errors import NotFound
from supportbot.handlers import blocks as bk
from supportbot.handlers.common import Reply, Req, action_value, as_id
from supportbot.handlers.escalations.ids import Id
from supportbot.handlers.escalations.modals import reassign_modal, resolve_modal
from supportbot.storage.escalations import Escalation


def _clicked(req: Req, session: Session) -> Escalation:
    escalation_id = as_id(action_value(req.body).get("id"))
    if not escalation_id:
        raise NotFound("escalations.not_found", ref="?")
    return esc_policy.get(session, workspace_id=req.workspace_id, escalation_id=escalation_id)


def handle_ack_button(req: Req, reply: Reply) -> None:
    with req.rt.transaction(readonly=True) as session:
        esc_policy.check_can_acknowledge(session, _clicked(req, session), req.user_id)
    with req.rt.transaction() as session:  # checked again: someone may have been quicker
        esc_policy.acknowledge(
            session, _clicked(req, session), actor_id=req.user_id, clock=req.rt.clock
        )


def handle_resolve_button(req: Req, reply: Reply) -> None:
    with req.rt.transaction(readonly=True) as session:
        esc = _clicked(req, session)
        esc_policy.check_can_resolve(session, esc, req.user_id)
    reply.open_modal(resolve_modal(req._, esc))


def handle_reassign_button(req: Req, reply: Reply) -> None:
    with req.rt.transaction(readonly=True) as session:
        esc = _clicked(req, session)
        esc_policy.check_can_reassign(session, esc, req.user_id)
    reply.open_modal(reassign_modal(req._, esc))


def handle_withdraw_button(req: Req, reply: Reply) -> None:
    _ = req._
    with req.rt.transaction(readonly=True) as session:
        esc_policy.check_can_withdraw(_clicked(req, session), req.user_id)
    with req.rt.transaction() as session:  # checked again: a leader may have been quicker
        esc = esc_policy.withdraw(
            session, _clicked(req, session), actor_id=req.user_id, clock=req.rt.clock
        )
    text = _("escalations.withdrawn", ref=esc.ref)
    view = req.body.get("view")
    if view and view.get("id"):  # the button is in the modal's confirmation: replace it
        reply.ack()
        with req.rt.waiting():
            reply.client.views_update(
                view_id=view["id"],
                view=bk.modal(_("escalations.modal_title"), [bk.section(text)],
                              callback_id=Id.CREATED_NOTICE, close=_("common.close")),
            )
    else:
        reply.ephemeral(text)
