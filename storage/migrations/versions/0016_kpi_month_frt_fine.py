"""kpi_month_frt_fine: answered tickets per UTC month of creation, team column, agent and
fine first-response bucket (about 3% wide), filled from the tickets already stored; and
ix_kpi_ticket_unanswered_target (the largest SLA target among unanswered tickets, so the
SLA breach count reads only the tickets created within that target of now)

Revision ID: 0016
Revises: 0014
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from supportbot.storage.kpis.tables import FINE_EDGES, FRT_EDGES, fine_bucket, frt_bucket

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None

def upgrade() -> None:
    op.create_table(
        "kpi_month_frt_fine",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("team_key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("agent_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("fine", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "month", "team_key", "agent_id", "bucket", "fine", name="uq_kpi_month_frt_fine"),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # width_bucket(x, edges) = how many edges are <= x, so (seconds - 1) gives how many
        # are < seconds: bisect_left, as fine_bucket and frt_bucket compute it
        fine = f"width_bucket(frt_seconds - 1, ARRAY[{', '.join(map(str, FINE_EDGES))}])"
        bucket = f"width_bucket(frt_seconds - 1, ARRAY[{', '.join(map(str, FRT_EDGES))}])"
        month = "date_trunc('month', created_at AT TIME ZONE 'UTC')::date"
    else:  # SQLite: the same functions, from Python
        raw = bind.connection.driver_connection
        raw.create_function("supportbot_fine", 1, fine_bucket, deterministic=True)
        raw.create_function("supportbot_bucket", 1, frt_bucket, deterministic=True)
        fine, bucket = "supportbot_fine(frt_seconds)", "supportbot_bucket(frt_seconds)"
        month = "substr(created_at, 1, 8) || '01'"
    op.execute(
        "INSERT INTO kpi_month_frt_fine (workspace_id, month, team_key, agent_id, bucket, fine, n) "
        f"SELECT workspace_id, {month}, COALESCE(team_key, ''), COALESCE(agent_id, ''), {bucket}, {fine}, count(*) "
        "FROM kpi_ticket WHERE frt_seconds IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6"
    )
    op.create_index(
        "ix_kpi_month_frt_fine_cover", "kpi_month_frt_fine",
        ["workspace_id", "bucket", "month", "team_key", "agent_id", "fine", "n"],
    )
    op.create_index(
        "ix_kpi_ticket_unanswered_target", "kpi_ticket", ["workspace_id", "sla_target_minutes"],
        sqlite_where=sa.text("frt_seconds IS NULL"), postgresql_where=sa.text("frt_seconds IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_kpi_ticket_unanswered_target", table_name="kpi_ticket")
    op.drop_index("ix_kpi_month_frt_fine_cover", table_name="kpi_month_frt_fine")
    op.drop_table("kpi_month_frt_fine")
