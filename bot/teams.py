"""Teams: who leads, who is a member, which team a request belongs to."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from supportbot.bot.config import LANGUAGES
from supportbot.bot.errors import InvalidInput, NotAllowed, NotFound
from supportbot.bot.timeutil import is_timezone, parse_duration
from supportbot.storage import teams as store
from supportbot.storage.models import ROLE_LEADER, ROLE_MEMBER, Team, TeamMember

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
WORKSPACE_ID = re.compile(r"^[TE][A-Z0-9]{2,}$")
TEAM_NAME = re.compile(r"^[\w][\w .&'-]{0,79}$", re.UNICODE)

SEVERITIES = ("urgent", "high", "normal", "low")
DEFAULT_ACK_TIMEOUTS = {"urgent": 300, "high": 900, "normal": 3600, "low": 14400}


def check_user_id(value: str) -> str:
    if not USER_ID.match(value or ""):
        raise InvalidInput("teams.bad_user_id", value=value)
    return value


def check_channel_id(value: str) -> str:
    if not CHANNEL_ID.match(value or ""):
        raise InvalidInput("teams.bad_channel_id", value=value)
    return value


def check_workspace_id(value: str) -> str:
    if not WORKSPACE_ID.match(value or ""):
        raise InvalidInput("teams.bad_workspace_id", value=value)
    return value


def check_name(value: str) -> str:
    value = (value or "").strip()
    if not TEAM_NAME.match(value):
        raise InvalidInput("teams.bad_name", value=value)
    return value


def check_timezone(value: str) -> str:
    if not is_timezone(value):
        raise InvalidInput("common.bad_timezone", value=value)
    return value


def parse_ack_timeouts(text: str) -> dict[str, int]:
    """`urgent=5m,high=15m,normal=1h,low=4h` -> seconds per severity (any subset)."""
    out: dict[str, int] = {}
    for part in (text or "").split(","):
        severity, sep, value = part.strip().partition("=")
        severity = severity.strip().lower()
        if not sep or severity not in SEVERITIES:
            raise InvalidInput("teams.bad_ack_timeout", value=part.strip() or text)
        out[severity] = int(parse_duration(value).total_seconds())
    return out


def ack_timeouts(team: Team) -> dict[str, int]:
    return {**DEFAULT_ACK_TIMEOUTS, **(team.settings or {}).get("ack_timeouts", {})}


def check_language(value: str) -> str:
    value = (value or "").lower()
    if value not in LANGUAGES:
        raise InvalidInput("teams.bad_language", value=value)
    return value


@dataclass
class TeamView:
    team: Team
    leaders: list[str]
    members: list[str]


def describe(session: Session, team: Team) -> TeamView:
    assert team.id is not None
    return TeamView(
        team=team,
        leaders=store.leaders_of(session=session, team_id=team.id),
        members=store.agents_of(session=session, team_id=team.id),
    )


def create_team(
    session: Session,
    *,
    workspace_id: str,
    name: str,
    leaders: Sequence[str],
    members: Sequence[str],
    escalation_channel: str,
    digest_channel: str | None,
    timezone: str,
    language: str,
    now: datetime,
) -> Team:
    check_workspace_id(workspace_id)
    name = check_name(name)
    if not leaders:
        raise InvalidInput("teams.need_leader")
    for uid in [*leaders, *members]:
        check_user_id(uid)
    check_channel_id(escalation_channel)
    if digest_channel:
        check_channel_id(digest_channel)
    check_timezone(timezone)
    check_language(language)
    if store.get_team_by_name(session=session, workspace_id=workspace_id, name=name):
        raise InvalidInput("teams.exists", name=name)
    team = Team(
        workspace_id=workspace_id,
        name=name,
        escalation_channel=escalation_channel,
        digest_channel=digest_channel or None,
        timezone=timezone,
        language=language,
        settings={},
        created_at=now,
    )
    session.add(team)
    session.flush()
    _set_people(session, team, list(leaders), list(members), now)
    return team


def _set_people(
    session: Session, team: Team, leaders: list[str], members: list[str], now: datetime
) -> None:
    assert team.id is not None
    leaders = list(dict.fromkeys(leaders))
    members = [m for m in dict.fromkeys(members) if m not in leaders]
    existing = {m.user_id: m for m in store.members_of(session=session, team_id=team.id)}
    wanted = set(leaders) | set(members)
    for uid, row in existing.items():
        if uid not in wanted:
            session.delete(row)
    session.flush()
    for position, uid in enumerate(leaders):
        _upsert_member(session, team, existing.get(uid), uid, ROLE_LEADER, position, now)
    for position, uid in enumerate(members):
        _upsert_member(session, team, existing.get(uid), uid, ROLE_MEMBER, position, now)
    session.flush()


def _upsert_member(
    session: Session,
    team: Team,
    row: TeamMember | None,
    uid: str,
    role: str,
    position: int,
    now: datetime,
) -> None:
    if row is None:
        assert team.id is not None
        row = TeamMember(
            team_id=team.id, workspace_id=team.workspace_id, user_id=uid, created_at=now
        )
    row.role = role
    row.position = position
    session.add(row)


def update_team(
    session: Session,
    team: Team,
    *,
    now: datetime,
    new_name: str | None = None,
    leaders: Sequence[str] | None = None,
    add_members: Sequence[str] = (),
    remove_members: Sequence[str] = (),
    escalation_channel: str | None = None,
    digest_channel: str | None = None,
    timezone: str | None = None,
    language: str | None = None,
    settings: dict[str, Any] | None = None,
) -> Team:
    assert team.id is not None
    if new_name is not None:
        new_name = check_name(new_name)
        other = store.get_team_by_name(
            session=session, workspace_id=team.workspace_id, name=new_name
        )
        if other is not None and other.id != team.id:
            raise InvalidInput("teams.exists", name=new_name)
        team.name = new_name
    if escalation_channel is not None:
        team.escalation_channel = check_channel_id(escalation_channel)
    if digest_channel is not None:
        team.digest_channel = check_channel_id(digest_channel) if digest_channel else None
    if timezone is not None:
        team.timezone = check_timezone(timezone)
    if language is not None:
        team.language = check_language(language)
    if settings:
        team.settings = {**(team.settings or {}), **settings}
    current = describe(session, team)
    new_leaders = list(leaders) if leaders is not None else current.leaders
    for uid in [*new_leaders, *add_members, *remove_members]:
        check_user_id(uid)
    if not new_leaders:
        raise InvalidInput("teams.need_leader")
    members = [m for m in current.members if m not in remove_members]
    members += [m for m in add_members if m not in members]
    new_leaders = [m for m in new_leaders if m not in remove_members] or new_leaders
    _set_people(session, team, new_leaders, members, now)
    session.add(team)
    return team


def find_team(session: Session, workspace_id: str, name: str) -> Team:
    team = store.get_team_by_name(session=session, workspace_id=workspace_id, name=name)
    if team is None:
        raise NotFound("teams.not_found", name=name)
    return team


def is_leader(session: Session, team: Team, user_id: str) -> bool:
    assert team.id is not None
    row = store.get_membership(session=session, team_id=team.id, user_id=user_id)
    return row is not None and row.role == ROLE_LEADER


def is_in_team(session: Session, team: Team, user_id: str) -> bool:
    assert team.id is not None
    return store.get_membership(session=session, team_id=team.id, user_id=user_id) is not None


def require_leader(session: Session, team: Team, user_id: str) -> None:
    if not is_leader(session, team, user_id):
        raise NotAllowed("teams.leaders_only", team=team.name)


def team_for_request(
    session: Session,
    *,
    workspace_id: str,
    user_id: str,
    channel_id: str | None,
    team_name: str | None = None,
    leader_only: bool = False,
    mine: Sequence[Team] | None = None,
) -> Team:
    """The caller's team: named, else the channel's team they belong to, else their only one.
    `mine`: the caller's teams (or those they lead), when the caller has read them already.

    Raises a clear error for someone in no team or in several with no way to tell.
    """
    if mine is None:
        mine = (
            store.teams_led_by(session=session, workspace_id=workspace_id, user_id=user_id)
            if leader_only
            else store.teams_of_user(session=session, workspace_id=workspace_id, user_id=user_id)
        )
    if team_name:
        for team in mine:
            if team.name.lower() == team_name.lower():
                return team
        raise NotFound("teams.not_yours", name=team_name)
    if not mine:
        raise NotFound("teams.leads_none" if leader_only else "teams.in_none")
    if len(mine) == 1:
        return mine[0]
    if channel_id:
        here = [
            t for t in mine if channel_id in (t.escalation_channel, t.digest_channel)
        ]
        if len(here) == 1:
            return here[0]
    raise InvalidInput("teams.ambiguous", teams=", ".join(t.name for t in mine))


class LanguageCache:
    """The caller's language, kept per runtime (every request needs it; teams change
    rarely). Changes this runtime makes clear it at once (`clear`); another process's
    changes show within `ttl` seconds."""

    def __init__(self, ttl: float = 60.0, size: int = 10_000) -> None:
        self.ttl, self.size = ttl, size
        self._entries: dict[tuple[str, str, str], tuple[str, float]] = {}

    def clear(self) -> None:
        self._entries.clear()

    def cached(self, workspace_id: str, user_id: str, default: str) -> str | None:
        """The language if known and fresh, without a database read; else None."""
        entry = self._entries.get((workspace_id, user_id, default))
        return entry[0] if entry is not None and entry[1] > time.monotonic() else None

    def language_for(self, session: Session, workspace_id: str, user_id: str, default: str) -> str:
        cached = self.cached(workspace_id, user_id, default)
        if cached is not None:
            return cached
        lang = language_for(session, workspace_id, user_id, default)
        if len(self._entries) > self.size:
            self._entries.clear()
        self._entries[(workspace_id, user_id, default)] = (lang, time.monotonic() + self.ttl)
        return lang


def language_for(session: Session, workspace_id: str, user_id: str, default: str) -> str:
    """The language of the user's first team, else the deployment default."""
    teams = store.teams_of_user(session=session, workspace_id=workspace_id, user_id=user_id)
    return teams[0].language if teams else default


def setting(team: Team, key: str, default: Any) -> Any:
    return (team.settings or {}).get(key, default)


def add_member_by_leader(
    session: Session, *, team: Team, leader_id: str, user_id: str, now: datetime
) -> bool:
    """False when already a member."""
    require_leader(session, team, leader_id)
    check_user_id(user_id)
    if is_in_team(session, team, user_id):
        return False
    update_team(session, team, now=now, add_members=[user_id])
    return True


def remove_member_by_leader(
    session: Session, *, team: Team, leader_id: str, user_id: str, now: datetime
) -> bool:
    require_leader(session, team, leader_id)
    assert team.id is not None
    row = store.get_membership(session=session, team_id=team.id, user_id=user_id)
    if row is None:
        return False
    if row.role == ROLE_LEADER:
        raise InvalidInput("teams.cannot_remove_leader")
    session.delete(row)
    session.flush()
    return True
