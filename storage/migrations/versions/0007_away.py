"""away roster (also joins the feature branches into one head)

Revision ID: 0007
Revises: 0002, 0003, 0004
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import supportbot.storage.types

revision = "0007"
down_revision = ("0002", "0003", "0004")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "away_period",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("end_on", sa.Date(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("created_at", supportbot.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("away_period", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_away_period_workspace_id"), ["workspace_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_away_period_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_away_period_end_on"), ["end_on"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("away_period", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_away_period_end_on"))
        batch_op.drop_index(batch_op.f("ix_away_period_user_id"))
        batch_op.drop_index(batch_op.f("ix_away_period_workspace_id"))
    op.drop_table("away_period")
