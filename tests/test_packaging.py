"""A plain (non-editable) install ships the migrations and the message catalogues."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_contains_migrations_and_catalogues(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next(tmp_path.glob("supportbot-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "storage/migrations/env.py" in names
    assert "storage/migrations/script.py.mako" in names
    assert "storage/migrations/versions/0001_foundation.py" in names
    for catalogue in (ROOT / "bot" / "messages").glob("*.toml"):
        assert f"bot/messages/{catalogue.name}" in names
    assert not any(n.startswith("tests/") for n in names)
