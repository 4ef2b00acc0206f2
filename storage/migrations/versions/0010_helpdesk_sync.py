"""helpdesk sync: sync state per helpdesk, and tickets keyed by (source, ticket id)

Revision ID: 0010
Revises: 0013
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import supportbot.storage.types

revision = "0010"
down_revision = "0013"
branch_labels = None
depends_on = None

UNANSWERED = ["workspace_id", "created_at", "team_key", "agent_id", "sla_target_minutes"]


def upgrade() -> None:
    op.create_table(
        "helpdesk_sync",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("cursor", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("resume_at", supportbot.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deleted_resume_at", supportbot.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ratings_resume_at", supportbot.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("backfill_from", supportbot.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("synced_through", supportbot.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_sync_at", supportbot.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", supportbot.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("tickets_seen", sa.Integer(), nullable=False),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("auth_failed", sa.Boolean(), nullable=False),
        sa.Column("credentials", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("lease_owner", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("lease_until", supportbot.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "source", name="uq_helpdesk_sync"),
    )
    # Existing tickets came from imports; the unique key gains the source so Zendesk 123
    # and Freshdesk 123 are two tickets. SQLite rebuilds the table (batch mode); the
    # partial index is dropped first and recreated after, so it keeps its WHERE clause.
    op.drop_index("ix_kpi_ticket_unanswered", table_name="kpi_ticket")
    with op.batch_alter_table("kpi_ticket", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default="import")
        )
        batch_op.drop_constraint("uq_kpi_ticket", type_="unique")
        batch_op.create_unique_constraint("uq_kpi_ticket_source", ["workspace_id", "source", "ticket_id"])
    op.create_index(
        "ix_kpi_ticket_unanswered", "kpi_ticket", UNANSWERED, unique=False,
        sqlite_where=sa.text("frt_seconds IS NULL"), postgresql_where=sa.text("frt_seconds IS NULL"),
    )


def downgrade() -> None:
    synced = op.get_bind().execute(sa.text("SELECT count(*) FROM kpi_ticket WHERE source <> 'import'")).scalar()
    if synced:
        # Without the source, Zendesk 123 and Freshdesk 123 would collide, and deleting
        # the rows here would leave the per-day rollups counting them.
        raise RuntimeError(f"{synced} tickets came from a helpdesk sync; downgrading would merge them with imported ones")
    op.drop_index("ix_kpi_ticket_unanswered", table_name="kpi_ticket")
    with op.batch_alter_table("kpi_ticket", schema=None) as batch_op:
        batch_op.drop_constraint("uq_kpi_ticket_source", type_="unique")
        batch_op.create_unique_constraint("uq_kpi_ticket", ["workspace_id", "ticket_id"])
        batch_op.drop_column("source")
    op.create_index(
        "ix_kpi_ticket_unanswered", "kpi_ticket", UNANSWERED, unique=False,
        sqlite_where=sa.text("frt_seconds IS NULL"), postgresql_where=sa.text("frt_seconds IS NULL"),
    )
    op.drop_table("helpdesk_sync")
