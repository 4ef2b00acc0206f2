"""What people type: a one-line escalation, a reference, the modal's fields, a resolution."""

from __future__ import annotations

import re
from dataclasses import dataclass

from supportbot.bot import teams
from supportbot.bot.errors import InvalidInput

SEVERITIES = teams.SEVERITIES
CATEGORIES = ("billing", "technical", "shipping", "account", "other")
OUTCOMES = ("fixed", "refund", "credit", "replacement", "workaround", "no_action")

SUMMARY_MAX = 3000
CUSTOMER_MAX = 255
TICKET_MAX = 500
TRIED_MAX = 3000
NOTE_MAX = 3000

REF = re.compile(r"^\s*(?:ESC-?)?(\d{1,9})\s*$", re.IGNORECASE)
_URL = re.compile(r"https?://[^\s<>]+")
_TICKET_HASH = re.compile(r"(?<![\w&#])#(\d{2,12})\b")


@dataclass
class Draft:
    severity: str
    summary: str
    ticket_ref: str | None = None
    customer: str | None = None
    category: str = "other"
    tried: str | None = None


def parse_quick(text: str) -> Draft:
    """`[urgent|high|normal|low] <summary>` (as typed, Slack's formatting already undone):
    the severity word is optional, a `#12345` or a URL in the text becomes the ticket
    reference (the summary keeps it too)."""
    text = (text or "").strip()
    severity = "normal"
    first, _sep, rest = text.partition(" ")
    if first.lower().rstrip(":") in SEVERITIES:
        severity, text = first.lower().rstrip(":"), rest.strip()
    ticket = None
    url = _URL.search(text)
    hashed = _TICKET_HASH.search(text)
    if url:
        ticket = url.group(0).rstrip(").,;:!?]'\"")
    elif hashed:
        ticket = "#" + hashed.group(1)
    return Draft(severity=severity, summary=text, ticket_ref=ticket)


def parse_ref(text: str) -> int | None:
    """`ESC-42`, `esc42` or `42` -> 42."""
    match = REF.match(text or "")
    return int(match.group(1)) if match else None


def check_draft(draft: Draft) -> Draft:
    """Validate a draft; errors name the modal block they belong under."""
    summary = (draft.summary or "").strip()
    if not summary:
        raise InvalidInput("escalations.need_summary", field="summary")
    if len(summary) > SUMMARY_MAX:
        raise InvalidInput("escalations.too_long", field="summary", limit=SUMMARY_MAX)
    if draft.severity not in SEVERITIES:
        raise InvalidInput("escalations.bad_severity", field="severity", value=draft.severity)
    if draft.category not in CATEGORIES:
        raise InvalidInput("escalations.bad_category", field="category", value=draft.category)
    customer = (draft.customer or "").strip() or None
    if customer and len(customer) > CUSTOMER_MAX:
        raise InvalidInput("escalations.too_long", field="customer", limit=CUSTOMER_MAX)
    ticket = (draft.ticket_ref or "").strip() or None
    if ticket and (len(ticket) > TICKET_MAX or any(c.isspace() for c in ticket)):
        raise InvalidInput("escalations.bad_ticket", field="ticket")
    tried = (draft.tried or "").strip() or None
    if tried and len(tried) > TRIED_MAX:
        raise InvalidInput("escalations.too_long", field="tried", limit=TRIED_MAX)
    return Draft(draft.severity, summary, ticket, customer, draft.category, tried)


def check_resolution(outcome: str | None, note: str | None) -> tuple[str, str]:
    note = (note or "").strip()
    if not note:
        raise InvalidInput("escalations.need_note", field="note")
    if len(note) > NOTE_MAX:
        raise InvalidInput("escalations.too_long", field="note", limit=NOTE_MAX)
    if outcome not in OUTCOMES:
        raise InvalidInput("escalations.bad_outcome", field="outcome")
    return outcome, note
