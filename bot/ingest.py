"""Getting tickets in: CSV (generic or a Zendesk export) and JSON, validated row by row.

A bad row is reported with its line number and reason and skipped; good rows are upserted
by ticket id in batches (constant memory). Importing the same data twice changes nothing.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TextIO

from sqlmodel import Session

from supportbot.bot.ingest_fields import parse_csat, parse_time, utc_time, whole
from supportbot.storage import kpis as store

FORMATS = ("generic", "zendesk")
BATCH = 5000
MAX_ERRORS_KEPT = 1000

GENERIC_COLUMNS = (
    "ticket_id",
    "created_at",
    "first_response_at",
    "solved_at",
    "status",
    "agent_slack_id",
    "agent_email",
    "team",
    "channel",
    "category",
    "priority",
    "csat",
    "nps",
    "handle_time_seconds",
    "agent_replies",
    "sla_target_minutes",
)

# Zendesk's ticket CSV export (Admin Center > Account > Tools > Reports > Export) headers,
# mapped onto the generic fields. Durations there are minutes after "Created at".
ZENDESK_COLUMNS = {
    "id": "ticket_id",
    "created at": "created_at",
    "solved at": "solved_at",
    "status": "status",
    "assignee email": "agent_email",
    "group": "team",
    "via": "channel",
    "ticket type": "category",
    "category": "category",
    "priority": "priority",
    "satisfaction score": "csat",
    "replies": "agent_replies",
    "total time spent (sec)": "handle_time_seconds",
}
ZENDESK_FIRST_REPLY = "first reply time in minutes"
ZENDESK_IGNORED_CSAT = {"offered", "unoffered", "not offered", ""}

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,60}$")
TEXT_LIMITS = {"status": 32, "team": 80, "channel": 64, "category": 80, "priority": 32}
NUL_REASON = "contains a NUL character (\\x00), which cannot be stored"


class RowError(Exception):
    """A row (or a JSON ticket) that cannot be taken, with its field and reason."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class ImportReport:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append((line, reason))

    def add(self, result: store.UpsertResult) -> None:
        self.inserted += result.inserted
        self.updated += result.updated
        self.unchanged += result.unchanged


