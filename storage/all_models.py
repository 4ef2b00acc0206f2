"""Import every table module so SQLModel.metadata is complete (Alembic, tests)."""

from supportbot.storage import (  # noqa: F401
    alerts,
    away,
    coaching,
    escalations,
    helpdesk,
    kpis,
    kudos,
    models,
    oneonones,
    outbox,
    pulse,
    standups,
)
