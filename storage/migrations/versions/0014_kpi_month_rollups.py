"""kpi_month_count / kpi_month_frt / kpi_month_solved: the per-day rollups summed per UTC
month (filled from the per-day rows already there), and ix_kpi_ticket_frt (first response
first) for exact percentiles, ix_kpi_ticket_inverted (open tickets from the rollups)

Revision ID: 0014
Revises: 0015
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0014"
down_revision = "0015"
branch_labels = None
depends_on = None

_SOLVED = ("solved", "handle_n", "handle_sum", "fcr_n", "fcr_yes", "csat_n", "csat_good", "nps_n", "promoters", "detractors")


def _keys() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
    ]


def _team_agent() -> list[sa.Column]:
    return [
        sa.Column("team_key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("agent_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "kpi_month_count",
        *_keys(),
        sa.Column("dim", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        *_team_agent(),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "month", "dim", "team_key", "agent_id", "value", name="uq_kpi_month_count"),
    )
    op.create_index(
        "ix_kpi_month_count_cover", "kpi_month_count",
        ["workspace_id", "dim", "month", "team_key", "agent_id", "value", "n"],
    )
    op.create_table(
        "kpi_month_frt",
        *_keys(),
        *_team_agent(),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("n_target", sa.Integer(), nullable=False),
        sa.Column("met_target", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "month", "team_key", "agent_id", "bucket", name="uq_kpi_month_frt"),
    )
    op.create_index(
        "ix_kpi_month_frt_cover", "kpi_month_frt",
        ["workspace_id", "month", "team_key", "agent_id", "bucket", "n", "n_target", "met_target"],
    )
    op.create_table(
        "kpi_month_solved",
        *_keys(),
        *_team_agent(),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in _SOLVED],
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "month", "team_key", "agent_id", name="uq_kpi_month_solved"),
    )
    # the months of tickets already imported, from their per-day rows
    month = "date_trunc('month', day)::date" if op.get_bind().dialect.name == "postgresql" else "substr(day, 1, 8) || '01'"
    op.execute(
        "INSERT INTO kpi_month_count (workspace_id, month, dim, team_key, agent_id, value, n) "
        f"SELECT workspace_id, {month}, dim, team_key, agent_id, value, sum(n) FROM kpi_day_count "
        "GROUP BY 1, 2, 3, 4, 5, 6"
    )
    op.execute(
        "INSERT INTO kpi_month_frt (workspace_id, month, team_key, agent_id, bucket, n, n_target, met_target) "
        f"SELECT workspace_id, {month}, team_key, agent_id, bucket, sum(n), sum(n_target), sum(met_target) "
        "FROM kpi_day_frt GROUP BY 1, 2, 3, 4, 5"
    )
    sums = ", ".join(f"sum({name})" for name in _SOLVED)
    op.execute(
        f"INSERT INTO kpi_month_solved (workspace_id, month, team_key, agent_id, {', '.join(_SOLVED)}) "
        f"SELECT workspace_id, {month}, team_key, agent_id, {sums} FROM kpi_day_solved GROUP BY 1, 2, 3, 4"
    )
    op.create_index(
        "ix_kpi_ticket_frt", "kpi_ticket", ["workspace_id", "frt_seconds", "created_at", "team_key", "agent_id"],
        sqlite_where=sa.text("frt_seconds IS NOT NULL"), postgresql_where=sa.text("frt_seconds IS NOT NULL"),
    )

    op.create_index(
        "ix_kpi_ticket_inverted", "kpi_ticket", ["workspace_id", "solved_at", "created_at", "team_key", "agent_id"],
        sqlite_where=sa.text("solved_at < created_at"), postgresql_where=sa.text("solved_at < created_at"),
    )


def downgrade() -> None:
    op.drop_index("ix_kpi_ticket_inverted", table_name="kpi_ticket")
    op.drop_index("ix_kpi_ticket_frt", table_name="kpi_ticket")
    op.drop_table("kpi_month_solved")
    op.drop_index("ix_kpi_month_frt_cover", table_name="kpi_month_frt")
    op.drop_table("kpi_month_frt")
    op.drop_index("ix_kpi_month_count_cover", table_name="kpi_month_count")
    op.drop_table("kpi_month_count")
