"""The demo's clock: wall time that "make time pass" can push forward."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class SteppingClock:
    """Wall time plus an offset that only grows: the demo's "make time pass" control moves
    it forward to the next firing, and time keeps running from there."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def move_to(self, when: datetime) -> datetime:
        with self._lock:
            target = when - datetime.now(UTC)
            if target > self._offset:
                self._offset = target
            return datetime.now(UTC) + self._offset
