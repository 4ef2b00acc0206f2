"""Message catalogues: every text the bot shows, in English and Spanish.

Each feature owns one file `bot/messages/<feature>.toml` with an `[en]` and an `[es]`
table; keys are addressed as `<feature>.<key>` (e.g. `common.error_unknown`).
"""

from __future__ import annotations

import string
import tomllib
from functools import lru_cache
from importlib import resources
from typing import Any

LANGUAGES = ("en", "es")


@lru_cache(maxsize=1)
def catalogues() -> dict[str, dict[str, str]]:
    """{lang: {"feature.key": text}} loaded from the package's message files."""
    merged: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
    folder = resources.files("supportbot.bot") / "messages"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        feature = entry.name[: -len(".toml")]
        data = tomllib.loads(entry.read_text(encoding="utf-8"))
        for lang in LANGUAGES:
            for key, text in _flatten(data.get(lang, {})).items():
                merged[lang][f"{feature}.{key}"] = text
    return merged


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = str(value)
    return out


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def t(lang: str, key: str, **params: Any) -> str:
    """The text for `key` in `lang` (falling back to English), formatted with params."""
    cats = catalogues()
    text = cats.get(lang, cats["en"]).get(key) or cats["en"].get(key)
    if text is None:
        raise KeyError(f"no message {key!r} in the catalogue")
    return text.format(**params) if params else text


class Translator:
    """`_ = Translator("es"); _("common.ok")` - a language bound once per request."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else "en"

    def __call__(self, key: str, **params: Any) -> str:
        return t(self.lang, key, **params)
