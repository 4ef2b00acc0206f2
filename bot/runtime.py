"""What a running bot shares between listeners and jobs: settings, database, clock, outbox."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.outbox import Outbox, OutboxKinds, instance_id
from storage.db import make_engine, transaction


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    clock: Clock
    outbox: Outbox
    instance_id: str = field(default_factory=instance_id)

    @contextmanager
    def transaction(self, *, readonly: bool = False) -> Iterator[Session]:
        with transaction(self.engine, readonly=readonly) as session:
            yield session


def build_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    engine: Engine | None = None,
    pace_seconds: float = 1.0,
) -> Runtime:
    clock = clock or SystemClock()
    engine = engine or make_engine(settings.database_url)
    outbox = Outbox(engine, clock, OutboxKinds(), pace_seconds=pace_seconds)
    return Runtime(settings=settings, engine=engine, clock=clock, outbox=outbox)
