"""Import every table module so SQLModel.metadata is complete (Alembic, tests)."""

from supportbot.storage import (  # noqa: F401
    away,
    coaching,
    escalations,
    kpis,
    kudos,
    models,
    oneonones,
    pulse,
    standups,
)
