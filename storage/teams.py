"""Team and membership queries. The caller owns the session and the transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete
from sqlmodel import Session, col, select

from storage.models import ROLE_LEADER, Team, TeamMember


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
        select(TeamMember)
        .where(TeamMember.team_id == team_id)
        .order_by(
            (TeamMember.role != ROLE_LEADER),
            col(TeamMember.position),
            col(TeamMember.id),
        )
    ).all()


def leaders_of(*, session: Session, team_id: int) -> list[str]:
    """The escalation chain, in order (user ids only: on the /escalate path)."""
    return list(
        session.exec(
            select(TeamMember.user_id)
            .where(TeamMember.team_id == team_id, TeamMember.role == ROLE_LEADER)
            .order_by(col(TeamMember.position), col(TeamMember.id))
        ).all()
    )


def agents_of(*, session: Session, team_id: int) -> list[str]:
    return [m.user_id for m in members_of(session=session, team_id=team_id) if m.role != ROLE_LEADER]


def get_membership(*, session: Session, team_id: int, user_id: str) -> TeamMember | None:
    return session.exec(
        select(TeamMember).where(TeamMember.team_id == team_id, TeamMember.user_id == user_id)
    ).first()


def teams_of_user(*, session: Session, workspace_id: str, user_id: str) -> Sequence[Team]:
    return session.exec(
        select(Team)
        .join(TeamMember, col(TeamMember.team_id) == col(Team.id))
        .where(TeamMember.workspace_id == workspace_id, TeamMember.user_id == user_id)
        .order_by(Team.name)
    ).all()


def teams_led_by(*, session: Session, workspace_id: str, user_id: str) -> Sequence[Team]:
    return session.exec(
        select(Team)
        .join(TeamMember, col(TeamMember.team_id) == col(Team.id))
        .where(
            TeamMember.workspace_id == workspace_id,
            TeamMember.user_id == user_id,
            TeamMember.role == ROLE_LEADER,
        )
        .order_by(Team.name)
    ).all()


def teams_by_channel(*, session: Session, workspace_id: str, channel_id: str) -> Sequence[Team]:
    return session.exec(
        select(Team).where(
            Team.workspace_id == workspace_id,
            (Team.escalation_channel == channel_id) | (Team.digest_channel == channel_id),
        )
    ).all()


def delete_team(*, session: Session, team: Team) -> None:
    session.execute(delete(TeamMember).where(col(TeamMember.team_id) == team.id))
    session.flush()
    session.delete(team)
