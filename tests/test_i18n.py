"""Every text exists in English and Spanish, with the same placeholders, and every key the
code refers to exists."""

from __future__ import annotations

import re
from pathlib import Path

from supportbot.bot.i18n import catalogues, placeholders, t

ROOT = Path(__file__).resolve().parents[1]
# A literal key handed to the translator or to a domain error: _("x.y"), t(lang, "x.y"),
# InvalidInput("x.y", ...), NotAllowed(...), NotFound(...), Conflict(...), UserError(...).
KEY_LITERAL = re.compile(
    r"""(?:\b_|\bt|\btr|InvalidInput|NotAllowed|NotFound|Conflict|UserError)\(\s*(?:[\w.]+,\s*)?["']([a-z_]+\.[a-z0-9_.]+)["']"""
)


def test_every_key_in_both_languages_with_same_placeholders() -> None:
    cats = catalogues()
    en, es = cats["en"], cats["es"]
    assert set(en) == set(es), f"missing in es: {set(en) - set(es)}; missing in en: {set(es) - set(en)}"
    for key in en:
        assert placeholders(en[key]) == placeholders(es[key]), key
        assert en[key].strip() and es[key].strip(), key


def test_keys_used_in_code_exist() -> None:
    known = catalogues()["en"]
    missing = []
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            for match in KEY_LITERAL.finditer(path.read_text(encoding="utf-8")):
                key = match.group(1)
                if key not in known:
                    missing.append(f"{path.relative_to(ROOT)}: {key}")
    assert missing == []


def test_fallback_to_english_and_formatting() -> None:
    assert t("es", "common.bad_date", value="x") != t("en", "common.bad_date", value="x")
    assert "x" in t("fr", "common.bad_date", value="x")
