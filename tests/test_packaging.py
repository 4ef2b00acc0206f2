"""A plain (non-editable) install ships one import name, `supportbot`, with the migrations
and the message catalogues."""

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
    assert "supportbot/storage/migrations/env.py" in names
    assert "supportbot/storage/migrations/script.py.mako" in names
    assert "supportbot/storage/migrations/versions/0001_foundation.py" in names
    for catalogue in (ROOT / "bot" / "messages").glob("*.toml"):
        assert f"supportbot/bot/messages/{catalogue.name}" in names
    for folder in ("bot", "handlers", "storage"):
        for module in (ROOT / folder).rglob("*.py"):
            assert f"supportbot/{module.relative_to(ROOT).as_posix()}" in names
    top_level = {n.split("/")[0] for n in names if ".dist-info/" not in n}
    assert top_level == {"supportbot"}
    top_level_txt = [n for n in names if n.endswith(".dist-info/top_level.txt")]
    for entry in top_level_txt:
        assert zipfile.ZipFile(wheel).read(entry).decode().split() == ["supportbot"]
