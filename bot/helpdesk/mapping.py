"""Helpdesk tickets onto the generic import fields, and helpdesk groups onto teams."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session

from supportbot.bot.helpdesk import freshdesk as fd
from supportbot.bot.helpdesk import zendesk as zd
from supportbot.bot.ingest import parse_time
from supportbot.storage import kpis as store
from supportbot.storage import teams as team_store


def team_groups(team: Any) -> list[str]:
    groups = (team.settings or {}).get("helpdesk_groups")
    return list(groups) if groups else [team.name]


def group_map(session: Session, workspace_id: str) -> dict[str, str]:
    """lower(helpdesk group) -> team name."""
    out: dict[str, str] = {}
    for team in team_store.list_teams(session=session, workspace_id=workspace_id):
        for group in team_groups(team):
            out.setdefault(group.strip().lower(), team.name)
    return out


def _team_for(groups: dict[str, str], name: str | None) -> str | None:
    if not name:
        return None
    return groups.get(name.strip().lower(), name)[:80]  # the column's size: keep the ticket


def _text(value: Any, limit: int) -> str | None:
    return None if value in (None, "") else str(value)[:limit]


MAX_TAGS = 2000  # characters kept of a ticket's tags (whole tags only)


def tag_text(tags: Any) -> str | None:
    """A helpdesk's tag list -> one space-separated text, as Zendesk writes tags. A space
    inside a (Freshdesk) tag becomes "_", so every word is one tag; repeats are dropped."""
    if not isinstance(tags, list):
        return None
    words: list[str] = []
    for tag in tags:
        word = "_".join(str(tag).split())
        if word and word not in words:
            words.append(word)
    text = " ".join(words)
    if len(text) > MAX_TAGS:
        text = text[: MAX_TAGS + 1].rsplit(" ", 1)[0][:MAX_TAGS]
    return text or None


def first_reply_target(ticket: dict[str, Any]) -> int | None:
    """Minutes from creation to the first-reply breach of the ticket's Zendesk SLA policy
    (the `slas` side-load: `policy_metrics` with metric `first_reply_time` and its
    `breach_at`), or None when no policy sets one. Wall-clock minutes, so a
    business-hours policy's deadline is the real moment it breaches."""
    created = ticket.get("created_at")
    metrics = (ticket.get("slas") or {}).get("policy_metrics") or []
    for metric in metrics:
        if metric.get("metric") == "first_reply_time" and metric.get("breach_at") and created:
            minutes = round((parse_time(metric["breach_at"]) - parse_time(created)).total_seconds() / 60)
            return minutes if minutes >= 1 else None
    return None


# ----- mapping onto the generic import fields --------------------------------------
def zendesk_fields(
    ticket: dict[str, Any], page: zd.ExportPage, groups: dict[str, str], category_field: int | None
) -> dict[str, Any]:
    """The same definitions as a Zendesk CSV import: first reply = created + the first
    reply time in calendar minutes; replies from the metric set; good/bad ratings only;
    the first-response target from the ticket's SLA policy when it has one; its tags."""
    metric = page.metric_sets.get(ticket["id"]) or {}
    created = ticket.get("created_at")
    out: dict[str, Any] = {"ticket_id": str(ticket["id"]), "created_at": created}
    reply = (metric.get("reply_time_in_minutes") or {}).get("calendar")
    if reply is not None and created:
        out["first_response_at"] = (parse_time(created) + timedelta(minutes=float(reply))).isoformat()
    status = ticket.get("status")
    out["status"] = _text(status, 32)
    if status in ("solved", "closed"):
        out["solved_at"] = metric.get("solved_at")
    user = page.users.get(ticket.get("assignee_id") or -1) or {}
    out["agent_email"] = user.get("email")
    group = page.groups.get(ticket.get("group_id") or -1) or {}
    out["team"] = _team_for(groups, group.get("name"))
    out["channel"] = _text((ticket.get("via") or {}).get("channel"), 64)
    if category_field is not None:
        for custom in ticket.get("custom_fields") or []:
            if custom.get("id") == category_field:
                out["category"] = _text(custom.get("value"), 80)
    else:
        out["category"] = _text(ticket.get("type"), 80)
    out["priority"] = _text(ticket.get("priority"), 32)
    score = str((ticket.get("satisfaction_rating") or {}).get("score") or "").lower()
    if score in ("good", "bad"):  # "offered" / "unoffered" are not ratings
        out["csat"] = score
    out["agent_replies"] = metric.get("replies")
    out["sla_target_minutes"] = first_reply_target(ticket)  # else the team's --sla-minutes
    out["tags"] = tag_text(ticket.get("tags"))
    return out


def freshdesk_fields(
    ticket: dict[str, Any],
    agents: dict[int, str],
    group_names: dict[int, str],
    groups: dict[str, str],
    category_field: str | None,
) -> dict[str, Any]:
    stats = ticket.get("stats") or {}
    created = ticket.get("created_at")
    status = fd.STATUS.get(ticket.get("status") or 0, str(ticket.get("status"))[:32])
    out: dict[str, Any] = {
        "ticket_id": str(ticket["id"]),
        "created_at": created,
        "first_response_at": stats.get("first_responded_at"),
        "status": status,
        "agent_email": agents.get(ticket.get("responder_id") or -1),
        "team": _team_for(groups, group_names.get(ticket.get("group_id") or -1)),
        "channel": fd.SOURCE.get(ticket.get("source") or 0),
        "priority": fd.PRIORITY.get(ticket.get("priority") or 0),
        "tags": tag_text(ticket.get("tags")),
    }
    if status in ("resolved", "closed"):
        out["solved_at"] = stats.get("resolved_at") or stats.get("closed_at")
    if category_field:
        out["category"] = _text((ticket.get("custom_fields") or {}).get(category_field), 80)
    else:
        out["category"] = _text(ticket.get("type"), 80)
    due = ticket.get("fr_due_by")
    if due and created:
        minutes = round((parse_time(due) - parse_time(created)).total_seconds() / 60)
        if minutes >= 1:
            out["sla_target_minutes"] = minutes
    return out


def keep_ratings(session: Session, workspace_id: str, rows: list[dict[str, Any]]) -> None:
    """A Freshdesk ticket carries no rating: keep the one the ratings pass stored."""
    old = store.ticket_rows(
        session=session, workspace_id=workspace_id, source="freshdesk", ticket_ids=[r["ticket_id"] for r in rows]
    )
    for row in rows:
        before = old.get(row["ticket_id"])
        if before is not None and before.get("csat_good") is not None:
            row["csat"], row["csat_good"] = before.get("csat"), before["csat_good"]


def freshdesk_good(rating: dict[str, Any]) -> bool | None:
    """Freshdesk's scale runs 103 (extremely happy) .. -103; 100 is neutral (not satisfied)."""
    value = (rating.get("ratings") or {}).get("default_question")
    if not isinstance(value, int):
        return None
    return value > 100


