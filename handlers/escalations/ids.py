"""Every Slack id `/escalate` uses, in one place."""

from __future__ import annotations


class Id:
    """Every Slack id this feature uses."""

    COMMAND = "/escalate"
    CREATE_MODAL = "escalation.create"
    CREATED_NOTICE = "escalation.created"
    RESOLVE_MODAL = "escalation.resolve_modal"
    REASSIGN_MODAL = "escalation.reassign_modal"
    ACK = "escalation.ack"
    RESOLVE = "escalation.resolve"
    REASSIGN = "escalation.reassign"
    WITHDRAW = "escalation.withdraw"
    ACTIONS = "escalation.actions"
    # Modal blocks: "escalation.<field>", where <field> is what bot.escalations names.
    SUMMARY = "escalation.summary"
    CUSTOMER = "escalation.customer"
    TICKET = "escalation.ticket"
    SEVERITY = "escalation.severity"
    CATEGORY = "escalation.category"
    TRIED = "escalation.tried"
    NOTE = "escalation.note"
    OUTCOME = "escalation.outcome"
    USER = "escalation.user"
