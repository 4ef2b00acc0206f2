"""Import every table module so SQLModel.metadata is complete (Alembic, tests)."""

from storage import models  # noqa: F401

FEATURE_MODULES = ("escalations", "kpis", "coaching", "kudos", "away", "standups", "oneonones")


def load_all() -> None:
    import importlib

    for name in FEATURE_MODULES:
        try:
            importlib.import_module(f"storage.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"storage.{name}":
                raise


load_all()
