"""Team and membership queries. The caller owns the session and the transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, delete
from sqlmodel import Session, col, select

from supportbot.storage.models import ROLE_LEADER, Team, TeamMember

# The queries every request runs are built once, with bound parameters: building and
# keying a statement cost about twice what running it did (measured on SQLite, 710 vs
# 245 us for the teams of a user).
_WORKSPACE, _USER, _TEAM = bindparam("workspace_id"), bindparam("user_id"), bindparam("team_id")
_TEAMS_OF_USER = (
    select(Team)
    .join(TeamMember, col(TeamMember.team_id) == col(Team.id))
    .where(TeamMember.workspace_id == _WORKSPACE, TeamMember.user_id == _USER)
    .order_by(Team.name)
)
_TEAMS_LED_BY = _TEAMS_OF_USER.where(TeamMember.role == ROLE_LEADER)
_MEMBERSHIP = select(TeamMember).where(TeamMember.team_id == _TEAM, TeamMember.user_id == _USER)
# Leaders first in chain order, then members by when they joined.
_MEMBER_ORDER = ((TeamMember.role != ROLE_LEADER), col(TeamMember.position), col(TeamMember.id))
_MEMBER_IDS = select(TeamMember.user_id).where(TeamMember.team_id == _TEAM).order_by(*_MEMBER_ORDER)
_LEADERS = (
    select(TeamMember.user_id)
    .where(TeamMember.team_id == _TEAM, TeamMember.role == ROLE_LEADER)
    .order_by(col(TeamMember.position), col(TeamMember.id))
)


def get_team(*, session: Session, team_id: int) -> Team | None:
    return session.get(Team, team_id)


def get_team_by_name(*, session: Session, workspace_id: str, name: str) -> Team | None:
    return session.exec(
        select(Team).where(Team.workspace_id == workspace_id, Team.name == name)
    ).first()


def list_teams(*, session: Session, workspace_id: str | None = None) -> Sequence[Team]:
    query = select(Team).order_by(Team.workspace_id, Team.name)
    if workspace_id is not None:
        query = query.where(Team.workspace_id == workspace_id)
    return session.exec(query).all()


def list_workspaces(*, session: Session) -> list[str]:
    return list(session.exec(select(Team.workspace_id).distinct()).all())


def members_of(*, session: Session, team_id: int) -> Sequence[TeamMember]:
    """Leaders first in chain order, then members by when they joined."""
    return session.exec(
        select(TeamMember).where(TeamMember.team_id == team_id).order_by(*_MEMBER_ORDER)
    ).all()


def member_ids(*, session: Session, team_id: int) -> list[str]:
    """Everyone in the team, in `members_of`'s order (user ids only)."""
    return list(session.exec(_MEMBER_IDS, params={"team_id": team_id}).all())


def leaders_of(*, session: Session, team_id: int) -> list[str]:
    """The escalation chain, in order (user ids only: on the /escalate path)."""
    return list(session.exec(_LEADERS, params={"team_id": team_id}).all())


def agents_of(*, session: Session, team_id: int) -> list[str]:
    return [m.user_id for m in members_of(session=session, team_id=team_id) if m.role != ROLE_LEADER]


def get_membership(*, session: Session, team_id: int, user_id: str) -> TeamMember | None:
    return session.exec(_MEMBERSHIP, params={"team_id": team_id, "user_id": user_id}).first()


def teams_of_user(*, session: Session, workspace_id: str, user_id: str) -> Sequence[Team]:
    return session.exec(
        _TEAMS_OF_USER, params={"workspace_id": workspace_id, "user_id": user_id}
    ).all()


def teams_led_by(*, session: Session, workspace_id: str, user_id: str) -> Sequence[Team]:
    return session.exec(
        _TEAMS_LED_BY, params={"workspace_id": workspace_id, "user_id": user_id}
    ).all()


def delete_team(*, session: Session, team: Team) -> None:
    session.execute(delete(TeamMember).where(col(TeamMember.team_id) == team.id))
    session.flush()
    session.delete(team)
