"""What people type: a one-line escalation, a reference, the modal's fields, a resolution."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from supportbot.bot import keywords, teams
from supportbot.bot.errors import InvalidInput
from supportbot.bot.keywords import fold

SEVERITIES = teams.SEVERITIES
CATEGORIES = ("billing", "technical", "shipping", "account", "other")
OUTCOMES = ("fixed", "refund", "credit", "replacement", "workaround", "no_action")

FEATURE = "escalations"  # its [keywords] table in bot/messages/escalations.toml
COMMAND_WORDS = ("help", "list")
TYPO_CUTOFF = 0.75  # `lsit`/`list` and `hlep`/`help` score 0.75; `hello`/`help` 0.67

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
    """`[urgent|high|normal|low|p1..p4|urgente|alta|baja...] <summary>` (as typed, Slack's formatting already undone):
    the severity word is optional, a `#12345` or a URL in the text becomes the ticket
    reference (the summary keeps it too)."""
    text = (text or "").strip()
    severity = "normal"
    first, _sep, rest = text.partition(" ")
    word = severity_word(first)
    if word:
        severity, text = word, rest.strip()
    ticket = None
    url = _URL.search(text)
    hashed = _TICKET_HASH.search(text)
    if url:
        ticket = url.group(0).rstrip(").,;:!?]'\"")
    elif hashed:
        ticket = "#" + hashed.group(1)
    return Draft(severity=severity, summary=text, ticket_ref=ticket)


def severity_word(word: str) -> str | None:
    """`urgent`, `Urgente`, `p1`, `urgent:` -> "urgent" (either language, any case or accents)."""
    key = keywords.canonical(FEATURE, (word or "").rstrip(":"))
    return key if key in SEVERITIES else None


def looks_like(word: str) -> str | None:
    """The command word or severity that `word`, which is not one, looks like a typo of
    (`lsit` -> list, `urgnet` -> urgent, `ayda` -> help), in either language; by difflib's
    similarity, so that a typo opens the form instead of raising an escalation."""
    folded = fold(word).rstrip(":")
    if len(folded) < 3 or keywords.canonical(FEATURE, folded) is not None:
        return None
    wanted = (*COMMAND_WORDS, *SEVERITIES)
    candidates = {w: key for w, key in keywords.all_words(FEATURE).items() if key in wanted and len(w) >= 3}
    match = difflib.get_close_matches(folded, list(candidates), n=1, cutoff=TYPO_CUTOFF)
    return candidates[match[0]] if match else None


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
