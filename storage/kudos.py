"""Kudos (public shout-outs) and who received them. The caller owns the session."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, Text, bindparam, func, insert
from sqlmodel import Field, Session, SQLModel, col, select

from supportbot.storage.types import UTCDateTime


class Kudos(SQLModel, table=True):
    """One shout-out; `message` is exactly what the giver typed."""

    __tablename__ = "kudos"
    __table_args__ = (
        Index("ix_kudos_team_created", "team_id", "created_at"),
        Index("ix_kudos_workspace_giver_created", "workspace_id", "giver_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    team_id: int = Field(
        sa_column=Column(Integer, ForeignKey("team.id", ondelete="CASCADE"), nullable=False)
    )
    giver_id: str = Field(max_length=32)
    message: str = Field(sa_type=Text)
    value: str | None = Field(default=None, max_length=64)
    channel_id: str = Field(max_length=32)
    created_at: datetime = Field(sa_type=UTCDateTime)


class KudosRecipient(SQLModel, table=True):
    __tablename__ = "kudos_recipient"
    __table_args__ = (
        Index("ix_kudos_recipient_team_created", "team_id", "created_at"),
        Index("ix_kudos_recipient_workspace_user", "workspace_id", "recipient_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kudos_id: int = Field(
        sa_column=Column(Integer, ForeignKey("kudos.id", ondelete="CASCADE"), nullable=False)
    )
    workspace_id: str = Field(max_length=32)
    team_id: int = Field(
        sa_column=Column(Integer, ForeignKey("team.id", ondelete="CASCADE"), nullable=False)
    )
    recipient_id: str = Field(max_length=32)
    created_at: datetime = Field(sa_type=UTCDateTime)


def add_kudos(*, session: Session, kudos: Kudos, recipients: Sequence[str]) -> Kudos:
    """Two statements (the kudos, then all its recipients), on the tables: the ORM's
    unit of work around them cost more than the inserts on the /kudos path. The returned
    kudos has its id and is not attached to the session."""
    session.flush()  # anything pending goes first, as with an ORM flush
    kudos.id = session.execute(_INSERT_KUDOS, kudos.model_dump(exclude={"id"})).scalar_one()
    session.execute(
        _INSERT_RECIPIENT,
        [
            {
                "kudos_id": kudos.id,
                "workspace_id": kudos.workspace_id,
                "team_id": kudos.team_id,
                "recipient_id": uid,
                "created_at": kudos.created_at,
            }
            for uid in recipients
        ],
    )
    return kudos


_INSERT_KUDOS = insert(Kudos.__table__).returning(Kudos.__table__.c.id)  # type: ignore[attr-defined]
_INSERT_RECIPIENT = insert(KudosRecipient.__table__)  # type: ignore[attr-defined]


def get_kudos(*, session: Session, kudos_id: int) -> Kudos | None:
    return session.get(Kudos, kudos_id)


def recipients_of(*, session: Session, kudos_id: int) -> list[str]:
    return list(
        session.exec(
            select(KudosRecipient.recipient_id)
            .where(KudosRecipient.kudos_id == kudos_id)
            .order_by(col(KudosRecipient.id))
        ).all()
    )


def kudos_received(
    *, session: Session, workspace_id: str, user_id: str, since: datetime, until: datetime
) -> Sequence[Kudos]:
    """Kudos the user received in [since, until), newest first."""
    return session.exec(
        select(Kudos)
        .join(KudosRecipient, col(KudosRecipient.kudos_id) == col(Kudos.id))
        .where(
            KudosRecipient.workspace_id == workspace_id,
            KudosRecipient.recipient_id == user_id,
            col(KudosRecipient.created_at) >= since,
            col(KudosRecipient.created_at) < until,
        )
        .order_by(col(Kudos.created_at).desc(), col(Kudos.id).desc())
    ).all()


def count_kudos(*, session: Session, team_id: int, since: datetime, until: datetime) -> int:
    """Kudos given in the team in [since, until)."""
    return int(
        session.exec(
            select(func.count())
            .select_from(Kudos)
            .where(
                Kudos.team_id == team_id,
                col(Kudos.created_at) >= since,
                col(Kudos.created_at) < until,
            )
        ).one()
    )


def count_given(
    *, session: Session, workspace_id: str, giver_id: str, since: datetime, until: datetime
) -> int:
    params = {"workspace_id": workspace_id, "giver_id": giver_id, "since": since, "until": until}
    return int(session.exec(_COUNT_GIVEN, params=params).one())


_COUNT_GIVEN = (  # built once: every /kudos counts the giver's day
    select(func.count())
    .select_from(Kudos)
    .where(
        Kudos.workspace_id == bindparam("workspace_id"),
        Kudos.giver_id == bindparam("giver_id"),
        col(Kudos.created_at) >= bindparam("since"),
        col(Kudos.created_at) < bindparam("until"),
    )
)


def received_counts(
    *, session: Session, team_id: int, since: datetime, until: datetime
) -> list[tuple[str, int]]:
    """(recipient, kudos received) in the team, most first, then by id for a stable order."""
    n = func.count().label("n")
    rows = session.exec(
        select(KudosRecipient.recipient_id, n)
        .where(
            KudosRecipient.team_id == team_id,
            col(KudosRecipient.created_at) >= since,
            col(KudosRecipient.created_at) < until,
        )
        .group_by(col(KudosRecipient.recipient_id))
        .order_by(n.desc(), col(KudosRecipient.recipient_id))
    ).all()
    return [(uid, int(count)) for uid, count in rows]


def given_counts(
    *, session: Session, team_id: int, since: datetime, until: datetime
) -> list[tuple[str, int]]:
    n = func.count().label("n")
    rows = session.exec(
        select(Kudos.giver_id, n)
        .where(
            Kudos.team_id == team_id,
            col(Kudos.created_at) >= since,
            col(Kudos.created_at) < until,
        )
        .group_by(col(Kudos.giver_id))
        .order_by(n.desc(), col(Kudos.giver_id))
    ).all()
    return [(uid, int(count)) for uid, count in rows]


def value_counts(
    *, session: Session, team_id: int, since: datetime, until: datetime
) -> list[tuple[str, int]]:
    n = func.count().label("n")
    rows = session.exec(
        select(Kudos.value, n)
        .where(
            Kudos.team_id == team_id,
            col(Kudos.value).is_not(None),
            col(Kudos.created_at) >= since,
            col(Kudos.created_at) < until,
        )
        .group_by(col(Kudos.value))
        .order_by(n.desc(), col(Kudos.value))
    ).all()
    return [(str(v), int(count)) for v, count in rows]
