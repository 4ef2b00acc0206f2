"""SQLite takes one writer at a time: writers of every process sharing the file queue on
one lock (`<database>-writer.lock`), so a waiting writer is woken the moment the lock is
free instead of polling in SQLite's busy handler."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from supportbot.storage.db import make_engine, transaction

PROBE = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    print("free")
except BlockingIOError:
    print("held")
"""


def probe(lock_file: Path) -> str:
    return subprocess.run([sys.executable, "-c", PROBE, str(lock_file)], capture_output=True, text=True, check=True).stdout.strip()


def test_a_write_transaction_holds_the_lock_other_processes_queue_on(tmp_path: Path, database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL has row locks, no file lock")
    engine = make_engine(database_url)
    lock_file = Path(f"{engine.url.database}-writer.lock")
    try:
        with transaction(engine, readonly=True):
            assert probe(lock_file) == "free"  # readers never take it
        with transaction(engine):
            assert probe(lock_file) == "held"
            with transaction(engine):  # nested in the same thread: still one holder
                assert probe(lock_file) == "held"
            assert probe(lock_file) == "held"
        assert probe(lock_file) == "free"
        with pytest.raises(RuntimeError), transaction(engine):
            raise RuntimeError("rolled back")
        assert probe(lock_file) == "free"  # released on errors too
    finally:
        engine.dispose()