def normalize(raw: dict[str, Any], *, resolve_email: Callable[[str], str | None] | None = None) -> dict[str, Any]:
    """Generic fields (strings or JSON values) -> a ticket row; RowError lists every problem."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}

    cleaned: dict[str, str] = {}
    for key, value in raw.items():
        if value is None or value == "":
            continue
        cleaned[key] = value.strip() if type(value) is str else str(value).strip()
    text = cleaned.get

    ticket_id = text("ticket_id", "")
    if not ticket_id:
        errors["ticket_id"] = "missing"
    elif len(ticket_id) > 128:
        errors["ticket_id"] = "longer than 128 characters"
    elif "\x00" in ticket_id:
        errors["ticket_id"] = NUL_REASON
    out["ticket_id"] = ticket_id

    for name in ("created_at", "first_response_at", "solved_at"):
        value = text(name, "")
        out[name] = None
        if not value:
            if name == "created_at":
                errors[name] = "missing"
            continue
        try:
            out[name] = utc_time(value)
        except ValueError as exc:
            errors[name] = str(exc)
    created = out.get("created_at")
    for name in ("first_response_at", "solved_at"):
        if created and out.get(name) and out[name] < created:
            errors[name] = f"earlier than created_at ({out[name].isoformat()})"
    responded = out.get("first_response_at")
    out["frt_seconds"] = (
        int((responded - created).total_seconds())
        if created and responded and "first_response_at" not in errors
        else None
    )

    agent = text("agent_slack_id", "")
    if agent and not _USER_ID.match(agent):
        errors["agent_slack_id"] = f"not a Slack user id (U…): {agent!r}"
    email = text("agent_email", "").lower()
    if email and not _EMAIL.match(email):
        errors["agent_email"] = f"not an email address: {email!r}"
    elif len(email) > 254 or "\x00" in email:
        errors["agent_email"] = "longer than 254 characters" if len(email) > 254 else NUL_REASON
    if not agent and email and resolve_email is not None and "agent_email" not in errors:
        agent = resolve_email(email) or ""
    out["agent_id"] = agent or None
    out["agent_email"] = email or None

    for name, limit in TEXT_LIMITS.items():
        value = text(name, "")
        if len(value) > limit:
            errors[name] = f"longer than {limit} characters"
        elif "\x00" in value:
            errors[name] = NUL_REASON
        out[name] = value or None
    out["team_key"] = out["team"].lower() if out.get("team") else None
    if out["team_key"] and len(out["team_key"]) > TEXT_LIMITS["team"] and "team" not in errors:
        errors["team"] = f"longer than {TEXT_LIMITS['team']} characters in lower case"

    out["csat"], out["csat_good"] = None, None
    csat = text("csat", "")
    if csat:
        try:
            out["csat"], out["csat_good"] = parse_csat(csat)
        except ValueError as exc:
            errors["csat"] = str(exc)
    for name, low, high in (
        ("nps", 0, 10),
        ("handle_time_seconds", 0, 10_000_000),
        ("agent_replies", 0, 100_000),
        ("sla_target_minutes", 1, 1_000_000),
    ):
        value = text(name, "")
        out[name] = None
        if value:
            try:
                out[name] = whole(value, name, low, high)
            except ValueError as exc:
                errors[name] = str(exc)
    if errors:
        raise RowError(errors)
    return out


def zendesk_row(row: dict[str, str]) -> dict[str, Any]:
    """A Zendesk export row (headers matched case-insensitively) -> generic fields."""
    lower = {(k or "").strip().lower(): (v or "") for k, v in row.items()}
    out: dict[str, Any] = {}
    for header, name in ZENDESK_COLUMNS.items():
        value = lower.get(header, "").strip()
        if value and not out.get(name):
            out[name] = value
    csat = str(out.get("csat", "")).strip().lower()
    if csat in ZENDESK_IGNORED_CSAT:
        out.pop("csat", None)
    first = lower.get(ZENDESK_FIRST_REPLY, "").strip()
    if first and out.get("created_at"):
        try:
            created = parse_time(str(out["created_at"]))
            out["first_response_at"] = (created + timedelta(minutes=float(first))).isoformat()
        except ValueError:
            out["first_response_at"] = f"invalid first reply minutes {first!r}"
    return out


# ----- streaming import ------------------------------------------------------------------
def read_rows(stream: TextIO, fmt: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, generic fields) for each data row of a CSV stream."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    reader = csv.DictReader(stream)
    if reader.fieldnames is None:
        return
    headers = [(h or "").strip().lower() for h in reader.fieldnames]
    if fmt == "generic":
        missing = [c for c in ("ticket_id", "created_at") if c not in headers]
        if missing:
            raise ValueError(f"the header row lacks {', '.join(missing)}; found: {', '.join(headers)}")
    else:
        missing = [c for c in ("id", "created at") if c not in headers]
        if missing:
            raise ValueError(f"not a Zendesk ticket export: no {', '.join(repr(m) for m in missing)} column")
    reader.fieldnames = headers
    for row in reader:
        line = reader.line_num
        if None in row:  # more cells than headers
            row.pop(None)  # type: ignore[call-overload]
        if fmt == "zendesk":
            yield line, zendesk_row(row)
        else:
            yield line, row


def import_rows(
    session_factory: Callable[[], Any],
    *,
    workspace_id: str,
    rows: Iterable[tuple[int, dict[str, Any]]],
    now: datetime,
    resolve_email: Callable[[str], str | None] | None = None,
    batch: int = BATCH,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Validate and upsert in batches, each batch in its own transaction.

    `session_factory()` returns a context manager yielding a Session that commits on exit.
    A batch is all-or-nothing; a failure stops the import with the earlier batches kept
    (each complete), and rows are idempotent, so running again finishes the job.
    """
    report = ImportReport()
    pending: list[dict[str, Any]] = []
    seen = 0

    def flush() -> None:
        if not pending:
            return
        with session_factory() as session:
            report.add(
                store.upsert_tickets(session=session, workspace_id=workspace_id, rows=pending, now=now)
            )
        pending.clear()

    for line, raw in rows:
        seen += 1
        try:
            pending.append(normalize(raw, resolve_email=resolve_email))
        except RowError as exc:
            report.reject(line, str(exc))
        if len(pending) >= batch:
            flush()
        if progress is not None:
            progress(1)
    flush()
    return report


def import_csv(
    session_factory: Callable[[], Any],
    *,
    workspace_id: str,
    stream: TextIO,
    fmt: str,
    now: datetime,
    resolve_email: Callable[[str], str | None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    return import_rows(
        session_factory,
        workspace_id=workspace_id,
        rows=read_rows(stream, fmt),
        now=now,
        resolve_email=resolve_email,
        progress=progress,
    )


def import_json(
    session: Session,
    *,
    workspace_id: str,
    payload: Any,
    now: datetime,
    resolve_email: Callable[[str], str | None] | None = None,
    max_items: int = 1000,
) -> tuple[store.UpsertResult, list[dict[str, Any]]]:
    """A ticket or a list of tickets (JSON): all valid -> upserted; else nothing and errors.

    Errors are `{"index": i, "errors": {field: reason}}`, so a webhook can fix its payload.
    """
    items = payload if isinstance(payload, list) else [payload]
    if not items:
        return store.UpsertResult(), [{"index": None, "errors": {"body": "empty list"}}]
    if len(items) > max_items:
        return store.UpsertResult(), [
            {"index": None, "errors": {"body": f"at most {max_items} tickets per request"}}
        ]
    rows: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append({"index": i, "errors": {"ticket": "must be a JSON object"}})
            continue
        unknown = sorted(set(item) - set(GENERIC_COLUMNS))
        try:
            rows.append(normalize(item, resolve_email=resolve_email))
            if unknown:
                problems.append({"index": i, "errors": {k: "unknown field" for k in unknown}})
        except RowError as exc:
            errors = dict(exc.errors)
            errors.update({k: "unknown field" for k in unknown})
            problems.append({"index": i, "errors": errors})
    if problems:
        return store.UpsertResult(), problems
    return store.upsert_tickets(session=session, workspace_id=workspace_id, rows=rows, now=now), []

