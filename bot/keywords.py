"""Command keywords in both languages, whatever the team's language.

Each feature's catalogue `bot/messages/<feature>.toml` has a `[keywords]` table mapping a
canonical keyword (what the code compares with) to the words people type:

    [keywords]
    list = { en = ["list"], es = ["lista", "listar"] }

Words are compared folded: case and accents do not matter (`Mañana` = `manana`). Every
feature also understands `common`'s keywords (help, list, cancel, days of the week...).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from functools import lru_cache
from importlib import resources

from supportbot.bot.i18n import LANGUAGES

COMMON = "common"


def fold(text: str) -> str:
    """Lower case, accents removed, outer spaces trimmed: how typed words are compared."""
    decomposed = unicodedata.normalize("NFKD", (text or "").strip().lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=1)
def tables() -> dict[str, dict[str, dict[str, list[str]]]]:
    """{feature: {canonical: {lang: [words]}}} from every catalogue's [keywords] table."""
    out: dict[str, dict[str, dict[str, list[str]]]] = {}
    folder = resources.files("supportbot.bot") / "messages"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        data = tomllib.loads(entry.read_text(encoding="utf-8"))
        table = data.get("keywords")
        if table:
            out[entry.name[: -len(".toml")]] = {
                key: {lang: list(words.get(lang, [])) for lang in LANGUAGES}
                for key, words in table.items()
            }
    return out


@lru_cache(maxsize=32)
def _index(feature: str) -> dict[str, str]:
    """{folded word: canonical} for a feature, its own words before common's."""
    index: dict[str, str] = {}
    for name in (COMMON, feature):
        for key, by_lang in tables().get(name, {}).items():
            index[fold(key)] = key
            for words in by_lang.values():
                for word in words:
                    index[fold(word)] = key
    return index


def canonical(feature: str, word: str | None) -> str | None:
    """The canonical keyword `word` stands for in `feature` (or common), else None."""
    if not word:
        return None
    return _index(feature).get(fold(word))


def is_keyword(feature: str, word: str | None, *keys: str) -> bool:
    return canonical(feature, word) in keys


def forms(feature: str, key: str) -> list[str]:
    """Every word accepted for `key` in `feature` (or common), in both languages."""
    by_lang = tables().get(feature, {}).get(key) or tables().get(COMMON, {}).get(key) or {}
    return [key] + [w for lang in LANGUAGES for w in by_lang.get(lang, []) if w != key]


def word(feature: str, key: str, lang: str) -> str:
    """The word shown for `key` to a team speaking `lang` (the first listed)."""
    by_lang = tables().get(feature, {}).get(key) or tables().get(COMMON, {}).get(key) or {}
    words = by_lang.get(lang) or by_lang.get("en") or [key]
    return words[0]


def all_words(feature: str) -> dict[str, str]:
    """{folded word: canonical}: for spotting a mistyped keyword."""
    return dict(_index(feature))


@lru_cache(maxsize=32)
def option(feature: str, key: str) -> re.Pattern[str]:
    """`team:NAME` / `equipo:NAME` anywhere in the text; group 1 is the value.

    Options are keywords whose words end in `:` (e.g. `team_option = {en=["team:"], ...}`).
    """
    names = sorted({fold(w).rstrip(":") for w in forms(feature, key)} - {fold(key)}, key=len, reverse=True)
    alternatives = "|".join(re.escape(n) for n in names)
    return re.compile(rf"(?:^|(?<=\s))(?:{alternatives}):(\S+)", re.IGNORECASE)


def take_option(feature: str, key: str, text: str) -> tuple[str, str | None]:
    """`... team:Tier1 ...` -> (the text without it, "Tier1"); accents in the option's
    name do not matter (the value is kept as typed)."""
    folded = fold_keep_length(text)
    match = option(feature, key).search(folded)
    if not match:
        return text, None
    value = text[match.start(1) : match.end(1)]
    return (text[: match.start()] + " " + text[match.end() :]).strip(), value


def fold_keep_length(text: str) -> str:
    """Lower case and accents removed character by character, so positions still match."""
    out = []
    for ch in text:
        folded = fold(ch) if not ch.isspace() else ch
        out.append(folded if len(folded) == 1 else ch.lower())
    return "".join(out)
