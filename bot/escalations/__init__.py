"""Escalations: raising one, who may act on it, acknowledge / resolve / reassign, and
re-escalation when nobody acknowledges in time.

Every change is stored first, with its history, and the Slack side effects are enqueued
in the same transaction as outbox messages (rendered in handlers/escalations/).

- parsing.py: what people type (a one-line escalation, a reference, the modal's fields)
- chain.py: who is told and how long they have
- raising.py: `prepare` (reads; `prepare_mine` / `prepare_in` find the reporter's team
  and its chain in one statement for the command and the modal), `save` (the one way
  escalations are stored) and `submit` (save through the runtime's group commit)
- handling.py: finding one, permission, acknowledge / resolve / reassign
- deadlines.py: re-escalation and reminders, and the job that runs them
- withdrawing.py: the reporter withdraws one raised by mistake (until acknowledged)
- notify.py: the outbox kinds and history action names
"""

from __future__ import annotations

from supportbot.bot.escalations.chain import max_rounds, present_leaders, timeout_for
from supportbot.bot.escalations.deadlines import (
    SCAN_SECONDS,
    check_deadlines,
    install_jobs,
    reescalate_one,
)
from supportbot.bot.escalations.handling import (
    acknowledge,
    check_can_acknowledge,
    check_can_reassign,
    check_can_resolve,
    get,
    get_by_ref,
    history,
    may_act,
    open_for_team,
    reassign,
    require_actor,
    resolve,
    team_of,
)
from supportbot.bot.escalations.notify import (
    ACKED,
    CREATED,
    KIND_DM,
    KIND_DM_UPDATE,
    KIND_POST,
    KIND_THREAD,
    KIND_UPDATE,
    MARKED_OVERDUE,
    REASSIGNED,
    REESCALATED,
    REMINDED,
    RESOLVED_ACTION,
    WITHDRAWN_ACTION,
)
from supportbot.bot.escalations.parsing import (
    CATEGORIES,
    CUSTOMER_MAX,
    FEATURE,
    NOTE_MAX,
    OUTCOMES,
    SEVERITIES,
    SUMMARY_MAX,
    TICKET_MAX,
    TRIED_MAX,
    Draft,
    check_draft,
    check_resolution,
    looks_like,
    parse_quick,
    parse_ref,
    severity_word,
)
from supportbot.bot.escalations.raising import (
    NewEscalation,
    prepare,
    prepare_in,
    prepare_mine,
    save,
    submit,
)
from supportbot.bot.escalations.withdrawing import check_can_withdraw, withdraw, withdrawn_for_team

__all__ = [
    "ACKED", "CATEGORIES", "CREATED", "CUSTOMER_MAX", "KIND_DM", "KIND_DM_UPDATE", "KIND_POST",
    "KIND_THREAD", "WITHDRAWN_ACTION", "check_can_withdraw", "looks_like", "withdraw", "FEATURE", "severity_word",
    "withdrawn_for_team",
    "KIND_UPDATE", "MARKED_OVERDUE", "NOTE_MAX", "OUTCOMES", "REASSIGNED", "REESCALATED",
    "REMINDED", "RESOLVED_ACTION", "SCAN_SECONDS", "SEVERITIES", "SUMMARY_MAX", "TICKET_MAX",
    "TRIED_MAX", "Draft", "NewEscalation", "acknowledge", "check_can_acknowledge",
    "check_can_reassign", "check_can_resolve", "check_deadlines", "check_draft",
    "check_resolution", "get", "get_by_ref", "history", "install_jobs", "max_rounds",
    "may_act", "open_for_team", "parse_quick", "parse_ref", "prepare", "prepare_in", "prepare_mine",
    "present_leaders",
    "reassign", "reescalate_one", "require_actor", "resolve", "save", "submit", "team_of",
    "timeout_for",
]
