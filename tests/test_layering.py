"""The three layers import in one direction; only handlers/ and the wiring touch Slack."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WIRING_FILES = {"bot/app.py", "bot/startup.py"}
WIRING_FOLDERS = ("bot/cli/", "bot/standin/", "bot/demo/")
LAYERS = ("bot", "handlers", "storage")


def is_wiring(rel: str) -> bool:
    return rel in WIRING_FILES or rel.startswith(WIRING_FOLDERS)


def layer(module: str) -> str | None:
    """`supportbot.storage.kpis` -> `storage`; anything outside the package -> None."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "supportbot" else None


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_only_handlers_and_wiring_import_slack() -> None:
    offenders = []
    for folder in ("bot", "storage"):
        for path in (ROOT / folder).rglob("*.py"):
            rel = str(path.relative_to(ROOT))
            if is_wiring(rel):
                continue
            if any(m.split(".")[0] in ("slack_bolt", "slack_sdk") for m in imports(path)):
                offenders.append(rel)
    assert offenders == []


def test_storage_imports_nothing_above_it() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "storage").rglob("*.py")
        if any(layer(m) in ("bot", "handlers") for m in imports(p))
    ]
    assert offenders == []


def test_core_does_not_import_handlers() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "bot").rglob("*.py")
        if not is_wiring(str(p.relative_to(ROOT)))
        and any(layer(m) == "handlers" for m in imports(p))
    ]
    assert offenders == []


def test_every_import_of_the_project_goes_through_supportbot() -> None:
    offenders = []
    for folder in (*LAYERS, "tests", "benchmarks"):
        for path in (ROOT / folder).rglob("*.py"):
            if any(m.split(".")[0] in LAYERS for m in imports(path)):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_core_reads_time_from_the_clock() -> None:
    offenders = []
    for folder in ("bot", "handlers", "storage"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if path.name == "clock.py":
                continue
            if "datetime.now(" in text or "datetime.utcnow(" in text or "date.today(" in text:
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == [], "use the Clock (rt.clock.now()) instead"


def test_no_source_file_is_over_500_lines() -> None:
    """Files a reader can hold in their head: split a module by concern before it grows past this."""
    long = {
        str(path.relative_to(ROOT)): n
        for folder in ("bot", "handlers", "storage")
        for path in (ROOT / folder).rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 500
    }
    assert long == {}
