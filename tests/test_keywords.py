"""The keyword tables: every keyword has English and Spanish forms, no word means two things
in one command, accents and case do not matter."""

from __future__ import annotations

from collections import defaultdict

import pytest

from supportbot.bot import keywords
from supportbot.bot.i18n import LANGUAGES
from supportbot.bot.keywords import COMMON, canonical, fold, tables, take_option

FEATURES = ("away", "coaching", "escalations", "kpis", "kudos", "oneonones", "pulse", "standups", "supportbot")


def test_every_keyword_has_a_form_in_every_language() -> None:
    missing = [
        f"{feature}.{key} [{lang}]"
        for feature, table in tables().items()
        for key, by_lang in table.items()
        for lang in LANGUAGES
        if not by_lang.get(lang)
    ]
    assert missing == []
    assert set(tables()) >= {COMMON, *FEATURES} - {"away"}


def test_no_word_means_two_things_in_one_command() -> None:
    for feature in FEATURES:
        seen: dict[str, set[str]] = defaultdict(set)
        for name in (COMMON, feature):
            for key, by_lang in tables().get(name, {}).items():
                for lang in LANGUAGES:
                    for word in by_lang[lang]:
                        seen[fold(word)].add(key)
        clashes = {w: keys for w, keys in seen.items() if len(keys) > 1}
        assert clashes == {}, feature


@pytest.mark.parametrize(
    ("feature", "typed", "key"),
    [
        ("escalations", "Urgente", "urgent"),
        ("escalations", "URGENT", "urgent"),
        ("escalations", "p1", "urgent"),
        ("escalations", "P2", "high"),
        ("escalations", "p3", "normal"),
        ("escalations", "p4", "low"),
        ("escalations", "baja", "low"),
        ("escalations", "lista", "list"),
        ("escalations", "Ayuda", "help"),
        ("kpis", "semana-pasada", "last-week"),
        ("kudos", "clasificacion", "top"),
        ("kudos", "Límite", "cap"),
        ("standups", "miercoles", "wed"),
        ("standups", "Sábado", "sat"),
        ("supportbot", "anadir-miembro", "add-member"),
        ("away", "cancelar", "cancel"),
        ("oneonones", "quincenal", "biweekly"),
        ("coaching", "objetivos", "goals"),
        ("pulse", "Umbral", "threshold"),
        ("pulse", "RESULTADOS", "results"),
        ("pulse", "programar", "schedule"),
        ("pulse", "Sábado", "sat"),
        ("pulse", "equipo:", "team_option"),
    ],
)
def test_both_languages_any_case_any_accents(feature: str, typed: str, key: str) -> None:
    assert canonical(feature, typed) == key


def test_pulse_verbs_and_days_come_from_the_catalogue() -> None:
    """/pulse has no word list of its own: every verb is in pulse.toml's [keywords] table
    (or common's), and its days are the stand-up parser's."""
    from supportbot.bot import pulse

    assert {k for k in pulse.VERB_KEYS if canonical("pulse", k) != k} == set()
    assert set(pulse.VERB_KEYS) <= set(tables()["pulse"]) | set(tables()[COMMON])
    assert not hasattr(pulse, "VERBS") and not hasattr(pulse, "DAY_WORDS")
    assert [pulse.verb_of(w) for w in ("Pausa", "reanudar", "ESTADO", "lista")] == ["pause", "resume", "status", None]
    assert pulse.parse_days("lun-mié") == [0, 1, 2] and pulse.parse_days("Sábado,DOM") == [5, 6]


def test_unknown_words_are_not_keywords() -> None:
    assert canonical("escalations", "Cliente") is None
    assert canonical("kpis", "") is None
    assert canonical("kpis", "fortnight") is None


def test_options_in_both_languages_keep_their_value() -> None:
    assert take_option("kudos", "team_option", "top mes equipo:Soporte-Ñ") == ("top mes", "Soporte-Ñ")
    assert take_option("kudos", "team_option", "top month Team:Tier1") == ("top month", "Tier1")
    assert take_option("kudos", "team_option", "top month") == ("top month", None)
    assert take_option("standups", "cutoff_option", "cierre:90m") == ("", "90m")
    assert take_option("coaching", "follow_up_option", "late again seguimiento:viernes") == ("late again", "viernes")


def test_word_shown_follows_the_language() -> None:
    assert keywords.word("oneonones", "thu", "es") == "jue"
    assert keywords.word("oneonones", "thu", "en") == "thu"
    assert "lista" in keywords.forms("escalations", "list")


COMMAND_FEATURE = {
    "/escalate": "escalations", "/kpis": "kpis", "/kudos": "kudos", "/away": "away",
    "/standup": "standups", "/oneonone": "oneonones", "/coach": "coaching", "/supportbot": "supportbot",
    "/pulse": "pulse",
}


def english_only_words(feature: str) -> set[str]:
    """Folded words that are English forms and not also Spanish ones."""
    out: set[str] = set()
    for name in (COMMON, feature):
        for key, by_lang in tables().get(name, {}).items():
            spanish = {fold(w) for w in by_lang["es"]}
            out |= {fold(w) for w in by_lang["en"] + [key]} - spanish
    return out


def test_spanish_help_and_usage_show_spanish_keywords() -> None:
    """In every Spanish text, `/command word ...` examples use the Spanish words."""
    import re

    from supportbot.bot.i18n import catalogues

    example = re.compile(r"`(/[a-z]+)((?:\s+[^`\s]+)*)`")
    wrong = []
    for key, text in catalogues()["es"].items():
        for command, rest in example.findall(text):
            feature = COMMAND_FEATURE.get(command)
            if feature is None:
                continue
            english = english_only_words(feature)
            for word in rest.split():
                bare = fold(word).split(":")[0] + (":" if ":" in word else "")
                if fold(word) in english or (bare.endswith(":") and bare in english):
                    wrong.append(f"{key}: {command}{rest}")
    assert wrong == []


def test_readme_en_espanol_lists_every_command_and_its_spanish_words() -> None:
    """README's "En español" table has a row per slash command, and each row shows a
    Spanish form of every keyword of that command's [keywords] table, and `ayuda`."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### En español") :]
    section = section[: section.index("\n## ")]
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `(/[a-z]+)` \| (.*?) \| .*\|$", section, re.M)}
    assert set(rows) == set(COMMAND_FEATURE)
    missing = []
    for command, feature in COMMAND_FEATURE.items():
        shown = {fold(w) for w in re.findall(r"[^\s`/()|,.:]+:?", rows[command])}
        for key, by_lang in tables().get(feature, {}).items():
            if not any(fold(w) in shown for w in by_lang["es"]):
                missing.append(f"{command} {key}: {by_lang['es']}")
        if "ayuda" not in shown:
            missing.append(f"{command} help: ayuda")
    assert missing == []
