"""kpi_ticket.tags: the helpdesk's tags of a synced ticket, space-separated

Revision ID: 0015
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("kpi_ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tags", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("kpi_ticket", schema=None) as batch_op:
        batch_op.drop_column("tags")
